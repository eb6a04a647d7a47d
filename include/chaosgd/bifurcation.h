/* Orbit diagrams of 1-D GD x ← x − η f'(x) over a grid of learning rates (ChaosTools'
 * orbitdiagram), with per-η period, Lyapunov exponent (eq. (4)) and a local/global chaos
 * measure, and the η of each period doubling, of the onset of chaos and of global chaos.
 *
 * Micro-wells. For a periodic f1,ε the wells are the cells between consecutive maxima of
 * f1,ε: [offset + kP, offset + (k+1)P), P = 2πε (cgd_wells_for gives P and offset for the
 * built-ins). "Local chaos" is a chaotic orbit confined to one well; "global chaos" one
 * that hops between wells (Kong & Tao Sec. 2.3 / Fig. 9).
 *
 * The per-orbit statistics are an incremental accumulator (cgd_orbit1d) that works as an
 * observer on any single 1-D run: each step push x_t and f''(x_t) (and the map's η once at
 * creation). */
#ifndef CHAOSGD_BIFURCATION_H
#define CHAOSGD_BIFURCATION_H

#include <stddef.h>

#include "chaosgd/lyapunov.h"
#include "chaosgd/objective.h"
#include "chaosgd/status.h"

/* Well period and offset (cell boundaries at the maxima of f1,ε) for a built-in f1:
 * sin (maxima at x/ε = π/2 + 2πk), negcos (at π + 2πk), quasi (its ε sin(x/ε) part; the
 * cells are then nominal). Others: CGD_EUSAGE (pass your own). */
int cgd_wells_for(const char *f1, double eps, double *period, double *offset, cgd_error *err);

/* ------------------------------------------------------------- one orbit, incremental */
typedef struct cgd_orbit1d cgd_orbit1d;
/* keep: how many last points to store (attractor points, period detection);
 * well_period 0: no wells */
int cgd_orbit1d_create(double eta, size_t keep, double well_period, double well_offset,
                       cgd_orbit1d **out, cgd_error *err);
void cgd_orbit1d_free(cgd_orbit1d *o);
/* x_t and f''(x_t), before the update */
int cgd_orbit1d_push(cgd_orbit1d *o, double x, double f2);

typedef struct cgd_orbit1d_stats {
  size_t steps;
  cgd_estimate lambda; /* eq. (4), batch-means error */
  size_t period;       /* smallest p ≤ max_period with max|x_{t+p} − x_t| ≤ tol·max(1, |x|max)
                          over the stored points; 0: none */
  size_t wells;        /* distinct wells visited (counted in a window of 2^27 wells: an
                        * orbit spread wider gets the lower bound of that window) */
  size_t hops;         /* steps whose x_{t+1} lies in another well than x_t */
  double hop_rate;     /* hops / (steps − 1) */
  double xmin, xmax;   /* range of the pushed points */
} cgd_orbit1d_stats;
cgd_orbit1d_stats cgd_orbit1d_stats_get(const cgd_orbit1d *o, size_t max_period, double tol);
/* the last min(keep, steps) points in time order; returns their count */
size_t cgd_orbit1d_points(const cgd_orbit1d *o, double *out);

/* ---------------------------------------------------------------- orbit diagram */
typedef struct cgd_bif_spec {
  const double *etas;  /* grid (any order; events assume ascending) */
  size_t n_eta;
  double x0;           /* one initial condition for every η */
  size_t burn_in;      /* steps dropped before statistics */
  size_t steps;        /* steps after burn-in */
  size_t keep;         /* attractor points stored per η (≤ steps) */
  size_t max_period;   /* period search bound (≤ keep/2); 0: 64 */
  double period_tol;   /* 0: 1e-9 */
  double well_period, well_offset; /* 0: no well statistics */
  size_t persist;      /* onsets need this many consecutive grid points; 0: 5 */
  int threads;         /* OpenMP threads; 0: default. The output does not depend on it */
} cgd_bif_spec;

#define CGD_BIF_MAX_EVENTS 32

typedef struct cgd_bif_result {
  size_t n_eta, keep;
  double *eta;         /* n_eta */
  double *points;      /* n_eta × keep: last attractor points (NaN-padded) */
  size_t *period;      /* 0: none ≤ max_period */
  double *lambda, *lambda_se;
  size_t *wells;
  double *hop_rate;
  int *diverged;       /* the orbit left the finite numbers (its row is NaN) */
  /* period doublings: between eta[i−1] and eta[i], period p → 2p; reported at the
   * midpoint, with the bracket */
  size_t n_doublings;
  double doubling_eta[CGD_BIF_MAX_EVENTS], doubling_lo[CGD_BIF_MAX_EVENTS],
      doubling_hi[CGD_BIF_MAX_EVENTS];
  size_t doubling_from[CGD_BIF_MAX_EVENTS];
  /* onset of chaos: the first grid point from which λ > 0 with no period for `persist`
   * consecutive points; bracket [chaos_lo, chaos_onset] (NaN: none). Onset of global
   * chaos: the first point from which the orbit visits > 1 well with hop_rate > 0 for
   * `persist` consecutive points (NaN: none). */
  double chaos_onset, chaos_lo, global_onset, global_lo;
} cgd_bif_result;

int cgd_bifurcation(const cgd_objective *obj, const cgd_bif_spec *spec, cgd_bif_result **out,
                    cgd_error *err);
void cgd_bif_result_free(cgd_bif_result *r);

/* Grids: n points from a to b, linear or logarithmic (a, b > 0) */
int cgd_grid(double a, double b, size_t n, int logarithmic, double *out, cgd_error *err);

#endif
