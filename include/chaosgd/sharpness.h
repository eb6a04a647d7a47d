/* Sharpness: the extreme eigenvalues of the Hessian ∇²f(x), next to the stability
 * threshold 2/η of GD (the edge of stability: GD on a quadratic is stable iff
 * max|1 − ηλ_i| < 1, i.e. 0 < λ_i < 2/η).
 *
 * Lanczos on Hessian-vector products, with full re-orthogonalisation (the Krylov basis is
 * kept, so k iterations cost k HVPs and O(k²·dim) flops; k ≤ 100 is meant). After k = dim
 * iterations the result is exact; for the 113-parameter MLP 40–60 iterations give the top
 * eigenvalue to near machine precision because it is well separated. For analytic
 * objectives (dim 1, 2) use cgd_sharpness_analytic: the Hessian is exact from eval and its
 * eigenvalues closed form / Jacobi.
 *
 * Observer use: every N steps, at x_t, call cgd_sharpness_objective (or the MLP form with
 * caller scratch) with the previous top eigenvector as the warm start v0. */
#ifndef CHAOSGD_SHARPNESS_H
#define CHAOSGD_SHARPNESS_H

#include <stddef.h>
#include <stdint.h>

#include "chaosgd/objective.h"
#include "chaosgd/status.h"

/* hv = ∇²f(x) v at a point fixed in ctx */
typedef int (*cgd_hvp_fn)(void *ctx, const double *v, double *hv, cgd_error *err);

typedef struct cgd_sharpness {
  double top;     /* largest eigenvalue (algebraic) */
  double bottom;  /* smallest eigenvalue (algebraic) */
  double resid;   /* ‖H u − top u‖ of the returned top Ritz vector */
  size_t iters;   /* Lanczos iterations (= HVPs) done */
} cgd_sharpness;

/* k iterations (clamped to dim) from v0 (NULL: a fixed generic vector; need not be
 * normalised). vec (may be NULL) gets the top Ritz vector, unit norm. Stops early when
 * the Krylov space is invariant. */
int cgd_sharpness_lanczos(size_t dim, cgd_hvp_fn hvp, void *ctx, size_t k, const double *v0,
                          cgd_sharpness *out, double *vec, cgd_error *err);

/* ∇²f(x) v for any objective: obj->hvp when set, else the Hessian from obj->eval times v
 * (analytic objectives, small dim). */
int cgd_objective_hvp(const cgd_objective *obj, const double *x, const double *v, double *hv,
                      cgd_error *err);

/* Lanczos on cgd_objective_hvp at x. */
int cgd_sharpness_objective(const cgd_objective *obj, const double *x, size_t k, const double *v0,
                            cgd_sharpness *out, double *vec, cgd_error *err);

/* Exact extreme eigenvalues for an objective with Hessians (dim ≤ 64): 1-D f'', 2-D
 * closed form λ = tr/2 ± √((a − c)²/4 + b²), else Jacobi. */
int cgd_sharpness_analytic(const cgd_objective *obj, const double *x, cgd_sharpness *out,
                           cgd_error *err);

#endif
