/* Orbit diagrams: per-η orbit statistics, OpenMP over fixed chunks of η, events.
 * See chaosgd/bifurcation.h. */
#include "chaosgd/bifurcation.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

int cgd_wells_for(const char *f1, double eps, double *period, double *offset, cgd_error *err) {
  *period = 2.0 * M_PI * eps;
  if (!strcmp(f1, "sin") || !strcmp(f1, "quasi")) {
    *offset = 0.5 * M_PI * eps; /* ε sin(x/ε) is largest at x/ε = π/2 */
  } else if (!strcmp(f1, "negcos")) {
    *offset = M_PI * eps; /* −ε cos(x/ε) is largest at x/ε = π */
  } else {
    return cgd_fail(err, CGD_EUSAGE, "wells: no built-in well lattice for f1 = '%s'", f1);
  }
  return CGD_OK;
}

int cgd_grid(double a, double b, size_t n, int logarithmic, double *out, cgd_error *err) {
  if (n < 1 || !isfinite(a) || !isfinite(b) || (logarithmic && !(a > 0 && b > 0)))
    return cgd_fail(err, CGD_EUSAGE, "grid: bad range %g:%g:%zu", a, b, n);
  for (size_t i = 0; i < n; i++) {
    double t = n == 1 ? 0.0 : (double)i / (double)(n - 1);
    out[i] = logarithmic ? exp(log(a) + t * (log(b) - log(a))) : a + t * (b - a);
  }
  return CGD_OK;
}

/* ------------------------------------------------------------------ one orbit */

struct cgd_orbit1d {
  double eta;
  cgd_lyap1d lyap;
  size_t keep, steps;
  double *ring; /* keep */
  double xmin, xmax;
  double wp, wo;
  int64_t base, last_cell; /* bitmap covers cells [base, base + 64·nwords) */
  uint64_t *bits;
  size_t nwords, wells, hops;
};

int cgd_orbit1d_create(double eta, size_t keep, double well_period, double well_offset,
                       cgd_orbit1d **out, cgd_error *err) {
  *out = NULL;
  cgd_orbit1d *o = calloc(1, sizeof *o);
  if (!o) return cgd_fail(err, CGD_ENOMEM, "orbit1d: out of memory");
  o->eta = eta;
  o->keep = keep;
  o->ring = keep ? malloc(sizeof(double) * keep) : NULL;
  if (keep && !o->ring) {
    free(o);
    return cgd_fail(err, CGD_ENOMEM, "orbit1d: out of memory");
  }
  o->wp = well_period;
  o->wo = well_offset;
  o->xmin = INFINITY;
  o->xmax = -INFINITY;
  cgd_lyap1d_init(&o->lyap, 0);
  *out = o;
  return CGD_OK;
}

void cgd_orbit1d_free(cgd_orbit1d *o) {
  if (!o) return;
  free(o->ring);
  free(o->bits);
  free(o);
}

/* mark cell c visited, growing the bitmap (doubling, re-centred) when c is outside it */
static int mark_cell(cgd_orbit1d *o, int64_t c) {
  if (!o->bits) {
    o->nwords = 4;
    o->bits = calloc(o->nwords, sizeof *o->bits);
    if (!o->bits) return CGD_ENOMEM;
    o->base = c - 128;
  }
  while (c < o->base || c >= o->base + (int64_t)(64 * o->nwords)) {
    size_t nw = 2 * o->nwords;
    /* wider than 2^27 wells (a run-away rate, or ε tiny against the orbit): the count stays
     * the lower bound of the window it has; the rate's other statistics go on */
    if (nw > ((size_t)1 << 21)) return CGD_OK;
    uint64_t *nb = calloc(nw, sizeof *nb);
    if (!nb) return CGD_ENOMEM;
    /* new base: shift by a quarter of the new span towards c, word aligned */
    int64_t shift = c < o->base ? (int64_t)(64 * o->nwords) : 0;
    int64_t nbase = o->base - shift;
    size_t woff = (size_t)(shift / 64);
    memcpy(nb + woff, o->bits, o->nwords * sizeof *nb);
    free(o->bits);
    o->bits = nb;
    o->nwords = nw;
    o->base = nbase;
  }
  uint64_t k = (uint64_t)(c - o->base);
  uint64_t m = (uint64_t)1 << (k % 64);
  if (!(o->bits[k / 64] & m)) {
    o->bits[k / 64] |= m;
    o->wells++;
  }
  return CGD_OK;
}

int cgd_orbit1d_push(cgd_orbit1d *o, double x, double f2) {
  cgd_lyap1d_push(&o->lyap, o->eta, f2);
  if (o->keep) o->ring[o->steps % o->keep] = x;
  if (x < o->xmin) o->xmin = x;
  if (x > o->xmax) o->xmax = x;
  if (o->wp > 0) {
    int64_t c = (int64_t)floor((x - o->wo) / o->wp); /* well index */
    if (o->steps > 0 && c != o->last_cell) o->hops++;
    o->last_cell = c;
    if (mark_cell(o, c)) return CGD_ENOMEM;
  }
  o->steps++;
  return CGD_OK;
}

size_t cgd_orbit1d_points(const cgd_orbit1d *o, double *out) {
  size_t n = o->steps < o->keep ? o->steps : o->keep;
  size_t start = o->steps - n; /* time index of the oldest stored point */
  for (size_t i = 0; i < n; i++) out[i] = o->ring[(start + i) % o->keep];
  return n;
}

cgd_orbit1d_stats cgd_orbit1d_stats_get(const cgd_orbit1d *o, size_t max_period, double tol) {
  cgd_orbit1d_stats s = {0};
  s.steps = o->steps;
  s.lambda = cgd_lyap1d_estimate(&o->lyap);
  s.wells = o->wells;
  s.hops = o->hops;
  s.hop_rate = o->steps > 1 ? (double)o->hops / (double)(o->steps - 1) : 0.0;
  s.xmin = o->xmin;
  s.xmax = o->xmax;
  size_t n = o->steps < o->keep ? o->steps : o->keep;
  if (n < 2) return s;
  size_t start = o->steps - n;
  double amax = 0.0;
  for (size_t i = 0; i < n; i++) amax = fmax(amax, fabs(o->ring[(start + i) % o->keep]));
  const double thr = tol * fmax(1.0, amax);
  /* smallest p with |x_{t+p} − x_t| ≤ thr on all stored pairs (needs ≥ 2p points) */
  for (size_t p = 1; p <= max_period && 2 * p <= n; p++) {
    int ok = 1;
    for (size_t i = 0; i + p < n && ok; i++)
      ok = fabs(o->ring[(start + i + p) % o->keep] - o->ring[(start + i) % o->keep]) <= thr;
    if (ok) {
      s.period = p;
      break;
    }
  }
  return s;
}

/* ------------------------------------------------------------------ orbit diagram */

void cgd_bif_result_free(cgd_bif_result *r) {
  if (!r) return;
  free(r->eta); free(r->points); free(r->period); free(r->lambda); free(r->lambda_se);
  free(r->wells); free(r->hop_rate); free(r->diverged);
  free(r);
}

#define CHUNK 16 /* η values per eval call: fixed, so results do not depend on threads */

/* f' and f'' of a chunk's states. A rate whose orbit runs away is that row's result, not
 * the diagram's failure: the states the objective refuses as run away are marked dead like
 * a non-finite one (kept at 0 so that later batches stay defined). Any other error is the
 * diagram's, with its own code and message. */
static int eval_chunk(const cgd_objective *obj, size_t m, double *x, double *g, double *h,
                      int *dead, cgd_error *err) {
  unsigned char refused[CHUNK];
  int rc = cgd_objective_eval_each(obj, m, x, NULL, g, h, refused, err);
  for (size_t j = 0; j < m && !rc; j++)
    if (refused[j]) dead[j] = 1, x[j] = 0.0;
  return rc;
}

static int run_chunk(const cgd_objective *obj, const cgd_bif_spec *sp, size_t i0, size_t m,
                     cgd_bif_result *r, size_t maxp, double tol, cgd_error *err) {
  double x[CHUNK], g[CHUNK], h[CHUNK];
  cgd_orbit1d *o[CHUNK] = {0};
  int rc = CGD_OK;
  for (size_t j = 0; j < m && !rc; j++) {
    x[j] = sp->x0;
    rc = cgd_orbit1d_create(sp->etas[i0 + j], sp->keep, sp->well_period, sp->well_offset, &o[j], err);
  }
  int dead[CHUNK] = {0};
  for (size_t t = 0; t < sp->burn_in + sp->steps && !rc; t++) {
    rc = eval_chunk(obj, m, x, g, h, dead, err);
    if (rc) break;
    for (size_t j = 0; j < m; j++) {
      if (dead[j]) continue;
      if (t >= sp->burn_in && cgd_orbit1d_push(o[j], x[j], h[j])) {
        rc = cgd_fail(err, CGD_ENOMEM, "out of memory for the orbit at lr = %g", sp->etas[i0 + j]);
        break;
      }
      x[j] -= sp->etas[i0 + j] * g[j]; /* x ← x − η f'(x) */
      if (!isfinite(x[j])) {
        dead[j] = 1;
        x[j] = 0.0; /* keep the batch finite; this η's row is reported diverged */
      }
    }
  }
  for (size_t j = 0; j < m && !rc; j++) {
    size_t i = i0 + j;
    r->eta[i] = sp->etas[i];
    r->diverged[i] = dead[j];
    double *row = r->points + i * sp->keep;
    for (size_t q = 0; q < sp->keep; q++) row[q] = NAN;
    if (dead[j]) {
      r->lambda[i] = r->lambda_se[i] = r->hop_rate[i] = NAN;
      continue;
    }
    cgd_orbit1d_stats s = cgd_orbit1d_stats_get(o[j], maxp, tol);
    cgd_orbit1d_points(o[j], row);
    r->period[i] = s.period;
    r->lambda[i] = s.lambda.mean;
    r->lambda_se[i] = s.lambda.se;
    r->wells[i] = s.wells;
    r->hop_rate[i] = s.hop_rate;
  }
  for (size_t j = 0; j < m; j++) cgd_orbit1d_free(o[j]);
  return rc;
}

int cgd_bifurcation(const cgd_objective *obj, const cgd_bif_spec *sp, cgd_bif_result **out,
                    cgd_error *err) {
  *out = NULL;
  if (obj->dim != 1 || !obj->hess_ok)
    return cgd_fail(err, CGD_EUSAGE, "bifurcation: needs a 1-D objective with Hessians");
  if (sp->n_eta < 1 || sp->steps < 1 || sp->keep > sp->steps)
    return cgd_fail(err, CGD_EUSAGE, "bifurcation: need n_eta, steps >= 1 and keep <= steps");
  const size_t n = sp->n_eta, K = sp->keep;
  const size_t maxp = sp->max_period ? sp->max_period : 64;
  const double tol = sp->period_tol > 0 ? sp->period_tol : 1e-9;
  const size_t persist = sp->persist ? sp->persist : 5;
  cgd_bif_result *r = calloc(1, sizeof *r);
  if (!r) return cgd_fail(err, CGD_ENOMEM, "bifurcation: out of memory");
  r->n_eta = n;
  r->keep = K;
  r->eta = malloc(sizeof(double) * n);
  r->points = malloc(sizeof(double) * (n * K + 1));
  r->period = calloc(n, sizeof *r->period);
  r->lambda = malloc(sizeof(double) * n);
  r->lambda_se = malloc(sizeof(double) * n);
  r->wells = calloc(n, sizeof *r->wells);
  r->hop_rate = malloc(sizeof(double) * n);
  r->diverged = calloc(n, sizeof *r->diverged);
  if (!r->eta || !r->points || !r->period || !r->lambda || !r->lambda_se || !r->wells ||
      !r->hop_rate || !r->diverged) {
    cgd_bif_result_free(r);
    return cgd_fail(err, CGD_ENOMEM, "bifurcation: out of memory (%zu × %zu points)", n, K);
  }
  const size_t nchunks = (n + CHUNK - 1) / CHUNK;
  size_t first_bad = nchunks;
  const int nt = sp->threads > 0 ? sp->threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) reduction(min : first_bad)
  for (size_t c = 0; c < nchunks; c++) {
    size_t i0 = c * CHUNK, m = n - i0 < CHUNK ? n - i0 : CHUNK;
    cgd_error e;
    if (run_chunk(obj, sp, i0, m, r, maxp, tol, &e) && c < first_bad) first_bad = c;
  }
  if (first_bad < nchunks) {
    /* The first failing chunk once more, alone, for its code and message: a chunk is
     * deterministic, so it fails the same way, and the report does not depend on which
     * thread failed first. */
    const size_t i0 = first_bad * CHUNK, m = n - i0 < CHUNK ? n - i0 : CHUNK;
    cgd_error e;
    int rc = run_chunk(obj, sp, i0, m, r, maxp, tol, &e);
    cgd_bif_result_free(r);
    if (!rc) return cgd_fail(err, CGD_EINTERNAL, "bifurcation: a chunk failed only once");
    return cgd_fail(err, rc, "bifurcation, lr in [%g, %g]: %s", sp->etas[i0],
                    sp->etas[i0 + m - 1], e.msg);
  }
  /* events */
  for (size_t i = 1; i < n && r->n_doublings < CGD_BIF_MAX_EVENTS; i++) {
    size_t p = r->period[i - 1], q = r->period[i];
    if (p > 0 && q == 2 * p) {
      size_t k = r->n_doublings++;
      r->doubling_lo[k] = r->eta[i - 1];
      r->doubling_hi[k] = r->eta[i];
      r->doubling_eta[k] = 0.5 * (r->eta[i - 1] + r->eta[i]);
      r->doubling_from[k] = p;
    }
  }
  r->chaos_onset = r->chaos_lo = r->global_onset = r->global_lo = NAN;
  for (size_t i = 0; i < n && isnan(r->chaos_onset); i++) {
    size_t k = 0;
    while (i + k < n && k < persist && !r->diverged[i + k] && r->lambda[i + k] > 0 &&
           r->period[i + k] == 0)
      k++;
    if (k == persist) {
      r->chaos_onset = r->eta[i];
      r->chaos_lo = i ? r->eta[i - 1] : NAN;
    }
  }
  for (size_t i = 0; i < n && isnan(r->global_onset) && sp->well_period > 0; i++) {
    size_t k = 0;
    while (i + k < n && k < persist && !r->diverged[i + k] && r->wells[i + k] > 1 &&
           r->hop_rate[i + k] > 0)
      k++;
    if (k == persist) {
      r->global_onset = r->eta[i];
      r->global_lo = i ? r->eta[i - 1] : NAN;
    }
  }
  *out = r;
  return CGD_OK;
}
