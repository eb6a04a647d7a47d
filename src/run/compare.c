/* Comparisons across learning rates, for every run kind: each rate runs from the same
 * initial state(s) into lr-<rate>/ of one directory; then one table, one JSON document,
 * one histogram file and one figure across them. MLP: loss traces and final parameter
 * histograms (Fig. 6/7). Analytic: per rate, the histogram against *its* rescaled Gibbs law
 * and the distances (the number that matters there). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chaosgd/mlp.h"
#include "chaosgd/multiscale.h"
#include "chaosgd/run.h"
#include "ms_spec.h"
#include "run_internal.h"

/* A run's directory relative to the comparison directory (its last path component). */
static const char *leaf(const char *dir) {
  const char *slash = strrchr(dir, '/');
  return slash ? slash + 1 : dir;
}

/* ---------------------------------------------------------------- table and JSON */

static void csv_num(FILE *fp, double v) {
  char b[32];
  if (isfinite(v)) fprintf(fp, ",%s", cgd_fmt_double(v, b, sizeof b));
  else fputs(",", fp); /* empty: undefined */
}

static int write_table(const char *dir, const cgd_run_config *cfg, const cgd_run_result *runs,
                       size_t nruns, cgd_error *err) {
  const cgd_kind_id kind = cgd_run_config_kind(cfg);
  const char *v = kind == CGD_KIND_MLP ? "loss" : "f";
  cgd_outfile csv;
  int rc = cgd_outfile_open(&csv, dir, "comparison.csv", err);
  if (rc) return rc;
  fprintf(csv.fp, "lr,map,verdict,period,status,steps");
  if (kind != CGD_KIND_ENSEMBLE)
    fprintf(csv.fp, ",final_%s,tail_start,tail_mean,tail_std,tail_rel_std,tail_min,tail_max,"
                    "frac_increase,lag1_autocorr_increments", v);
  if (kind != CGD_KIND_MLP) fprintf(csv.fp, ",gibbs_tv,gibbs_hellinger,gibbs_kl,gibbs_w1,gibbs_ks");
  fprintf(csv.fp, ",run_dir\n");
  json_t *arr = json_array();
  for (size_t r = 0; r < nruns; r++) {
    const cgd_run_result *R = &runs[r];
    const cgd_tail_stats *t = &R->tail;
    char lr[32], period[16] = "";
    if (R->have_tail && t->period) snprintf(period, sizeof period, "%d", t->period);
    cgd_fmt_double(cfg->lrs[r], lr, sizeof lr);
    fprintf(csv.fp, "%s,%s,%s,%s,%s,%llu", lr, cgd_map_kind_name(cfg->map), R->verdict, period,
            cgd_status_name(R->status), (unsigned long long)R->steps);
    json_t *o = json_object();
    json_object_set_new(o, "lr", json_real(cfg->lrs[r]));
    json_object_set_new(o, "map", json_string(cgd_map_kind_name(cfg->map)));
    json_object_set_new(o, "verdict", json_string(R->verdict));
    json_object_set_new(o, "status", json_string(cgd_status_name(R->status)));
    json_object_set_new(o, "steps", json_integer((json_int_t)R->steps));
    if (kind != CGD_KIND_ENSEMBLE) {
      const double tv[] = {R->final_value, (double)t->start, t->mean, t->std, t->rel_std,
                           t->min, t->max, t->frac_increase, t->lag1_autocorr_incr};
      for (int k = 0; k < 9; k++) csv_num(csv.fp, k == 0 || R->have_tail ? tv[k] : NAN);
      char key[32];
      snprintf(key, sizeof key, "final_%s", v);
      json_object_set_new(o, key, cgd_jreal(R->final_value));
      json_object_set_new(o, "first_increase_step",
                          R->first_increase >= 0 ? json_integer(R->first_increase) : json_null());
      json_object_set_new(o, "tail", R->have_tail ? cgd_tail_json(t, v) : json_null());
    }
    if (kind != CGD_KIND_MLP) {
      for (int k = 0; k < 5; k++) csv_num(csv.fp, R->gibbs[k]);
      json_object_set_new(o, "gibbs", json_pack("{s:o, s:o, s:o, s:o, s:o}", "tv", cgd_jreal(R->gibbs[0]),
                                                "hellinger", cgd_jreal(R->gibbs[1]), "kl",
                                                cgd_jreal(R->gibbs[2]), "w1", cgd_jreal(R->gibbs[3]),
                                                "ks", cgd_jreal(R->gibbs[4])));
    }
    fprintf(csv.fp, ",%s\n", leaf(R->dir));
    json_object_set_new(o, "run_dir", json_string(leaf(R->dir)));
    json_array_append_new(arr, o);
  }
  if ((rc = cgd_outfile_commit(&csv, err))) {
    json_decref(arr);
    return rc;
  }
  json_t *doc = json_pack("{s:s, s:o}", "kind", cgd_kind_name(kind), "runs", arr);
  rc = cgd_json_write(dir, "comparison.json", doc, err);
  json_decref(doc);
  return rc;
}

/* MLP: the final parameters of every run on one common range, so they can be overlaid. */
static int write_param_hists(const char *dir, const cgd_run_config *cfg,
                             const cgd_run_result *runs, size_t nruns, cgd_error *err) {
  const size_t nb = 40;
  double lo = INFINITY, hi = -INFINITY;
  for (size_t r = 0; r < nruns; r++) cgd_finite_minmax(runs[r].state_final, runs[r].nstate, 1, &lo, &hi);
  cgd_hist_fit_range(&lo, &hi, nb);
  cgd_outfile hc;
  int rc = cgd_outfile_open(&hc, dir, "comparison_hist.csv", err);
  if (rc) return rc;
  fprintf(hc.fp, "lr,bin,bin_lo,bin_hi,count\n");
  for (size_t r = 0; r < nruns; r++) {
    if (!runs[r].state_final) continue; /* no parameters (unreadable on --resume): no rows */
    cgd_hist *h;
    if ((rc = cgd_hist_create(lo, hi, nb, &h, err))) {
      cgd_outfile_discard(&hc);
      return rc;
    }
    cgd_hist_add(h, runs[r].state_final, runs[r].nstate, 1);
    double w = (hi - lo) / (double)nb;
    char lr[32];
    cgd_fmt_double(cfg->lrs[r], lr, sizeof lr);
    for (size_t b = 0; b < nb; b++)
      fprintf(hc.fp, "%s,%zu,%.17g,%.17g,%llu\n", lr, b, lo + (double)b * w,
              lo + (double)(b + 1) * w, (unsigned long long)h->count[b]);
    cgd_hist_free(h);
  }
  return cgd_outfile_commit(&hc, err);
}

/* ---------------------------------------------------------------- the figure */

static void plot_mlp(FILE *gp, const cgd_run_config *cfg, const cgd_run_result *runs, size_t nruns) {
  uint64_t last = 0;
  for (size_t r = 0; r < nruns; r++) last = runs[r].steps > last ? runs[r].steps : last;
  fprintf(gp, "set terminal pngcairo size 1100,1200 font ',10'\nset output 'comparison.png'\n"
              "set multiplot layout 3,1\nset rmargin 6\n"
              "set title 'loss traces (same initial parameters)'\n"
              "set xlabel 'step'; set ylabel 'loss'; set logscale y; set grid\nplot ");
  for (size_t r = 0; r < nruns; r++)
    fprintf(gp, "%s'%s/trace.csv' every ::1 using 1:($2 > 0 && $2 < 1e300 ? $2 : NaN) with lines title 'lr = %g (%s)'",
            r ? ", " : "", leaf(runs[r].dir), cfg->lrs[r], runs[r].verdict);
  /* the last 10% of each trace over its own mean: a monotone descent is a straight line, a
   * chaotic one fluctuates — visible whatever the two loss levels are */
  fprintf(gp, "\nunset logscale y\n"
              "set title 'last 10%% of the steps, each loss over its mean in that window'\n"
              "set ylabel 'loss / window mean'\n");
  for (size_t r = 0; r < nruns; r++)
    fprintf(gp, "W%zu_mean = 1\nstats '%s/trace.csv' every ::1 using ($1 >= %llu && $2 < 1e300 ? $2 : NaN) "
                "name 'W%zu' nooutput\n",
            r, leaf(runs[r].dir), (unsigned long long)(last - last / 10), r);
  fprintf(gp, "plot ");
  for (size_t r = 0; r < nruns; r++)
    fprintf(gp, "%s'%s/trace.csv' every ::1 using ($1 >= %llu ? $1 : NaN):($2/W%zu_mean) "
                "with lines title 'lr = %g'",
            r ? ", " : "", leaf(runs[r].dir), (unsigned long long)(last - last / 10), r, cfg->lrs[r]);
  fprintf(gp, "\nset title 'final parameter histograms (all parameters)'\n"
              "set xlabel 'parameter value'; set ylabel 'count'\n"
              "set style fill transparent solid 0.4\nplot ");
  for (size_t r = 0; r < nruns; r++) {
    char lr[32];
    fprintf(gp, "%s'comparison_hist.csv' every ::1 using (strcol(1) eq '%s' ? ($3+$4)/2 : NaN):5:($4-$3) "
                "with boxes title 'lr = %g'",
            r ? ", " : "", cgd_fmt_double(cfg->lrs[r], lr, sizeof lr), cfg->lrs[r]);
  }
  fprintf(gp, "\nunset multiplot\n");
}

/* Analytic: per rate, its final histogram against its own Gibbs law (1-D), and the
 * distances against the rate. */
static void plot_analytic(FILE *gp, const cgd_run_config *cfg, const cgd_run_result *runs,
                          size_t nruns, int dim) {
  const int cols = nruns < 3 ? (int)nruns : 3, rows = ((int)nruns + cols - 1) / cols + 1;
  fprintf(gp, "set terminal pngcairo size %d,%d font ',10'\nset output 'comparison.png'\n"
              "set multiplot layout %d,%d\nset grid\n",
              400 * cols + 100, 330 * rows, rows, cols);
  for (size_t r = 0; r < nruns; r++) {
    const char *d = leaf(runs[r].dir);
    fprintf(gp, "set title \"lr = %g: %s, TV to Gibbs %.4f\"\n", cfg->lrs[r], runs[r].verdict,
            runs[r].gibbs[0]);
    if (dim == 1)
      /* the last histogram of the run: the rows of its largest step */
      fprintf(gp, "stats '%s/hist.csv' every ::1 using 1 name 'S%zu' nooutput\n"
                  "set xlabel 'x'; set ylabel 'probability per bin'; set style fill solid 0.3\n"
                  "plot '%s/hist.csv' every ::1 using (column(1)==S%zu_max ? ($4+$5)/2 : NaN):7:($5-$4) "
                  "with boxes lc rgb '#9ab' title 'run', '' every ::1 using (column(1)==S%zu_max ? ($4+$5)/2 : NaN):8 "
                  "with histeps lw 2 lc rgb 'black' title 'Gibbs law'\n",
              d, r, d, r, r);
    else
      fprintf(gp, "set xlabel 'x'; set ylabel 'y'\nplot '%s/trace.csv' every ::1 using 1:2 with lines notitle\n", d);
  }
  fprintf(gp, "set title 'distance to the rescaled Gibbs law per rate'\nset logscale x\n"
              "set xlabel 'lr'; set ylabel 'distance'; set key top left\n"
              "plot 'comparison.csv' using 1:(column('gibbs_tv')) with linespoints pt 7 title 'TV', "
              "'' using 1:(column('gibbs_hellinger')) with linespoints pt 7 title 'Hellinger'\n"
              "unset multiplot\n");
}

static void plot_compare(const char *dir, const cgd_run_config *cfg, const cgd_run_result *runs,
                         size_t nruns, int dim, char *msg, size_t mlen) {
  cgd_outfile gp;
  cgd_error e;
  if (cgd_outfile_open(&gp, dir, "comparison.gp", &e)) {
    snprintf(msg, mlen, "failed: %.480s", e.msg);
    return;
  }
  fprintf(gp.fp, "# gnuplot script that drew comparison.png from this directory's files\n"
                 "set datafile separator ','\n");
  if (cgd_run_config_kind(cfg) == CGD_KIND_MLP) plot_mlp(gp.fp, cfg, runs, nruns);
  else plot_analytic(gp.fp, cfg, runs, nruns, dim);
  int skipped = 0;
  if (cgd_gnuplot_script(&gp, dir, "comparison.gp", &skipped, &e))
    snprintf(msg, mlen, "failed: %.480s", e.msg);
  else
    snprintf(msg, mlen, "%s", skipped ? "skipped (no gnuplot)" : "comparison.png");
}

/* ---------------------------------------------------------------- the comparison */

static int prepare(const cgd_run_config *cfg, char *dir, size_t len, cgd_error *err) {
  char what[64];
  snprintf(what, sizeof what, "compare-%s-seed%llu", cgd_kind_name(cgd_run_config_kind(cfg)),
           (unsigned long long)cfg->seed);
  return cgd_run_dir_prepare(cfg->out, what, cfg->force, dir, len, err);
}

/* ---------------------------------------------------------------- --resume */

/* Reading a finished rate's summary.json back, strictly: a value of the wrong type or out
 * of range (an edited or foreign file) is CGD_EDATA naming the file and the key, never a
 * silent 0 or an undefined conversion. */
typedef struct rd {
  const char *path;
  cgd_error *e;
  int rc;
} rd;

/* A number or null (NaN); absent is NaN. */
static double rd_num(rd *c, const json_t *o, const char *key) {
  const json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v)) return NAN;
  if (!json_is_number(v) && !c->rc)
    c->rc = cgd_fail(c->e, CGD_EDATA, "%s: \"%s\" should be a number or null", c->path, key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A whole number in [0, max], or null/absent (the fallback). */
static uint64_t rd_count(rd *c, const json_t *o, const char *key, uint64_t max, uint64_t fallback) {
  const json_t *v = json_object_get(o, key);
  if (!v || json_is_null(v)) return fallback;
  if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max) {
    if (!c->rc)
      c->rc = cgd_fail(c->e, CGD_EDATA, "%s: \"%s\" should be a whole number in [0, %llu]", c->path,
                       key, (unsigned long long)max);
    return fallback;
  }
  return (uint64_t)json_integer_value(v);
}

/* The status a run writes as name (the codes are 0 and negative); 0 if it is none. */
static int status_code(const char *name, int *code) {
  static const int codes[] = {CGD_OK, CGD_EINTERNAL, CGD_EUSAGE, CGD_EDATA, CGD_EIO,
                              CGD_EDIVERGED, CGD_EINTERRUPTED, CGD_ENOMEM, CGD_EDOMAIN};
  for (size_t i = 0; name && i < sizeof codes / sizeof codes[0]; i++)
    if (!strcmp(cgd_status_name(codes[i]), name)) {
      *code = codes[i];
      return 1;
    }
  return 0;
}

/* A rate whose files could not be read back: a row that says so, with no numbers. */
static int unreadable(cgd_run_result *res, int rc) {
  free(res->state_final);
  res->state_final = NULL;
  res->nstate = 0;
  res->status = rc;
  snprintf(res->verdict, sizeof res->verdict, "unreadable");
  res->have_tail = 0;
  res->steps = 0;
  res->final_value = NAN;
  res->first_increase = -1;
  for (int k = 0; k < 5; k++) res->gibbs[k] = NAN;
  return rc;
}

/* A finished rate's row from what its run wrote: summary.json (jansson writes doubles so
 * that they read back exactly, so the table is the one an uninterrupted comparison gives)
 * and, for the MLP, params_final.txt for the parameter histograms. Returns the rate's own
 * status with its message in e; a file that cannot be read is CGD_EDATA naming it. */
static int read_summary(const cgd_run_config *one, const json_t *sum, cgd_run_result *res,
                        cgd_error *e);
static int result_from_summary(const cgd_run_config *one, const json_t *sum, cgd_run_result *res,
                               cgd_error *e) {
  snprintf(res->dir, sizeof res->dir, "%s", one->out);
  res->kind = cgd_run_config_kind(one);
  const int rc = read_summary(one, sum, res, e);
  return rc == CGD_EDATA || rc == CGD_ENOMEM ? unreadable(res, rc) : rc;
}

static int read_summary(const cgd_run_config *one, const json_t *sum, cgd_run_result *res,
                        cgd_error *e) {
  const cgd_kind_id kind = cgd_run_config_kind(one);
  const char *v = kind == CGD_KIND_MLP ? "loss" : "f";
  char key[64], spath[4200];
  snprintf(spath, sizeof spath, "%s/summary.json", one->out);
  rd c = {spath, e, CGD_OK};
  if (!status_code(json_string_value(json_object_get(sum, "status")), &res->status))
    return cgd_fail(e, CGD_EDATA, "%s: \"status\" is not one a run writes", spath);
  const json_t *vd = json_object_get(sum, "verdict");
  if (!json_is_string(vd)) return cgd_fail(e, CGD_EDATA, "%s: \"verdict\" should be a string", spath);
  snprintf(res->verdict, sizeof res->verdict, "%s", json_string_value(vd));
  res->steps = rd_count(&c, sum, "steps_completed", one->iters, 0);
  snprintf(key, sizeof key, "final_%s", v);
  res->final_value = rd_num(&c, sum, key);
  const uint64_t fi = rd_count(&c, sum, "first_increase_step", one->iters, UINT64_MAX);
  res->first_increase = fi == UINT64_MAX ? -1 : (int64_t)fi;
  const json_t *t = json_object_get(sum, "tail");
  if ((res->have_tail = json_is_object(t))) {
    cgd_tail_stats *ts = &res->tail;
    double *fields[] = {&ts->mean, &ts->std, &ts->rel_std, &ts->min, &ts->max};
    const char *names[] = {"mean", "std", "rel_std", "min", "max"};
    for (int k = 0; k < 5; k++) {
      snprintf(key, sizeof key, "%s_%s", v, names[k]);
      *fields[k] = rd_num(&c, t, key);
    }
    ts->start = (size_t)rd_count(&c, t, "start_step", one->iters, 0);
    ts->len = (size_t)rd_count(&c, t, "steps", one->iters + 1, 0);
    ts->frac_increase = rd_num(&c, t, "frac_increase");
    ts->lag1_autocorr_incr = rd_num(&c, t, "lag1_autocorr_increments");
    ts->period = (int)rd_count(&c, t, "period", 1u << 20, 0);
    ts->block_means_decreasing = json_is_true(json_object_get(t, "block_means_decreasing"));
  }
  const json_t *g = json_object_get(sum, "gibbs");
  if (g && !json_is_object(g) && !json_is_null(g))
    return cgd_fail(e, CGD_EDATA, "%s: \"gibbs\" should be an object", spath);
  if (res->have_tail && res->tail.start + res->tail.len > one->iters + 1)
    return cgd_fail(e, CGD_EDATA, "%s: \"tail\" runs past the last step", spath);
  const char *gn[] = {"tv", "hellinger", "kl", "w1", "ks"};
  for (int k = 0; k < 5; k++) res->gibbs[k] = json_is_object(g) ? rd_num(&c, g, gn[k]) : NAN;
  if (c.rc) return c.rc;
  const json_t *msg = json_object_get(sum, "message");
  snprintf(e->msg, sizeof e->msg, "%s", json_is_string(msg) ? json_string_value(msg) : "");
  if (kind == CGD_KIND_MLP) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", one->out);
    json_t *conf = json_load_file(path, 0, NULL);
    const json_t *in = json_object_get(json_object_get(conf, "dataset"), "inputs");
    const size_t d = json_is_integer(in) ? (size_t)json_integer_value(in) : 0, H = one->hidden;
    json_decref(conf);
    if (!d) return cgd_fail(e, CGD_EDATA, "%s: no dataset.inputs", path);
    res->nstate = (d + 2) * H + 1;
    if (!(res->state_final = malloc(res->nstate * sizeof *res->state_final)))
      return cgd_fail(e, CGD_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/params_final.txt", one->out);
    int rc = cgd_mlp_params_read(path, d, H, res->state_final, e);
    if (rc) return rc; /* unreadable(): a row without parameters, not half of them */
  }
  return res->status;
}

/* --resume of a comparison: each rate as its directory was left. A finished rate
 * (summary.json with a status other than interrupted) is read back; one with
 * checkpoint.bin continues from it (the rate's own --resume); any other, never started or
 * killed before its first checkpoint, runs from the start. */
static int resume_rate(const cgd_run_config *cfg, cgd_run_config *one, cgd_run_result *res,
                       const char **how, cgd_error *e) {
  char path[4200];
  snprintf(path, sizeof path, "%s/summary.json", one->out);
  json_t *sum = json_load_file(path, 0, NULL);
  const json_t *st = json_object_get(sum, "status");
  if (json_is_string(st) && strcmp(json_string_value(st), "interrupted")) {
    *how = "finished before";
    int rc = result_from_summary(one, sum, res, e);
    json_decref(sum);
    return rc;
  }
  json_decref(sum);
  snprintf(path, sizeof path, "%s/checkpoint.bin", one->out);
  if (access(path, R_OK) == 0) {
    *how = "resumed";
    cgd_run_config *rc1 = cgd_run_config_create();
    if (!rc1) return cgd_fail(e, CGD_ENOMEM, "out of memory");
    int rc = cgd_run_config_load_resume(one->out, rc1, e);
    if (!rc) {
      rc1->stop = cfg->stop;
      rc1->quiet = cfg->quiet;
      rc1->progress = cfg->progress;
      rc = cgd_run_resume(rc1, res, e);
    }
    cgd_run_config_free(rc1);
    return rc;
  }
  *how = "started";
  one->force = 1; /* a directory without checkpoint or summary holds nothing to keep */
  return cgd_run(one, NULL, res, e);
}

/* The states' dimension of an analytic comparison (for its figure); 1 for the MLP. */
static int states_dim(const cgd_run_config *cfg) {
  if (cgd_run_config_kind(cfg) == CGD_KIND_MLP) return 1;
  const char *pn[CGD_MAX_PARAMS];
  cgd_ms_spec spec = cgd_ms_spec_of(cfg, pn);
  cgd_objective *o;
  cgd_error e;
  if (cgd_multiscale_create(&spec, &o, &e)) return 1;
  const int dim = (int)o->dim;
  cgd_objective_free(o);
  return dim;
}

int cgd_run_compare(const cgd_run_config *cfg, char *dir, size_t len, cgd_error *err) {
  int rc = cgd_run_config_check(cfg, err);
  if (rc) return rc;
  if (cfg->resume) {
    if (snprintf(dir, len, "%s", cfg->out) >= (int)len) return cgd_fail(err, CGD_EUSAGE, "--resume: path too long");
  } else {
    if ((rc = prepare(cfg, dir, len, err))) return rc;
    /* --force: the rate directories of a former comparison here are emptied now, so that
     * a --resume of this one, interrupted before reaching them, cannot take them for its
     * own finished rates */
    for (size_t r = 0; cfg->force && !rc && r < cfg->nlr; r++) {
      char lr[32], rate_dir[4200];
      struct stat sb;
      snprintf(rate_dir, sizeof rate_dir, "%s/lr-%s", dir, cgd_fmt_double(cfg->lrs[r], lr, sizeof lr));
      if (stat(rate_dir, &sb) == 0 && S_ISDIR(sb.st_mode)) rc = cgd_run_dir_clear(rate_dir, err);
    }
    /* what --resume (and --config) read back: every option, the list of rates */
    json_t *conf = cgd_run_config_json(cfg);
    json_object_set_new(conf, "out", json_string(dir));
    if (!rc) rc = cgd_json_write(dir, "config.json", conf, err);
    json_decref(conf);
    if (rc) return rc;
  }
  cgd_run_result *res = calloc(cfg->nlr, sizeof *res);
  cgd_run_config *one = cgd_run_config_dup(cfg);
  if (!res || !one) {
    free(res);
    cgd_run_config_free(one);
    return cgd_fail(err, CGD_ENOMEM, "out of memory");
  }
  int worst = CGD_OK;
  const int dim = states_dim(cfg);
  size_t done = 0;
  for (size_t r = 0; r < cfg->nlr; r++) {
    char lr[32];
    one->lr = cfg->lrs[r];
    one->lrs[0] = cfg->lrs[r];
    one->nlr = 1;
    /* shortest round-trip text: rates that print alike with %g get distinct names */
    if (snprintf(one->out, sizeof one->out, "%s/lr-%s", dir,
                 cgd_fmt_double(cfg->lrs[r], lr, sizeof lr)) >= (int)sizeof one->out) {
      rc = cgd_fail(err, CGD_EUSAGE, "--out: path too long");
      break;
    }
    cgd_error e;
    const char *how = NULL;
    int st = cfg->resume ? resume_rate(cfg, one, &res[r], &how, &e) : cgd_run(one, NULL, &res[r], &e);
    if (st && !res[r].dir[0]) { /* refused before its run directory existed: not a row */
      rc = cgd_fail(err, st, "lr %s: %s", lr, e.msg);
      if (r == 0 && !cfg->resume) { /* nothing ran: the directory holds no comparison */
        char cp[4200];
        snprintf(cp, sizeof cp, "%s/config.json", dir);
        unlink(cp);
      }
      break;
    }
    if (!cfg->quiet) {
      fprintf(stderr, "lr %s: %s after %llu steps", lr, res[r].verdict, (unsigned long long)res[r].steps);
      if (how) fprintf(stderr, " (%s)", how);
      if (!how || strcmp(how, "finished before")) fprintf(stderr, " (%.2f s)", res[r].seconds);
      if (st) fprintf(stderr, " — %s", e.msg);
      fputc('\n', stderr);
    }
    /* name the rate; a signal's exit code wins, as --resume can continue what it stopped */
    if (st && (!worst || st == CGD_EINTERRUPTED)) worst = cgd_fail(err, st, "lr %s: %s", lr, e.msg);
    done = r + 1;
    /* every other outcome (diverged, an objective refusing a state the dynamics reached)
     * is a row, and the next rates still run; a signal stops the comparison */
    if (st == CGD_EINTERRUPTED) break;
  }
  if (done) {
    /* the table covers the rates that ran, also when a later rate was refused */
    cgd_run_config *part = cgd_run_config_dup(cfg);
    int trc = CGD_OK;
    cgd_error e;
    if (!part) trc = cgd_fail(&e, CGD_ENOMEM, "out of memory");
    else {
      part->nlr = done;
      trc = write_table(dir, part, res, done, &e);
      if (!trc && cgd_run_config_kind(cfg) == CGD_KIND_MLP)
        trc = write_param_hists(dir, part, res, done, &e);
      char msg[512] = "off";
      if (!trc && cfg->plots) {
        plot_compare(dir, part, res, done, dim, msg, sizeof msg);
        if (strncmp(msg, "failed", 6) && strcmp(msg, "comparison.png") && !cfg->quiet)
          fprintf(stderr, "  comparison plot %s\n", msg);
        else if (!strncmp(msg, "failed", 6) && !cfg->quiet)
          fprintf(stderr, "train: warning: comparison plot %s\n", msg);
      }
      cgd_run_config_free(part);
    }
    if (trc && !rc) rc = trc, *err = e;
  }
  for (size_t r = 0; r < cfg->nlr; r++) cgd_run_result_clear(&res[r]);
  free(res);
  cgd_run_config_free(one);
  return rc ? rc : worst;
}
