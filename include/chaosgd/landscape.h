/* Facts about the macro landscape f0 of a multiscale objective that runs and diagnostics
 * need: its minimum on a box and the Hessian there, the smallest curvature (the slow
 * direction, which sets the relaxation time 10/(η λ_min)), and the quadratic model whose
 * Gibbs law is the Gaussian form of Kong & Tao's Rmk 15. Dimension 1 or 2. */
#ifndef CHAOSGD_LANDSCAPE_H
#define CHAOSGD_LANDSCAPE_H

#include <stddef.h>

#include "chaosgd/objective.h"
#include "chaosgd/status.h"

/* The minimum of obj->eval_f0 on [lo, hi]^dim: the best point of a 401-point grid (401²
 * in 2-D), refined by Newton steps while the Hessian is positive definite and the step
 * stays in the box. Fills xs[dim] and the Hessian there H[dim·dim] (row-major).
 * CGD_EUSAGE without an f0 or for dim > 2; CGD_EDATA when f0 cannot be evaluated. */
int cgd_f0_minimum(const cgd_objective *obj, double lo, double hi, double *xs, double *H,
                   cgd_error *err);

/* Smallest eigenvalue of a symmetric dim×dim matrix, dim 1 or 2 (closed form). */
double cgd_sym_lambda_min(const double *H, size_t dim);

/* The quadratic model q(x) = ½(x−x*)ᵀH(x−x*) as an evaluation callback (values only, which
 * is what the Gibbs quadrature needs); ctx points at a cgd_quad_model. */
typedef struct cgd_quad_model {
  size_t dim;
  double xs[2], H[4];
} cgd_quad_model;
int cgd_quad_model_eval(void *ctx, size_t n, const double *x, double *f, double *g, double *h,
                        cgd_error *err);

#endif
