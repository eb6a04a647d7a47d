/* A run on an analytic multiscale objective: a single orbit or an ensemble of particles,
 * any map, histograms against the rescaled Gibbs law, optional second map from the same
 * initial ensemble. Same loop and same output conventions as the MLP run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chaosgd/loop.h"
#include "chaosgd/multiscale.h"
#include "chaosgd/rng.h"
#include "chaosgd/runlog.h"
#include "chaosgd/stats.h"
#include "run_internal.h"

#define jreal cgd_jreal

/* ---------------------------------------------------------------- initial states */

/* x0 laws: "a" (1-D) or "a,b" (2-D) point for every particle; "uniform:lo,hi" and
 * "normal:m,s" drawn independently per coordinate from (seed, CGD_STREAM_X0,
 * particle·dim + coord), so particle i starts the same whatever N is. */
static int parse_pair(const char *s, double *a, double *b, int need_two) {
  char *end;
  *a = strtod(s, &end);
  if (end == s || !isfinite(*a)) return -1;
  if (!need_two && *end == '\0') return 1;
  if (*end != ',') return -1;
  const char *t = end + 1;
  *b = strtod(t, &end);
  if (end == t || *end != '\0' || !isfinite(*b)) return -1;
  return 2;
}

static int sample_x0(const char *spec, size_t dim, size_t n, uint64_t seed, double *x,
                     cgd_error *err) {
  double a, b;
  if (!strncmp(spec, "uniform:", 8) || !strncmp(spec, "normal:", 7)) {
    int uni = spec[0] == 'u';
    if (parse_pair(spec + (uni ? 8 : 7), &a, &b, 1) != 2 || (uni ? !(b > a) : !(b >= 0)))
      return cgd_fail(err, CGD_EUSAGE, "--x0 '%s': expected %s", spec,
                      uni ? "uniform:LO,HI with LO < HI" : "normal:MEAN,STD with STD >= 0");
    /* one batch of draws, then the affine map of the law */
    if (uni)
      cgd_rng_uniform_fill(seed, CGD_STREAM_X0, 0, n * dim, b - a, x);
    else
      cgd_rng_normal_fill(seed, CGD_STREAM_X0, 0, n * dim, x);
    const double scale = uni ? 1.0 : b;
    for (size_t i = 0; i < n * dim; i++) x[i] = a + scale * x[i];
    return CGD_OK;
  }
  int got = parse_pair(spec, &a, &b, 0);
  if (got < 0 || (size_t)got != dim)
    return cgd_fail(err, CGD_EUSAGE,
                    "--x0 '%s': expected %s, uniform:LO,HI or normal:MEAN,STD", spec,
                    dim == 1 ? "a number" : "a point X,Y");
  for (size_t i = 0; i < n; i++) {
    x[i * dim] = a;
    if (dim == 2) x[i * dim + 1] = b;
  }
  return CGD_OK;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Sorted, de-duplicated list of steps "10,100,1000" (steps beyond iters dropped), plus
 * iters itself. */
static int parse_steps(const char *s, uint64_t iters, uint64_t **out, size_t *n,
                       cgd_error *err) {
  size_t cap = 2;
  for (const char *p = s; *p; p++) cap += *p == ',';
  uint64_t *v = malloc(cap * sizeof *v);
  if (!v) return cgd_fail(err, CGD_ENOMEM, "out of memory");
  size_t k = 0;
  const char *p = s;
  while (*p) {
    char *end;
    if (*p == '-') {
      free(v);
      return cgd_fail(err, CGD_EUSAGE, "--hist-at '%s': steps must not be negative", s);
    }
    unsigned long long u = strtoull(p, &end, 10);
    if (end == p || (*end && *end != ',')) {
      free(v);
      return cgd_fail(err, CGD_EUSAGE, "--hist-at '%s': expected steps like 10,100,1000", s);
    }
    if (u <= iters) v[k++] = u;
    p = *end ? end + 1 : end;
  }
  v[k++] = iters;
  qsort(v, k, sizeof *v, cmp_u64);
  size_t m = 0;
  for (size_t i = 0; i < k; i++)
    if (!m || v[m - 1] != v[i]) v[m++] = v[i];
  *out = v;
  *n = m;
  return CGD_OK;
}

/* ---------------------------------------------------------------- observer state */

typedef struct ms_obs {
  const cgd_run_config *cfg;
  const cgd_objective *obj;
  size_t dim, n, nbins, ncell; /* ncell: nbins (1-D) or nbins² (2-D) */
  cgd_outfile *trace, *hist;   /* NULL for the silent comparison run */
  const uint64_t *hsteps;
  size_t nh, next_h;
  double *gibbs;               /* ncell Gibbs bin probabilities (NULL if unavailable) */
  double *probs;               /* nh × ncell histogram probabilities (ensembles) */
  struct cgd_distances *dist;  /* nh distances to Gibbs */
  double *L;                   /* single orbit: f per observed step */
  uint64_t last_obs;
  int any_obs;
  /* single orbit: time histogram after burn-in (slot 0 only: one particle, one block) */
  cgd_hist *orbit1;
  cgd_hist2d *orbit2;
  uint64_t burn_in;
  double orbit_sum[2], orbit_sq[2]; /* moments of the orbit after burn-in */
  uint64_t orbit_n;
  /* ensembles in 1-D: crossings of x = 0 per particle (bit 0: by the ε-scale dynamics,
   * bit 1: by overshoot of the macro map x − η f0'(x)) */
  unsigned char *crossed;
  struct { double *x; size_t *idx; } cross[CGD_LOOP_SLOTS]; /* per-slot gather buffers */
  double max_move[CGD_LOOP_SLOTS]; /* largest |Δx| of the last step, per slot */
  double t0, last_progress;
  int tty;
  int status;                  /* first error inside block_done (allocation) */
} ms_obs;

static int ms_wants(void *user, uint64_t t) {
  ms_obs *s = user;
  /* a single orbit is observed at every step (one state: cheap) so its f series, and
   * hence the verdict, is complete whatever --log-every thins in trace.csv */
  if (s->n == 1 || (s->trace && t % s->cfg->log_every == 0)) return 1;
  return s->next_h < s->nh && s->hsteps[s->next_h] == t;
}

/* Histogram of the states x (n × dim) into p[ncell] (probabilities of in-range mass). */
static int ensemble_probs(ms_obs *s, const double *x, double *p, uint64_t *inrange,
                          cgd_error *err) {
  int rc;
  const cgd_run_config *c = s->cfg;
  if (s->dim == 1) {
    cgd_hist *h;
    if ((rc = cgd_hist_create(c->hist_lo, c->hist_hi, s->nbins, &h, err))) return rc;
    cgd_hist_add(h, x, s->n, 1);
    *inrange = cgd_hist_prob(h, p);
    cgd_hist_free(h);
  } else {
    cgd_hist2d *h;
    if ((rc = cgd_hist2d_create(c->hist_lo, c->hist_hi, s->nbins, c->hist_lo, c->hist_hi,
                                s->nbins, &h, err)))
      return rc;
    cgd_hist2d_add(h, x, s->n);
    *inrange = cgd_hist2d_prob(h, p);
    cgd_hist2d_free(h);
  }
  return CGD_OK;
}

static void distances(const ms_obs *s, const double *p, const double *q,
                      struct cgd_distances *d) {
  cgd_error e;
  double w = (s->cfg->hist_hi - s->cfg->hist_lo) / (double)s->nbins;
  int rc = s->dim == 1 ? cgd_distances_1d(p, q, s->ncell, w, d, &e)
                       : cgd_distances(p, q, s->ncell, d, &e);
  if (rc) d->tv = d->hellinger = d->kl = d->w1 = d->ks = NAN; /* empty histogram */
}

/* hist.csv rows for one histogram: 1-D step,bin,x_lo,x_hi,count,prob,gibbs_prob,...;
 * 2-D also the y bin. Distances to Gibbs repeated on every row of the step. */
static void write_hist_rows(ms_obs *s, uint64_t t, const char *kind, const double *p,
                            uint64_t total, const struct cgd_distances *d) {
  const cgd_run_config *c = s->cfg;
  const double w = (c->hist_hi - c->hist_lo) / (double)s->nbins;
  for (size_t cell = 0; cell < s->ncell; cell++) {
    size_t i = s->dim == 1 ? cell : cell / s->nbins, j = cell % s->nbins;
    fprintf(s->hist->fp, "%llu,%s,%zu,%.17g,%.17g,", (unsigned long long)t, kind, i,
            c->hist_lo + (double)i * w, c->hist_lo + (double)(i + 1) * w);
    if (s->dim == 2)
      fprintf(s->hist->fp, "%zu,%.17g,%.17g,", j, c->hist_lo + (double)j * w,
              c->hist_lo + (double)(j + 1) * w);
    fprintf(s->hist->fp, "%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n",
            p[cell] * (double)total, p[cell], s->gibbs ? s->gibbs[cell] : NAN, d->tv,
            d->hellinger, d->kl, d->w1, d->ks);
  }
}

static int ms_observe(void *user, uint64_t t, size_t n, const double *x, const double *f,
                      const double *g, cgd_error *err) {
  ms_obs *s = user;
  const size_t dim = s->dim;
  s->last_obs = t;
  s->any_obs = 1;
  if (s->L) s->L[t] = f[0];
  if (s->trace && (t % s->cfg->log_every == 0 || t == s->cfg->iters)) {
    FILE *fp = s->trace->fp;
    if (n == 1) {
      fprintf(fp, "%llu,%.17g", (unsigned long long)t, x[0]);
      if (dim == 2) fprintf(fp, ",%.17g", x[1]);
      fprintf(fp, ",%.17g,%.17g", f[0], g[0]);
      if (dim == 2) fprintf(fp, ",%.17g", g[1]);
    } else {
      /* ensemble moments in a fixed order (sequential sums): thread-independent */
      double fm = 0, m[2] = {0, 0}, v[2] = {0, 0}, neg = 0;
      for (size_t i = 0; i < n; i++) fm += f[i];
      for (size_t a = 0; a < dim; a++) {
        for (size_t i = 0; i < n; i++) m[a] += x[i * dim + a];
        m[a] /= (double)n;
        for (size_t i = 0; i < n; i++) v[a] += (x[i * dim + a] - m[a]) * (x[i * dim + a] - m[a]);
        v[a] /= (double)n;
      }
      for (size_t i = 0; i < n; i++) neg += x[i * dim] < 0;
      fprintf(fp, "%llu,%.17g,%.17g,%.17g", (unsigned long long)t, fm / (double)n, m[0],
              sqrt(v[0]));
      if (dim == 2) fprintf(fp, ",%.17g,%.17g", m[1], sqrt(v[1]));
      fprintf(fp, ",%.17g", neg / (double)n);
    }
    if (fputc('\n', fp) == EOF || ferror(fp))
      return cgd_fail(err, CGD_EIO, "error writing %s", s->trace->tmp_path);
  }
  if (n > 1 && s->next_h < s->nh && s->hsteps[s->next_h] == t) {
    double *p = s->probs + s->next_h * s->ncell;
    uint64_t total;
    int rc = ensemble_probs(s, x, p, &total, err);
    if (rc) return rc;
    struct cgd_distances d = {NAN, NAN, NAN, NAN, NAN};
    if (s->gibbs && total) distances(s, p, s->gibbs, &d);
    s->dist[s->next_h] = d;
    if (s->hist) {
      write_hist_rows(s, t, "ensemble", p, total, &d);
      if (ferror(s->hist->fp)) return cgd_fail(err, CGD_EIO, "error writing %s", s->hist->tmp_path);
    }
    s->next_h++;
  }
  if (s->tty) cgd_progress(&s->last_progress, s->t0, t, s->cfg->iters, NAN);
  return CGD_OK;
}

static void ms_block_done(void *user, size_t slot, uint64_t t, size_t i0, size_t nb,
                          const double *x_old, const double *x_new) {
  ms_obs *s = user;
  const size_t dim = s->dim;
  if (s->n == 1) {
    if (t + 1 < s->burn_in) return;
    if (s->orbit1) cgd_hist_add(s->orbit1, x_new, 1, 1);
    if (s->orbit2) cgd_hist2d_add(s->orbit2, x_new, 1);
    for (size_t a = 0; a < dim; a++) {
      s->orbit_sum[a] += x_new[a];
      s->orbit_sq[a] += x_new[a] * x_new[a];
    }
    s->orbit_n++;
    return;
  }
  if (t + 1 == s->cfg->iters) {
    double mv = 0;
    for (size_t k = 0; k < nb * dim; k++) mv = fmax(mv, fabs(x_new[k] - x_old[k]));
    s->max_move[slot] = fmax(s->max_move[slot], mv);
  }
  if (dim != 1 || !s->crossed) return;
  /* a crossing of x = 0; it is the macro map's overshoot when x − η f0'(x) alone would
   * already land on the other side (e.g. a particle started high on a steep wall). Only
   * the particles that crossed are gathered and evaluated, in one batch. */
  if (!s->cross[slot].x) {
    s->cross[slot].x = malloc(2 * nb * sizeof(double));
    s->cross[slot].idx = malloc(nb * sizeof(size_t));
    if (!s->cross[slot].x || !s->cross[slot].idx) {
      s->status = CGD_ENOMEM;
      return;
    }
  }
  double *xs = s->cross[slot].x, *g0 = xs + nb;
  size_t *idx = s->cross[slot].idx;
  /* branch-free gather: crossings are frequent and unpredictable, so a branch per
   * particle would cost more than the scan itself */
  size_t nc = 0;
  for (size_t i = 0; i < nb; i++) {
    xs[nc] = x_old[i];
    idx[nc] = i;
    nc += (size_t)((x_old[i] < 0) != (x_new[i] < 0));
  }
  if (!nc) return;
  cgd_error e;
  if (s->obj->eval_f0(s->obj->ctx, nc, xs, NULL, g0, NULL, &e)) {
    s->status = CGD_EINTERNAL;
    return;
  }
  const double lr = s->cfg->lr;
  for (size_t k = 0; k < nc; k++) {
    const double macro = xs[k] - lr * g0[k];
    s->crossed[i0 + idx[k]] |= (macro < 0) != (xs[k] < 0) ? 2 : 1;
  }
}

/* ---------------------------------------------------------------- diagnostics */

/* The minimum of f0 on the histogram range: the best point of a 401-point grid (401² in
 * 2-D), refined by Newton steps while the Hessian is positive definite. Fills x* and the
 * Hessian there (row-major dim×dim); CGD_EDATA if f0 cannot be evaluated. */
static int f0_minimum(const cgd_objective *obj, double lo, double hi, double *xs, double *H) {
  const size_t G = 401, dim = obj->dim, npts = dim == 1 ? G : G * G;
  double *x = malloc(npts * dim * sizeof *x), *f = malloc(npts * sizeof *f);
  int rc = CGD_EDATA;
  cgd_error e;
  if (!x || !f) goto out;
  for (size_t i = 0; i < npts; i++) {
    size_t a = dim == 1 ? i : i / G, b = i % G;
    x[i * dim] = lo + (hi - lo) * (double)a / (double)(G - 1);
    if (dim == 2) x[i * dim + 1] = lo + (hi - lo) * (double)b / (double)(G - 1);
  }
  if (obj->eval_f0(obj->ctx, npts, x, f, NULL, NULL, &e)) goto out;
  size_t imin = 0;
  for (size_t i = 1; i < npts; i++)
    if (f[i] < f[imin]) imin = i;
  for (size_t a = 0; a < dim; a++) xs[a] = x[imin * dim + a];
  for (int it = 0; it < 50; it++) {
    double g[2];
    if (obj->eval_f0(obj->ctx, 1, xs, NULL, g, H, &e)) goto out;
    double step[2];
    if (dim == 1) {
      if (!(H[0] > 0)) break;
      step[0] = g[0] / H[0];
    } else {
      double det = H[0] * H[3] - H[1] * H[2];
      if (!(H[0] > 0 && det > 0)) break;
      step[0] = (H[3] * g[0] - H[1] * g[1]) / det;
      step[1] = (H[0] * g[1] - H[2] * g[0]) / det;
    }
    double moved = 0;
    for (size_t a = 0; a < dim; a++) {
      double nx = xs[a] - step[a];
      if (!(nx >= lo && nx <= hi)) goto done_newton;
      moved = fmax(moved, fabs(nx - xs[a]));
      xs[a] = nx;
    }
    if (moved <= 1e-15 * (1 + fabs(xs[0]))) break;
  }
done_newton:
  if (obj->eval_f0(obj->ctx, 1, xs, NULL, NULL, H, &e)) goto out;
  rc = CGD_OK;
out:
  free(x);
  free(f);
  return rc;
}

static double lambda_min(const double *H, size_t dim) {
  if (dim == 1) return H[0];
  double tr = H[0] + H[3], det = H[0] * H[3] - H[1] * H[2];
  return 0.5 * tr - sqrt(fmax(0.25 * tr * tr - det, 0.0));
}

/* The quadratic model ½(x−x*)ᵀH(x−x*) of f0 at its minimum: its Gibbs law is the
 * Gaussian N(x*, (η σ²/2) H⁻¹) of Rmk 15 (x* + √η·Gaussian). */
typedef struct quad_model {
  size_t dim;
  double xs[2], H[4];
} quad_model;

static int quad_model_eval(void *ctx, size_t n, const double *x, double *f, double *g, double *h,
                           cgd_error *err) {
  const quad_model *q = ctx;
  (void)g;
  (void)h;
  (void)err;
  for (size_t i = 0; i < n; i++) {
    double d0 = x[i * q->dim] - q->xs[0];
    if (q->dim == 1) {
      f[i] = 0.5 * q->H[0] * d0 * d0;
    } else {
      double d1 = x[i * 2 + 1] - q->xs[1];
      f[i] = 0.5 * (q->H[0] * d0 * d0 + (q->H[1] + q->H[2]) * d0 * d1 + q->H[3] * d1 * d1);
    }
  }
  return CGD_OK;
}

static int plot_ms(const char *dir, const ms_obs *s, uint64_t last, int *skipped,
                   cgd_error *err) {
  cgd_outfile gp;
  int rc = cgd_outfile_open(&gp, dir, "plot.gp", err);
  if (rc) return rc;
  const cgd_run_config *c = s->cfg;
  const char *kind = s->n == 1 ? "orbit" : "ensemble";
  fprintf(gp.fp,
          "# gnuplot script that drew trace.png and hist.png from this directory's files\n"
          "set terminal pngcairo size 1000,600 font ',10'\n"
          "set datafile separator ','\n"
          "set output 'trace.png'\n"
          "set title \"%s, %s, lr = %g\"\n"
          "set xlabel 'step'; set grid; set rmargin 4\n",
          s->obj->name, cgd_map_kind_name(c->map), c->lr);
  /* dots for long orbits, small points when thinned */
  const uint64_t rows = c->iters / c->log_every + 1;
  if (s->n == 1)
    fprintf(gp.fp, "set ylabel 'x'\nplot 'trace.csv' every ::1 using 1:2 with %s notitle\n",
            rows > 100000 ? "dots" : "points pt 7 ps 0.3");
  else
    fprintf(gp.fp, "set ylabel 'ensemble'\nplot 'trace.csv' every ::1 using 1:3 with lines "
                   "title 'mean x', '' every ::1 using 1:4 with lines title 'std x'\n");
  double w = (c->hist_hi - c->hist_lo) / (double)s->nbins;
  fprintf(gp.fp, "set output 'hist.png'\n");
  if (s->dim == 1) {
    /* every histogram step of the run as a step line (the relaxation over time), the
     * last one filled, and the Gibbs law's bin densities as a step line too (a narrow law
     * drawn through bin centres would be jagged) */
    fprintf(gp.fp,
            "set title \"%s histograms vs the %s Gibbs law (density per bin)\"\n"
            "set xlabel 'x'; set ylabel 'density'; set style fill solid 0.3\n"
            "plot 'hist.csv' every ::1 using ((column(1)==%llu && strcol(2) eq '%s') ? "
            "($4+$5)/2 : NaN):($7/%.17g):($5-$4) with boxes lc rgb '#9ab' title 'step %llu'",
            kind, c->gibbs_gaussian ? "Gaussian-form" : "rescaled", (unsigned long long)last,
            kind, w, (unsigned long long)last);
    for (size_t h = 0; s->n > 1 && h + 1 < s->next_h; h++)
      fprintf(gp.fp,
              ", '' every ::1 using ((column(1)==%llu && strcol(2) eq '%s') ? ($4+$5)/2 : "
              "NaN):($7/%.17g) with histeps lw 1.5 title 'step %llu'",
              (unsigned long long)s->hsteps[h], kind, w, (unsigned long long)s->hsteps[h]);
    fprintf(gp.fp,
            ", '' every ::1 using ((column(1)==%llu && strcol(2) eq '%s') ? ($4+$5)/2 : NaN):"
            "($8/%.17g) with histeps lw 2.5 lc rgb 'black' title 'Gibbs law'\n",
            (unsigned long long)last, kind, w);
  } else {
    fprintf(gp.fp,
            "set terminal pngcairo size 1200,550 font ',10'\nset output 'hist.png'\n"
            "set multiplot layout 1,2\nset size ratio -1; set cblabel 'probability'\n"
            "set xrange [%.17g:%.17g]; set yrange [%.17g:%.17g]\n"
            "set xlabel 'x'; set ylabel 'y'\n"
            "set title \"%s at step %llu\"\n"
            "plot 'hist.csv' every ::1 using ((column(1)==%llu && strcol(2) eq '%s') ? "
            "($4+$5)/2 : NaN):(($7+$8)/2):(($5-$4)/2):(($8-$7)/2):10 with boxxyerror "
            "fs solid noborder lc palette notitle\n"
            "set title 'rescaled Gibbs law'\n"
            "plot 'hist.csv' every ::1 using ((column(1)==%llu && strcol(2) eq '%s') ? "
            "($4+$5)/2 : NaN):(($7+$8)/2):(($5-$4)/2):(($8-$7)/2):11 with boxxyerror "
            "fs solid noborder lc palette notitle\n"
            "unset multiplot\n",
            c->hist_lo, c->hist_hi, c->hist_lo, c->hist_hi, kind, (unsigned long long)last, (unsigned long long)last, kind,
            (unsigned long long)last, kind);
  }
  return cgd_gnuplot_script(&gp, dir, "plot.gp", skipped, err);
}

/* ---------------------------------------------------------------- the run */

static int run_loop(const cgd_run_config *cfg, const cgd_objective *obj, cgd_map_kind kind,
                    const double *sigma2, const double *x0, ms_obs *s, cgd_loop_result *lr,
                    double *x, cgd_error *err) {
  cgd_map_opts mo = {.kind = kind, .lr = cfg->lr, .gamma = cfg->gamma, .mu = cfg->mu,
                     .seed = cfg->seed, .sigma2 = {sigma2[0], sigma2[1]}};
  cgd_map *map;
  int rc = cgd_map_create(&mo, obj, s->n, &map, err);
  if (rc) return rc;
  memcpy(x, x0, s->n * s->dim * sizeof *x);
  cgd_observer ob = {.user = s, .wants = ms_wants, .observe = ms_observe,
                     .block_done = ms_block_done};
  cgd_loop_opts lo = {.iters = cfg->iters, .loss_limit = INFINITY, .stop = cfg->stop};
  rc = cgd_loop_run(&lo, obj, map, s->n, x, &ob, lr, err);
  cgd_map_free(map);
  if (!rc && s->status) rc = cgd_fail(err, s->status, "out of memory tracking crossings");
  return rc;
}

int cgd_run_ms(const cgd_run_config *cfg_in, cgd_run_result *res, cgd_error *err) {
  cgd_run_config cfg_local = *cfg_in;
  cgd_run_config *cfg = &cfg_local;
  int rc;
  cgd_objective *obj = NULL;
  double *x0 = NULL, *x = NULL, *x2 = NULL;
  uint64_t *hsteps = NULL;
  size_t nh = 0;
  json_t *conf = NULL, *sum = NULL;
  cgd_outfile trace = {0}, hist = {0};
  ms_obs s = {0}, s2 = {0};
  double *gibbs = NULL;
  const char *pn[8];
  for (size_t i = 0; i < cfg->nparams; i++) pn[i] = cfg->param_names[i];

  if (!cfg->log_every)
    /* an ensemble row costs a full evaluation of every particle: keep them to ~1000 */
    cfg->log_every = cfg->ensemble > 1 ? (cfg->iters / 1000 > 10 ? cfg->iters / 1000 : 10) : 1;
  cgd_ms_spec spec = {.f0 = cfg->f0, .f1 = cfg->f1[0] ? cfg->f1 : "none", .eps = cfg->eps,
                      .k = cfg->k, .nparams = cfg->nparams, .param_names = pn,
                      .param_values = cfg->param_values};
  if ((rc = cgd_multiscale_create(&spec, &obj, err))) return rc;
  const size_t dim = obj->dim, n = cfg->ensemble;
  if (!cfg->hist_bins) cfg->hist_bins = dim == 1 ? 100 : 20;
  if (dim == 2 && cfg->hist_bins > 2000) {
    rc = cgd_fail(err, CGD_EUSAGE, "--hist-bins: at most 2000 per axis in 2-D");
    goto done;
  }
  if (!cfg->x0[0]) snprintf(cfg->x0, sizeof cfg->x0, "uniform:-1,1");
  if (cfg->burn_in == UINT64_MAX) cfg->burn_in = cfg->iters / 10;
  double sigma2[2] = {0, 0};
  if ((rc = cgd_multiscale_sigma2(obj, sigma2, err))) goto done;

  x0 = malloc(n * dim * sizeof *x0);
  x = malloc(n * dim * sizeof *x);
  if (!x0 || !x) {
    rc = cgd_fail(err, CGD_ENOMEM, "out of memory for %zu particles", n);
    goto done;
  }
  if ((rc = sample_x0(cfg->x0, dim, n, cfg->seed, x0, err))) goto done;
  if ((rc = parse_steps(n > 1 ? cfg->hist_at : "", cfg->iters, &hsteps, &nh, err))) goto done;

  /* relaxation time of the slow direction of f0 */
  quad_model qm = {.dim = dim};
  const int have_min = f0_minimum(obj, cfg->hist_lo, cfg->hist_hi, qm.xs, qm.H) == CGD_OK;
  const double lmin = have_min ? lambda_min(qm.H, dim) : NAN;
  const double t_relax = lmin > 0 ? 10.0 / (cfg->lr * lmin) : NAN;
  /* the rescaled Gibbs law on the histogram grid (needs a common σ² > 0) */
  const size_t nb = cfg->hist_bins, ncell = dim == 1 ? nb : nb * nb;
  double s2c = sigma2[0];
  const char *gibbs_note = "";
  if (dim == 2 && fabs(sigma2[1] - sigma2[0]) > 1e-3 * fmax(sigma2[0], sigma2[1]))
    gibbs_note = "no Gibbs law: the two coordinates have different noise variances";
  else if (!(s2c > 0))
    gibbs_note = "no Gibbs law: f1 has no noise (sigma2 = 0)";
  else if (cfg->gibbs_gaussian && !(lmin > 0))
    gibbs_note = "no Gaussian form: the Hessian of f0 at its minimum is not positive definite";
  else {
    gibbs = malloc(ncell * sizeof *gibbs);
    if (!gibbs) {
      rc = cgd_fail(err, CGD_ENOMEM, "out of memory");
      goto done;
    }
    /* exact: f0 itself; gaussian (Rmk 15): f0's quadratic model at its minimum */
    cgd_eval_fn fn = cfg->gibbs_gaussian ? quad_model_eval : obj->eval_f0;
    void *fctx = cfg->gibbs_gaussian ? (void *)&qm : obj->ctx;
    rc = dim == 1 ? cgd_gibbs_bins_1d(fn, fctx, cfg->lr, s2c, cfg->hist_lo, cfg->hist_hi, nb,
                                      gibbs, err)
                  : cgd_gibbs_bins_2d(fn, fctx, cfg->lr, s2c, cfg->hist_lo, cfg->hist_hi, nb,
                                      cfg->hist_lo, cfg->hist_hi, nb, gibbs, err);
    if (rc) {
      free(gibbs);
      gibbs = NULL;
      goto done;
    }
  }

  char warn[512] = "";
  if (isfinite(t_relax) && (double)cfg->iters < t_relax)
    snprintf(warn, sizeof warn,
             "%llu steps is short of the relaxation time of f0's slow direction: "
             "10/(lr*lambda_min) = %.0f steps (lambda_min = %g); histograms will still "
             "remember the initial law",
             (unsigned long long)cfg->iters, t_relax, lmin);
  if (warn[0] && !cfg->quiet) fprintf(stderr, "train: warning: %s\n", warn);
  const int is_dw = !strcmp(cfg->f0, "doublewell");

  /* run directory and config.json first */
  {
    char what[256];
    if (snprintf(what, sizeof what, "%s-%s-%s-lr%g-eps%g-n%zu-seed%llu",
             strlen(cfg->f0) < 20 && !strpbrk(cfg->f0, "()*/^+ ") ? cfg->f0 : "expr",
             strlen(spec.f1) < 20 && !strpbrk(spec.f1, "()*/^+ ") ? spec.f1 : "expr",
             cgd_map_kind_name(cfg->map), cfg->lr, cfg->eps, n,
             (unsigned long long)cfg->seed) >= (int)sizeof what)
      what[sizeof what - 1] = '\0';
    if ((rc = cgd_run_dir_prepare(cfg->out, what, res->dir, sizeof res->dir, err))) goto done;
  }
  conf = cgd_run_config_json(cfg);
  json_t *oj = json_object();
  json_object_set_new(oj, "name", json_string(obj->name));
  json_object_set_new(oj, "dim", json_integer((json_int_t)dim));
  json_object_set_new(oj, "sigma2", dim == 1 ? json_pack("[f]", sigma2[0]) : json_pack("[f, f]", sigma2[0], sigma2[1]));
  json_object_set_new(oj, "noise_law", json_string(cgd_multiscale_noise_law(obj)));
  json_object_set_new(oj, "lambda_min_f0", jreal(lmin));
  json_object_set_new(oj, "relaxation_steps", jreal(t_relax));
  if (is_dw) json_object_set_new(oj, "critical_k", json_real(cgd_doublewell_critical_k()));
  json_object_set_new(conf, "objective_info", oj);
  if ((rc = cgd_json_write(res->dir, "config.json", conf, err))) goto done;

  if ((rc = cgd_outfile_open(&trace, res->dir, "trace.csv", err))) goto done;
  if ((rc = cgd_outfile_open(&hist, res->dir, "hist.csv", err))) goto done;
  if (n == 1)
    fprintf(trace.fp, dim == 1 ? "step,x,f,grad_x\n" : "step,x,y,f,grad_x,grad_y\n");
  else
    fprintf(trace.fp, dim == 1 ? "step,f_mean,x_mean,x_std,frac_x_neg\n"
                               : "step,f_mean,x_mean,x_std,y_mean,y_std,frac_x_neg\n");
  fprintf(hist.fp, dim == 1 ? "step,kind,bin,x_lo,x_hi,count,prob,gibbs_prob,tv,hellinger,kl,w1,ks\n"
                            : "step,kind,xbin,x_lo,x_hi,ybin,y_lo,y_hi,count,prob,gibbs_prob,tv,"
                              "hellinger,kl,w1,ks\n");

  s.cfg = cfg;
  s.obj = obj;
  s.dim = dim;
  s.n = n;
  s.nbins = nb;
  s.ncell = ncell;
  s.trace = &trace;
  s.hist = &hist;
  s.hsteps = hsteps;
  s.nh = nh;
  s.gibbs = gibbs;
  s.burn_in = cfg->burn_in;
  s.probs = calloc(nh * ncell, sizeof *s.probs);
  s.dist = calloc(nh, sizeof *s.dist);
  if (n == 1) {
    s.L = malloc((cfg->iters + 1) * sizeof *s.L);
    rc = dim == 1 ? cgd_hist_create(cfg->hist_lo, cfg->hist_hi, nb, &s.orbit1, err)
                  : cgd_hist2d_create(cfg->hist_lo, cfg->hist_hi, nb, cfg->hist_lo,
                                      cfg->hist_hi, nb, &s.orbit2, err);
    if (rc) goto done;
  } else if (dim == 1) {
    s.crossed = calloc(n, 1);
  }
  if (!s.probs || !s.dist || (n == 1 && !s.L) || (n > 1 && dim == 1 && !s.crossed)) {
    rc = cgd_fail(err, CGD_ENOMEM, "out of memory");
    goto done;
  }
  s.tty = cfg->progress && isatty(2);
  s.t0 = s.last_progress = cgd_now_s();

  cgd_loop_result lr;
  double t_start = cgd_now_s();
  int run_rc = run_loop(cfg, obj, cfg->map, sigma2, x0, &s, &lr, x, err);
  res->seconds = cgd_now_s() - t_start;
  if (s.tty) fputc('\n', stderr);
  res->steps = lr.steps;
  res->status = run_rc;
  cgd_error run_err = *err;
  if (run_rc && run_rc != CGD_EDIVERGED && run_rc != CGD_EINTERRUPTED) {
    rc = run_rc;
    goto done;
  }

  sum = json_object();
  const char *verdict = "none";
  /* the orbit's time histogram after burn-in */
  struct cgd_distances gd = {NAN, NAN, NAN, NAN, NAN};
  const char *gsource = "";
  char gsrc[128];
  if (n == 1 && s.orbit_n) {
    double *p = malloc(ncell * sizeof *p);
    if (!p) {
      rc = cgd_fail(err, CGD_ENOMEM, "out of memory");
      goto done;
    }
    uint64_t tot = dim == 1 ? cgd_hist_prob(s.orbit1, p) : cgd_hist2d_prob(s.orbit2, p);
    if (gibbs && tot) distances(&s, p, gibbs, &gd);
    write_hist_rows(&s, lr.steps, "orbit", p, tot, &gd);
    free(p);
    snprintf(gsrc, sizeof gsrc, "orbit, steps %llu..%llu", (unsigned long long)cfg->burn_in,
             (unsigned long long)lr.steps);
    gsource = gsrc;
    json_t *oj2 = json_object();
    json_object_set_new(oj2, "burn_in", json_integer((json_int_t)cfg->burn_in));
    json_object_set_new(oj2, "samples", json_integer((json_int_t)s.orbit_n));
    json_t *mean = json_array(), *sd = json_array();
    for (size_t a = 0; a < dim; a++) {
      double m = s.orbit_sum[a] / (double)s.orbit_n;
      json_array_append_new(mean, jreal(m));
      json_array_append_new(sd, jreal(sqrt(fmax(s.orbit_sq[a] / (double)s.orbit_n - m * m, 0))));
    }
    json_object_set_new(oj2, "mean", mean);
    json_object_set_new(oj2, "std", sd);
    json_object_set_new(oj2, "in_range_fraction",
                        json_real((double)tot / (double)s.orbit_n));
    json_object_set_new(sum, "orbit", oj2);
  } else if (n > 1 && s.next_h > 0) {
    gd = s.dist[s.next_h - 1];
    snprintf(gsrc, sizeof gsrc, "ensemble of %zu at step %llu", n,
             (unsigned long long)hsteps[s.next_h - 1]);
    gsource = gsrc;
  }
  if (n == 1 && s.any_obs) {
    if ((rc = cgd_run_tail(cfg, s.L, (size_t)s.last_obs + 1, res, err))) goto done;
    if (res->have_tail) verdict = cgd_verdict_name(res->tail.verdict);
  }
  double max_move = 0;
  if (n > 1) {
    for (size_t k = 0; k < CGD_LOOP_SLOTS; k++) max_move = fmax(max_move, s.max_move[k]);
    /* every particle stopped: the last step moved none by more than 1e-12 (relative to 1) */
    verdict = lr.steps == cfg->iters && max_move <= 1e-12 ? "converged" : "fluctuating";
  }
  if (run_rc == CGD_EDIVERGED) verdict = "diverged";
  cgd_summary_status(sum, verdict, run_rc, &run_err, lr.bad_step, cfg->iters, lr.steps);
  snprintf(res->verdict, sizeof res->verdict, "%s", verdict);
  res->gibbs_tv = gd.tv;
  json_object_set_new(sum, "particles", json_integer((json_int_t)n));
  if (warn[0]) json_object_set_new(sum, "warning", json_string(warn));
  if (res->have_tail) json_object_set_new(sum, "tail", cgd_tail_json(&res->tail, "f"));
  if (n > 1) {
    json_t *ej = json_object();
    json_object_set_new(ej, "max_move_last_step", jreal(max_move));
    if (s.crossed) {
      size_t neg = 0, cn = 0, co = 0;
      for (size_t i = 0; i < n; i++) {
        neg += x[i] < 0;
        cn += (s.crossed[i] & 1) != 0;
        co += (s.crossed[i] & 2) != 0;
      }
      json_object_set_new(ej, "frac_x_neg_final", json_real((double)neg / (double)n));
      json_object_set_new(ej, "frac_crossed", json_real((double)cn / (double)n));
      json_object_set_new(ej, "frac_macro_overshoot",
                          json_real((double)co / (double)n));
      if (co)
        json_object_set_new(
            ej, "note",
            json_string("some particles crossed x = 0 because the macro map x - lr*f0'(x) "
                        "alone overshoots the barrier (a transient of the large-scale map, "
                        "e.g. particles started high on a steep wall), not through the "
                        "eps-scale dynamics; they are counted in frac_macro_overshoot, "
                        "not in frac_crossed"));
    }
    json_object_set_new(sum, "ensemble", ej);
  }
  json_t *gj = json_object();
  json_object_set_new(gj, "form", json_string(cfg->gibbs_gaussian ? "gaussian" : "exact"));
  if (have_min)
    json_object_set_new(gj, "f0_minimum", dim == 1 ? json_pack("[f]", qm.xs[0])
                                                   : json_pack("[f, f]", qm.xs[0], qm.xs[1]));
  json_object_set_new(gj, "sigma2", dim == 1 ? json_pack("[f]", sigma2[0]) : json_pack("[f, f]", sigma2[0], sigma2[1]));
  json_object_set_new(gj, "source", json_string(gibbs ? gsource : gibbs_note));
  json_object_set_new(gj, "tv", jreal(gd.tv));
  json_object_set_new(gj, "hellinger", jreal(gd.hellinger));
  json_object_set_new(gj, "kl", jreal(gd.kl));
  json_object_set_new(gj, "w1", jreal(gd.w1));
  json_object_set_new(gj, "ks", jreal(gd.ks));
  json_object_set_new(gj, "bins", json_integer((json_int_t)nb));
  json_object_set_new(gj, "range", json_pack("[f, f]", cfg->hist_lo, cfg->hist_hi));
  json_object_set_new(sum, "gibbs", gj);
  if (is_dw) {
    double kc = cgd_doublewell_critical_k();
    json_object_set_new(sum, "critical_k", json_real(kc));
    json_object_set_new(sum, "k_below_critical", json_boolean(cfg->k < kc));
  }

  /* the main run's files are complete now, whatever happens to the comparison run */
  if ((rc = cgd_outfile_commit(&trace, err)) || (rc = cgd_outfile_commit(&hist, err))) goto done;

  /* the same initial ensemble through a second map: distance between the two laws */
  if (cfg->compare && run_rc == CGD_OK && n > 1) {
    s2 = s;
    s2.trace = s2.hist = NULL;
    s2.L = NULL;
    s2.orbit1 = NULL;
    s2.orbit2 = NULL;
    s2.crossed = NULL;
    s2.tty = 0;
    s2.next_h = 0;
    memset(s2.cross, 0, sizeof s2.cross);
    memset(s2.max_move, 0, sizeof s2.max_move);
    s2.probs = calloc(nh * ncell, sizeof *s2.probs);
    s2.dist = calloc(nh, sizeof *s2.dist);
    x2 = malloc(n * dim * sizeof *x2);
    if (!s2.probs || !s2.dist || !x2) {
      rc = cgd_fail(err, CGD_ENOMEM, "out of memory");
      goto done;
    }
    cgd_loop_result lr2;
    int crc = run_loop(cfg, obj, cfg->compare_map, sigma2, x0, &s2, &lr2, x2, err);
    if (crc == CGD_EINTERRUPTED || crc == CGD_EDIVERGED) {
      /* the run's own results stand; the comparison is reported as what stopped it */
      run_rc = crc;
      run_err = *err;
      cgd_summary_status(sum, verdict, run_rc, &run_err, lr.bad_step, cfg->iters, lr.steps);
      json_object_set_new(sum, "compare", json_pack("{s:s, s:s, s:s}", "map",
                                                    cgd_map_kind_name(cfg->compare_map),
                                                    "status", cgd_status_name(crc),
                                                    "message", err->msg));
      goto summary;
    }
    if ((rc = crc)) goto done;
    cgd_outfile cf;
    if ((rc = cgd_outfile_open(&cf, res->dir, "compare.csv", err))) goto done;
    fprintf(cf.fp, "step,tv,hellinger,kl,w1,ks,%s_tv_gibbs,%s_tv_gibbs\n",
            cgd_map_kind_name(cfg->map), cgd_map_kind_name(cfg->compare_map));
    json_t *ca = json_array();
    for (size_t h = 0; h < nh; h++) {
      struct cgd_distances d = {NAN, NAN, NAN, NAN, NAN};
      distances(&s, s.probs + h * ncell, s2.probs + h * ncell, &d);
      fprintf(cf.fp, "%llu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n",
              (unsigned long long)hsteps[h], d.tv, d.hellinger, d.kl, d.w1, d.ks, s.dist[h].tv,
              s2.dist[h].tv);
      json_t *o = json_object();
      json_object_set_new(o, "step", json_integer((json_int_t)hsteps[h]));
      json_object_set_new(o, "tv", jreal(d.tv));
      json_object_set_new(o, "hellinger", jreal(d.hellinger));
      json_object_set_new(o, "kl", jreal(d.kl));
      json_object_set_new(o, "w1", jreal(d.w1));
      json_object_set_new(o, "ks", jreal(d.ks));
      json_object_set_new(o, "tv_to_gibbs_compare_map", jreal(s2.dist[h].tv));
      json_array_append_new(ca, o);
    }
    if ((rc = cgd_outfile_commit(&cf, err))) {
      json_decref(ca);
      goto done;
    }
    json_t *cj = json_object();
    json_object_set_new(cj, "map", json_string(cgd_map_kind_name(cfg->compare_map)));
    json_object_set_new(cj, "steps", ca);
    json_object_set_new(sum, "compare", cj);
  }

summary:
  json_object_set_new(sum, "seconds", json_real(res->seconds));
  json_object_set_new(sum, "ns_per_particle_step",
                      jreal(lr.steps ? 1e9 * res->seconds / ((double)lr.steps * (double)n) : NAN));
  if (cfg->plots && (s.any_obs || s.orbit_n)) {
    if ((rc = plot_ms(res->dir, &s, n == 1 ? lr.steps : hsteps[s.next_h ? s.next_h - 1 : 0],
                      &res->plots_skipped, err)))
      goto done;
  }
  json_object_set_new(sum, "plots", json_string(!cfg->plots ? "off"
                                                : res->plots_skipped ? "skipped (no gnuplot)"
                                                                     : "trace.png hist.png"));
  if ((rc = cgd_json_write(res->dir, "summary.json", sum, err))) goto done;
  res->final_loss = s.L && s.any_obs ? s.L[s.last_obs] : NAN;
  rc = run_rc;
  *err = run_err;

done:
  cgd_outfile_discard(&trace);
  cgd_outfile_discard(&hist);
  json_decref(conf);
  json_decref(sum);
  free(gibbs);
  free(hsteps);
  free(x0);
  free(x);
  free(x2);
  free(s.probs);
  free(s.dist);
  free(s.L);
  free(s.crossed);
  for (size_t k = 0; k < CGD_LOOP_SLOTS; k++) {
    free(s.cross[k].x);
    free(s.cross[k].idx);
  }
  cgd_hist_free(s.orbit1);
  cgd_hist2d_free(s.orbit2);
  if (s2.probs != s.probs) free(s2.probs);
  if (s2.dist != s.dist) free(s2.dist);
  cgd_objective_free(obj);
  if (rc) res->status = rc;
  return rc;
}
