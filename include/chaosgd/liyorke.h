/* Li–Yorke witness for a 1-D map φ (Thm 8 / Thm 18 of Kong & Tao, after Li & Yorke 1975
 * "Period three implies chaos"): a point a with b = φ(a), c = φ²(a), d = φ³(a) and
 *   d ≤ a < b < c        or the mirror        d ≥ a > b > c.
 * For a continuous φ on [min, max] of {a, b, c, d} this implies periodic points of every
 * period and an uncountable scrambled set (chaos in the sense of Li and Yorke).
 *
 * Search: a grid scan of [lo, hi] (batched map evaluations), keeping the point with the
 * largest margin min(a − d, b − a, c − b) (mirror: min(d − a, a − b, b − c)), refined by
 * three rounds of a 1001-point grid over ± one spacing around it. Verification: φ is
 * re-evaluated at the witness by separate single-point calls, and the strict inequalities
 * must hold with a margin larger than 1e-12·max(|a|, |b|, |c|, |d|) (far above rounding of
 * the map's evaluation). found = 0 means: none in the scanned interval at this resolution
 * — not that none exists. */
#ifndef CHAOSGD_LIYORKE_H
#define CHAOSGD_LIYORKE_H

#include <stddef.h>

#include "chaosgd/objective.h"
#include "chaosgd/status.h"

/* out[i] = φ(x[i]) for i < n */
typedef int (*cgd_map1d_fn)(void *ctx, size_t n, const double *x, double *out, cgd_error *err);

typedef struct cgd_liyorke {
  int found;      /* 1: found and verified */
  int mirrored;   /* 0: d ≤ a < b < c; 1: d ≥ a > b > c */
  double a, b, c, d;
  double margin;  /* min of the three gaps (≥ 0 by the conditions) */
  size_t scanned; /* points evaluated */
  size_t candidates; /* grid points of the first scan satisfying the conditions */
} cgd_liyorke;

int cgd_liyorke_search(cgd_map1d_fn phi, void *ctx, double lo, double hi, size_t n_scan,
                       cgd_liyorke *out, cgd_error *err);

/* φ(x) = x − η f'(x), GD on a 1-D objective */
int cgd_liyorke_gd(const cgd_objective *obj, double eta, double lo, double hi, size_t n_scan,
                   cgd_liyorke *out, cgd_error *err);

#endif
