/* Pure statistics on arrays: histograms with recorded edges, tail statistics of a loss
 * trace and the verdict rules, distances between distributions, the rescaled Gibbs law
 * by quadrature. No I/O, no allocation visible to the caller beyond _create/_free. */
#ifndef CHAOSGD_STATS_H
#define CHAOSGD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "chaosgd/objective.h"
#include "chaosgd/status.h"

/* ---------------------------------------------------------------- histograms */

/* Fixed, equal-width bins on [lo, hi); bin k is [lo + k·w, lo + (k+1)·w), w = (hi-lo)/nbins.
 * Membership is exact against the edges as computed in double, lo + (double)k * w (so a
 * caller writing edges that way gets bins that agree with the counts). A value equal to
 * hi goes to the last bin; values outside go to under/over; non-finite values are counted
 * in nonfinite and nowhere else. */
typedef struct cgd_hist {
  double lo, hi;
  size_t nbins;
  uint64_t *count;          /* nbins, owned */
  uint64_t under, over, nonfinite;
  /* moments of the finite values added (all of them, in range or not) */
  uint64_t n;
  double min, max, mean, m2; /* m2: sum of squared deviations (Welford); all 0 while n == 0 */
} cgd_hist;

/* CGD_EUSAGE unless lo < hi are finite, hi - lo is finite and nbins ≥ 1 bins of width w
 * have distinct edges (lo + w > lo, hi - w < hi); CGD_ENOMEM. */
int cgd_hist_create(double lo, double hi, size_t nbins, cgd_hist **out, cgd_error *err);
void cgd_hist_free(cgd_hist *h);
void cgd_hist_reset(cgd_hist *h);
/* Add n values spaced by stride (stride 1: contiguous); NULL h or v is a no-op. */
void cgd_hist_add(cgd_hist *h, const double *v, size_t n, size_t stride);
/* The same bins, under/over and nonfinite counts, but not the moments (n, min, max, mean,
 * m2 stay as they were): for a caller that wants only the law, e.g. a histogram of 10⁶
 * particles, where the serial Welford update (a division per value) cost several times
 * the binning. */
void cgd_hist_count(cgd_hist *h, const double *v, size_t n, size_t stride);
double cgd_hist_std(const cgd_hist *h); /* population std of the finite values added (0 if none) */
/* Probabilities per bin of the in-range mass (sum 1), written to p[nbins]; returns the
 * in-range count (0: p is all zero). */
uint64_t cgd_hist_prob(const cgd_hist *h, double *p);

/* Ranges of bins for data whose scale is not known in advance (parameters of a run that
 * may have diverged): cgd_finite_minmax widens [*lo, *hi] to the finite values of
 * v[0..n) (stride; start from lo = +inf, hi = −inf). cgd_hist_fit_range then makes it a
 * range cgd_hist_create accepts for nbins bins: no finite value gives [−0.5, 0.5]; one
 * value c gives c ± max(0.5, δ), values closer than 2δ their midpoint ± δ, with
 * δ = nbins·max(|c|·2⁻⁵⁰, 2⁻¹⁰⁰⁰) so bins stay several ulps wide; a span that overflows
 * (values of both signs near ±DBL_MAX) is clipped to ±2¹⁰²², and values beyond it count
 * as under/over. */
void cgd_finite_minmax(const double *v, size_t n, size_t stride, double *lo, double *hi);
void cgd_hist_fit_range(double *lo, double *hi, size_t nbins);

/* 2-D histogram: nx × ny bins over [xlo,xhi) × [ylo,yhi); bin (i,j) at count[i*ny + j].
 * Each coordinate follows the 1-D rules (exact edges, x == xhi / y == yhi in the last
 * bin). A point with either coordinate non-finite counts in nonfinite only; a finite point
 * with either coordinate out of range counts in outside only. */
typedef struct cgd_hist2d {
  double xlo, xhi, ylo, yhi;
  size_t nx, ny;
  uint64_t *count;
  uint64_t outside, nonfinite;
} cgd_hist2d;

int cgd_hist2d_create(double xlo, double xhi, size_t nx, double ylo, double yhi, size_t ny,
                      cgd_hist2d **out, cgd_error *err);
void cgd_hist2d_free(cgd_hist2d *h);
/* Add n points stored as pairs (x[2i], x[2i+1]). */
void cgd_hist2d_add(cgd_hist2d *h, const double *xy, size_t n);
uint64_t cgd_hist2d_prob(const cgd_hist2d *h, double *p); /* p[nx*ny] */

/* ---------------------------------------------------------------- loss traces */

typedef enum {
  CGD_VERDICT_CONVERGED = 0,
  CGD_VERDICT_DESCENDING,
  CGD_VERDICT_PERIODIC,
  CGD_VERDICT_CHAOTIC,
  CGD_VERDICT_DIVERGED
} cgd_verdict;

const char *cgd_verdict_name(cgd_verdict v);

/* Tolerances of the verdict rules (defaults from cgd_verdict_defaults). */
typedef struct cgd_verdict_opts {
  double converged_rtol; /* converged: (max-min) over the tail ≤ rtol·max(|mean|, tiny); default 1e-9 */
  double increase_rtol;  /* a step "raises" the loss when L[t+1]-L[t] > rtol·|L[t]|; default 1e-12 */
  double period_rtol;    /* periodic with p: |L[t+p]-L[t]| ≤ rtol·(max-min) on the whole tail; default 1e-6 */
  size_t max_period;     /* largest period searched; default 64 */
  size_t descent_blocks; /* descending also when the means of this many tail blocks strictly
                            decrease... (default 20; < 2: only "no step rises") */
  double descent_max_rise; /* ...and at most this share of the steps rise (default 0.02) */
} cgd_verdict_opts;

void cgd_verdict_defaults(cgd_verdict_opts *o);

typedef struct cgd_tail_stats {
  size_t start, len;     /* tail window: L[start .. start+len-1] */
  double mean, std, rel_std, min, max; /* population; rel_std = std/|mean|, 0 if mean == 0 */
  double frac_increase;  /* share of the len-1 steps in the tail that raise the loss */
  double lag1_autocorr_incr; /* lag-1 autocorrelation of the increments L[t+1]-L[t] (0 if undefined) */
  int period;            /* smallest period found (0: none) */
  int block_means_decreasing; /* the means of descent_blocks tail blocks strictly decrease
                               * (the trend alone, whatever the share of rising steps) */
  cgd_verdict verdict;
} cgd_tail_stats;
/* With a non-finite value in the tail (verdict diverged) every double field is NaN. */

/* Statistics of L[start .. n-1] and the verdict:
 *   diverged   : any non-finite value (the loop also reports divergence itself)
 *   converged  : (max-min) ≤ converged_rtol·max(|mean|, 1e-300)
 *   periodic   : else, smallest p ≤ max_period with |L[t+p]-L[t]| ≤ period_rtol·(max-min) ∀t
 *                in the tail; p is only tried when len > 2p (two full cycles plus one)
 *   descending : else, no step raises the loss, or the means of descent_blocks blocks of
 *                the tail strictly decrease with at most descent_max_rise of rising steps
 *   chaotic    : else (bounded, non-monotone, no period up to max_period)
 * Needs len = n - start ≥ 2 (else CGD_EUSAGE); o NULL means the defaults; negative or
 * non-finite tolerances are CGD_EUSAGE. The lag-1 autocorrelation of the m = len-1
 * increments d_t is Σ_{t<m-1}(d_t−d̄)(d_{t+1}−d̄) / Σ_{t<m}(d_t−d̄)², 0 when the
 * denominator is 0. No allocation. */
int cgd_tail_stats_compute(const double *L, size_t n, size_t start, const cgd_verdict_opts *o,
                           cgd_tail_stats *out, cgd_error *err);

/* ---------------------------------------------------------------- distances */

/* Distances between two probability vectors on the same m bins (each is normalised to sum
 * 1 first). CGD_EUSAGE for m == 0, an all-zero vector, a negative or non-finite entry, or
 * (1-D) a bin width that is not finite and > 0.
 *   tv        = ½ Σ|p−q|
 *   hellinger = sqrt(½ Σ (√p − √q)²)   (in [0,1])
 *   kl        = Σ_{p>0} p ln(p / max(q, kl_floor)), KL(p‖q), kl_floor = 1e-12 applied to
 *               the normalised q: a bin where q is empty and p is not adds p·ln(p/1e-12)
 *               (finite, < 27.7·p) instead of +inf; bins with p = 0 add nothing
 *   w1, ks    (1-D only, bins of width w): w1 = w·Σ_k |P_k − Q_k|, ks = max_k |P_k − Q_k|
 *               with P, Q the cumulative sums at bin right edges.
 * Deliberately not typedef'd: the name cgd_distances is also the n-D function below, and C
 * keeps struct tags apart from ordinary identifiers, so both keep their names. */
struct cgd_distances {
  double tv, hellinger, kl, w1, ks;
};

/* One-dimensional: w1 and ks filled using bin width w. */
int cgd_distances_1d(const double *p, const double *q, size_t m, double w,
                     struct cgd_distances *out, cgd_error *err);
/* Any dimension (2-D grids flattened): w1 and ks are set to NaN. */
int cgd_distances(const double *p, const double *q, size_t m, struct cgd_distances *out,
                  cgd_error *err);

/* ---------------------------------------------------------------- rescaled Gibbs law */

/* Bin probabilities of ρ(x) ∝ exp(−2 f0(x)/(η σ²)) restricted to [lo, hi) with nbins
 * bins: composite Gauss–Legendre quadrature (5 nodes × 8 sub-intervals per bin),
 * exponent shifted by its minimum over the nodes so nothing underflows to 0/0; p sums to 1.
 * f0 is evaluated in one batched call on all nbins·40 nodes (x: points, dim 1; g = h = NULL).
 * A failing callback's status is returned with its message prefixed; f0 = NaN or −inf at a
 * node is CGD_EDATA, +inf is a zero weight (all +inf: CGD_EDATA). CGD_EUSAGE for eta or
 * sigma2 not finite and > 0, or a range as for cgd_hist_create; CGD_ENOMEM. */
int cgd_gibbs_bins_1d(cgd_eval_fn f0, void *ctx, double eta, double sigma2, double lo,
                      double hi, size_t nbins, double *p, cgd_error *err);

/* 2-D: ρ(x,y) ∝ exp(−2 f0(x,y)/(η σ²)) on the nx × ny grid of cgd_hist2d (p[i*ny+j]).
 * One common σ² is taken: with per-coordinate noise variances the law has this form only
 * when f0 is separable, so callers fold any difference into f0 and pass the common σ²
 * (sincos2d: 1/2 each). Tensor-product Gauss–Legendre, 5×5 nodes × 4×4 sub-cells per bin.
 * Points go to the callback as pairs (x, y) (dim 2), one call per row i of x-bins
 * (ny·400 points), so memory grows with ny only; each row is shifted by its own minimum
 * exponent and rescaled to the global one. Errors as for cgd_gibbs_bins_1d. */
int cgd_gibbs_bins_2d(cgd_eval_fn f0, void *ctx, double eta, double sigma2, double xlo,
                      double xhi, size_t nx, double ylo, double yhi, size_t ny, double *p,
                      cgd_error *err);

/* Population mean and variance of n values (corrected two-pass, fixed order); n == 0 or
 * v NULL gives 0 and 0. Either output may be NULL. Deviations whose squares overflow are
 * rescaled: the variance is then +inf only if it is beyond DBL_MAX itself. */
void cgd_mean_var(const double *v, size_t n, double *mean, double *var);

#endif
