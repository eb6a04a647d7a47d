#include "chaosgd/run.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chaosgd/dataset.h"
#include "chaosgd/loop.h"
#include "chaosgd/mlp.h"
#include "chaosgd/runlog.h"
#include "chaosgd_version.h"
#include "run_internal.h"

/* OpenBLAS extensions (declared in its cblas.h) used to record which BLAS ran. */
extern char *openblas_get_config(void);
extern int openblas_get_num_threads(void);

void cgd_run_config_defaults(cgd_run_config *c) {
  memset(c, 0, sizeof *c);
  snprintf(c->data, sizeof c->data, "datasets/airfoil_self_noise.dat");
  c->standardize = 1;
  c->hidden = 16;
  c->leak = 0.01;
  c->map = CGD_MAP_GD;
  c->lr = 0.02;
  c->gamma = 0.9;
  c->mu = 1.0;
  c->iters = 100000;
  c->hist_bins = 0; /* auto: 40 (MLP), 100 (1-D), 20×20 (2-D) */
  snprintf(c->f1, sizeof c->f1, "sin");
  c->eps = 1e-6;
  c->k = 1.0;
  c->ensemble = 1;
  c->hist_lo = -1.5;
  c->hist_hi = 1.5;
  c->burn_in = UINT64_MAX; /* auto: iters/10 */
  c->tail_frac = 0.5;
  c->loss_limit = 1e12;
  c->log_every = 0; /* auto: 1, or iters/1000 for ensembles */
  c->plots = 1;
  c->progress = 1;
  cgd_verdict_defaults(&c->verdict);
}

void cgd_run_result_clear(cgd_run_result *r) {
  free(r->theta_final);
  memset(r, 0, sizeof *r);
}

/* The software block of config.json: version, git revision, BLAS and its threads. */
static json_t *software_json(void) {
  json_t *sw = json_object();
  json_object_set_new(sw, "chaosgd_version", json_string(CGD_VERSION));
  json_object_set_new(sw, "git_revision", json_string(CGD_GIT_REV));
  json_object_set_new(sw, "blas", json_string(openblas_get_config()));
  json_object_set_new(sw, "blas_threads", json_integer(openblas_get_num_threads()));
  return sw;
}

json_t *cgd_run_config_json(const cgd_run_config *c) {
  json_t *o = json_object();
  json_object_set_new(o, "objective", json_string(c->f0[0] ? "multiscale" : "mlp"));
  if (c->f0[0]) {
    json_object_set_new(o, "f0", json_string(c->f0));
    json_object_set_new(o, "f1", json_string(c->f1));
    json_object_set_new(o, "eps", json_real(c->eps));
    json_object_set_new(o, "k", json_real(c->k));
    json_t *pj = json_object();
    for (size_t i = 0; i < c->nparams; i++)
      json_object_set_new(pj, c->param_names[i], json_real(c->param_values[i]));
    json_object_set_new(o, "params", pj);
    json_object_set_new(o, "x0", json_string(c->x0));
    json_object_set_new(o, "ensemble", json_integer((json_int_t)c->ensemble));
    json_object_set_new(o, "hist_at", json_string(c->hist_at));
    json_object_set_new(o, "hist_range", json_pack("[f, f]", c->hist_lo, c->hist_hi));
    json_object_set_new(o, "burn_in", c->burn_in == UINT64_MAX ? json_string("auto")
                                                                : json_integer((json_int_t)c->burn_in));
    json_object_set_new(o, "gibbs_form", json_string(c->gibbs_gaussian ? "gaussian" : "exact"));
    json_object_set_new(o, "compare_map",
                        json_string(c->compare ? cgd_map_kind_name(c->compare_map) : ""));
  } else { /* the MLP's options only where they mean something */
    json_object_set_new(o, "data", json_string(c->data));
    json_object_set_new(o, "target_col", json_integer(c->target_col));
    json_object_set_new(o, "standardize", json_boolean(c->standardize));
    json_object_set_new(o, "holdout", json_real(c->holdout));
    json_object_set_new(o, "hidden", json_integer((json_int_t)c->hidden));
    json_object_set_new(o, "leak", json_real(c->leak));
    json_object_set_new(o, "init", json_string(c->init));
    json_object_set_new(o, "save_params", json_string(c->save_params));
  }
  json_object_set_new(o, "map", json_string(cgd_map_kind_name(c->map)));
  json_object_set_new(o, "lr", json_real(c->lr));
  json_object_set_new(o, "gamma", json_real(c->gamma));
  json_object_set_new(o, "mu", json_real(c->mu));
  json_object_set_new(o, "iters", json_integer((json_int_t)c->iters));
  /* seeds are full 64-bit: a string keeps them exact for any JSON reader */
  char seed[32];
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
  json_object_set_new(o, "seed", json_string(seed));
  json_object_set_new(o, "log_every", json_integer((json_int_t)c->log_every));
  json_object_set_new(o, "hist_every", json_integer((json_int_t)c->hist_every));
  json_object_set_new(o, "hist_bins", json_integer((json_int_t)c->hist_bins));
  json_object_set_new(o, "tail_frac", json_real(c->tail_frac));
  json_object_set_new(o, "loss_limit", json_real(c->loss_limit));
  json_t *v = json_object();
  json_object_set_new(v, "converged_rtol", json_real(c->verdict.converged_rtol));
  json_object_set_new(v, "increase_rtol", json_real(c->verdict.increase_rtol));
  json_object_set_new(v, "period_rtol", json_real(c->verdict.period_rtol));
  json_object_set_new(v, "max_period", json_integer((json_int_t)c->verdict.max_period));
  json_object_set_new(o, "verdict_rules", v);
  json_object_set_new(o, "out", json_string(c->out));
  json_object_set_new(o, "plots", json_boolean(c->plots));
  json_object_set_new(o, "command_line", json_string(c->command_line));
  json_object_set_new(o, "software", software_json());
  return o;
}

void cgd_summary_status(json_t *sum, const char *verdict, int run_rc, const cgd_error *run_err,
                        int64_t bad_step, uint64_t iters, uint64_t steps) {
  json_object_set_new(sum, "verdict", json_string(verdict));
  json_object_set_new(sum, "status", json_string(cgd_status_name(run_rc)));
  json_object_set_new(sum, "message", json_string(run_rc ? run_err->msg : ""));
  json_object_set_new(sum, "interrupted", json_boolean(run_rc == CGD_EINTERRUPTED));
  json_object_set_new(sum, "diverged_step", bad_step >= 0 ? json_integer(bad_step) : json_null());
  json_object_set_new(sum, "iters", json_integer((json_int_t)iters));
  json_object_set_new(sum, "steps_completed", json_integer((json_int_t)steps));
}

json_t *cgd_tail_json(const cgd_tail_stats *ts, const char *what) {
  json_t *tj = json_object();
  char key[64];
  json_object_set_new(tj, "start_step", json_integer((json_int_t)ts->start));
  json_object_set_new(tj, "steps", json_integer((json_int_t)ts->len));
  const char *names[] = {"mean", "std", "rel_std", "min", "max"};
  const double vals[] = {ts->mean, ts->std, ts->rel_std, ts->min, ts->max};
  for (int k = 0; k < 5; k++) {
    snprintf(key, sizeof key, "%s_%s", what, names[k]);
    json_object_set_new(tj, key, cgd_jreal(vals[k]));
  }
  json_object_set_new(tj, "frac_increase", cgd_jreal(ts->frac_increase));
  json_object_set_new(tj, "lag1_autocorr_increments", cgd_jreal(ts->lag1_autocorr_incr));
  json_object_set_new(tj, "period", ts->period ? json_integer(ts->period) : json_null());
  return tj;
}

int cgd_run_config_check(const cgd_run_config *c, cgd_error *err) {
  if (!(c->lr > 0) || !isfinite(c->lr))
    return cgd_fail(err, CGD_EUSAGE, "--lr must be a positive number (got %g)", c->lr);
  if (!(c->tail_frac > 0 && c->tail_frac <= 1))
    return cgd_fail(err, CGD_EUSAGE, "--tail must be in (0, 1] (got %g)", c->tail_frac);
  if (!(c->loss_limit > 0))
    return cgd_fail(err, CGD_EUSAGE, "--loss-limit must be positive (got %g)", c->loss_limit);
  if (!c->f0[0]) {
    if (c->map == CGD_MAP_STOCHASTIC || c->map == CGD_MAP_GAUSSIAN || c->compare ||
        c->ensemble > 1 || c->hist_at[0])
      return cgd_fail(err, CGD_EUSAGE,
                      "--map stochastic/gaussian, --compare-map, --ensemble and --hist-at need "
                      "an analytic objective (--f0 ...)");
    return CGD_OK;
  }
  if (c->ensemble < 1) return cgd_fail(err, CGD_EUSAGE, "--ensemble must be >= 1");
  if (c->compare && c->ensemble < 2)
    return cgd_fail(err, CGD_EUSAGE,
                    "--compare-map compares two ensembles: give --ensemble N with N > 1");
  if (c->hist_at[0] && c->ensemble < 2)
    return cgd_fail(err, CGD_EUSAGE,
                    "--hist-at takes ensemble snapshots: give --ensemble N with N > 1 (a "
                    "single orbit has one time histogram after --burn-in)");
  if (!(c->hist_hi > c->hist_lo) || !isfinite(c->hist_lo) || !isfinite(c->hist_hi))
    return cgd_fail(err, CGD_EUSAGE, "--hist-range: need finite LO < HI");
  if (!(c->eps > 0) || !isfinite(c->eps))
    return cgd_fail(err, CGD_EUSAGE, "--eps must be a positive number (got %g)", c->eps);
  return CGD_OK;
}

int cgd_run_tail(const cgd_run_config *cfg, const double *L, size_t nobs, cgd_run_result *res,
                 cgd_error *err) {
  if (nobs < 3) return CGD_OK;
  size_t start = (size_t)floor((1.0 - cfg->tail_frac) * (double)(nobs - 1));
  if (nobs - start < 2) start = nobs - 2;
  int rc = cgd_tail_stats_compute(L, nobs, start, &cfg->verdict, &res->tail, err);
  if (!rc) res->have_tail = 1;
  return rc;
}

void cgd_progress(double *last, double t0, uint64_t t, uint64_t iters, double value) {
  double now = cgd_now_s();
  if (now - *last <= 0.25 && t != iters) return;
  double el = now - t0, rem = t ? el / (double)t * (double)(iters - t) : 0;
  fprintf(stderr, "\r  step %llu/%llu", (unsigned long long)t, (unsigned long long)iters);
  if (isfinite(value)) fprintf(stderr, "  loss %.6g", value);
  fprintf(stderr, "  elapsed %.1fs  remaining %.1fs   ", el, rem);
  *last = now;
}

/* ---------------------------------------------------------------- config.json → config */

typedef struct {
  json_t *root;
  const char *path;
  cgd_error *err;
  int rc;
} cfg_reader;

static json_t *cfg_get(cfg_reader *r, const char *key, int (*is)(const json_t *),
                       const char *what) {
  json_t *v = json_object_get(r->root, key);
  if (!v || r->rc) return NULL;
  if (!is(v)) {
    r->rc = cgd_fail(r->err, CGD_EDATA, "%s: \"%s\" should be %s", r->path, key, what);
    return NULL;
  }
  return v;
}
static int j_is_number(const json_t *v) { return json_is_number(v); }
static int j_is_string(const json_t *v) { return json_is_string(v); }
static int j_is_bool(const json_t *v) { return json_is_boolean(v); }
static int j_is_uint(const json_t *v) { return json_is_integer(v) && json_integer_value(v) >= 0; }

static void cfg_num(cfg_reader *r, const char *key, double *out) {
  json_t *v = cfg_get(r, key, j_is_number, "a number");
  if (v) *out = json_number_value(v);
}
static void cfg_u64(cfg_reader *r, const char *key, uint64_t *out) {
  json_t *v = cfg_get(r, key, j_is_uint, "a whole number >= 0");
  if (v) *out = (uint64_t)json_integer_value(v);
}
static void cfg_size(cfg_reader *r, const char *key, size_t *out) {
  uint64_t u = *out;
  cfg_u64(r, key, &u);
  *out = (size_t)u;
}
static void cfg_str(cfg_reader *r, const char *key, char *out, size_t cap) {
  json_t *v = cfg_get(r, key, j_is_string, "a string");
  if (v && snprintf(out, cap, "%s", json_string_value(v)) >= (int)cap)
    r->rc = cgd_fail(r->err, CGD_EDATA, "%s: \"%s\" is too long", r->path, key);
}
static void cfg_bool(cfg_reader *r, const char *key, int *out) {
  json_t *v = cfg_get(r, key, j_is_bool, "true or false");
  if (v) *out = json_is_true(v);
}
static void cfg_map(cfg_reader *r, const char *key, cgd_map_kind *out, int *present) {
  char buf[32] = "";
  cfg_str(r, key, buf, sizeof buf);
  if (present) *present = buf[0] != '\0';
  if (!buf[0] || r->rc) return;
  if (cgd_map_kind_parse(buf, out))
    r->rc = cgd_fail(r->err, CGD_EDATA, "%s: \"%s\": unknown map '%s'", r->path, key, buf);
}

int cgd_run_config_load(const char *path, cgd_run_config *c, cgd_error *err) {
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!root)
    return cgd_fail(err, CGD_EDATA, "%s line %d column %d: %s", path, je.line, je.column,
                    je.text);
  cfg_reader r = {root, path, err, CGD_OK};
  if (!json_is_object(root)) r.rc = cgd_fail(err, CGD_EDATA, "%s: not a JSON object", path);
  char objective[32] = "";
  cfg_str(&r, "objective", objective, sizeof objective);
  if (!r.rc && strcmp(objective, "mlp") && strcmp(objective, "multiscale"))
    r.rc = cgd_fail(err, CGD_EDATA, "%s: \"objective\" must be \"mlp\" or \"multiscale\"", path);
  if (!strcmp(objective, "multiscale")) {
    cfg_str(&r, "f0", c->f0, sizeof c->f0);
    cfg_str(&r, "f1", c->f1, sizeof c->f1);
    cfg_num(&r, "eps", &c->eps);
    cfg_num(&r, "k", &c->k);
    json_t *pj = json_object_get(root, "params");
    if (pj && !r.rc) {
      const char *name;
      json_t *val;
      c->nparams = 0;
      json_object_foreach(pj, name, val) {
        if (c->nparams == 8 || !json_is_number(val) || strlen(name) >= sizeof c->param_names[0]) {
          r.rc = cgd_fail(err, CGD_EDATA, "%s: bad \"params\" entry '%s'", path, name);
          break;
        }
        snprintf(c->param_names[c->nparams], sizeof c->param_names[0], "%s", name);
        c->param_values[c->nparams++] = json_number_value(val);
      }
    }
    cfg_str(&r, "x0", c->x0, sizeof c->x0);
    cfg_size(&r, "ensemble", &c->ensemble);
    cfg_str(&r, "hist_at", c->hist_at, sizeof c->hist_at);
    json_t *hr = json_object_get(root, "hist_range");
    if (hr && !r.rc) {
      if (json_array_size(hr) != 2 || !json_is_number(json_array_get(hr, 0)) ||
          !json_is_number(json_array_get(hr, 1)))
        r.rc = cgd_fail(err, CGD_EDATA, "%s: \"hist_range\" should be [lo, hi]", path);
      else {
        c->hist_lo = json_number_value(json_array_get(hr, 0));
        c->hist_hi = json_number_value(json_array_get(hr, 1));
      }
    }
    if (json_is_integer(json_object_get(root, "burn_in"))) cfg_u64(&r, "burn_in", &c->burn_in);
    char form[16] = "";
    cfg_str(&r, "gibbs_form", form, sizeof form);
    if (form[0]) c->gibbs_gaussian = !strcmp(form, "gaussian");
    cfg_map(&r, "compare_map", &c->compare_map, &c->compare);
  } else if (!r.rc) {
    c->f0[0] = '\0';
    cfg_str(&r, "data", c->data, sizeof c->data);
    json_t *tc = cfg_get(&r, "target_col", j_is_uint, "a whole number >= 0");
    if (tc) c->target_col = (int)json_integer_value(tc);
    cfg_bool(&r, "standardize", &c->standardize);
    cfg_num(&r, "holdout", &c->holdout);
    cfg_size(&r, "hidden", &c->hidden);
    cfg_num(&r, "leak", &c->leak);
    cfg_str(&r, "init", c->init, sizeof c->init);
    cfg_str(&r, "save_params", c->save_params, sizeof c->save_params);
  }
  cfg_map(&r, "map", &c->map, NULL);
  cfg_num(&r, "lr", &c->lr);
  cfg_num(&r, "gamma", &c->gamma);
  cfg_num(&r, "mu", &c->mu);
  cfg_u64(&r, "iters", &c->iters);
  json_t *sj = cfg_get(&r, "seed", j_is_string, "a string of digits");
  if (sj) {
    char *end;
    const char *sv = json_string_value(sj);
    errno = 0;
    unsigned long long u = strtoull(sv, &end, 10);
    if (end == sv || *end || errno || *sv == '-')
      r.rc = cgd_fail(err, CGD_EDATA, "%s: \"seed\" '%s' is not a whole number", path, sv);
    else
      c->seed = u;
  }
  cfg_u64(&r, "log_every", &c->log_every);
  cfg_u64(&r, "hist_every", &c->hist_every);
  cfg_size(&r, "hist_bins", &c->hist_bins);
  cfg_num(&r, "tail_frac", &c->tail_frac);
  cfg_num(&r, "loss_limit", &c->loss_limit);
  json_t *vr = json_object_get(root, "verdict_rules");
  if (vr && !r.rc) {
    json_t *save = r.root;
    r.root = vr;
    cfg_num(&r, "converged_rtol", &c->verdict.converged_rtol);
    cfg_num(&r, "increase_rtol", &c->verdict.increase_rtol);
    cfg_num(&r, "period_rtol", &c->verdict.period_rtol);
    cfg_size(&r, "max_period", &c->verdict.max_period);
    r.root = save;
  }
  cfg_bool(&r, "plots", &c->plots);
  json_decref(root);
  return r.rc;
}

static json_t *json_darray(const double *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
  return a;
}

json_t *cgd_jreal(double v) { return isfinite(v) ? json_real(v) : json_null(); }
#define jreal cgd_jreal


static double nrm2(const double *v, size_t n) { return cblas_dnrm2((int)n, v, 1); }

/* ---------------------------------------------------------------- observer */

typedef struct mlp_obs {
  const cgd_run_config *cfg;
  const cgd_objective *obj;
  cgd_mlp *holdout;       /* NULL without holdout */
  size_t P;
  cgd_outfile *trace, *hist;
  double *L, *gnorm, *step_len; /* per step */
  double *prev;           /* θ at the previous step */
  uint64_t last_step;
  int have_prev;
  double t0, last_progress;
  int tty;
} mlp_obs;

double cgd_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int write_hist(mlp_obs *s, uint64_t t, const double *theta, cgd_error *err) {
  const cgd_objective *obj = s->obj;
  for (size_t v = 0; v <= obj->n_views; v++) {
    const char *name = v < obj->n_views ? obj->views[v].name : "all";
    size_t off = v < obj->n_views ? obj->views[v].offset : 0;
    size_t len = v < obj->n_views ? obj->views[v].len : s->P;
    double lo = theta[off], hi = theta[off];
    for (size_t k = 1; k < len; k++) {
      if (theta[off + k] < lo) lo = theta[off + k];
      if (theta[off + k] > hi) hi = theta[off + k];
    }
    /* Edges span this snapshot's range (widened when degenerate): recorded per row. */
    if (!(hi > lo)) {
      lo -= 0.5;
      hi += 0.5;
    }
    cgd_hist *h;
    int rc = cgd_hist_create(lo, hi, s->cfg->hist_bins, &h, err);
    if (rc) return rc;
    cgd_hist_add(h, theta + off, len, 1);
    double sd = cgd_hist_std(h), w = (hi - lo) / (double)h->nbins;
    for (size_t b = 0; b < h->nbins; b++)
      fprintf(s->hist->fp, "%llu,%s,%zu,%.17g,%.17g,%llu,%.17g,%.17g,%.17g,%.17g\n",
              (unsigned long long)t, name, b, lo + (double)b * w,
              b + 1 == h->nbins ? hi : lo + (double)(b + 1) * w,
              (unsigned long long)h->count[b], h->min, h->max, h->mean, sd);
    cgd_hist_free(h);
  }
  if (ferror(s->hist->fp))
    return cgd_fail(err, CGD_EIO, "error writing %s", s->hist->tmp_path);
  return CGD_OK;
}

static int mlp_observe(void *user, uint64_t t, size_t n, const double *x, const double *f,
                       const double *g, cgd_error *err) {
  mlp_obs *s = user;
  const cgd_run_config *cfg = s->cfg;
  (void)n;
  s->L[t] = f[0];
  s->gnorm[t] = nrm2(g, s->P);
  if (s->have_prev) {
    double acc = 0.0;
    for (size_t k = 0; k < s->P; k++) {
      double d = x[k] - s->prev[k];
      acc += d * d;
    }
    s->step_len[t - 1] = sqrt(acc);
  }
  memcpy(s->prev, x, s->P * sizeof *x);
  s->have_prev = 1;
  s->last_step = t;

  if (t % cfg->log_every == 0 || t == cfg->iters) {
    fprintf(s->trace->fp, "%llu,%.17g,%.17g,%.17g", (unsigned long long)t, f[0], s->gnorm[t],
            nrm2(x, s->P));
    if (s->holdout) fprintf(s->trace->fp, ",%.17g", cgd_mlp_loss_grad(s->holdout, x, NULL));
    if (fputc('\n', s->trace->fp) == EOF || ferror(s->trace->fp))
      return cgd_fail(err, CGD_EIO, "error writing %s", s->trace->tmp_path);
  }
  if (t == 0 || t == cfg->iters || (cfg->hist_every && t % cfg->hist_every == 0)) {
    int rc = write_hist(s, t, x, err);
    if (rc) return rc;
  }
  if (s->tty) cgd_progress(&s->last_progress, s->t0, t, cfg->iters, f[0]);
  return CGD_OK;
}

/* ---------------------------------------------------------------- plots */

static int plot_run(const char *dir, const cgd_run_config *cfg, uint64_t last, int *skipped,
                    cgd_error *err) {
  cgd_outfile gp;
  int rc = cgd_outfile_open(&gp, dir, "plot.gp", err);
  if (rc) return rc;
  fprintf(gp.fp,
          "# gnuplot script that drew loss.png and hist.png from this directory's files\n"
          "set terminal pngcairo size 1000,600 font ',10'\n"
          "set datafile separator ','\n"
          "set output 'loss.png'\n"
          "set terminal pngcairo size 1000,800 font ',10'\n"
          "set multiplot layout 2,1\nset rmargin 6\n"
          "set title 'training loss, %s lr = %g'\n"
          "set xlabel 'step'; set ylabel 'loss (MSE, standardized target)'\n"
          "set logscale y; set grid\n"
          "plot 'trace.csv' every ::1 using 1:2 with lines lw 1 title 'loss'\n"
          "unset logscale y\n"
          /* the tail on a linear scale: monotone descent and fluctuations look different
           * here, while the log-scale panel flattens both */
          "set title 'last 10%% of the steps (linear scale)'\n"
          "plot 'trace.csv' every ::1 using ($1 >= %llu ? $1 : NaN):2 with lines lw 1 notitle\n"
          "unset multiplot\n"
          "set terminal pngcairo size 1000,600 font ',10'\n"
          "set output 'hist.png'\n"
          "set multiplot layout 2,3 title 'parameter histograms at step %llu'\n"
          "set style fill solid 0.6; set grid; set xlabel 'value'; set ylabel 'count'\n",
          cgd_map_kind_name(cfg->map), cfg->lr, (unsigned long long)(last - last / 10),
          (unsigned long long)last);
  const char *names[] = {"W1", "b1", "W2", "b2", "all"};
  for (int k = 0; k < 5; k++)
    fprintf(gp.fp,
            "set title '%s'\n"
            "plot 'hist.csv' every ::1 using ((column(1)==%llu && strcol(2) eq '%s') ? "
            "($4+$5)/2 : NaN):6:($5-$4) with boxes notitle\n",
            names[k], (unsigned long long)last, names[k]);
  fprintf(gp.fp, "unset multiplot\n");
  return cgd_gnuplot_script(&gp, dir, "plot.gp", skipped, err);
}

/* ---------------------------------------------------------------- the run */

static int write_params(const char *dir, const char *name, const char *path, size_t d,
                        size_t H, const double *theta, cgd_error *err) {
  cgd_outfile f;
  int rc;
  if (path && *path) {
    FILE *fp = fopen(path, "wb");
    if (!fp) return cgd_fail(err, CGD_EIO, "cannot write %s", path);
    rc = cgd_mlp_params_write(fp, d, H, theta, err);
    if (fclose(fp) != 0 && !rc) rc = cgd_fail(err, CGD_EIO, "error writing %s", path);
    return rc;
  }
  if ((rc = cgd_outfile_open(&f, dir, name, err))) return rc;
  if ((rc = cgd_mlp_params_write(f.fp, d, H, theta, err))) {
    cgd_outfile_discard(&f);
    return rc;
  }
  return cgd_outfile_commit(&f, err);
}


int cgd_run(const cgd_run_config *cfg, const double *theta0, cgd_run_result *res,
            cgd_error *err) {
  memset(res, 0, sizeof *res);
  int rc = cgd_run_config_check(cfg, err);
  if (rc) return rc;
  if (cfg->f0[0]) return cgd_run_ms(cfg, res, err);
  /* resolved defaults that depend on the run type */
  cgd_run_config local = *cfg;
  if (!local.hist_bins) local.hist_bins = 40;
  if (!local.log_every) local.log_every = 1;
  cfg = &local;

  cgd_dataset *ds = NULL, *train = NULL, *test = NULL;
  cgd_mlp *mlp = NULL, *mlp_test = NULL;
  cgd_objective *obj = NULL;
  cgd_map *map = NULL;
  double *theta = NULL;
  json_t *conf = NULL;
  cgd_outfile trace = {0}, hist = {0};
  mlp_obs s = {0};

  if ((rc = cgd_dataset_load(cfg->data, cfg->target_col, &ds, err))) goto done;
  if (cfg->standardize && (rc = cgd_dataset_standardize(ds, err))) goto done;
  if ((rc = cgd_dataset_split(ds, cfg->holdout, cfg->seed, &train, &test, err))) goto done;
  if ((rc = cgd_mlp_create(train->n, train->d, cfg->hidden, cfg->leak, train->X, train->y, &mlp,
                           err)))
    goto done;
  if (test && (rc = cgd_mlp_create(test->n, test->d, cfg->hidden, cfg->leak, test->X, test->y,
                                   &mlp_test, err)))
    goto done;
  const size_t P = cgd_mlp_nparams(mlp), d = train->d, H = cfg->hidden;
  if ((rc = cgd_mlp_objective_create(mlp, &obj, err))) goto done;
  cgd_mlp *mlp_ref = mlp; /* owned by obj from here on */
  mlp = NULL;

  theta = malloc(P * sizeof *theta);
  if (!theta) {
    rc = cgd_fail(err, CGD_ENOMEM, "out of memory");
    goto done;
  }
  if (theta0)
    memcpy(theta, theta0, P * sizeof *theta);
  else if (cfg->init[0]) {
    if ((rc = cgd_mlp_params_read(cfg->init, d, H, theta, err))) goto done;
  } else
    cgd_mlp_init(mlp_ref, cfg->seed, theta);

  cgd_map_opts mo = {.kind = cfg->map, .lr = cfg->lr, .gamma = cfg->gamma, .mu = cfg->mu,
                     .seed = cfg->seed};
  if ((rc = cgd_map_create(&mo, obj, 1, &map, err))) goto done;

  /* The run directory and config.json come first, so even a crash leaves the recipe. */
  {
    char what[256];
    snprintf(what, sizeof what, "mlp-%s-lr%g-seed%llu", cgd_map_kind_name(cfg->map), cfg->lr,
             (unsigned long long)cfg->seed);
    if ((rc = cgd_run_dir_prepare(cfg->out, what, res->dir, sizeof res->dir, err))) goto done;
  }
  conf = cgd_run_config_json(cfg);
  json_t *dj = json_object();
  json_object_set_new(dj, "path", json_string(ds->path));
  json_object_set_new(dj, "sha256", json_string(ds->sha256));
  json_object_set_new(dj, "rows", json_integer((json_int_t)ds->n));
  json_object_set_new(dj, "inputs", json_integer((json_int_t)ds->d));
  json_object_set_new(dj, "header", json_boolean(ds->has_header));
  json_object_set_new(dj, "train_rows", json_integer((json_int_t)train->n));
  json_object_set_new(dj, "holdout_rows", json_integer(test ? (json_int_t)test->n : 0));
  if (ds->standardized) {
    json_object_set_new(dj, "x_mean", json_darray(ds->x_mean, ds->d));
    json_object_set_new(dj, "x_std", json_darray(ds->x_std, ds->d));
    json_object_set_new(dj, "y_mean", json_real(ds->y_mean));
    json_object_set_new(dj, "y_std", json_real(ds->y_std));
  }
  json_object_set_new(conf, "dataset", dj);
  json_t *mj = json_object();
  json_object_set_new(mj, "name", json_string(obj->name));
  json_object_set_new(mj, "nparams", json_integer((json_int_t)P));
  json_t *views = json_array();
  for (size_t v = 0; v < obj->n_views; v++) {
    json_t *vj = json_object();
    json_object_set_new(vj, "name", json_string(obj->views[v].name));
    json_object_set_new(vj, "offset", json_integer((json_int_t)obj->views[v].offset));
    json_object_set_new(vj, "len", json_integer((json_int_t)obj->views[v].len));
    json_array_append_new(views, vj);
  }
  json_object_set_new(mj, "views", views);
  json_object_set_new(mj, "init", json_string(theta0 ? "given by caller (shared initial parameters)"
                                              : cfg->init[0] ? cfg->init
                                                             : "pytorch-uniform(seed)"));
  json_object_set_new(conf, "model", mj);
  if ((rc = cgd_json_write(res->dir, "config.json", conf, err))) goto done;
  if ((rc = write_params(res->dir, "params_init.txt", NULL, d, H, theta, err))) goto done;

  if ((rc = cgd_outfile_open(&trace, res->dir, "trace.csv", err))) goto done;
  if ((rc = cgd_outfile_open(&hist, res->dir, "hist.csv", err))) goto done;
  fprintf(trace.fp, "step,loss,grad_norm,param_norm%s\n", test ? ",holdout_loss" : "");
  fprintf(hist.fp, "step,tensor,bin,bin_lo,bin_hi,count,min,max,mean,std\n");

  s.cfg = cfg;
  s.obj = obj;
  s.holdout = mlp_test;
  s.P = P;
  s.trace = &trace;
  s.hist = &hist;
  s.L = malloc((cfg->iters + 1) * sizeof *s.L);
  s.gnorm = malloc((cfg->iters + 1) * sizeof *s.gnorm);
  s.step_len = calloc(cfg->iters + 1, sizeof *s.step_len);
  s.prev = malloc(P * sizeof *s.prev);
  if (!s.L || !s.gnorm || !s.step_len || !s.prev) {
    rc = cgd_fail(err, CGD_ENOMEM, "out of memory for a trace of %llu steps",
                  (unsigned long long)cfg->iters);
    goto done;
  }
  s.tty = cfg->progress && isatty(STDERR_FILENO);
  s.t0 = cgd_now_s();
  s.last_progress = s.t0;

  cgd_observer ob = {.user = &s, .wants = NULL, .observe = mlp_observe};
  cgd_loop_opts lo = {.iters = cfg->iters, .loss_limit = cfg->loss_limit, .stop = cfg->stop};
  cgd_loop_result lr;
  double t_start = cgd_now_s();
  int run_rc = cgd_loop_run(&lo, obj, map, 1, theta, &ob, &lr, err);
  res->seconds = cgd_now_s() - t_start;
  if (s.tty) fputc('\n', stderr);
  res->steps = lr.steps;
  res->status = run_rc;
  cgd_error run_err = *err;
  if (run_rc && run_rc != CGD_EDIVERGED && run_rc != CGD_EINTERRUPTED) {
    rc = run_rc;
    goto done;
  }
  if ((rc = cgd_outfile_commit(&trace, err)) || (rc = cgd_outfile_commit(&hist, err))) goto done;

  /* Summary over what was observed: s.last_step + 1 losses. */
  const size_t nobs = s.have_prev ? (size_t)s.last_step + 1 : 0;
  res->final_loss = nobs ? s.L[nobs - 1] : NAN;
  json_t *sum = json_object();
  const char *verdict = "none";
  if ((rc = cgd_run_tail(cfg, s.L, nobs, res, err))) {
    json_decref(sum);
    goto done;
  }
  if (res->have_tail) verdict = cgd_verdict_name(res->tail.verdict);
  if (run_rc == CGD_EDIVERGED) verdict = "diverged";
  cgd_summary_status(sum, verdict, run_rc, &run_err, lr.bad_step, cfg->iters, lr.steps);
  snprintf(res->verdict, sizeof res->verdict, "%s", verdict);
  res->gibbs_tv = NAN;
  res->first_increase = -1;
  for (size_t t = 0; t + 1 < nobs; t++)
    if (s.L[t + 1] - s.L[t] > cfg->verdict.increase_rtol * fabs(s.L[t])) {
      res->first_increase = (int64_t)t;
      break;
    }
  json_object_set_new(sum, "first_increase_step",
                      res->first_increase >= 0 ? json_integer(res->first_increase) : json_null());
  json_object_set_new(sum, "initial_loss", nobs ? jreal(s.L[0]) : json_null());
  json_object_set_new(sum, "final_loss", jreal(res->final_loss));
  if (mlp_test)
    json_object_set_new(sum, "final_holdout_loss",
                        jreal(cgd_mlp_loss_grad(mlp_test, s.prev, NULL)));
  if (res->have_tail) {
    const cgd_tail_stats *ts = &res->tail;
    json_t *tj = cgd_tail_json(ts, "loss");
    double gsum = 0, travel = 0;
    for (size_t t = ts->start; t < ts->start + ts->len; t++) gsum += s.gnorm[t];
    for (size_t t = ts->start; t + 1 < ts->start + ts->len; t++) travel += s.step_len[t];
    json_object_set_new(tj, "grad_norm_mean", jreal(gsum / (double)ts->len));
    json_object_set_new(tj, "theta_path_length", jreal(travel));
    json_object_set_new(sum, "tail", tj);
  }
  json_object_set_new(sum, "seconds", json_real(res->seconds));
  json_object_set_new(sum, "us_per_step",
                      jreal(lr.steps ? 1e6 * res->seconds / (double)lr.steps : NAN));

  /* final parameters (also for a diverged or interrupted run: what it had) */
  if ((rc = write_params(res->dir, "params_final.txt", NULL, d, H, s.prev, err))) {
    json_decref(sum);
    goto done;
  }
  if (cfg->save_params[0] &&
      (rc = write_params(res->dir, NULL, cfg->save_params, d, H, s.prev, err))) {
    json_decref(sum);
    goto done;
  }
  if (cfg->plots && nobs > 1) {
    if ((rc = plot_run(res->dir, cfg, s.last_step, &res->plots_skipped, err))) {
      json_decref(sum);
      goto done;
    }
  } else if (cfg->plots) {
    res->plots_skipped = 1;
  }
  json_object_set_new(sum, "plots", json_string(!cfg->plots ? "off"
                                                : res->plots_skipped ? "skipped (no gnuplot)"
                                                                     : "loss.png hist.png"));
  rc = cgd_json_write(res->dir, "summary.json", sum, err);
  json_decref(sum);
  if (rc) goto done;

  res->nparams = P;
  res->theta_final = s.prev;
  s.prev = NULL;
  rc = run_rc;
  *err = run_err;

done:
  cgd_outfile_discard(&trace);
  cgd_outfile_discard(&hist);
  free(s.L);
  free(s.gnorm);
  free(s.step_len);
  free(s.prev);
  json_decref(conf);
  cgd_map_free(map);
  free(theta);
  cgd_objective_free(obj);
  cgd_mlp_free(mlp);
  cgd_mlp_free(mlp_test);
  cgd_dataset_free(train);
  cgd_dataset_free(test);
  cgd_dataset_free(ds);
  if (rc) res->status = rc;
  return rc;
}
