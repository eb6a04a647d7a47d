/* train --bifurcation: an orbit diagram of 1-D GD over a grid of learning rates (the
 * paper's Fig. 9), through the library's cgd_bifurcation (OpenMP over η; the output does
 * not depend on the thread count). One run directory: config.json first, then
 * bifurcation.csv (per η: period, λ with its standard error, wells visited, hop rate),
 * attractor.csv (the last points of every orbit), summary.json (the η of each period
 * doubling, the onset of chaos and of global chaos), plots last. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/bifurcation.h"
#include "chaosgd/multiscale.h"
#include "chaosgd/sampling.h"
#include "ms_spec.h"
#include "run_internal.h"

static int write_csvs(const char *dir, const cgd_bif_result *b, double eps, cgd_error *err) {
  cgd_outfile f;
  int rc = cgd_outfile_open(&f, dir, "bifurcation.csv", err);
  if (rc) return rc;
  fprintf(f.fp, "eta,eta_over_eps,period,lambda,lambda_stderr,wells,hop_rate,diverged\n");
  for (size_t i = 0; i < b->n_eta; i++)
    fprintf(f.fp, "%.17g,%.17g,%zu,%.17g,%.17g,%zu,%.17g,%d\n", b->eta[i], b->eta[i] / eps,
            b->period[i], b->lambda[i], b->lambda_se[i], b->wells[i], b->hop_rate[i], b->diverged[i]);
  if ((rc = cgd_outfile_commit(&f, err))) return rc;
  if ((rc = cgd_outfile_open(&f, dir, "attractor.csv", err))) return rc;
  fprintf(f.fp, "eta,eta_over_eps,x\n");
  for (size_t i = 0; i < b->n_eta; i++)
    for (size_t k = 0; k < b->keep; k++) {
      double x = b->points[i * b->keep + k];
      if (isfinite(x)) fprintf(f.fp, "%.17g,%.17g,%.17g\n", b->eta[i], b->eta[i] / eps, x);
    }
  return cgd_outfile_commit(&f, err);
}

static json_t *event(double eta, double lo, double eps) {
  return json_pack("{s:o, s:o, s:o, s:o}", "eta", cgd_jreal(eta), "eta_over_eps", cgd_jreal(eta / eps),
                   "previous_grid_eta", cgd_jreal(lo), "previous_grid_eta_over_eps", cgd_jreal(lo / eps));
}

static json_t *summary(const cgd_bif_result *b, const cgd_run_config *c, double wp) {
  json_t *s = json_object(), *dbl = json_array();
  size_t diverged = 0, chaotic = 0;
  for (size_t i = 0; i < b->n_eta; i++) {
    diverged += b->diverged[i] != 0;
    chaotic += !b->diverged[i] && b->period[i] == 0 && b->lambda[i] > 0;
  }
  json_object_set_new(s, "verdict", json_string("orbit diagram"));
  json_object_set_new(s, "status", json_string("ok"));
  json_object_set_new(s, "message", json_string(""));
  json_object_set_new(s, "rates", json_integer((json_int_t)b->n_eta));
  json_object_set_new(s, "diverged_rates", json_integer((json_int_t)diverged));
  json_object_set_new(s, "chaotic_rates", json_integer((json_int_t)chaotic));
  for (size_t k = 0; k < b->n_doublings; k++) {
    json_t *e = event(b->doubling_eta[k], b->doubling_lo[k], c->eps);
    json_object_set_new(e, "from_period", json_integer((json_int_t)b->doubling_from[k]));
    json_object_set_new(e, "to_period", json_integer((json_int_t)(2 * b->doubling_from[k])));
    json_object_set_new(e, "bracket", cgd_jarray((double[]){b->doubling_lo[k], b->doubling_hi[k]}, 2));
    json_array_append_new(dbl, e);
  }
  json_object_set_new(s, "period_doublings", dbl);
  json_object_set_new(s, "chaos_onset", isfinite(b->chaos_onset) ? event(b->chaos_onset, b->chaos_lo, c->eps) : json_null());
  json_object_set_new(s, "global_chaos_onset",
                      isfinite(b->global_onset) ? event(b->global_onset, b->global_lo, c->eps) : json_null());
  json_object_set_new(s, "rules", json_string(
      "doubling: adjacent grid points with period p then 2p; chaos onset: first point from which "
      "lambda > 0 with no period <= 64 for 5 consecutive points; global chaos: first point from "
      "which the orbit visits more than one micro-well and hops, for 5 consecutive points"));
  json_object_set_new(s, "well_period", cgd_jreal(wp));
  return s;
}

static int plot(const char *dir, const cgd_bif_result *b, const cgd_run_config *c, double wp,
                double wo, double x0, char *msg, size_t mlen) {
  double ymin = INFINITY, ymax = -INFINITY;
  for (size_t i = 0; i < b->n_eta * b->keep; i++)
    if (isfinite(b->points[i])) ymin = fmin(ymin, b->points[i]), ymax = fmax(ymax, b->points[i]);
  if (!(ymax >= ymin)) {
    snprintf(msg, mlen, "none: every orbit diverged");
    return 0;
  }
  if (wp > 0) { /* the starting micro-well and its neighbours: where the doublings happen */
    double k0 = floor((x0 - wo) / wp);
    ymin = fmax(ymin, wo + (k0 - 1) * wp);
    ymax = fmin(ymax, wo + (k0 + 2) * wp);
  }
  const double pad = 0.02 * (ymax - ymin) + 1e-12, e = c->eps;
  cgd_outfile gp;
  cgd_error er;
  if (cgd_outfile_open(&gp, dir, "plot.gp", &er)) return snprintf(msg, mlen, "failed: %.480s", er.msg), 0;
  FILE *f = gp.fp;
  fprintf(f, "# gnuplot script that drew bifurcation.png from this directory's files\n"
             "set terminal pngcairo size 1200,1100 font ',10'\nset output 'bifurcation.png'\n"
             "set datafile separator ','\nset multiplot layout 3,1\nset lmargin 12\nset grid\n"
             "set xrange [%.10g:%.10g]\nset yrange [%.10g:%.10g]\nset ylabel 'x (attractor)'\n"
             "set title \"%s + %s, eps = %g, x0 = %g: GD orbit diagram near the starting micro-well (dashed: well boundaries; red: onset of chaos; blue: global chaos)\"\n",
          b->eta[0] / e, b->eta[b->n_eta - 1] / e, ymin - pad, ymax + pad, c->f0, c->f1, e, x0);
  if (wp > 0 && (ymax - ymin) / wp < 200)
    for (long k = (long)floor((ymin - wo) / wp); k <= (long)ceil((ymax - wo) / wp); k++)
      if (wo + (double)k * wp >= ymin - pad && wo + (double)k * wp <= ymax + pad)
        fprintf(f, "set arrow from graph 0, first %.10g to graph 1, first %.10g nohead dt 2 lc rgb 'gray50'\n",
                wo + (double)k * wp, wo + (double)k * wp);
  const double on[2] = {b->chaos_onset, b->global_onset};
  const char *col[2] = {"red", "blue"};
  for (int p = 0; p < 3; p++) {
    for (int k = 0; k < 2; k++)
      if (isfinite(on[k]))
        fprintf(f, "set arrow from %.10g, graph 0 to %.10g, graph 1 nohead lc rgb '%s'\n", on[k] / e, on[k] / e, col[k]);
    if (p == 0) fprintf(f, "plot 'attractor.csv' every ::1 using 2:3 with dots lc rgb 'black' notitle\nunset arrow\nset title ''\nset yrange [*:*]\n");
    if (p == 1) fprintf(f, "set ylabel 'Lyapunov exponent (eq. 4)'\nset arrow from graph 0, first 0 to graph 1, first 0 nohead lc rgb 'gray'\n"
                           "plot 'bifurcation.csv' every ::1 using 2:4 with lines lc rgb 'black' notitle\nunset arrow\n");
    if (p == 2) fprintf(f, "set xlabel 'lr / eps'; set ylabel 'wells visited'; set logscale y; set yrange [0.8:*]\n"
                           "plot 'bifurcation.csv' every ::1 using 2:6 with lines lc rgb 'blue' notitle\nunset multiplot\n");
  }
  int skipped = 0;
  if (cgd_gnuplot_script(&gp, dir, "plot.gp", &skipped, &er)) snprintf(msg, mlen, "failed: %.480s", er.msg);
  else snprintf(msg, mlen, "%s", skipped ? "skipped (no gnuplot)" : "bifurcation.png");
  return 0;
}

int cgd_run_bifurcation(const cgd_run_config *cfg, char *dir, size_t len, cgd_error *err) {
  int rc = cgd_run_config_check(cfg, err);
  if (rc) return rc;
  if (cgd_run_config_kind(cfg) != CGD_KIND_ORBIT || cfg->map != CGD_MAP_GD || cfg->nlr < 2)
    return cgd_fail(err, CGD_EUSAGE, "--bifurcation: a 1-D --f0 objective, one orbit, --map gd and a "
                                     "grid of rates (--lr A:B:N or A:B:log:N)");
  const char *pn[CGD_MAX_PARAMS];
  cgd_ms_spec spec = cgd_ms_spec_of(cfg, pn);
  cgd_objective *obj = NULL;
  cgd_bif_result *b = NULL;
  json_t *conf = NULL, *sum = NULL;
  cgd_law law;
  double x0;
  if ((rc = cgd_multiscale_create(&spec, &obj, err))) return rc;
  if (obj->dim != 1) {
    rc = cgd_fail(err, CGD_EUSAGE, "--bifurcation: the objective must be 1-D");
    goto done;
  }
  if ((rc = cgd_law_parse(cfg->x0, &law, err)) || (rc = cgd_law_sample(&law, 1, 1, cfg->seed, &x0, err)))
    goto done;
  double wp = 0, wo = 0;
  cgd_error we;
  if (cgd_wells_for(cfg->f1, cfg->eps, &wp, &wo, &we)) wp = wo = 0; /* no wells: no global measure */
  const uint64_t burn = cfg->burn_in == UINT64_MAX ? cfg->iters / 10 : cfg->burn_in;
  if (burn >= cfg->iters) {
    rc = cgd_fail(err, CGD_EUSAGE, "--bifurcation: --burn-in must be below --iters");
    goto done;
  }
  cgd_bif_spec bs = {.etas = cfg->lrs, .n_eta = cfg->nlr, .x0 = x0, .burn_in = (size_t)burn,
                     .steps = (size_t)(cfg->iters - burn), .keep = cfg->iters - burn < 256 ? (size_t)(cfg->iters - burn) : 256,
                     .well_period = wp, .well_offset = wo};
  char what[160];
  snprintf(what, sizeof what, "bifurcation-%.40s-%.40s", strlen(cfg->f0) < 20 ? cfg->f0 : "expr",
           strlen(cfg->f1) < 20 ? cfg->f1 : "expr");
  if ((rc = cgd_run_dir_prepare(cfg->out, what, cfg->force, dir, len, err))) goto done;
  cgd_run_config *c = cgd_run_config_dup(cfg);
  if (!c) {
    rc = cgd_fail(err, CGD_ENOMEM, "out of memory");
    goto done;
  }
  c->burn_in = burn;
  snprintf(c->out, sizeof c->out, "%s", dir);
  conf = cgd_run_config_json(c);
  json_object_set_new(conf, "bifurcation", json_true());
  json_object_set_new(conf, "out", json_string(dir));
  rc = cgd_json_write(dir, "config.json", conf, err);
  if (!rc) rc = cgd_bifurcation(obj, &bs, &b, err);
  if (!rc) rc = write_csvs(dir, b, cfg->eps, err);
  if (!rc) {
    sum = summary(b, c, wp);
    json_object_set_new(sum, "plots", json_string(cfg->plots ? "pending" : "off"));
    rc = cgd_json_write(dir, "summary.json", sum, err);
  }
  if (!rc && cfg->plots) {
    char msg[512];
    plot(dir, b, c, wp, wo, x0, msg, sizeof msg);
    json_object_set_new(sum, "plots", json_string(msg));
    cgd_error e2;
    if (cgd_json_write(dir, "summary.json", sum, &e2) && !cfg->quiet) fprintf(stderr, "train: warning: %s\n", e2.msg);
  }
  if (!rc && !cfg->quiet) {
    fprintf(stderr, "orbit diagram over %zu rates: %zu period doublings", b->n_eta, b->n_doublings);
    if (isfinite(b->chaos_onset)) fprintf(stderr, "; chaos from lr = %.5g eps", b->chaos_onset / cfg->eps);
    if (isfinite(b->global_onset)) fprintf(stderr, "; global chaos from %.5g eps", b->global_onset / cfg->eps);
    fputc('\n', stderr);
  }
  cgd_run_config_free(c);
done:
  json_decref(conf);
  json_decref(sum);
  cgd_bif_result_free(b);
  cgd_objective_free(obj);
  return rc;
}
