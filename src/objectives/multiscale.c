/* Multiscale objectives f0 + f1,ε: built-in parts as plain loops over blocks of points,
 * with the sines and cosines of x/ε from the deterministic kernel of chaosgd/vmath.h, and
 * expression parts through chaosgd/expr.h. See multiscale.h for the noise laws and the
 * reproducibility contract. */
#include "chaosgd/multiscale.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/expr.h"
#include "chaosgd/rng.h"

#include "simd.h"
#include "vmath_kernel.h"

_Static_assert((int)CGD_TRIG_SCALAR == (int)CGD_SIMD_SCALAR &&
                   (int)CGD_TRIG_AVX2 == (int)CGD_SIMD_AVX2 &&
                   (int)CGD_TRIG_AVX512 == (int)CGD_SIMD_AVX512,
               "trig_isa values are the SIMD levels");

/* Points per block: the staging arrays of a block stay in L1. Multiple of 8. */
#define BLK 256

static const double TWO_PI = 6.283185307179586;     /* 2π rounded */
static const double SQRT3 = 1.7320508075688772;     /* sqrt(3.0), as "sqrt(3)" folds */
static const double MADEUP_PERIOD = 10.0 * M_PI / 1.7320508075688772; /* 10π/√3 */

/* ------------------------------------------------------ sincos kernels */

/* The sines and cosines come from the deterministic kernel of chaosgd/vmath.h
 * (vmath_kernel.h, fused here into the objective's own loops): the same bits at every
 * vector width, so the scalar kernel finishes a partial last vector and the result of a
 * point never depends on the batch it came in. Each kernel returns the index of the first
 * argument beyond CGD_VMATH_MAX_ARG (its outputs are NaN), or m. */

/* Index of the first |t[j]/d| (or |t[j]·inv|) beyond the kernel's range: only called once
 * a vector flagged one, to name it in the error. */
static size_t first_beyond(size_t m, const double *t, double d, double inv) {
  for (size_t j = 0; j < m; j++)
    if (fabs(d != 0 ? t[j] / d : t[j] * inv) > CGD_VMATH_MAX_ARG) return j;
  return m;
}

/* s[j] = sin(t[j]/d), c[j] = cos(t[j]/d) for j < m. The quotient is formed exactly as an
 * expression "x/eps" would form it. */
typedef size_t (*trig_fn)(size_t m, const double *t, double d, double *s, double *c);

static size_t trig_scalar(size_t m, const double *t, double d, double *s, double *c) {
  size_t first = m;
  for (size_t j = 0; j < m; j++)
    if (cgd_vm_sincos1(t[j] / d, s + j, c + j) && first == m) first = j;
  return first;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static size_t trig_avx2(size_t m, const double *t,
                                                            double d, double *s, double *c) {
  const __m256d vd = _mm256_set1_pd(d);
  __m256d bad = _mm256_setzero_pd();
  size_t j = 0;
  for (; j + 4 <= m; j += 4) {
    __m256d vs, vc;
    cgd_vm_sincos4(_mm256_div_pd(_mm256_loadu_pd(t + j), vd), &vs, &vc, &bad);
    _mm256_storeu_pd(s + j, vs);
    _mm256_storeu_pd(c + j, vc);
  }
  const size_t tail = trig_scalar(m - j, t + j, d, s + j, c + j);
  if (_mm256_movemask_pd(bad)) return first_beyond(m, t, d, 0);
  return tail < m - j ? j + tail : m;
}

__attribute__((target("avx512f"))) static size_t trig_avx512(size_t m, const double *t,
                                                             double d, double *s, double *c) {
  const __m512d vd = _mm512_set1_pd(d);
  __mmask8 bad = 0;
  size_t j = 0;
  for (; j + 8 <= m; j += 8) {
    __m512d vs, vc;
    cgd_vm_sincos8(_mm512_div_pd(_mm512_loadu_pd(t + j), vd), &vs, &vc, &bad);
    _mm512_storeu_pd(s + j, vs);
    _mm512_storeu_pd(c + j, vc);
  }
  const size_t tail = trig_scalar(m - j, t + j, d, s + j, c + j);
  if (bad) return first_beyond(m, t, d, 0);
  return tail < m - j ? j + tail : m;
}
#endif

/* ε sin(x/ε) and −ε cos(x/ε) are the hot path (every GD step of the 1-D experiments), so
 * they get a fused kernel: one pass that forms x/ε, its sine and/or cosine, and adds
 * (x/ε is formed as x·(1/ε): a vector divide cost ~0.5 ns per point, a third of the whole
 * step, while the extra rounding moves the phase by at most ~1 ulp of x/ε, e.g. 2e-9 rad
 * at x/ε = 1e7, far below anything the ε-scale dynamics resolves; every request (f, g, h)
 * and every ISA goes through the same product, so bit-identity across them is kept) —
 *   f += af·F,  g += G,  h += H/dh   with F, G, H each the sine (1) or the cosine (0)
 * straight into the outputs instead of staging s and c in memory. A gradient-only request
 * (every unobserved step) evaluates only the one function it needs. */
typedef struct per_coef {
  double af, dh;
  int sf, sg, sh;
  /* requests without h: 0 adds into f and g; 1 (quadratic f0) and 2 (quartic f0) write
   * g = f0'(x) + G and f = f0(x) + af·F in the same pass, f0 and f0' formed as f0_block
   * forms them, so the bits are those of f0_block followed by the adds */
  int g0;
} per_coef;

typedef size_t (*per_fn)(size_t m, const double *x, double eps, const per_coef *k, double *f,
                         double *g, double *h);

static size_t per_scalar(size_t m, const double *x, double eps, const per_coef *k, double *f,
                         double *g, double *h) {
  const double inv = 1.0 / eps;
  size_t first = m;
  for (size_t j = 0; j < m; j++) {
    double sv = 0, cv = 0;
    const int both = f || h;
    const int bad = cgd_vm_sincos1(x[j] * inv, both || k->sg ? &sv : NULL,
                                   both || !k->sg ? &cv : NULL);
    if (bad && first == m) first = j;
    if (f) {
      const double f0 = k->g0 == 0 ? f[j] : k->g0 == 1 ? 0.5 * x[j] * x[j]
                                                     : 0.25 * ((x[j] * x[j]) * (x[j] * x[j]));
      f[j] = f0 + k->af * (k->sf ? sv : cv);
    }
    if (g) {
      const double g0 = k->g0 == 0 ? g[j] : k->g0 == 1 ? x[j] : (x[j] * x[j]) * x[j];
      g[j] = g0 + (k->sg ? sv : cv);
    }
    if (h) h[j] += (k->sh ? sv : cv) / k->dh;
  }
  return first;
}

#if defined(__x86_64__)
/* One loop per (function, base) pair, so no test is left inside the loop. */
#define PER_LOOP(VT, W, LOADU, STOREU, ADD, MUL, BASE, FN)                                    \
  for (; j + W <= m; j += W) {                                                              \
    const VT xv = LOADU(x + j);                                                             \
    STOREU(g + j, ADD(BASE, FN(MUL(xv, vinv), &bad)));                                      \
  }
#define PER_G(VT, W, LOADU, STOREU, ADD, MUL, SIN, COS)                                       \
  if (k->sg) {                                                                              \
    if (k->g0 == 0) PER_LOOP(VT, W, LOADU, STOREU, ADD, MUL, LOADU(g + j), SIN)             \
    else if (k->g0 == 1) PER_LOOP(VT, W, LOADU, STOREU, ADD, MUL, xv, SIN)                  \
    else PER_LOOP(VT, W, LOADU, STOREU, ADD, MUL, MUL(MUL(xv, xv), xv), SIN)                \
  } else {                                                                                  \
    if (k->g0 == 0) PER_LOOP(VT, W, LOADU, STOREU, ADD, MUL, LOADU(g + j), COS)             \
    else if (k->g0 == 1) PER_LOOP(VT, W, LOADU, STOREU, ADD, MUL, xv, COS)                  \
    else PER_LOOP(VT, W, LOADU, STOREU, ADD, MUL, MUL(MUL(xv, xv), xv), COS)                \
  }
/* The same body at two vector widths; separate multiplies and adds (this file is compiled
 * with -ffp-contract=off) keep both widths and the scalar tail bit-identical. */
#define PER_BODY(VT, W, MASKT, LOADU, STOREU, SET1, DIV, MUL, ADD, SIN, COS, SINCOS, ANY)    \
  const VT vinv = SET1(1.0 / eps), vaf = SET1(k->af), vdh = SET1(k->dh);                    \
  MASKT bad = {0};                                                                          \
  size_t j = 0;                                                                             \
  if (!f && !h) { /* gradient only: one function */                                        \
    /* g's base per point: what is in g, x, or x³ (k->g0) */                                \
    PER_G(VT, W, LOADU, STOREU, ADD, MUL, SIN, COS)                                         \
  } else {                                                                                  \
    const VT half = SET1(0.5), quarter = SET1(0.25);                                        \
    for (; j + W <= m; j += W) {                                                            \
      VT sv, cv;                                                                            \
      const VT xv = LOADU(x + j);                                                           \
      SINCOS(MUL(xv, vinv), &sv, &cv, &bad);                                                \
      if (f) {                                                                              \
        const VT f0 = k->g0 == 0   ? LOADU(f + j)                                           \
                      : k->g0 == 1 ? MUL(MUL(half, xv), xv)                                 \
                                   : MUL(quarter, MUL(MUL(xv, xv), MUL(xv, xv)));           \
        STOREU(f + j, ADD(f0, MUL(vaf, k->sf ? sv : cv)));                                  \
      }                                                                                     \
      if (g) {                                                                              \
        const VT g0 = k->g0 == 0 ? LOADU(g + j) : k->g0 == 1 ? xv : MUL(MUL(xv, xv), xv);   \
        STOREU(g + j, ADD(g0, k->sg ? sv : cv));                                            \
      }                                                                                     \
      if (h) STOREU(h + j, ADD(LOADU(h + j), DIV(k->sh ? sv : cv, vdh)));                   \
    }                                                                                       \
  }                                                                                         \
  const size_t tail = per_scalar(m - j, x + j, eps, k, f ? f + j : NULL, g ? g + j : NULL,  \
                                 h ? h + j : NULL);                                         \
  if (ANY(bad)) return first_beyond(m, x, 0, 1.0 / eps);                                    \
  return tail < m - j ? j + tail : m;

#define ANY4(b) _mm256_movemask_pd(b)
#define ANY8(b) (b)
__attribute__((target("avx2,fma"))) static size_t per_avx2(size_t m, const double *x,
                                                           double eps, const per_coef *k,
                                                           double *f, double *g, double *h) {
  PER_BODY(__m256d, 4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd,
           _mm256_div_pd, _mm256_mul_pd, _mm256_add_pd, cgd_vm_sin4, cgd_vm_cos4,
           cgd_vm_sincos4, ANY4)
}

__attribute__((target("avx512f"))) static size_t per_avx512(size_t m, const double *x,
                                                            double eps, const per_coef *k,
                                                            double *f, double *g, double *h) {
  PER_BODY(__m512d, 8, __mmask8, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd,
           _mm512_div_pd, _mm512_mul_pd, _mm512_add_pd, cgd_vm_sin8, cgd_vm_cos8,
           cgd_vm_sincos8, ANY8)
}
#undef PER_BODY
#undef PER_G
#undef PER_LOOP
#undef ANY4
#undef ANY8
#endif

static per_fn per_for(int isa) {
#if defined(__x86_64__)
  if (isa == CGD_TRIG_AVX512) return per_avx512;
  if (isa == CGD_TRIG_AVX2) return per_avx2;
#endif
  return per_scalar;
}

static trig_fn trig_for(int isa) {
#if defined(__x86_64__)
  if (isa == CGD_TRIG_AVX512) return trig_avx512;
  if (isa == CGD_TRIG_AVX2) return trig_avx2;
#endif
  return trig_scalar;
}

/* ------------------------------------------------------------- context */

typedef enum { F0_EXPR, F0_QUADRATIC, F0_QUARTIC, F0_TILTED, F0_DOUBLEWELL, F0_MATYAS } f0_kind;
typedef enum { F1_EXPR, F1_NONE, F1_SIN, F1_NEGCOS, F1_QUASI, F1_MADEUP, F1_SINCOS2D } f1_kind;

static const struct { const char *name; int kind, dim; } F0_BUILTINS[] = {
  {"quadratic", F0_QUADRATIC, 1}, {"quartic", F0_QUARTIC, 1}, {"tilted", F0_TILTED, 1},
  {"doublewell", F0_DOUBLEWELL, 1}, {"matyas", F0_MATYAS, 2}};
static const struct { const char *name; int kind, dim; } F1_BUILTINS[] = {
  {"none", F1_NONE, 0}, {"sin", F1_SIN, 1}, {"negcos", F1_NEGCOS, 1}, {"quasi", F1_QUASI, 1},
  {"madeup", F1_MADEUP, 1}, {"sincos2d", F1_SINCOS2D, 2}};

typedef struct ms_ctx {
  size_t dim;
  f0_kind k0;
  f1_kind k1;
  double eps, k;
  cgd_expr *e0, *e1;
  trig_fn trig;
  per_fn per;    /* fused kernel for sin / negcos */
  per_coef pk;
  char law[512];
} ms_ctx;

/* ------------------------------------------------------------- f0 parts */

/* An expression part (which: "f0" or "f1") over m points. Its CGD_EDOMAIN, a sin/cos
 * argument beyond the kernel's 2^40, follows the built-ins' policy (beyond_range below):
 * at a state that has run away (beyond CGD_MS_RUNAWAY) it is divergence, CGD_EDIVERGED. */
static int expr_part(const ms_ctx *c, const char *which, const cgd_expr *e, size_t m,
                     const double *x, double *f, double *g, double *h, cgd_error *err) {
  cgd_error e2;
  const int rc = cgd_expr_eval(e, m, x, f, g, h, &e2);
  if (rc == CGD_OK) return CGD_OK;
  if (rc != CGD_EDOMAIN) return cgd_fail(err, rc, "%s: %s", which, e2.msg);
  /* the point the message names, the lowest-numbered one: the first refused on its own */
  const size_t d = c->dim;
  size_t j = 0;
  double v;
  while (j + 1 < m && cgd_expr_eval(e, 1, x + j * d, &v, NULL, NULL, NULL) == CGD_OK) j++;
  const double *pt = x + j * d;
  const double ax = d == 2 ? fmax(fabs(pt[0]), fabs(pt[1])) : fabs(pt[0]);
  if (!(ax <= CGD_MS_RUNAWAY))
    return cgd_fail(err, CGD_EDIVERGED, "%s: %s: the state ran away (|state| > 2^20)", which,
                    e2.msg);
  return cgd_fail(err, CGD_EDOMAIN, "%s: %s", which, e2.msg);
}

/* Overwrites f[m], g[m*dim], h[m*dim*dim] (each may be NULL). Cloned per ISA so the
 * loops run at the full vector width next to the sin/cos kernels; element-wise loops give the
 * same bits at every width. */
__attribute__((target_clones("avx512f", "avx2", "default")))
static int f0_block(const ms_ctx *c, size_t m, const double *restrict x, double *restrict f,
                    double *restrict g, double *restrict h, cgd_error *err) {
  switch (c->k0) {
  case F0_QUADRATIC:
    if (f) for (size_t j = 0; j < m; j++) f[j] = 0.5 * x[j] * x[j];
    if (g) for (size_t j = 0; j < m; j++) g[j] = x[j];
    if (h) for (size_t j = 0; j < m; j++) h[j] = 1.0;
    break;
  case F0_QUARTIC:
    if (f) for (size_t j = 0; j < m; j++) f[j] = 0.25 * ((x[j] * x[j]) * (x[j] * x[j]));
    if (g) for (size_t j = 0; j < m; j++) g[j] = (x[j] * x[j]) * x[j];
    if (h) for (size_t j = 0; j < m; j++) h[j] = 3.0 * (x[j] * x[j]);
    break;
  case F0_TILTED:
    if (f)
      for (size_t j = 0; j < m; j++) {
        const double w = x[j] * x[j] - 1.0;
        f[j] = 0.25 * (w * w) + 0.125 * x[j];
      }
    if (g) for (size_t j = 0; j < m; j++) g[j] = x[j] * (x[j] * x[j] - 1.0) + 0.125;
    if (h) for (size_t j = 0; j < m; j++) h[j] = 3.0 * (x[j] * x[j]) - 1.0;
    break;
  case F0_DOUBLEWELL: {
    const double k = c->k, k4 = 4.0 * c->k;
    if (f)
      for (size_t j = 0; j < m; j++) {
        const double w = x[j] * x[j] - 1.0;
        f[j] = k * (w * w);
      }
    if (g) for (size_t j = 0; j < m; j++) g[j] = k4 * (x[j] * (x[j] * x[j] - 1.0));
    if (h) for (size_t j = 0; j < m; j++) h[j] = k4 * (3.0 * (x[j] * x[j]) - 1.0);
    break;
  }
  case F0_MATYAS:
    if (f)
      for (size_t j = 0; j < m; j++) {
        const double a = x[2 * j], b = x[2 * j + 1];
        f[j] = 0.26 * (a * a + b * b) + 0.48 * (a * b);
      }
    if (g)
      for (size_t j = 0; j < m; j++) {
        const double a = x[2 * j], b = x[2 * j + 1];
        g[2 * j] = 0.52 * a + 0.48 * b;
        g[2 * j + 1] = 0.52 * b + 0.48 * a;
      }
    if (h)
      for (size_t j = 0; j < m; j++) {
        h[4 * j] = 0.52;
        h[4 * j + 1] = 0.48;
        h[4 * j + 2] = 0.48;
        h[4 * j + 3] = 0.52;
      }
    break;
  case F0_EXPR:
    return expr_part(c, "f0", c->e0, m, x, f, g, h, err);
  }
  return CGD_OK;
}

/* ------------------------------------------------------------- f1 parts */

/* The error for a phase beyond the deterministic kernel's range (its outputs are NaN,
 * never silently wrong values). Two causes, two statuses: a state beyond CGD_MS_RUNAWAY
 * has run away (GD diverging on the macro scale), which is CGD_EDIVERGED as for any other
 * exploding state; nearer states mean ε is too small for the kernel, CGD_EDOMAIN. */
static int beyond_range(cgd_error *err, const char *phase, double arg, const double *x,
                        size_t dim, double eps) {
  const double ax = dim == 2 ? fmax(fabs(x[0]), fabs(x[1])) : fabs(x[0]);
  const int away = !(ax <= CGD_MS_RUNAWAY);
  const int code = away ? CGD_EDIVERGED : CGD_EDOMAIN;
  const char *why = away ? "the state ran away (|state| > 2^20)"
                         : "eps is too small for this state";
  if (dim == 2)
    return cgd_fail(err, code,
                    "f1: the phase %s = %g at (x, y) = (%.17g, %.17g) is beyond +-2^40 = "
                    "+-%.6g, the range of the deterministic sin/cos (chaosgd/vmath.h; eps = "
                    "%g): %s", phase, arg, x[0], x[1], CGD_VMATH_MAX_ARG, eps, why);
  return cgd_fail(err, code,
                  "f1: the phase %s = %g at x = %.17g is beyond +-2^40 = +-%.6g, the range of "
                  "the deterministic sin/cos (chaosgd/vmath.h; eps = %g): %s", phase, arg, x[0],
                  CGD_VMATH_MAX_ARG, eps, why);
}

/* Adds f1 of m <= BLK points to f, g, h (each may be NULL); CGD_EDOMAIN (with err filled)
 * if a phase is beyond CGD_VMATH_MAX_ARG. g0 (from fused_g0) nonzero: f and g are not
 * read but written as f0 + f1 and f0' + f1', f0 and f0' formed in the sin/cos pass. */
static int f1_block_acc(const ms_ctx *c, size_t m, const double *restrict x,
                        double *restrict f, double *restrict g, double *restrict h, int g0,
                        cgd_error *err) {
  const double eps = c->eps;
  double s[2 * BLK], co[2 * BLK];
  size_t bad;
  if (m == 0) return CGD_OK;
  switch (c->k1) {
  case F1_NONE:
    break;
  case F1_SIN: /* f += ε sin, g += cos, h += sin/(−ε) */
  case F1_NEGCOS: { /* f += −ε cos, g += sin, h += cos/ε */
    per_coef pk = c->pk;
    pk.g0 = g0;
    if ((bad = c->per(m, x, eps, &pk, f, g, h)) < m)
      return beyond_range(err, "x/eps", x[bad] * (1.0 / eps), x + bad, 1, eps);
    break;
  }
  case F1_QUASI: {
    /* Second frequency: (√2·x)/ε, rounded as the expression sqrt(2)*x/eps rounds it. */
    double t2[BLK];
    for (size_t j = 0; j < m; j++) t2[j] = M_SQRT2 * x[j];
    if ((bad = c->trig(m, x, eps, s, co)) < m)
      return beyond_range(err, "x/eps", x[bad] / eps, x + bad, 1, eps);
    if ((bad = c->trig(m, t2, eps, s + BLK, co + BLK)) < m)
      return beyond_range(err, "sqrt(2)*x/eps", t2[bad] / eps, x + bad, 1, eps);
    const double *s2 = s + BLK, *c2 = co + BLK;
    if (f) for (size_t j = 0; j < m; j++) f[j] += eps * (s[j] + s2[j]);
    if (g) for (size_t j = 0; j < m; j++) g[j] += co[j] + M_SQRT2 * c2[j];
    if (h) for (size_t j = 0; j < m; j++) h[j] += -(s[j] + 2.0 * s2[j]) / eps;
    break;
  }
  case F1_MADEUP: {
    /* f1 = ε cos A, A = 1 + cos(B)/ε, B = √3x/5, κ = √3/5:
     * f1' = κ sin A sin B, f1'' = κ² (sin A cos B − cos A sin²B / ε). */
    const double kap = SQRT3 / 5.0, kap2 = kap * kap;
    double t[BLK], *sb = s, *cb = co, *sa = s + BLK, *ca = co + BLK;
    for (size_t j = 0; j < m; j++) t[j] = SQRT3 * x[j];
    if ((bad = c->trig(m, t, 5.0, sb, cb)) < m)
      return beyond_range(err, "sqrt(3)*x/5", t[bad] / 5.0, x + bad, 1, eps);
    for (size_t j = 0; j < m; j++) t[j] = cb[j] / eps + 1.0;
    if ((bad = c->trig(m, t, 1.0, sa, ca)) < m)
      return beyond_range(err, "1 + cos(sqrt(3)*x/5)/eps", t[bad], x + bad, 1, eps);
    if (f) for (size_t j = 0; j < m; j++) f[j] += eps * ca[j];
    if (g) for (size_t j = 0; j < m; j++) g[j] += kap * (sa[j] * sb[j]);
    if (h)
      for (size_t j = 0; j < m; j++)
        h[j] += kap2 * (sa[j] * cb[j] - ca[j] * (sb[j] * sb[j]) / eps);
    break;
  }
  case F1_SINCOS2D:
    /* x and y interleaved: one kernel call over 2m arguments. */
    if ((bad = c->trig(2 * m, x, eps, s, co)) < 2 * m)
      return beyond_range(err, bad % 2 ? "y/eps" : "x/eps", x[bad] / eps, x + bad / 2 * 2, 2,
                          eps);
    if (f) for (size_t j = 0; j < m; j++) f[j] += eps * s[2 * j] + eps * co[2 * j + 1];
    if (g)
      for (size_t j = 0; j < m; j++) {
        g[2 * j] += co[2 * j];
        g[2 * j + 1] += -s[2 * j + 1];
      }
    if (h)
      for (size_t j = 0; j < m; j++) {
        h[4 * j] += -s[2 * j] / eps;
        h[4 * j + 3] += -co[2 * j + 1] / eps;
      }
    break;
  case F1_EXPR: {
    const size_t d = c->dim;
    double tf[BLK], tg[2 * BLK], th[4 * BLK];
    const int rc = expr_part(c, "f1", c->e1, m, x, f ? tf : NULL, g ? tg : NULL,
                             h ? th : NULL, err);
    if (rc) return rc;
    if (f) for (size_t j = 0; j < m; j++) f[j] += tf[j];
    if (g) for (size_t j = 0; j < m * d; j++) g[j] += tg[j];
    if (h) for (size_t j = 0; j < m * d * d; j++) h[j] += th[j];
    break;
  }
  }
  return CGD_OK;
}

/* ---------------------------------------------------------- evaluation */

/* The hot paths, a gradient (every step) or value and gradient (a logged step) of the
 * quadratic or quartic + sin or −cos: f0' and f0 are formed inside the sin/cos pass
 * (per_coef.g0: 1 quadratic, 2 quartic) instead of by a pass of their own that the
 * sin/cos pass then reads back; 0 otherwise. */
static int fused_g0(const ms_ctx *c, const double *f, const double *g, const double *h) {
  (void)f;
  if (h || !g || (c->k1 != F1_SIN && c->k1 != F1_NEGCOS)) return 0;
  return c->k0 == F0_QUADRATIC ? 1 : c->k0 == F0_QUARTIC ? 2 : 0;
}

static int ms_eval(void *ctx, size_t n, const double *x, double *f, double *g, double *h,
                   cgd_error *err) {
  const ms_ctx *c = ctx;
  const size_t d = c->dim;
  if (n && !x) return cgd_fail(err, CGD_EUSAGE, "multiscale eval: x is NULL");
  for (size_t i0 = 0; i0 < n; i0 += BLK) {
    const size_t m = n - i0 < BLK ? n - i0 : BLK;
    double *fb = f ? f + i0 : NULL, *gb = g ? g + i0 * d : NULL, *hb = h ? h + i0 * d * d : NULL;
    const int g0 = fused_g0(c, fb, gb, hb);
    int rc = g0 ? CGD_OK : f0_block(c, m, x + i0 * d, fb, gb, hb, err);
    if (!rc) rc = f1_block_acc(c, m, x + i0 * d, fb, gb, hb, g0, err);
    if (rc) return rc;
  }
  return CGD_OK;
}

static int ms_eval_f0(void *ctx, size_t n, const double *x, double *f, double *g, double *h,
                      cgd_error *err) {
  const ms_ctx *c = ctx;
  if (n && !x) return cgd_fail(err, CGD_EUSAGE, "multiscale eval_f0: x is NULL");
  return f0_block(c, n, x, f, g, h, err);
}

static int ms_eval_f1(void *ctx, size_t n, const double *x, double *f, double *g, double *h,
                      cgd_error *err) {
  const ms_ctx *c = ctx;
  const size_t d = c->dim;
  if (n && !x) return cgd_fail(err, CGD_EUSAGE, "multiscale eval_f1: x is NULL");
  if (f) memset(f, 0, n * sizeof *f);
  if (g) memset(g, 0, n * d * sizeof *g);
  if (h) memset(h, 0, n * d * d * sizeof *h);
  for (size_t i0 = 0; i0 < n; i0 += BLK) {
    const size_t m = n - i0 < BLK ? n - i0 : BLK;
    const int rc = f1_block_acc(c, m, x + i0 * d, f ? f + i0 : NULL, g ? g + i0 * d : NULL,
                                h ? h + i0 * d * d : NULL, 0, err);
    if (rc) return rc;
  }
  return CGD_OK;
}

/* Second phase of quasi: a stream no library use can reach (they are small integers). */
#define STREAM_NOISE_2 ((uint64_t)CGD_STREAM_NOISE + (UINT64_C(1) << 32))

static int ms_noise(void *ctx, size_t n, uint64_t seed, uint64_t index0, double *out) {
  const ms_ctx *c = ctx;
  const size_t d = c->dim;
  if (n && !out) return CGD_EUSAGE;
  double u[2 * BLK], s[2 * BLK], co[2 * BLK];
  for (size_t i0 = 0; i0 < n; i0 += BLK) {
    const size_t m = n - i0 < BLK ? n - i0 : BLK, md = m * d;
    double *o = out + i0 * d;
    const uint64_t k0 = (index0 + i0) * d; /* key of out[i0*d + 0] */
    switch (c->k1) {
    case F1_NONE:
      memset(o, 0, md * sizeof *o);
      break;
    case F1_SIN:
    case F1_NEGCOS:
    case F1_SINCOS2D:
      /* phases in [0, 2π): always inside the kernel's range */
      cgd_rng_uniform_fill(seed, CGD_STREAM_NOISE, k0, md, TWO_PI, u);
      c->trig(md, u, 1.0, s, co);
      if (c->k1 == F1_SIN)
        for (size_t q = 0; q < md; q++) o[q] = -co[q];
      else if (c->k1 == F1_NEGCOS)
        for (size_t q = 0; q < md; q++) o[q] = -s[q];
      else
        for (size_t j = 0; j < m; j++) {
          o[2 * j] = -co[2 * j];
          o[2 * j + 1] = s[2 * j + 1];
        }
      break;
    case F1_QUASI:
      cgd_rng_uniform_fill(seed, CGD_STREAM_NOISE, k0, m, TWO_PI, u);
      cgd_rng_uniform_fill(seed, STREAM_NOISE_2, k0, m, TWO_PI, u + BLK);
      c->trig(m, u, 1.0, s, co);
      c->trig(m, u + BLK, 1.0, s + BLK, co + BLK);
      for (size_t q = 0; q < m; q++) o[q] = -(co[q] + M_SQRT2 * co[BLK + q]);
      break;
    case F1_MADEUP:
    case F1_EXPR: {
      if (c->k1 == F1_MADEUP)
        cgd_rng_uniform_fill(seed, CGD_STREAM_NOISE, k0, md, MADEUP_PERIOD, u);
      else {
        const double L = 2000.0 * M_PI * c->eps;
        for (size_t q = 0; q < md; q++)
          u[q] = L * (cgd_rng_uniform(seed, CGD_STREAM_NOISE, k0 + q) - 0.5);
      }
      memset(s, 0, md * sizeof *s);
      /* madeup's inner phase 1 + cos(B)/ε can leave the kernel's range (ε < 1e-12); the
       * noise hook has no message, so the status alone reports it */
      cgd_error e2;
      const int rc = f1_block_acc(c, m, u, NULL, s, NULL, 0, &e2);
      if (rc) return rc;
      for (size_t q = 0; q < md; q++) o[q] = -s[q];
      break;
    }
    }
  }
  return CGD_OK;
}

static void ms_free(void *ctx) {
  ms_ctx *c = ctx;
  if (!c) return;
  cgd_expr_free(c->e0);
  cgd_expr_free(c->e1);
  free(c);
}

/* ------------------------------------------------------------ creation */

static const char *const PARAM_FIXED[] = {"eps", "k"};

/* Parse an expression part over nvars with parameters eps, k and the user's. */
static int parse_part(const cgd_ms_spec *spec, const char *which, const char *src, int nvars,
                      cgd_expr **out, cgd_error *err) {
  const size_t np = 2 + spec->nparams;
  const char **names = malloc(np * sizeof *names);
  double *vals = malloc(np * sizeof *vals);
  if (!names || !vals) {
    free(names);
    free(vals);
    return cgd_fail(err, CGD_ENOMEM, "out of memory");
  }
  names[0] = PARAM_FIXED[0];
  names[1] = PARAM_FIXED[1];
  vals[0] = spec->eps;
  vals[1] = spec->k;
  for (size_t i = 0; i < spec->nparams; i++) {
    names[2 + i] = spec->param_names[i];
    vals[2 + i] = spec->param_values[i];
  }
  cgd_error e2;
  int rc = cgd_expr_parse(src, nvars, names, vals, np, out, &e2);
  free(names);
  free(vals);
  if (rc == CGD_EDOMAIN) /* it parsed: a constant sin/cos argument beyond 2^40 */
    return cgd_fail(err, rc, "%s: %s", which, e2.msg);
  if (rc) {
    const char *list = !strcmp(which, "f0") ? "quadratic quartic tilted doublewell matyas"
                                            : "sin negcos quasi madeup sincos2d none";
    return cgd_fail(err, rc, "%s '%.200s' is neither a built-in (%s) nor a valid expression: %s",
                    which, src, list, e2.msg);
  }
  return CGD_OK;
}

static void part_label(char *buf, size_t len, const char *src, int builtin, int is_dw, double k) {
  if (is_dw)
    snprintf(buf, len, "doublewell(k=%g)", k);
  else if (builtin)
    snprintf(buf, len, "%s", src);
  else
    snprintf(buf, len, "(%.40s%s)", src, strlen(src) > 40 ? "..." : "");
}

static void describe_law(ms_ctx *c) {
  static const char *const KEY =
      "U_a = cgd_rng_uniform(seed, CGD_STREAM_NOISE, (index0+i)*dim+a)";
  switch (c->k1) {
  case F1_NONE: snprintf(c->law, sizeof c->law, "none: zeta = 0"); break;
  case F1_SIN:
    snprintf(c->law, sizeof c->law,
             "sin: zeta = -cos(theta), theta = 2*pi*U (u/eps uniform over one period); %s", KEY);
    break;
  case F1_NEGCOS:
    snprintf(c->law, sizeof c->law,
             "negcos: zeta = -sin(theta), theta = 2*pi*U (u/eps uniform over one period); %s",
             KEY);
    break;
  case F1_QUASI:
    snprintf(c->law, sizeof c->law,
             "quasi: zeta = -(cos(theta1) + sqrt(2)*cos(theta2)), independent theta = 2*pi*U "
             "with U from streams CGD_STREAM_NOISE and CGD_STREAM_NOISE+2^32; %s", KEY);
    break;
  case F1_MADEUP:
    snprintf(c->law, sizeof c->law,
             "madeup: zeta = -f1'(u), u = (10*pi/sqrt(3))*U uniform over one period of "
             "cos(sqrt(3)x/5); %s", KEY);
    break;
  case F1_SINCOS2D:
    snprintf(c->law, sizeof c->law,
             "sincos2d: zeta = (-cos(theta_x), sin(theta_y)), theta_a = 2*pi*U_a independent; %s",
             KEY);
    break;
  case F1_EXPR:
    snprintf(c->law, sizeof c->law,
             "expression: zeta = -grad f1(u), u_a = L*(U_a - 1/2) uniform on [-L/2, L/2), "
             "L = 2000*pi*eps = %.6g (1000 periods of scale eps); %s", 2000.0 * M_PI * c->eps,
             KEY);
    break;
  }
}

int cgd_multiscale_create(const cgd_ms_spec *spec, cgd_objective **out, cgd_error *err) {
  if (!out) return cgd_fail(err, CGD_EUSAGE, "cgd_multiscale_create: out is NULL");
  *out = NULL;
  if (!spec || !spec->f0 || !spec->f1)
    return cgd_fail(err, CGD_EUSAGE, "multiscale objective needs f0 and f1");
  if (!(spec->eps > 0) || !isfinite(spec->eps))
    return cgd_fail(err, CGD_EUSAGE, "eps must be finite and > 0 (got %g)", spec->eps);
  if (spec->trig_isa < CGD_TRIG_AUTO || spec->trig_isa > CGD_TRIG_AVX512)
    return cgd_fail(err, CGD_EUSAGE, "trig_isa %d is not a CGD_TRIG_* value", spec->trig_isa);
  if (spec->nparams && (!spec->param_names || !spec->param_values))
    return cgd_fail(err, CGD_EUSAGE, "%zu parameters without names or values", spec->nparams);
  for (size_t i = 0; i < spec->nparams; i++)
    for (size_t r = 0; r < 2; r++)
      if (spec->param_names[i] && !strcmp(spec->param_names[i], PARAM_FIXED[r]))
        return cgd_fail(err, CGD_EUSAGE,
                        "parameter '%s' is reserved: it is set by the objective's own %s option",
                        PARAM_FIXED[r], PARAM_FIXED[r]);

  int k0 = F0_EXPR, k1 = F1_EXPR, d0 = 0, d1 = 0;
  for (size_t i = 0; i < sizeof F0_BUILTINS / sizeof F0_BUILTINS[0]; i++)
    if (!strcmp(spec->f0, F0_BUILTINS[i].name)) {
      k0 = F0_BUILTINS[i].kind;
      d0 = F0_BUILTINS[i].dim;
    }
  for (size_t i = 0; i < sizeof F1_BUILTINS / sizeof F1_BUILTINS[0]; i++)
    if (!strcmp(spec->f1, F1_BUILTINS[i].name)) {
      k1 = F1_BUILTINS[i].kind;
      d1 = F1_BUILTINS[i].dim;
    }
  if (k0 == F0_DOUBLEWELL && !(spec->k > 0 && isfinite(spec->k)))
    return cgd_fail(err, CGD_EUSAGE, "doublewell needs a finite k > 0 (got %g)", spec->k);

  ms_ctx *c = calloc(1, sizeof *c);
  cgd_objective *obj = calloc(1, sizeof *obj);
  if (!c || !obj) {
    free(c);
    free(obj);
    return cgd_fail(err, CGD_ENOMEM, "out of memory");
  }
  c->k0 = (f0_kind)k0;
  c->k1 = (f1_kind)k1;
  c->eps = spec->eps;
  c->k = spec->k;
  int rc;
  /* Expressions are first read as 2-D to learn whether they use y; the dimension is then
   * fixed and they are read again over exactly that many variables. */
  if (k0 == F0_EXPR) {
    if ((rc = parse_part(spec, "f0", spec->f0, 2, &c->e0, err))) goto fail;
    d0 = cgd_expr_uses_y(c->e0) ? 2 : 0;
  }
  if (k1 == F1_EXPR) {
    if ((rc = parse_part(spec, "f1", spec->f1, 2, &c->e1, err))) goto fail;
    d1 = cgd_expr_uses_y(c->e1) ? 2 : 0;
  }
  const int dim = d0 > d1 ? d0 : d1 ? d1 : 1;
  c->dim = dim ? (size_t)dim : 1;
  if (c->dim == 2 && (d0 == 1 || d1 == 1)) {
    const int f0_1d = d0 == 1; /* the 1-D built-in; the other part is the 2-D one */
    rc = cgd_fail(err, CGD_EUSAGE,
                  "%s '%.100s' is 2-D but %s '%.100s' is a 1-D built-in (use an expression "
                  "in x for a 1-D part of a 2-D objective)",
                  f0_1d ? "f1" : "f0", f0_1d ? spec->f1 : spec->f0, f0_1d ? "f0" : "f1",
                  f0_1d ? spec->f0 : spec->f1);
    goto fail;
  }
  if (c->dim == 1) {
    cgd_expr_free(c->e0);
    cgd_expr_free(c->e1);
    c->e0 = c->e1 = NULL;
    if (k0 == F0_EXPR && (rc = parse_part(spec, "f0", spec->f0, 1, &c->e0, err))) goto fail;
    if (k1 == F1_EXPR && (rc = parse_part(spec, "f1", spec->f1, 1, &c->e1, err))) goto fail;
  }

  const int best = cgd_simd_level();
  const int isa = spec->trig_isa == CGD_TRIG_AUTO || spec->trig_isa > best ? best
                                                                          : spec->trig_isa;
  c->trig = trig_for(isa);
  c->per = per_for(isa);
  if (k1 == F1_SIN)
    c->pk = (per_coef){.af = spec->eps, .dh = -spec->eps, .sf = 1, .sg = 0, .sh = 1};
  else
    c->pk = (per_coef){.af = -spec->eps, .dh = spec->eps, .sf = 0, .sg = 1, .sh = 0};
  describe_law(c);

  char l0[64], l1[64];
  part_label(l0, sizeof l0, spec->f0, k0 != F0_EXPR, k0 == F0_DOUBLEWELL, spec->k);
  part_label(l1, sizeof l1, spec->f1, k1 != F1_EXPR, 0, 0);
  snprintf(obj->name, sizeof obj->name, "%.52s + %.52s (eps=%g)", l0, l1, spec->eps);
  obj->dim = c->dim;
  obj->ctx = c;
  obj->eval = ms_eval;
  obj->hess_ok = 1;
  obj->eval_f0 = ms_eval_f0;
  obj->eval_f1 = ms_eval_f1;
  obj->noise = ms_noise;
  obj->eps = k1 == F1_NONE ? 0.0 : spec->eps;
  obj->n_views = 0;
  obj->free_ctx = ms_free;
  obj->reentrant = 1; /* scratch on the caller's stack; expressions are thread-safe */
  *out = obj;
  return CGD_OK;

fail:
  ms_free(c);
  free(obj);
  return rc;
}

/* ------------------------------------------------------------ noise law */

static const ms_ctx *ms_of(const cgd_objective *obj) {
  return obj && obj->free_ctx == ms_free ? obj->ctx : NULL;
}

const char *cgd_multiscale_noise_law(const cgd_objective *obj) {
  const ms_ctx *c = ms_of(obj);
  return c ? c->law : "";
}

/* Variance of −cos θ (equivalently −sin θ) for θ uniform on [0, 2π), by the trapezoid rule,
 * which is exact for trigonometric polynomials of degree < N. */
static double periodic_var(const ms_ctx *c) {
  enum { N = 64 };
  double th[N], s[N], co[N];
  for (int j = 0; j < N; j++) th[j] = TWO_PI * j / N;
  c->trig(N, th, 1.0, s, co);
  double m = 0, m2 = 0;
  for (int j = 0; j < N; j++) {
    m += co[j];
    m2 += co[j] * co[j];
  }
  m /= N;
  return m2 / N - m * m;
}

int cgd_multiscale_sigma2(const cgd_objective *obj, double *sigma2, cgd_error *err) {
  const ms_ctx *c = ms_of(obj);
  if (!c) return cgd_fail(err, CGD_EUSAGE, "sigma2: not a multiscale objective");
  if (!sigma2) return cgd_fail(err, CGD_EUSAGE, "sigma2: output is NULL");
  const size_t d = c->dim;
  switch (c->k1) {
  case F1_NONE:
    for (size_t a = 0; a < d; a++) sigma2[a] = 0.0;
    return CGD_OK;
  case F1_SIN:
  case F1_NEGCOS:
  case F1_SINCOS2D:
    for (size_t a = 0; a < d; a++) sigma2[a] = periodic_var(c);
    return CGD_OK;
  case F1_QUASI:
    sigma2[0] = 3.0 * periodic_var(c); /* Var cos θ1 + 2 Var cos θ2, independent phases */
    return CGD_OK;
  default:
    break;
  }
  /* Monte Carlo over the sampler itself, shifted by the first draw against cancellation. */
  enum { NDRAW = 1000000, CH = 4096 };
  double *z = malloc(CH * d * sizeof *z);
  if (!z) return cgd_fail(err, CGD_ENOMEM, "sigma2: out of memory");
  double shift[2] = {0, 0}, s1[2] = {0, 0}, s2[2] = {0, 0};
  for (size_t i0 = 0; i0 < NDRAW; i0 += CH) {
    const size_t m = NDRAW - i0 < CH ? NDRAW - i0 : CH;
    ms_noise((void *)c, m, CGD_MS_SIGMA2_SEED, i0, z);
    if (i0 == 0)
      for (size_t a = 0; a < d; a++) shift[a] = z[a];
    for (size_t j = 0; j < m; j++)
      for (size_t a = 0; a < d; a++) {
        const double v = z[j * d + a] - shift[a];
        s1[a] += v;
        s2[a] += v * v;
      }
  }
  free(z);
  for (size_t a = 0; a < d; a++)
    sigma2[a] = (s2[a] - s1[a] * s1[a] / NDRAW) / (NDRAW - 1);
  return CGD_OK;
}

double cgd_doublewell_critical_k(void) {
  /* 3√3/8: the k at which the largest macro force on the inner slope, 8k/(3√3), equals
   * the largest micro force 1. */
  return 3.0 * sqrt(3.0) / 8.0;
}

int cgd_doublewell_critical_k_for(const cgd_objective *obj, double *kc, cgd_error *err) {
  const ms_ctx *c = ms_of(obj);
  if (!c) return cgd_fail(err, CGD_EUSAGE, "critical k: not a multiscale objective");
  if (c->dim != 1) return cgd_fail(err, CGD_EUSAGE, "critical k: f1 must be one-dimensional");
  double G;
  switch (c->k1) {
  case F1_NONE: G = 0.0; break;
  case F1_SIN:
  case F1_NEGCOS: G = 1.0; break;
  case F1_QUASI: G = 1.0 + sqrt(2.0); break; /* cos θ1 + √2 cos θ2 reaches 1 + √2 */
  default: {
    /* largest |ζ| over 10⁶ draws of the phase law: a lower estimate of sup|f1'| */
    enum { N = 4096, R = 245 };
    double z[N];
    G = 0.0;
    for (uint64_t r = 0; r < R; r++) {
      int rc = obj->noise(obj->ctx, N, CGD_MS_SIGMA2_SEED, r * N, z);
      if (rc) return cgd_fail(err, rc, "critical k: noise sampling failed");
      for (size_t i = 0; i < N; i++) G = fmax(G, fabs(z[i]));
    }
  }
  }
  *kc = G * cgd_doublewell_critical_k();
  return CGD_OK;
}
