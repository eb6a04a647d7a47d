/* Analytic multiscale objectives f = f0 + f1,ε in dimension 1 or 2, as cgd_objective.
 *
 * f0 built-ins:   quadratic x²/2 · quartic x⁴/4 · tilted (x²−1)²/4 + x/8 ·
 *                 doublewell k(x²−1)² (k > 0) · matyas 0.26(x²+y²) + 0.48xy (2-D)
 * f1,ε built-ins: sin ε sin(x/ε) · negcos −ε cos(x/ε) · quasi ε(sin(x/ε) + sin(√2x/ε)) ·
 *                 madeup ε cos(1 + cos(√3x/5)/ε) · sincos2d ε sin(x/ε) + ε cos(y/ε) (2-D) ·
 *                 none (f1 = 0; fits any dimension)
 * Anything else is parsed as an expression (chaosgd/expr.h) with parameters eps, k and
 * the user's --param name=value; an expression fits any dimension unless it uses y.
 *
 * Accuracy and reproducibility. The sines and cosines of x/ε in the built-ins come from
 * chaosgd/vmath.h's deterministic kernel, built from IEEE operations only (explicit fma,
 * Cody–Waite reduction with a double-double tail, fdlibm polynomials): at most 0.78 ulp
 * against long double for |x/ε| <= 2⁴⁰ (measured, tests/test_vmath.c), and the same bits
 * at every vector width (scalar, AVX2+FMA, AVX-512F), every batch split and thread count.
 * Results therefore agree bit for bit between any x86-64 machines (given a correctly
 * rounded fma in the scalar fallback, as glibc's is). A gradient-only request evaluates
 * only the one function it needs per term. A phase beyond 2⁴⁰ is an error with a message
 * naming the state, never a silently wrong value: CGD_EDIVERGED if the state has run away
 * (|x| > CGD_MS_RUNAWAY = 2²⁰, no built-in's dynamics lives there: GD is diverging),
 * CGD_EDOMAIN otherwise (ε too small for the state). Expression parts take their sin/cos
 * from the same kernel (chaosgd/expr.h), so an argument beyond 2⁴⁰ there is the same error
 * under the same rule, with the expression's message (function, column, argument, state). */
#ifndef CHAOSGD_MULTISCALE_H
#define CHAOSGD_MULTISCALE_H

#include <stddef.h>

#include "chaosgd/objective.h"
#include "chaosgd/status.h"

/* Vector width of the built-in sines and cosines (cgd_ms_spec.trig_isa); every width
 * gives the same bits. */
enum {
  CGD_TRIG_AUTO = 0,   /* best the CPU has: AVX-512, else AVX2+FMA, else scalar */
  CGD_TRIG_SCALAR = 1, /* one point at a time (same bits as the vector kernels) */
  CGD_TRIG_AVX2 = 2,   /* AVX2 + FMA */
  CGD_TRIG_AVX512 = 3  /* AVX-512F */
};

/* A state beyond this (max |coordinate|) whose phase leaves the sin/cos kernel's range
 * counts as diverged, not as a domain error (see above). */
#define CGD_MS_RUNAWAY 1048576.0

typedef struct cgd_ms_spec {
  const char *f0;      /* built-in name or expression */
  const char *f1;      /* built-in name or expression */
  double eps;          /* ε > 0, finite */
  double k;            /* doublewell coefficient; callers set 1 for the default. doublewell
                          rejects k <= 0 so that a zeroed spec cannot pass as f0 = 0 */
  size_t nparams;      /* extra named parameters for expressions */
  const char *const *param_names;
  const double *param_values;
  int trig_isa;        /* CGD_TRIG_*: 0 (auto) unless testing; a request above what the
                          CPU supports is lowered to the best it has */
} cgd_ms_spec;

/* Build the objective; dim is 2 if either part is 2-D (matyas, sincos2d, or an expression
 * using y), else 1. A 2-D part combined with a 1-D built-in is an error (CGD_EUSAGE), as
 * are eps <= 0, a name that is neither a built-in nor a valid expression, and parameter
 * names that clash with eps, k, x, y, pi or a function.
 *
 * obj->noise(ctx, n, seed, index0, out) fills out[i*dim + a] with ζ = −∇f1,ε(u) at a
 * random u, drawn from U_a = cgd_rng_uniform(seed, CGD_STREAM_NOISE, (index0+i)*dim + a):
 *   sin, negcos, sincos2d   u_a/ε = θ_a = 2π U_a (one period 2πε per coordinate; the
 *                           phase is used directly, which is the same law without the
 *                           rounding of u/ε): sin ζ = −cos θ, negcos ζ = −sin θ,
 *                           sincos2d ζ = (−cos θ_x, +sin θ_y)
 *   quasi                   two independent phases: θ1 = 2π U, θ2 = 2π U' with U' from
 *                           the same index on stream CGD_STREAM_NOISE + 2³²;
 *                           ζ = −(cos θ1 + √2 cos θ2) (the law of −∇f1 at a uniform point
 *                           of the quasi-periodic torus)
 *   madeup                  u = (10π/√3) U, uniform over one period of the macro cosine
 *                           cos(√3x/5): f1 is periodic in x with exactly that period
 *                           (it depends on x only through cos(√3x/5)), not at scale ε
 *   expression              u_a = L (U_a − 1/2), uniform on [−L/2, L/2) with
 *                           L = 2000πε (a window of 1000 periods of scale ε)
 *   none                    ζ = 0
 * so each draw is a pure function of (seed, index0 + i, a). */
int cgd_multiscale_create(const cgd_ms_spec *spec, cgd_objective **out, cgd_error *err);

/* Variance of ζ = −∇f1,ε(u) per coordinate, u uniform over the phase law used by
 * obj->noise, sigma2[dim]. sin, negcos, sincos2d (1/2 per coordinate) and quasi (3/2):
 * trapezoid quadrature over the phases, exact to rounding for these trigonometric
 * polynomials. madeup and expressions: sample variance of 10⁶ draws of obj->noise with
 * the fixed seed CGD_MS_SIGMA2_SEED (relative standard error ≈ 0.14%, deterministic).
 * none: 0. CGD_EUSAGE if obj was not made by cgd_multiscale_create. */
#define CGD_MS_SIGMA2_SEED 20201204u
int cgd_multiscale_sigma2(const cgd_objective *obj, double *sigma2, cgd_error *err);

/* How the noise of obj is sampled, one line for config.json / README ("" for an object
 * not made by cgd_multiscale_create). */
const char *cgd_multiscale_noise_law(const cgd_objective *obj);

/* Critical doublewell coefficient 3√3/8 ≈ 0.6495 (Rmk 12 of Kong & Tao 2020): with
 * f0 = k(x²−1)² and f1 = ε sin(x/ε), ∇f1 ranges over [−1, 1]; GD with a large learning
 * rate can cross the barrier at 0 only if the macro force |f0'| stays below that range
 * between the well and the barrier. max over [0, 1] of |f0'(x)| = |4kx(x²−1)| is
 * 8k/(3√3), at x = 1/√3, so crossing needs k < 3√3/8. */
double cgd_doublewell_critical_k(void);

/* The same threshold for the f1 of obj (1-D): the micro force ranges over
 * [−G, G] with G = sup|f1'|, so crossing needs 8k/(3√3) < G, k < G·3√3/8. G is exact for
 * sin, negcos (1) and quasi (1 + √2), and the largest |ζ| of 10⁶ draws otherwise. */
int cgd_doublewell_critical_k_for(const cgd_objective *obj, double *kc, cgd_error *err);

#endif
