/* Predictability horizon: how long a double-precision GD orbit follows the true orbit from
 * the same initial point. The reference orbit runs in long double (x87 80-bit, 64-bit
 * mantissa: 11 more bits than double) with its own long-double gradient (sinl, cosl), so
 * its own rounding and function errors stay 2^-11 below the double orbit's until well past
 * the double orbit's horizon. The horizon is the first step where |x_double − x_ref| >
 * frac·S, S the attractor size (max − min of the reference orbit after burn-in; frac = 0.01
 * by default), printed beside the estimate ln(1/u)/λ (u = 2^-53: the steps a separation
 * of one rounding unit needs to grow by e^λ per step to O(1)) and beside the sharper
 * ln(frac·S/δ₀)/λ with δ₀ the first nonzero separation.
 *
 * The numerical face of the paper's point: the two orbits decorrelate after the horizon,
 * while their time histograms agree (tv_hist, total variation on 100 bins). */
#ifndef CHAOSGD_HORIZON_H
#define CHAOSGD_HORIZON_H

#include <stddef.h>

#include "chaosgd/multiscale.h"
#include "chaosgd/objective.h"
#include "chaosgd/status.h"

/* f'(x) in long double */
typedef long double (*cgd_grad_ld_fn)(const void *ctx, long double x);

/* The long-double gradient of a 1-D built-in f0 + f1 (ctx: a const cgd_ms_spec *):
 * f0 quadratic, quartic, tilted, doublewell; f1 sin, negcos, quasi, madeup, none.
 * cgd_ms_grad_ld_supported says whether spec is one of them. */
long double cgd_ms_grad_ld(const void *spec, long double x);
int cgd_ms_grad_ld_supported(const cgd_ms_spec *spec);

/* Incremental: the reference is advanced one step per push of the double orbit's x_t. */
typedef struct cgd_horizon_acc cgd_horizon_acc;
int cgd_horizon_create(cgd_grad_ld_fn grad, const void *ctx, double eta, double x0,
                       size_t burn_in, cgd_horizon_acc **out, cgd_error *err);
void cgd_horizon_free(cgd_horizon_acc *h);
void cgd_horizon_push(cgd_horizon_acc *h, double x);

typedef struct cgd_horizon {
  size_t steps;
  size_t first_diff;   /* first step t with x_double ≠ x_ref (rounded to double) */
  double delta0;       /* |x_double − x_ref| at first_diff */
  double size;         /* S */
  size_t horizon;      /* first t with |x_double − x_ref| > frac·S; 0: not within steps */
  double lambda;       /* λ used for the predictions (the caller's; NaN if none given) */
  double predicted_u;  /* ln(1/u)/λ */
  double predicted_d0; /* ln(frac·S/δ₀)/λ + first_diff */
  double tv_hist;      /* TV of the two orbits' histograms after burn-in (one-call only) */
} cgd_horizon;
/* lambda: the orbit's exponent (e.g. from cgd_lyap1d) for the predictions */
cgd_horizon cgd_horizon_get(const cgd_horizon_acc *h, double frac, double lambda);

/* One call on a 1-D built-in spec: the double orbit through obj->eval (the training path),
 * the reference through cgd_ms_grad_ld; λ by eq. (4) along the double orbit. */
int cgd_horizon_1d(const cgd_objective *obj, const cgd_ms_spec *spec, double eta, double x0,
                   size_t burn_in, size_t steps, double frac, cgd_horizon *out, cgd_error *err);

#endif
