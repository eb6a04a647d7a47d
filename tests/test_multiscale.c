/* Multiscale objectives: built-ins against their expression forms and against central
 * differences, noise laws and their keying, sigma2, reproducibility, bad specs. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/expr.h"
#include "chaosgd/multiscale.h"
#include "chaosgd/rng.h"

#include "check_main.h"

static cgd_objective *mk(const char *f0, const char *f1, double eps, double k, int isa) {
  cgd_ms_spec sp = {.f0 = f0, .f1 = f1, .eps = eps, .k = k, .trig_isa = isa};
  cgd_objective *o = NULL;
  cgd_error err = {{0}};
  int rc = cgd_multiscale_create(&sp, &o, &err);
  ck_assert_msg(rc == 0, "create %s + %s: %s", f0, f1, err.msg);
  ck_assert_ptr_nonnull(o);
  return o;
}

static int isa_available(int isa) {
  if (isa == CGD_TRIG_SCALAR) return 1;
  __builtin_cpu_init();
  if (isa == CGD_TRIG_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return __builtin_cpu_supports("avx512f");
}

/* n points: 1-D spread over [lo, hi]; 2-D pairs with an unrelated second coordinate. */
static double *points(size_t n, size_t dim, double lo, double hi) {
  double *x = malloc(n * dim * sizeof *x);
  for (size_t i = 0; i < n; i++) {
    x[i * dim] = lo + (hi - lo) * ((double)i + 0.37) / (double)n;
    if (dim == 2) x[i * dim + 1] = lo + (hi - lo) * (0.5 + 0.45 * sin(1.7 * (double)i));
  }
  return x;
}

typedef struct {
  double *f, *g, *h;
} fgh;

static fgh eval_all(const cgd_objective *o, cgd_eval_fn fn, size_t n, const double *x) {
  const size_t d = o->dim;
  fgh r = {malloc(n * sizeof(double)), malloc(n * d * sizeof(double)),
           malloc(n * d * d * sizeof(double))};
  cgd_error err;
  ck_assert_int_eq(fn(o->ctx, n, x, r.f, r.g, r.h, &err), 0);
  return r;
}

static void fgh_free(fgh *r) {
  free(r->f);
  free(r->g);
  free(r->h);
}

/* |a − b| <= tol · scale, element-wise, with a message naming what differed. */
static void cmp(const char *what, const char *part, size_t n, const double *a, const double *b,
                double tol, double scale) {
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(fabs(a[i] - b[i]) <= tol * scale, "%s %s[%zu]: %.17g vs %.17g (tol %g)", what,
                  part, i, a[i], b[i], tol * scale);
}

/* ------------------------------------------------ built-ins vs expressions */

typedef struct {
  const char *name, *expr;
  int dim;
  double eps;
  double fs, gs, hs; /* magnitudes of f, ∇f, ∇²f on the test points (tolerance scale) */
} builtin_case;

/* Built-in vs expression: both form x/ε (the fused sin/negcos kernel as x·(1/ε)), take
 * sin/cos from the same deterministic kernel, and multiply through ε or 1/ε in different
 * orders: a few ulps of the scale of each quantity. 1e-12 of the scale is ample, provided
 * the argument x/ε stays ≲ 1e4: larger arguments still agree (both reduce exactly) but the
 * derivative of ε sin(x/ε) is read through cos(x/ε) whose absolute spacing does not shrink,
 * and the AD chain's extra rounding of 1/ε·ε moves x/ε-sized quantities by ulps. madeup
 * uses ε = 1e-2: its inner phase 1 + cos(B)/ε carries the 1-ulp difference of cos(B)
 * between the libraries multiplied by 1/ε. */
static const builtin_case F0_CASES[] = {
    {"quadratic", "x^2/2", 1, 1e-3, 2, 2, 1},
    {"quartic", "x^4/4", 1, 1e-3, 4, 8, 12},
    {"tilted", "(x^2-1)^2/4 + x/8", 1, 1e-3, 3, 6, 11},
    {"doublewell", "k*(x^2-1)^2", 1, 1e-3, 7, 17, 30},
    {"matyas", "0.26*(x^2+y^2) + 0.48*x*y", 2, 1e-3, 5, 3, 1},
};
static const builtin_case F1_CASES[] = {
    {"sin", "eps*sin(x/eps)", 1, 1e-3, 1e-3, 1, 1e3},
    {"negcos", "-eps*cos(x/eps)", 1, 1e-3, 1e-3, 1, 1e3},
    {"quasi", "eps*(sin(x/eps)+sin(sqrt(2)*x/eps))", 1, 1e-3, 2e-3, 3, 3e3},
    {"madeup", "eps*cos(1+cos(sqrt(3)*x/5)/eps)", 1, 1e-2, 1e-2, 1, 1e1},
    {"sincos2d", "eps*sin(x/eps)+eps*cos(y/eps)", 2, 1e-3, 2e-3, 1, 1e3},
};

static void builtin_vs_expr(const builtin_case *c, int is_f1, int isa) {
  enum { N = 333 }; /* not a multiple of any vector width: partial vectors are exercised */
  const double k = 1.7;
  cgd_objective *b = is_f1 ? mk("0", c->name, c->eps, k, isa) : mk(c->name, "none", c->eps, k, isa);
  cgd_objective *e = is_f1 ? mk("0", c->expr, c->eps, k, isa) : mk(c->expr, "none", c->eps, k, isa);
  ck_assert_int_eq((int)b->dim, c->dim);
  ck_assert_int_eq((int)e->dim, c->dim);
  /* |x| <= 2, so |x/ε| <= 2e3 (and √2·2e3 for quasi). */
  double *x = points(N, (size_t)c->dim, -2.0, 2.0);
  const size_t d = (size_t)c->dim;
  cgd_eval_fn fb = is_f1 ? b->eval_f1 : b->eval_f0, fe = is_f1 ? e->eval_f1 : e->eval_f0;
  fgh rb = eval_all(b, fb, N, x), re = eval_all(e, fe, N, x);
  char what[96];
  snprintf(what, sizeof what, "%s isa %d", c->name, isa);
  cmp(what, "f", N, rb.f, re.f, 1e-12, c->fs);
  cmp(what, "g", N * d, rb.g, re.g, 1e-12, c->gs);
  cmp(what, "h", N * d * d, rb.h, re.h, 1e-12, c->hs);
  /* The whole objective is f0 + f1 as the parts say. */
  fgh rt = eval_all(b, b->eval, N, x);
  cmp(what, "total f", N, rt.f, rb.f, 0, 1);
  fgh_free(&rb);
  fgh_free(&re);
  fgh_free(&rt);
  free(x);
  cgd_objective_free(b);
  cgd_objective_free(e);
}

START_TEST(test_f0_builtins_match_expressions) {
  for (size_t i = 0; i < sizeof F0_CASES / sizeof F0_CASES[0]; i++)
    builtin_vs_expr(&F0_CASES[i], 0, CGD_TRIG_AUTO);
}
END_TEST

START_TEST(test_f1_builtins_match_expressions) {
  for (int isa = CGD_TRIG_SCALAR; isa <= CGD_TRIG_AVX512; isa++)
    for (size_t i = 0; i < sizeof F1_CASES / sizeof F1_CASES[0]; i++)
      builtin_vs_expr(&F1_CASES[i], 1, isa);
}
END_TEST

/* ------------------------------------------------ central differences */

typedef struct {
  const char *f0, *f1;
  double eps, h;   /* step: a small fraction of ε so that x/ε moves by 1e-3 */
  double gs, hs;   /* scales of ∇f and ∇²f */
} fd_case;

/* Central differences: error h²/6·|f'''| + ulp(f)/h. For ε sin(x/ε), f''' ~ 1/ε², so with
 * h = 1e-3 ε the truncation error is ~2e-7 of the gradient scale (1); for the Hessian
 * from differences of ∇f the same reasoning gives ~2e-7 of its scale 1/ε; rounding adds
 * ~1e-16·|f|/h ≲ 1e-10. Tolerance 2e-6 of the scale (10× margin). quasi has frequency
 * √2/ε (error ×4), madeup's inner phase moves at up to (√3/5)/ε. */
static const fd_case FD_CASES[] = {
    {"quartic", "sin", 1e-4, 1e-7, 10, 1e4},
    {"quadratic", "negcos", 1e-3, 1e-6, 3, 1e3},
    {"tilted", "quasi", 1e-3, 5e-7, 10, 3e3},
    {"doublewell", "madeup", 1e-3, 1e-6, 20, 1e3},
    {"quartic", "none", 1e-3, 1e-5, 10, 20},
    {"matyas", "sincos2d", 1e-3, 1e-6, 3, 1e3},
    {"x^2*y/3 + cos(y)", "eps*sin(x/eps)*cos(y/eps)", 1e-3, 1e-6, 5, 2e3},
};

START_TEST(test_central_differences) {
  enum { N = 41 };
  for (size_t c = 0; c < sizeof FD_CASES / sizeof FD_CASES[0]; c++) {
    const fd_case *fc = &FD_CASES[c];
    cgd_objective *o = mk(fc->f0, fc->f1, fc->eps, 0.9, CGD_TRIG_AUTO);
    const size_t d = o->dim;
    double *x = points(N, d, -1.6, 1.6);
    fgh r = eval_all(o, o->eval, N, x);
    for (size_t i = 0; i < N; i++)
      for (size_t a = 0; a < d; a++) {
        double xp[2], xm[2], fp, fm, gp[2], gm[2];
        cgd_error err;
        memcpy(xp, x + i * d, d * sizeof *xp);
        memcpy(xm, x + i * d, d * sizeof *xm);
        xp[a] += fc->h;
        xm[a] -= fc->h;
        /* the actual step, exactly representable as the difference of the two points */
        const double step = xp[a] - xm[a];
        ck_assert_int_eq(o->eval(o->ctx, 1, xp, &fp, gp, NULL, &err), 0);
        ck_assert_int_eq(o->eval(o->ctx, 1, xm, &fm, gm, NULL, &err), 0);
        const double gfd = (fp - fm) / step;
        ck_assert_msg(fabs(gfd - r.g[i * d + a]) <= 2e-6 * fc->gs,
                      "%s + %s: d/dx%zu at point %zu: fd %.12g vs %.12g", fc->f0, fc->f1, a, i,
                      gfd, r.g[i * d + a]);
        for (size_t b = 0; b < d; b++) {
          const double hfd = (gp[b] - gm[b]) / step;
          ck_assert_msg(fabs(hfd - r.h[i * d * d + b * d + a]) <= 2e-6 * fc->hs,
                        "%s + %s: H[%zu][%zu] at point %zu: fd %.12g vs %.12g", fc->f0, fc->f1, b,
                        a, i, hfd, r.h[i * d * d + b * d + a]);
        }
      }
    fgh_free(&r);
    free(x);
    cgd_objective_free(o);
  }
}
END_TEST

/* ------------------------------------------------ reproducibility */

START_TEST(test_split_and_isa_bit_identity) {
  enum { N = 1001 };
  const char *f1s[] = {"sin", "negcos", "quasi", "madeup", "none"};
  for (size_t c = 0; c < 5; c++) {
    cgd_objective *o = mk("quartic", f1s[c], 1e-6, 1, CGD_TRIG_AUTO);
    double *x = points(N, 1, -2, 2);
    fgh r = eval_all(o, o->eval, N, x);
    /* split 1 + 6 + 994 and one-by-one on a few points, and gradient-only requests */
    double f[N], g[N], g2[N], h[N];
    cgd_error err;
    o->eval(o->ctx, 1, x, f, g, h, &err);
    o->eval(o->ctx, 6, x + 1, f + 1, g + 1, h + 1, &err);
    o->eval(o->ctx, N - 7, x + 7, f + 7, g + 7, h + 7, &err);
    o->eval(o->ctx, N, x, NULL, g2, NULL, &err);
    ck_assert(memcmp(f, r.f, sizeof f) == 0);
    ck_assert(memcmp(g, r.g, sizeof g) == 0);
    ck_assert(memcmp(h, r.h, sizeof h) == 0);
    ck_assert(memcmp(g2, r.g, sizeof g2) == 0);
    /* Every kernel width agrees bit for bit (chaosgd/vmath.h: IEEE operations only). */
    for (int isa = CGD_TRIG_SCALAR; isa <= CGD_TRIG_AVX512; isa++) {
      if (!isa_available(isa)) continue;
      cgd_objective *oi = mk("quartic", f1s[c], 1e-6, 1, isa);
      fgh ri = eval_all(oi, oi->eval, N, x);
      ck_assert_msg(memcmp(ri.f, r.f, N * sizeof *r.f) == 0, "%s isa %d f", f1s[c], isa);
      ck_assert_msg(memcmp(ri.g, r.g, N * sizeof *r.g) == 0, "%s isa %d g", f1s[c], isa);
      ck_assert_msg(memcmp(ri.h, r.h, N * sizeof *r.h) == 0, "%s isa %d h", f1s[c], isa);
      /* gradient-only requests take the one-function path: same bits */
      double gi[N];
      cgd_error e2;
      ck_assert_int_eq(oi->eval(oi->ctx, N, x, NULL, gi, NULL, &e2), 0);
      ck_assert_msg(memcmp(gi, r.g, sizeof gi) == 0, "%s isa %d g alone", f1s[c], isa);
      fgh_free(&ri);
      cgd_objective_free(oi);
    }
    fgh_free(&r);
    free(x);
    cgd_objective_free(o);
  }
}
END_TEST

START_TEST(test_large_arguments) {
  /* x/ε up to 2e7 (ε = 1e-7): the deterministic kernel's reduction keeps cos² + sin² = 1
   * and its < 0.8-ulp functions agree with glibc (also fully reduced, < 1 ulp) to a couple
   * of ulps at the same argument, x·(1/ε) (see
   * multiscale.c). Against the exactly rounded x/ε the phase differs by at most 2 ulps of
   * x/ε, so the values by at most that much in absolute terms. */
  enum { N = 257 };
  cgd_objective *o = mk("0", "sin", 1e-7, 1, CGD_TRIG_AUTO);
  double *x = points(N, 1, -2, 2);
  fgh r = eval_all(o, o->eval, N, x);
  for (size_t i = 0; i < N; i++) {
    const double s = r.f[i] / 1e-7, c = r.g[i];
    ck_assert(fabs(s * s + c * c - 1) < 1e-15);
    const double t = x[i] * (1.0 / 1e-7), ph = 2 * ldexp(1.0, ilogb(fabs(t) + 1) - 52);
    ck_assert(fabs(c - cos(t)) < 1e-15);
    ck_assert(fabs(s - sin(t)) < 1e-15);
    ck_assert(fabs(c - cos(x[i] / 1e-7)) <= ph + 1e-15);
    ck_assert(fabs(s - sin(x[i] / 1e-7)) <= ph + 1e-15);
  }
  fgh_free(&r);
  free(x);
  cgd_objective_free(o);
}
END_TEST

START_TEST(test_phase_beyond_kernel_range) {
  /* |x/ε| beyond 2^40: a clear CGD_EDOMAIN naming the state, never a silent value; at
   * every width, for every built-in f1 that forms x/ε, in f, g and gradient-only calls. */
  const char *f1s[] = {"sin", "negcos", "quasi"};
  for (int isa = CGD_TRIG_SCALAR; isa <= CGD_TRIG_AVX512; isa++) {
    if (!isa_available(isa)) continue;
    for (size_t c = 0; c < 3; c++) {
      cgd_objective *o = mk("quartic", f1s[c], 1e-7, 1, isa);
      double x[13], f[13], g[13];
      for (int i = 0; i < 13; i++) x[i] = 0.01 * i;
      cgd_error err = {{0}};
      ck_assert_int_eq(o->eval(o->ctx, 13, x, f, g, NULL, &err), 0);
      x[9] = 2e5; /* x/ε = 2e12 > 2^40 ≈ 1.1e12 */
      ck_assert_int_eq(o->eval(o->ctx, 13, x, NULL, g, NULL, &err), CGD_EDOMAIN);
      ck_assert_msg(strstr(err.msg, "2^40") && strstr(err.msg, "x = 200000"), "%s", err.msg);
      ck_assert_int_eq(o->eval(o->ctx, 13, x, f, g, NULL, &err), CGD_EDOMAIN);
      ck_assert_int_eq(o->eval_f1(o->ctx, 13, x, f, NULL, NULL, &err), CGD_EDOMAIN);
      x[9] = 7e4; /* x/ε = 7e11 (quasi: √2x/ε = 9.9e11): inside */
      ck_assert_int_eq(o->eval(o->ctx, 13, x, f, g, NULL, &err), 0);
      cgd_objective_free(o);
    }
    cgd_objective *o = mk("matyas", "sincos2d", 1e-7, 1, isa);
    double x[2] = {0.1, -3e5}, g[2];
    cgd_error err = {{0}};
    ck_assert_int_eq(o->eval(o->ctx, 1, x, NULL, g, NULL, &err), CGD_EDOMAIN);
    ck_assert_msg(strstr(err.msg, "y/eps") && strstr(err.msg, "too small"), "%s", err.msg);
    cgd_objective_free(o);
    /* a state that ran away (|x| > 2^20) is a divergence, as any exploding state */
    o = mk("quartic", "sin", 1e-6, 1, isa);
    x[0] = 2e8;
    ck_assert_int_eq(o->eval(o->ctx, 1, x, NULL, g, NULL, &err), CGD_EDIVERGED);
    ck_assert_msg(strstr(err.msg, "ran away") && strstr(err.msg, "2^40"), "%s", err.msg);
    cgd_objective_free(o);
  }
}
END_TEST

START_TEST(test_expression_beyond_kernel_range) {
  /* Expressions take sin/cos from the same kernel, under the same rule: CGD_EDOMAIN with
   * the expression's message, CGD_EDIVERGED at a state that ran away. */
  cgd_objective *o = mk("x^4/4", "eps*sin(x/eps)", 1e-7, 1, CGD_TRIG_AUTO);
  double x[13], f[13], g[13];
  for (int i = 0; i < 13; i++) x[i] = 0.01 * i;
  cgd_error err = {{0}};
  ck_assert_int_eq(o->eval(o->ctx, 13, x, f, g, NULL, &err), 0);
  x[9] = 2e5;
  ck_assert_int_eq(o->eval(o->ctx, 13, x, NULL, g, NULL, &err), CGD_EDOMAIN);
  ck_assert_msg(strstr(err.msg, "f1: expression 'eps*sin(x/eps)' at x = 200000: argument of "
                                "sin at column 5 is 2e+12") && strstr(err.msg, "2^40"),
                "%s", err.msg);
  ck_assert_int_eq(o->eval_f1(o->ctx, 13, x, f, NULL, NULL, &err), CGD_EDOMAIN);
  x[9] = 2e8;
  ck_assert_int_eq(o->eval(o->ctx, 13, x, f, g, NULL, &err), CGD_EDIVERGED);
  ck_assert_msg(strstr(err.msg, "at x = 200000000") && strstr(err.msg, "ran away"), "%s",
                err.msg);
  cgd_objective_free(o);
  /* in f0, and in 2-D */
  o = mk("x^2 + y^2 + sin(1e9*y)", "none", 1e-3, 1, CGD_TRIG_AUTO);
  const double p[4] = {0.5, 0.5, 0.5, 2e3};
  ck_assert_int_eq(o->eval_f0(o->ctx, 2, p, f, NULL, NULL, &err), CGD_EDOMAIN);
  ck_assert_msg(strstr(err.msg, "f0: expression") && strstr(err.msg, "(x, y) = (0.5, 2000)"),
                "%s", err.msg);
  cgd_objective_free(o);
  /* a constant argument is refused when the objective is made */
  cgd_ms_spec sp = {.f0 = "quartic", .f1 = "cos(1e13)*x", .eps = 1e-3, .k = 1};
  ck_assert_int_eq(cgd_multiscale_create(&sp, &o, &err), CGD_EDOMAIN);
  ck_assert_msg(strstr(err.msg, "f1: expression 'cos(1e13)*x': argument of cos at column 1"),
                "%s", err.msg);
}
END_TEST

START_TEST(test_builtin_expression_bits) {
  /* With ε a power of two, x·(1/ε) = x/ε and (cos·(1/ε))·ε = cos exactly, so the built-in
   * quartic + sin and its expression form give the same bits: the same kernel on both
   * sides (with glibc in expressions they differed in the last bits). */
  enum { N = 1001 };
  const double eps = 0x1p-20;
  double *x = points(N, 1, -2, 2);
  for (int isa = CGD_TRIG_SCALAR; isa <= CGD_TRIG_AVX512; isa++) {
    if (!isa_available(isa)) continue;
    cgd_objective *b = mk("quartic", "sin", eps, 1, isa);
    cgd_objective *e = mk("x^4/4", "eps*sin(x/eps)", eps, 1, isa);
    fgh rb = eval_all(b, b->eval, N, x), re = eval_all(e, e->eval, N, x);
    ck_assert_msg(memcmp(rb.f, re.f, N * sizeof *rb.f) == 0, "isa %d f", isa);
    ck_assert_msg(memcmp(rb.g, re.g, N * sizeof *rb.g) == 0, "isa %d g", isa);
    ck_assert_msg(memcmp(rb.h, re.h, N * sizeof *rb.h) == 0, "isa %d h", isa);
    double gb[N], ge[N];
    cgd_error err;
    ck_assert_int_eq(b->eval(b->ctx, N, x, NULL, gb, NULL, &err), 0);
    ck_assert_int_eq(e->eval(e->ctx, N, x, NULL, ge, NULL, &err), 0);
    ck_assert_msg(memcmp(gb, ge, sizeof gb) == 0, "isa %d g alone", isa);
    fgh_free(&rb);
    fgh_free(&re);
    cgd_objective_free(b);
    cgd_objective_free(e);
  }
  free(x);
}
END_TEST

/* ------------------------------------------------ noise */

typedef struct {
  const char *f1;
  int dim;
  double sigma2[2];
  double mean[2];
  int exact; /* sigma2 by quadrature: to 1e-10 */
} noise_case;

static const noise_case NOISE_CASES[] = {
    {"sin", 1, {0.5, 0}, {0, 0}, 1},
    {"negcos", 1, {0.5, 0}, {0, 0}, 1},
    {"quasi", 1, {1.5, 0}, {0, 0}, 1},
    {"sincos2d", 2, {0.5, 0.5}, {0, 0}, 1},
    {"madeup", 1, {NAN, 0}, {0, 0}, 0},
    {"eps*sin(x/eps) + 0.1*x", 1, {0.5, 0}, {-0.1, 0}, 0},
    {"eps*sin(x/eps) + eps*cos(y/eps)", 2, {0.5, 0.5}, {0, 0}, 0},
};

/* Variance of ζ = −κ sin(A) sin(B) for madeup, B uniform on [0, 2π), by the trapezoid rule
 * on a grid fine enough for the phase A = 1 + cos(B)/ε (bandwidth ~2/ε). */
static void madeup_moments(double eps, double *var, double *m4) {
  const size_t n = 1u << 20;
  const double kap = sqrt(3.0) / 5.0;
  double s2 = 0, s4 = 0;
  for (size_t j = 0; j < n; j++) {
    const double b = 2 * M_PI * (double)j / (double)n;
    const double z = kap * sin(1 + cos(b) / eps) * sin(b);
    s2 += z * z;
    s4 += z * z * z * z;
  }
  *var = s2 / (double)n;
  *m4 = s4 / (double)n;
}

START_TEST(test_noise_moments_and_sigma2) {
  enum { N = 1000000 };
  const double eps = 1e-2;
  double *z = malloc(2 * (size_t)N * sizeof *z);
  for (size_t c = 0; c < sizeof NOISE_CASES / sizeof NOISE_CASES[0]; c++) {
    const noise_case *nc = &NOISE_CASES[c];
    cgd_objective *o = mk("0", nc->f1, eps, 1, CGD_TRIG_AUTO);
    ck_assert_int_eq((int)o->dim, nc->dim);
    double s2[2] = {-1, -1}, want[2] = {nc->sigma2[0], nc->sigma2[1]}, m4ref = NAN;
    cgd_error err;
    ck_assert_int_eq(cgd_multiscale_sigma2(o, s2, &err), 0);
    if (!strcmp(nc->f1, "madeup")) madeup_moments(eps, &want[0], &m4ref);
    ck_assert_int_eq(o->noise(o->ctx, N, 777, 12345, z), 0);
    const size_t d = o->dim;
    for (size_t a = 0; a < d; a++) {
      double m = 0, v = 0, q = 0;
      for (size_t i = 0; i < N; i++) m += z[i * d + a];
      m /= N;
      for (size_t i = 0; i < N; i++) {
        const double t = z[i * d + a] - m;
        v += t * t;
        q += t * t * t * t;
      }
      v /= N - 1;
      q /= N;
      /* standard errors of the sample mean and variance */
      const double se_m = sqrt(v / N), se_v = sqrt((q - v * v) / N);
      ck_assert_msg(fabs(m - nc->mean[a]) < 5 * se_m, "%s coord %zu: mean %g (se %g)", nc->f1, a,
                    m, se_m);
      ck_assert_msg(fabs(v - want[a]) < 5 * se_v, "%s coord %zu: var %g want %g (se %g)", nc->f1,
                    a, v, want[a], se_v);
      if (nc->exact)
        ck_assert_msg(fabs(s2[a] - want[a]) < 1e-10, "%s: sigma2 %.17g want %g", nc->f1, s2[a],
                      want[a]);
      else /* Monte Carlo of 10⁶ draws with its own seed: within 5 standard errors */
        ck_assert_msg(fabs(s2[a] - want[a]) < 5 * se_v, "%s: sigma2 %.10g want %.10g (se %g)",
                      nc->f1, s2[a], want[a], se_v);
    }
    const char *law = cgd_multiscale_noise_law(o);
    ck_assert_msg(strstr(law, "CGD_STREAM_NOISE") != NULL, "law: %s", law);
    cgd_objective_free(o);
  }
  free(z);
  /* none: no noise, zero variance, any dimension */
  cgd_objective *o = mk("matyas", "none", 1e-3, 1, CGD_TRIG_AUTO);
  double s2[2] = {1, 1}, zz[6] = {1, 1, 1, 1, 1, 1};
  cgd_error err;
  ck_assert_int_eq(cgd_multiscale_sigma2(o, s2, &err), 0);
  ck_assert(s2[0] == 0 && s2[1] == 0);
  ck_assert_int_eq(o->noise(o->ctx, 3, 1, 0, zz), 0);
  for (int i = 0; i < 6; i++) ck_assert(zz[i] == 0);
  ck_assert(o->eps == 0);
  cgd_objective_free(o);
}
END_TEST

START_TEST(test_noise_keying) {
  /* The draws are the documented functions of (seed, (index0+i)*dim + a). */
  enum { N = 300 };
  const uint64_t seed = 42, i0 = 987654321;
  double z[2 * N];
  cgd_objective *o = mk("quartic", "sin", 1e-5, 1, CGD_TRIG_AUTO);
  o->noise(o->ctx, N, seed, i0, z);
  for (size_t i = 0; i < N; i++) {
    const double th = 2 * M_PI * cgd_rng_uniform(seed, CGD_STREAM_NOISE, i0 + i);
    ck_assert(fabs(z[i] + cos(th)) < 1e-15);
  }
  cgd_objective_free(o);
  o = mk("quartic", "quasi", 1e-5, 1, CGD_TRIG_AUTO);
  o->noise(o->ctx, N, seed, i0, z);
  for (size_t i = 0; i < N; i++) {
    const double t1 = 2 * M_PI * cgd_rng_uniform(seed, CGD_STREAM_NOISE, i0 + i);
    const double t2 =
        2 * M_PI * cgd_rng_uniform(seed, CGD_STREAM_NOISE + (UINT64_C(1) << 32), i0 + i);
    ck_assert(fabs(z[i] + cos(t1) + sqrt(2.0) * cos(t2)) < 1e-14);
  }
  cgd_objective_free(o);
  o = mk("matyas", "sincos2d", 1e-5, 1, CGD_TRIG_AUTO);
  o->noise(o->ctx, N, seed, i0, z);
  for (size_t i = 0; i < N; i++) {
    const double tx = 2 * M_PI * cgd_rng_uniform(seed, CGD_STREAM_NOISE, (i0 + i) * 2);
    const double ty = 2 * M_PI * cgd_rng_uniform(seed, CGD_STREAM_NOISE, (i0 + i) * 2 + 1);
    ck_assert(fabs(z[2 * i] + cos(tx)) < 1e-15 && fabs(z[2 * i + 1] - sin(ty)) < 1e-15);
  }
  cgd_objective_free(o);
  /* madeup: u uniform over one macro period [0, 10π/√3); ζ = −f1'(u) */
  o = mk("quartic", "madeup", 1e-2, 1, CGD_TRIG_AUTO);
  o->noise(o->ctx, N, seed, i0, z);
  for (size_t i = 0; i < N; i++) {
    const double u = 10 * M_PI / sqrt(3.0) * cgd_rng_uniform(seed, CGD_STREAM_NOISE, i0 + i);
    const double b = sqrt(3.0) * u / 5, a = 1 + cos(b) / 1e-2;
    ck_assert(fabs(z[i] + sqrt(3.0) / 5 * sin(a) * sin(b)) < 1e-12);
  }
  cgd_objective_free(o);
  /* expression: u uniform on [−L/2, L/2), L = 2000πε, ζ = −∇f1(u) exactly */
  const double eps = 1e-3;
  o = mk("quartic", "eps*sin(x/eps)^2", eps, 1, CGD_TRIG_AUTO);
  o->noise(o->ctx, N, seed, i0, z);
  const char *pn[] = {"eps"};
  cgd_expr *e;
  cgd_error err;
  ck_assert_int_eq(cgd_expr_parse("eps*sin(x/eps)^2", 1, pn, &eps, 1, &e, &err), 0);
  for (size_t i = 0; i < N; i++) {
    const double u = 2000 * M_PI * eps * (cgd_rng_uniform(seed, CGD_STREAM_NOISE, i0 + i) - 0.5);
    double g;
    ck_assert_int_eq(cgd_expr_eval(e, 1, &u, NULL, &g, NULL, &err), CGD_OK);
    ck_assert(z[i] == -g);
  }
  cgd_expr_free(e);
  cgd_objective_free(o);
}
END_TEST

START_TEST(test_noise_is_pure) {
  /* One batch or two, any ISA: the same draws. Another seed: other draws. */
  enum { N = 1000, CUT = 337 };
  const char *f1s[] = {"sin", "negcos", "quasi", "madeup", "sincos2d", "eps*cos(x/eps)"};
  for (size_t c = 0; c < 6; c++) {
    const char *f0 = !strcmp(f1s[c], "sincos2d") ? "matyas" : "quartic";
    cgd_objective *o = mk(f0, f1s[c], 1e-6, 1, CGD_TRIG_AUTO);
    const size_t d = o->dim;
    double *a = malloc(N * d * sizeof *a), *b = malloc(N * d * sizeof *b);
    ck_assert_int_eq(o->noise(o->ctx, N, 9, 5000, a), 0);
    ck_assert_int_eq(o->noise(o->ctx, CUT, 9, 5000, b), 0);
    ck_assert_int_eq(o->noise(o->ctx, N - CUT, 9, 5000 + CUT, b + CUT * d), 0);
    ck_assert_msg(memcmp(a, b, N * d * sizeof *a) == 0, "%s: split changes the draws", f1s[c]);
    ck_assert_int_eq(o->noise(o->ctx, N, 10, 5000, b), 0);
    size_t same = 0;
    for (size_t i = 0; i < N * d; i++) same += a[i] == b[i];
    ck_assert_msg(same < 5, "%s: seed has no effect", f1s[c]);
    for (int isa = CGD_TRIG_AVX2; isa <= CGD_TRIG_AVX512; isa++) {
      if (!isa_available(isa)) continue;
      cgd_objective *oi = mk(f0, f1s[c], 1e-6, 1, isa);
      ck_assert_int_eq(oi->noise(oi->ctx, N, 9, 5000, b), 0);
      ck_assert_msg(memcmp(a, b, N * d * sizeof *a) == 0, "%s: isa %d differs", f1s[c], isa);
      cgd_objective_free(oi);
    }
    free(a);
    free(b);
    cgd_objective_free(o);
  }
}
END_TEST

/* ------------------------------------------------ metadata, critical k, bad specs */

START_TEST(test_metadata) {
  cgd_objective *o = mk("quartic", "sin", 1e-6, 1, CGD_TRIG_AUTO);
  ck_assert_str_eq(o->name, "quartic + sin (eps=1e-06)");
  ck_assert_int_eq((int)o->dim, 1);
  ck_assert_int_eq(o->hess_ok, 1);
  ck_assert(o->eval && o->eval_f0 && o->eval_f1 && o->noise && o->free_ctx);
  ck_assert(o->eps == 1e-6);
  cgd_objective_free(o);
  o = mk("doublewell", "negcos", 1e-3, 0.5, CGD_TRIG_AUTO);
  ck_assert_str_eq(o->name, "doublewell(k=0.5) + negcos (eps=0.001)");
  cgd_objective_free(o);
  struct { const char *f0, *f1; int dim; } dims[] = {
      {"matyas", "none", 2}, {"x^2", "sincos2d", 2}, {"x^2", "none", 1},
      {"x^2+y^2", "none", 2}, {"quartic", "eps*sin(x/eps)", 1}, {"matyas", "eps*cos(x/eps)", 2},
      {"0", "0", 1}};
  for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
    o = mk(dims[i].f0, dims[i].f1, 1e-3, 1, CGD_TRIG_AUTO);
    ck_assert_msg((int)o->dim == dims[i].dim, "%s + %s: dim %zu", dims[i].f0, dims[i].f1, o->dim);
    cgd_objective_free(o);
  }
  /* user parameters reach expressions; eps and k are the spec's */
  const char *pn[] = {"a", "b0"};
  const double pv[] = {3, -1};
  cgd_ms_spec sp = {.f0 = "a*x^2 + b0*k", .f1 = "eps*x", .eps = 0.25, .k = 2, .nparams = 2,
                    .param_names = pn, .param_values = pv};
  cgd_error err;
  ck_assert_int_eq(cgd_multiscale_create(&sp, &o, &err), 0);
  double x = 2, f, g;
  o->eval(o->ctx, 1, &x, &f, &g, NULL, &err);
  ck_assert(f == 3 * 4 - 2 + 0.5 && g == 12 + 0.25);
  cgd_objective_free(o);
  /* sigma2 and the law refuse foreign objectives */
  cgd_objective fake = {.dim = 1};
  double s2;
  ck_assert_int_eq(cgd_multiscale_sigma2(&fake, &s2, &err), CGD_EUSAGE);
  ck_assert_str_eq(cgd_multiscale_noise_law(&fake), "");
  ck_assert_int_eq(cgd_multiscale_sigma2(NULL, &s2, &err), CGD_EUSAGE);
}
END_TEST

START_TEST(test_critical_k) {
  const double kc = cgd_doublewell_critical_k();
  ck_assert(fabs(kc - 3 * sqrt(3) / 8) < 1e-16);
  ck_assert(fabs(kc - 0.649519052838329) < 1e-15);
  /* at k = kc the largest |f0'| on [0, 1] equals the largest |f1'| = 1, at x = 1/√3 */
  cgd_objective *o = mk("doublewell", "none", 1e-3, kc, CGD_TRIG_AUTO);
  enum { N = 100001 };
  double *x = points(N, 1, 0, 1), *g = malloc(N * sizeof *g);
  cgd_error err;
  o->eval_f0(o->ctx, N, x, NULL, g, NULL, &err);
  double mx = 0, at = 0;
  for (size_t i = 0; i < N; i++)
    if (fabs(g[i]) > mx) mx = fabs(g[i]), at = x[i];
  ck_assert(fabs(mx - 1) < 1e-9);
  ck_assert(fabs(at - 1 / sqrt(3)) < 1e-4);
  free(x);
  free(g);
  cgd_objective_free(o);
}
END_TEST

START_TEST(test_bad_specs) {
  struct {
    const char *f0, *f1;
    double eps, k;
    const char *need;
  } bad[] = {
      {"quartc", "sin", 1e-3, 1, "unknown name 'quartc'"},
      {"x^+", "sin", 1e-3, 1, "column 4"},
      {"quartic", "sin(x", 1e-3, 1, "expected ')'"},
      {"quartic", "sincos", 1e-3, 1, "neither a built-in"},
      {"quartic", "sincos2d", 1e-3, 1, "1-D built-in"},
      {"matyas", "sin", 1e-3, 1, "1-D built-in"},
      {"x^2+y^2", "quasi", 1e-3, 1, "1-D built-in"},
      {"quartic", "eps*sin(y/eps)", 1e-3, 1, "1-D built-in"},
      {"quartic", "sin", 0, 1, "eps"},
      {"quartic", "sin", -1e-3, 1, "eps"},
      {"quartic", "sin", NAN, 1, "eps"},
      {"quartic", "sin", INFINITY, 1, "eps"},
      {"doublewell", "sin", 1e-3, 0, "k > 0"},
      {"doublewell", "sin", 1e-3, -1, "k > 0"},
      {"", "sin", 1e-3, 1, "empty expression"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cgd_ms_spec sp = {.f0 = bad[i].f0, .f1 = bad[i].f1, .eps = bad[i].eps, .k = bad[i].k};
    cgd_objective *o = (cgd_objective *)&sp;
    cgd_error err = {{0}};
    ck_assert_int_eq(cgd_multiscale_create(&sp, &o, &err), CGD_EUSAGE);
    ck_assert_ptr_null(o);
    ck_assert_msg(strstr(err.msg, bad[i].need) != NULL, "%s + %s: '%s' lacks '%s'", bad[i].f0,
                  bad[i].f1, err.msg, bad[i].need);
  }
  cgd_objective *o;
  cgd_error err;
  const char *pn[] = {"eps"}, *pk[] = {"k"}, *px[] = {"x"};
  const double pv[] = {1};
  cgd_ms_spec sp = {.f0 = "quartic", .f1 = "sin", .eps = 1e-3, .k = 1, .nparams = 1,
                    .param_names = pn, .param_values = pv};
  ck_assert_int_eq(cgd_multiscale_create(&sp, &o, &err), CGD_EUSAGE);
  ck_assert_ptr_nonnull(strstr(err.msg, "reserved"));
  sp.param_names = pk;
  ck_assert_int_eq(cgd_multiscale_create(&sp, &o, &err), CGD_EUSAGE);
  sp.param_names = px;
  sp.f0 = "x^2";
  ck_assert_int_eq(cgd_multiscale_create(&sp, &o, &err), CGD_EUSAGE);
  sp = (cgd_ms_spec){.f0 = "quartic", .f1 = "sin", .eps = 1e-3, .k = 1, .trig_isa = 9};
  ck_assert_int_eq(cgd_multiscale_create(&sp, &o, &err), CGD_EUSAGE);
  sp.trig_isa = 0;
  sp.f1 = NULL;
  ck_assert_int_eq(cgd_multiscale_create(&sp, &o, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_multiscale_create(NULL, &o, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_multiscale_create(&sp, NULL, &err), CGD_EUSAGE);
}
END_TEST

int main(void) {
  Suite *s = suite_create("multiscale");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_f0_builtins_match_expressions);
  tcase_add_test(tc, test_f1_builtins_match_expressions);
  tcase_add_test(tc, test_central_differences);
  tcase_add_test(tc, test_split_and_isa_bit_identity);
  tcase_add_test(tc, test_large_arguments);
  tcase_add_test(tc, test_phase_beyond_kernel_range);
  tcase_add_test(tc, test_expression_beyond_kernel_range);
  tcase_add_test(tc, test_builtin_expression_bits);
  tcase_add_test(tc, test_noise_moments_and_sigma2);
  tcase_add_test(tc, test_noise_keying);
  tcase_add_test(tc, test_noise_is_pure);
  tcase_add_test(tc, test_metadata);
  tcase_add_test(tc, test_critical_k);
  tcase_add_test(tc, test_bad_specs);
  suite_add_tcase(s, tc);
  return cgd_check_run(s);
}
