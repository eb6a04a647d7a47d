/* The MLP kind: full-batch GD on a d-H-1 leaky-ReLU MLP over a data file. Its state is
 * the flat parameter vector θ (one state of dim P); its series is the training loss. */
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/dataset.h"
#include "chaosgd/limits.h"
#include "chaosgd/mlp.h"
#include "checkpoint.h"
#include "options_internal.h"
#include "run_internal.h"

typedef struct mlp_state {
  cgd_dataset *ds, *train, *test;
  cgd_mlp *holdout;          /* the model over the holdout rows (NULL: none) */
  size_t P, d, H;
  cgd_outfile hist;
  /* per observed step: ‖∇L‖ and ‖θ_{t+1} − θ_t‖ (tail statistics) */
  double *gnorm, *step_len;
  double *prev;              /* θ at the last observed step */
  int have_prev;
  uint64_t last_step, last_hist;
  int hist_written;
} mlp_state;

static double nrm2(const double *v, size_t n) { return cblas_dnrm2((int)n, v, 1); }

/* ---------------------------------------------------------------- parameter histograms */

/* hist.csv rows of every view (W1 b1 W2 b2) and of all parameters at step t, on the
 * range of their finite values made valid by cgd_hist_fit_range (also for the parameters
 * of a diverged run: a lone b2 ≈ 1e299, values of both signs near ±DBL_MAX; the values
 * outside a clipped range still count in min, max, mean). */
static int write_hist(mlp_state *s, const cgd_run_ctx *r, uint64_t t, const double *theta,
                      cgd_error *err) {
  const cgd_objective *obj = r->obj;
  for (size_t v = 0; v <= obj->n_views; v++) {
    const char *name = v < obj->n_views ? obj->views[v].name : "all";
    const double *p = v < obj->n_views ? theta + obj->views[v].offset : theta;
    const size_t len = v < obj->n_views ? obj->views[v].len : s->P;
    double lo = INFINITY, hi = -INFINITY;
    cgd_finite_minmax(p, len, 1, &lo, &hi);
    cgd_hist_fit_range(&lo, &hi, r->cfg->hist_bins);
    cgd_hist *h;
    int rc = cgd_hist_create(lo, hi, r->cfg->hist_bins, &h, err);
    if (rc) return rc;
    cgd_hist_add(h, p, len, 1);
    const double sd = cgd_hist_std(h), w = (hi - lo) / (double)h->nbins;
    for (size_t b = 0; b < h->nbins; b++)
      fprintf(s->hist.fp, "%llu,%s,%zu,%.17g,%.17g,%llu,%.17g,%.17g,%.17g,%.17g\n",
              (unsigned long long)t, name, b, lo + (double)b * w,
              b + 1 == h->nbins ? hi : lo + (double)(b + 1) * w,
              (unsigned long long)h->count[b], h->min, h->max, h->mean, sd);
    cgd_hist_free(h);
  }
  s->last_hist = t;
  s->hist_written = 1;
  if (ferror(s->hist.fp))
    return cgd_fail(err, CGD_EIO, "error writing %s: %s", s->hist.tmp_path, strerror(errno));
  return CGD_OK;
}

/* Every step: gradient norm and path length for the tail, histograms when due. */
static int mlp_observe(void *u, uint64_t t, size_t n, const double *x, const double *f,
                       const double *g, cgd_error *err) {
  cgd_run_ctx *r = u;
  mlp_state *s = r->ks;
  (void)n;
  (void)f;
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
  const cgd_run_config *c = r->cfg;
  if (t == 0 || t == c->iters || (c->hist_every && t % c->hist_every == 0))
    return write_hist(s, r, t, x, err);
  return CGD_OK;
}

/* ---------------------------------------------------------------- the kind */

static int mlp_setup(cgd_run_ctx *r, cgd_error *err) {
  cgd_run_config *c = r->cfg;
  if (!c->hist_bins) c->hist_bins = 40;
  if (!c->log_every) c->log_every = 1;
  mlp_state *s = calloc(1, sizeof *s);
  if (!s) return cgd_fail(err, CGD_ENOMEM, "out of memory");
  r->ks = s;
  int rc;
  uint64_t limit;
  if ((rc = cgd_parse_memory(c->max_memory, &limit, err))) return rc;
  /* no --data (the default text unchanged): the fetched Airfoil file where a user expects
   * it, not only under the current directory */
  if (!strcmp(c->data, cgd_opt_find("data", NULL)->def)) {
    char found[4096];
    cgd_data_search tried;
    if ((rc = cgd_dataset_find_default("airfoil_self_noise.dat", NULL, found, sizeof found, &tried, err)))
      return rc;
    char *canon = realpath(found, NULL); /* /x/build/../datasets → /x/datasets */
    snprintf(c->data, sizeof c->data, "%s", canon ? canon : found);
    free(canon);
  }
  cgd_dataset_opts dopts = {.target_col = (int)c->target_col, .max_bytes = limit};
  if ((rc = cgd_dataset_load_opts(c->data, &dopts, &s->ds, err))) return rc;
  if (c->standardize && (rc = cgd_dataset_standardize(s->ds, err))) return rc;
  for (size_t w = 0; w < s->ds->nwarnings; w++) { /* e.g. a constant input column */
    if (!c->quiet) fprintf(stderr, "train: warning: %s: %s\n", s->ds->path, s->ds->warnings[w]);
    size_t len = strlen(r->res->warning);
    snprintf(r->res->warning + len, sizeof r->res->warning - len, "%s%.200s: %.200s",
             len ? "; " : "", s->ds->path, s->ds->warnings[w]);
  }
  if ((rc = cgd_mem_check(cgd_mlp_run_memory_bytes(s->ds->n, s->ds->d, c->hidden, c->iters), limit,
                          CGD_EUSAGE, "this MLP run (--hidden, --iters and the data)", err)))
    return rc;
  if ((rc = cgd_dataset_split(s->ds, c->holdout, c->seed, &s->train, &s->test, err))) return rc;
  cgd_mlp *mlp;
  if ((rc = cgd_mlp_create(s->train->n, s->train->d, c->hidden, c->leak, s->train->X,
                           s->train->y, &mlp, err)))
    return rc;
  if (s->test && (rc = cgd_mlp_create(s->test->n, s->test->d, c->hidden, c->leak, s->test->X,
                                      s->test->y, &s->holdout, err))) {
    cgd_mlp_free(mlp);
    return rc;
  }
  cgd_mlp_kernel kern = CGD_MLP_KERNEL_BLAS;
  cgd_mlp_kernel_parse(c->kernel, &kern, NULL); /* checked with the options */
  if ((rc = cgd_mlp_set_kernel(mlp, kern, err)) ||
      (s->holdout && (rc = cgd_mlp_set_kernel(s->holdout, kern, err)))) {
    cgd_mlp_free(mlp);
    return rc;
  }
  if ((rc = cgd_mlp_objective_create(mlp, &r->obj, err))) { /* owns mlp from here on */
    cgd_mlp_free(mlp);
    return rc;
  }
  s->P = cgd_mlp_nparams(mlp);
  s->d = s->train->d;
  s->H = c->hidden;
  r->n = 1;
  r->dim = s->P;
  r->x = malloc(s->P * sizeof *r->x);
  s->gnorm = malloc((c->iters + 1) * sizeof *s->gnorm);
  s->step_len = calloc(c->iters + 1, sizeof *s->step_len);
  s->prev = malloc(s->P * sizeof *s->prev);
  if (!r->x || !s->gnorm || !s->step_len || !s->prev)
    return cgd_fail(err, CGD_ENOMEM, "out of memory for a run of %llu steps",
                    (unsigned long long)c->iters);
  if (c->init[0]) {
    if ((rc = cgd_mlp_params_read(c->init, s->d, s->H, r->x, err))) return rc;
  } else {
    cgd_mlp_init(mlp, c->seed, r->x);
  }
  r->mo = (cgd_map_opts){.kind = c->map, .lr = c->lr, .gamma = c->gamma, .mu = c->mu,
                         .seed = c->seed};
  snprintf(r->what, sizeof r->what, "mlp-%s-lr%g-seed%llu", cgd_map_kind_name(c->map), c->lr,
           (unsigned long long)c->seed);
  cgd_run_observer o = {.name = "mlp", .state = r, .observe = mlp_observe};
  return cgd_run_attach(r, &o, err);
}

static void mlp_describe(cgd_run_ctx *r, json_t *conf) {
  mlp_state *s = r->ks;
  const cgd_dataset *ds = s->ds;
  json_t *dj = json_object();
  json_object_set_new(dj, "path", json_string(ds->path));
  json_object_set_new(dj, "sha256", json_string(ds->sha256));
  json_object_set_new(dj, "rows", json_integer((json_int_t)ds->n));
  json_object_set_new(dj, "inputs", json_integer((json_int_t)ds->d));
  json_object_set_new(dj, "header", json_boolean(ds->has_header));
  json_object_set_new(dj, "train_rows", json_integer((json_int_t)s->train->n));
  json_object_set_new(dj, "holdout_rows", json_integer(s->test ? (json_int_t)s->test->n : 0));
  if (ds->standardized) {
    json_object_set_new(dj, "x_mean", cgd_jarray(ds->x_mean, ds->d));
    json_object_set_new(dj, "x_std", cgd_jarray(ds->x_std, ds->d));
    json_object_set_new(dj, "y_mean", json_real(ds->y_mean));
    json_object_set_new(dj, "y_std", json_real(ds->y_std));
  }
  json_object_set_new(conf, "dataset", dj);
  json_t *mj = json_object(), *views = json_array();
  json_object_set_new(mj, "name", json_string(r->obj->name));
  json_object_set_new(mj, "nparams", json_integer((json_int_t)s->P));
  for (size_t v = 0; v < r->obj->n_views; v++)
    json_array_append_new(views, json_pack("{s:s, s:I, s:I}", "name", r->obj->views[v].name,
                                           "offset", (json_int_t)r->obj->views[v].offset,
                                           "len", (json_int_t)r->obj->views[v].len));
  json_object_set_new(mj, "views", views);
  json_object_set_new(mj, "init", json_string(r->cfg->init[0] ? r->cfg->init : "pytorch-uniform(seed)"));
  json_object_set_new(conf, "model", mj);
}

static const char *mlp_trace_header(cgd_run_ctx *r) {
  mlp_state *s = r->ks;
  return s->holdout ? "step,loss,grad_norm,param_norm,holdout_loss" : "step,loss,grad_norm,param_norm";
}

static void mlp_trace_row(cgd_run_ctx *r, FILE *fp, uint64_t t, size_t n, const double *x,
                          const double *f, const double *g) {
  mlp_state *s = r->ks;
  (void)n;
  fprintf(fp, "%llu,%.17g,%.17g,%.17g", (unsigned long long)t, f[0], nrm2(g, s->P), nrm2(x, s->P));
  if (s->holdout) fprintf(fp, ",%.17g", cgd_mlp_loss_grad(s->holdout, x, NULL));
}

static int write_params(const char *dir, const char *name, const char *path, size_t d,
                        size_t H, const double *theta, cgd_error *err) {
  cgd_outfile f;
  int rc = path ? cgd_outfile_open_path(&f, path, err) : cgd_outfile_open(&f, dir, name, err);
  if (rc) return rc;
  if ((rc = cgd_mlp_params_write(f.fp, d, H, theta, err))) {
    cgd_outfile_discard(&f);
    return rc;
  }
  return cgd_outfile_commit(&f, err);
}

static int mlp_begin(cgd_run_ctx *r, cgd_error *err) {
  mlp_state *s = r->ks;
  int rc = write_params(r->dir, "params_init.txt", NULL, s->d, s->H, r->x, err);
  if (rc || (rc = cgd_outfile_open(&s->hist, r->dir, "hist.csv", err))) return rc;
  fprintf(s->hist.fp, "step,tensor,bin,bin_lo,bin_hi,count,min,max,mean,std\n");
  return CGD_OK;
}

static int mlp_end(cgd_run_ctx *r, json_t *sum, cgd_error *err) {
  mlp_state *s = r->ks;
  int rc;
  /* a stopped run still ends on a histogram of the last state it observed */
  if (s->have_prev && (!s->hist_written || s->last_hist != s->last_step) &&
      (rc = write_hist(s, r, s->last_step, s->prev, err)))
    return rc;
  if ((rc = cgd_outfile_commit(&s->hist, err))) return rc;
  const cgd_run_result *res = r->res;
  const size_t nobs = r->any_obs ? (size_t)r->last_obs + 1 : 0;
  json_object_set_new(sum, "first_increase_step",
                      res->first_increase >= 0 ? json_integer(res->first_increase) : json_null());
  json_object_set_new(sum, "initial_loss", nobs ? cgd_jreal(r->L[0]) : json_null());
  json_object_set_new(sum, "final_loss", cgd_jreal(res->final_value));
  if (s->holdout)
    json_object_set_new(sum, "final_holdout_loss",
                        cgd_jreal(cgd_mlp_loss_grad(s->holdout, s->prev, NULL)));
  json_t *tj = json_object_get(sum, "tail");
  if (tj) {
    const cgd_tail_stats *ts = &res->tail;
    double gsum = 0, travel = 0;
    for (size_t t = ts->start; t < ts->start + ts->len; t++) gsum += s->gnorm[t];
    for (size_t t = ts->start; t + 1 < ts->start + ts->len; t++) travel += s->step_len[t];
    json_object_set_new(tj, "grad_norm_mean", cgd_jreal(gsum / (double)ts->len));
    json_object_set_new(tj, "theta_path_length", cgd_jreal(travel));
  }
  /* the final parameters are those of the last observed step (for a diverged run: the
   * step that diverged, as in the trace) */
  if (s->have_prev) memcpy(r->x, s->prev, s->P * sizeof *r->x);
  if ((rc = write_params(r->dir, "params_final.txt", NULL, s->d, s->H, r->x, err))) return rc;
  if (r->cfg->save_params[0])
    rc = write_params(NULL, NULL, r->cfg->save_params, s->d, s->H, r->x, err);
  return rc;
}

/* Fig. 6's claim over time: the tail's first and second halves, loss and parameters
 * (time_hist.csv, written by the watch observer), as overlaid histograms. */
static void time_hist_plot(cgd_run_ctx *r, FILE *gp, char *pngs, size_t len) {
  char path[4200], line[64], names[9][64];
  size_t n = 0;
  snprintf(path, sizeof path, "%s/time_hist.csv", r->dir);
  FILE *fp = fopen(path, "r");
  if (!fp) return;
  while (n < 9 && fgets(line, sizeof line, fp)) {
    char *comma = strchr(line, ','), rest[64];
    int whole = strchr(line, '\n') != NULL;
    while (!whole && fgets(rest, sizeof rest, fp)) whole = strchr(rest, '\n') != NULL; /* a long row */
    if (!comma || !strncmp(line, "series,", 7)) continue;
    *comma = '\0';
    if (!n || strcmp(names[n - 1], line)) snprintf(names[n++], sizeof names[0], "%s", line);
  }
  fclose(fp);
  if (!n) return;
  fprintf(gp, "set terminal pngcairo size 1200,%d font ',10'\nset output 'time_hist.png'\n"
              "set multiplot layout %zu,3 title 'histograms over the tail: first half (blue) vs second half (red)'\n"
              "set grid; set ylabel 'probability'; unset logscale\n",
          n > 3 ? 700 : 380, (n + 2) / 3);
  for (size_t k = 0; k < n; k++)
    fprintf(gp, "set title '%s'\nset xlabel '%s'\n"
                "plot 'time_hist.csv' every ::1 using ((strcol(1) eq '%s' && strcol(2) eq 'first') ? ($4+$5)/2 : NaN):7 "
                "with histeps lw 2 lc rgb '#1f4e9c' notitle, '' every ::1 using ((strcol(1) eq '%s' && "
                "strcol(2) eq 'second') ? ($4+$5)/2 : NaN):7 with histeps lw 2 lc rgb '#b3261e' notitle\n",
            names[k], names[k], names[k], names[k]);
  fprintf(gp, "unset multiplot\n");
  strncat(pngs, " time_hist.png", len - strlen(pngs) - 1);
}

static int mlp_plot(cgd_run_ctx *r, FILE *gp, char *pngs, size_t len, char *why, size_t wlen) {
  mlp_state *s = r->ks;
  const cgd_run_config *c = r->cfg;
  if (!r->any_obs) {
    snprintf(why, wlen, "no step was observed");
    return -1;
  }
  const uint64_t last = s->last_step;
  fprintf(gp,
          "# gnuplot script that drew loss.png and hist.png from this directory's files\n"
          "set datafile separator ','\n"
          "set terminal pngcairo size 1000,800 font ',10'\n"
          "set output 'loss.png'\n"
          "set multiplot layout 2,1\nset rmargin 6\n"
          "set title \"training loss, %s lr = %g%s\"\n"
          "set xlabel 'step'; set ylabel 'loss (MSE, standardized target)'\n"
          "set logscale y; set grid\n"
          /* a diverged run's last rows may be inf or nan: gnuplot skips those points */
          "plot 'trace.csv' every ::1 using 1:($2 > 0 && $2 < 1e300 ? $2 : NaN) with linespoints "
          "pt 7 ps 0.2 lw 1 title 'loss'\n"
          "unset logscale y\n"
          /* the tail on a linear scale: monotone descent and fluctuations look different
           * here, while the log-scale panel flattens both */
          "set title 'last 10%% of the steps (linear scale)'\n"
          "plot 'trace.csv' every ::1 using ($1 >= %llu ? $1 : NaN):($2 < 1e300 ? $2 : NaN) "
          "with linespoints pt 7 ps 0.2 lw 1 notitle\n"
          "unset multiplot\n"
          "set terminal pngcairo size 1000,600 font ',10'\n"
          "set output 'hist.png'\n"
          "set multiplot layout 2,3 title 'parameter histograms at step %llu'\n"
          "set style fill solid 0.6; set grid; set xlabel 'value'; set ylabel 'count'\n",
          cgd_map_kind_name(c->map), c->lr,
          r->run_rc == CGD_EDIVERGED ? " (diverged)" : r->run_rc == CGD_EINTERRUPTED ? " (interrupted)" : "",
          (unsigned long long)(last - last / 10), (unsigned long long)last);
  const char *names[] = {"W1", "b1", "W2", "b2", "all"};
  for (int k = 0; k < 5; k++)
    fprintf(gp,
            "set title '%s'\n"
            "plot 'hist.csv' every ::1 using ((column(1)==%llu && strcol(2) eq '%s') ? "
            "($4+$5)/2 : NaN):6:($5-$4) with boxes notitle\n",
            names[k], (unsigned long long)last, names[k]);
  fprintf(gp, "unset multiplot\n");
  snprintf(pngs, len, "loss.png hist.png");
  time_hist_plot(r, gp, pngs, len);
  return 0;
}

static int mlp_save(cgd_run_ctx *r, FILE *fp, cgd_error *err) {
  mlp_state *s = r->ks;
  if (fflush(s->hist.fp) != 0)
    return cgd_fail(err, CGD_EIO, "error writing %s: %s", s->hist.tmp_path, strerror(errno));
  const size_t k = s->have_prev ? (size_t)s->last_step + 1 : 0;
  cgd_ck_put_u64(fp, (uint64_t)ftell(s->hist.fp));
  const uint64_t v[] = {(uint64_t)s->have_prev, s->last_step, s->last_hist, (uint64_t)s->hist_written};
  cgd_ck_put(fp, v, sizeof v);
  cgd_ck_put(fp, s->prev, s->P * sizeof *s->prev);
  cgd_ck_put(fp, s->gnorm, k * sizeof *s->gnorm);
  cgd_ck_put(fp, s->step_len, k * sizeof *s->step_len);
  return CGD_OK;
}

static int mlp_load(cgd_run_ctx *r, FILE *fp, cgd_error *err) {
  mlp_state *s = r->ks;
  uint64_t off, v[4];
  int rc = cgd_ck_get_u64(fp, &off, "hist offset", err);
  if (!rc) rc = cgd_ck_get(fp, v, sizeof v, "mlp counters", err);
  if (rc) return rc;
  if (v[1] > r->cfg->iters) return cgd_fail(err, CGD_EDATA, "checkpoint: step past the run's end");
  s->have_prev = (int)v[0];
  s->last_step = v[1];
  s->last_hist = v[2];
  s->hist_written = (int)v[3];
  const size_t k = s->have_prev ? (size_t)s->last_step + 1 : 0;
  if ((rc = cgd_ck_get(fp, s->prev, s->P * sizeof *s->prev, "theta", err)) ||
      (rc = cgd_ck_get(fp, s->gnorm, k * sizeof *s->gnorm, "gradient norms", err)) ||
      (rc = cgd_ck_get(fp, s->step_len, k * sizeof *s->step_len, "step lengths", err)))
    return rc;
  return cgd_outfile_reopen(&s->hist, r->dir, "hist.csv", (long)off, err);
}

static void mlp_free(cgd_run_ctx *r) {
  mlp_state *s = r->ks;
  if (!s) return;
  cgd_outfile_discard(&s->hist);
  free(s->gnorm);
  free(s->step_len);
  free(s->prev);
  cgd_mlp_free(s->holdout);
  cgd_dataset_free(s->train);
  cgd_dataset_free(s->test);
  cgd_dataset_free(s->ds);
  free(s);
}

const cgd_kind cgd_kind_mlp = {
    .id = CGD_KIND_MLP,
    .series = "loss",
    .setup = mlp_setup,
    .describe = mlp_describe,
    .trace_header = mlp_trace_header,
    .begin = mlp_begin,
    .trace_row = mlp_trace_row,
    .end = mlp_end,
    .plot = mlp_plot,
    .save = mlp_save,
    .load = mlp_load,
    .free = mlp_free,
};
