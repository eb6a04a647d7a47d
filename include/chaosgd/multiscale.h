/* Analytic multiscale objectives f = f0 + f1,ε in dimension 1 or 2, as cgd_objective.
 *
 * f0 built-ins:   quadratic x²/2 · quartic x⁴/4 · tilted (x²−1)²/4 + x/8 ·
 *                 doublewell k(x²−1)² · matyas 0.26(x²+y²) + 0.48xy (2-D)
 * f1,ε built-ins: sin ε sin(x/ε) · negcos −ε cos(x/ε) · quasi ε(sin(x/ε) + sin(√2x/ε)) ·
 *                 madeup ε cos(1 + cos(√3x/5)/ε) · sincos2d ε sin(x/ε) + ε cos(y/ε) (2-D) ·
 *                 none (f1 = 0)
 * Anything else is parsed as an expression (chaosgd/expr.h) with parameters eps, k and
 * the user's --param name=value. */
#ifndef CHAOSGD_MULTISCALE_H
#define CHAOSGD_MULTISCALE_H

#include <stddef.h>

#include "chaosgd/objective.h"
#include "chaosgd/status.h"

typedef struct cgd_ms_spec {
  const char *f0;      /* built-in name or expression */
  const char *f1;      /* built-in name or expression */
  double eps;          /* ε > 0 */
  double k;            /* doublewell coefficient (default 1) */
  size_t nparams;      /* extra named parameters for expressions */
  const char *const *param_names;
  const double *param_values;
} cgd_ms_spec;

/* Build the objective; dim is 2 if either part is 2-D (matyas, sincos2d, or an expression
 * using y), else 1. A 2-D part combined with a 1-D built-in is an error. */
int cgd_multiscale_create(const cgd_ms_spec *spec, cgd_objective **out, cgd_error *err);

/* Variance of ζ = −∇f1,ε(u) per coordinate, u uniform over the phase law used by
 * obj->noise (sin: 1/2, quasi: 3/2, sincos2d: 1/2 each). sigma2[dim]. */
int cgd_multiscale_sigma2(const cgd_objective *obj, double *sigma2, cgd_error *err);

/* How the noise of obj is sampled, one line for config.json / README. */
const char *cgd_multiscale_noise_law(const cgd_objective *obj);

#endif
