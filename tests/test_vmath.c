/* Deterministic sin/cos (chaosgd/vmath.h): the same bits at every vector width and batch
 * split, accuracy against long double cosl/sinl over the whole stated range, and a clear
 * CGD_EDOMAIN beyond it. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/rng.h"
#include "chaosgd/vmath.h"

#include "check_main.h"

static int level_available(int level) {
  __builtin_cpu_init();
  if (level == CGD_VMATH_SCALAR) return 1;
  if (level == CGD_VMATH_AVX2)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return __builtin_cpu_supports("avx512f");
}

/* Test arguments: uniform over the whole range, log-uniform magnitudes, the doubles
 * nearest to multiples of π/2 (smallest reduced arguments: the hard cases of the
 * reduction), quadrant boundaries ±π/4 + kπ/2, and exact special values. */
static double *arguments(size_t n, uint64_t seed) {
  double *x = malloc(n * sizeof *x);
  const long double pio2 = 1.570796326794896619231321691639751442L;
  const long double pio4 = pio2 / 2;
  for (size_t i = 0; i < n; i++) {
    const double u = cgd_rng_uniform(seed, 1, i), v = cgd_rng_uniform(seed, 2, i);
    const double sg = v < 0.5 ? -1.0 : 1.0;
    switch (i % 4) {
    case 0: x[i] = (2 * u - 1) * CGD_VMATH_MAX_ARG; break;
    case 1: x[i] = sg * ldexp(1.0, -30 + (int)(70 * v)) * (1 + u); break;
    case 2: { /* nearest double to k·π/2 for k up to the bound */
      const long double k = floorl(u * (CGD_VMATH_MAX_ARG / pio2));
      x[i] = sg * (double)(k * pio2);
      break;
    }
    default: { /* ±π/4 + kπ/2, where the polynomial switches */
      const long double k = floorl(u * 1e6L);
      x[i] = sg * (double)(k * pio2 + pio4);
    }
    }
    if (fabs(x[i]) > CGD_VMATH_MAX_ARG) x[i] = copysign(CGD_VMATH_MAX_ARG, x[i]);
  }
  const double special[] = {0.0, -0.0, 1e-300, -5e-324, 0.5, 1.0, M_PI_4, M_PI_2, M_PI,
                            3 * M_PI_2, 2 * M_PI, 1e6, -1e7, 0x1p27, 1e12, CGD_VMATH_MAX_ARG,
                            -CGD_VMATH_MAX_ARG, 12345.678};
  for (size_t i = 0; i < sizeof special / sizeof *special && i < n; i++) x[i] = special[i];
  return x;
}

/* |y − ref| in units of the last place of ref's binade (as a double). */
static double ulp_err(double y, long double ref) {
  if (ref == 0) return y == 0 ? 0 : INFINITY;
  int e;
  frexpl(ref, &e); /* |ref| in [2^(e−1), 2^e) */
  const long double ulp = ldexpl(1.0L, (e - 1) - 52 < -1074 ? -1074 : (e - 1) - 52);
  return (double)(fabsl((long double)y - ref) / ulp);
}

START_TEST(test_widths_bit_identical) {
  enum { N = 100003 }; /* odd: every path has a partial last vector */
  double *x = arguments(N, 7);
  double *s1 = malloc(6 * N * sizeof *s1), *c1 = s1 + N, *s2 = c1 + N, *c2 = s2 + N,
         *o1 = c2 + N, *o2 = o1 + N;
  cgd_error err;
  ck_assert_int_eq(cgd_vsincos_at(CGD_VMATH_SCALAR, N, x, s1, c1, &err), 0);
  int tested = 0;
  for (int lv = CGD_VMATH_SCALAR; lv <= CGD_VMATH_AVX512; lv++) {
    if (!level_available(lv)) {
      printf("test_vmath: level %d not available on this CPU: not run here\n", lv);
      continue;
    }
    tested++;
    /* both at once, each alone, and split into uneven pieces */
    ck_assert_int_eq(cgd_vsincos_at(lv, N, x, s2, c2, &err), 0);
    ck_assert_msg(!memcmp(s1, s2, N * sizeof *s1), "level %d sin (sincos)", lv);
    ck_assert_msg(!memcmp(c1, c2, N * sizeof *c1), "level %d cos (sincos)", lv);
    ck_assert_int_eq(cgd_vsincos_at(lv, N, x, NULL, o1, &err), 0);
    ck_assert_int_eq(cgd_vsincos_at(lv, N, x, o2, NULL, &err), 0);
    ck_assert_msg(!memcmp(c1, o1, N * sizeof *c1), "level %d cos alone", lv);
    ck_assert_msg(!memcmp(s1, o2, N * sizeof *s1), "level %d sin alone", lv);
    for (size_t i0 = 0, w = 1; i0 < N; i0 += w, w = w * 3 % 17 + 1) {
      const size_t m = i0 + w <= N ? w : N - i0;
      ck_assert_int_eq(cgd_vsincos_at(lv, m, x + i0, NULL, o1 + i0, &err), 0);
    }
    ck_assert_msg(!memcmp(c1, o1, N * sizeof *c1), "level %d cos split", lv);
    /* in place */
    memcpy(o2, x, N * sizeof *x);
    ck_assert_int_eq(cgd_vsincos_at(lv, N, o2, NULL, o2, &err), 0);
    ck_assert_msg(!memcmp(c1, o2, N * sizeof *c1), "level %d cos in place", lv);
  }
  ck_assert_int_ge(tested, 2); /* scalar and at least AVX2 on any machine we run on */
  /* the AUTO entry points */
  ck_assert_int_eq(cgd_vcos(N, x, o1, &err), 0);
  ck_assert_int_eq(cgd_vsin(N, x, o2, &err), 0);
  ck_assert(!memcmp(c1, o1, N * sizeof *c1) && !memcmp(s1, o2, N * sizeof *s1));
  free(s1);
  free(x);
}
END_TEST

/* The bound stated in vmath.h and the README; the measured maximum is printed. */
#define ULP_BOUND 0.80 /* measured 0.78 */

START_TEST(test_accuracy_against_long_double) {
  enum { N = 2000000 };
  double *x = arguments(N, 11);
  double *s = malloc(2 * N * sizeof *s), *c = s + N;
  cgd_error err;
  ck_assert_int_eq(cgd_vsincos(N, x, s, c, &err), 0);
  double es = 0, ec = 0, ws = 0, wc = 0;
  for (size_t i = 0; i < N; i++) {
    const double a = ulp_err(s[i], sinl((long double)x[i]));
    const double b = ulp_err(c[i], cosl((long double)x[i]));
    if (a > es) { es = a; ws = x[i]; }
    if (b > ec) { ec = b; wc = x[i]; }
  }
  printf("test_vmath: max error over %d arguments, |t| <= 2^40: sin %.3f ulp (at %.17g), "
         "cos %.3f ulp (at %.17g)\n", N, es, ws, ec, wc);
  ck_assert_msg(es <= ULP_BOUND, "sin: %.3f ulp at %.17g", es, ws);
  ck_assert_msg(ec <= ULP_BOUND, "cos: %.3f ulp at %.17g", ec, wc);
  /* identities the kernel keeps exactly */
  double t0 = 0.0, one, zero;
  cgd_vsincos(1, &t0, &zero, &one, &err);
  ck_assert(one == 1.0 && zero == 0.0);
  free(s);
  free(x);
}
END_TEST

START_TEST(test_domain) {
  const double big = nextafter(CGD_VMATH_MAX_ARG, INFINITY);
  double x[11] = {1, 2, 3, 4, 5, 6, 7, CGD_VMATH_MAX_ARG, -CGD_VMATH_MAX_ARG, 0.5, NAN};
  double c[11];
  cgd_error err = {{0}};
  for (int lv = CGD_VMATH_SCALAR; lv <= CGD_VMATH_AVX512; lv++) {
    if (!level_available(lv)) continue;
    /* the bound itself is inside; NaN in gives NaN out without an error */
    ck_assert_int_eq(cgd_vsincos_at(lv, 11, x, NULL, c, &err), 0);
    ck_assert(isnan(c[10]) && !isnan(c[7]) && !isnan(c[8]));
    /* one step beyond, infinities, at every position of a vector */
    for (int pos = 0; pos < 10; pos++) {
      double y[10];
      memcpy(y, x, sizeof y);
      y[pos] = pos % 3 == 2 ? -INFINITY : pos % 2 ? -big : big;
      memset(&err, 0, sizeof err);
      ck_assert_int_eq(cgd_vsincos_at(lv, 10, y, c, NULL, &err), CGD_EDOMAIN);
      ck_assert_msg(strstr(err.msg, "2^40") != NULL, "%s", err.msg);
      char want[64];
      snprintf(want, sizeof want, "(element %d)", pos);
      ck_assert_msg(strstr(err.msg, want) != NULL, "level %d: %s", lv, err.msg);
      for (int j = 0; j < 10; j++) ck_assert(isnan(c[j]) == (j == pos)); /* never a value */
      /* in place: the message still names the argument */
      ck_assert_int_eq(cgd_vsincos_at(lv, 10, y, NULL, y, &err), CGD_EDOMAIN);
      ck_assert_msg(strstr(err.msg, pos % 3 == 2 ? "inf" : "1.09951e+12") != NULL, "%s",
                    err.msg);
    }
  }
  ck_assert_int_eq(cgd_vsincos_at(9, 1, x, c, c, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_vsincos(1, x, NULL, NULL, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_vsincos(0, NULL, NULL, NULL, &err), CGD_OK);
}
END_TEST

int main(void) {
  Suite *s = suite_create("vmath");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_widths_bit_identical);
  tcase_add_test(tc, test_accuracy_against_long_double);
  tcase_add_test(tc, test_domain);
  suite_add_tcase(s, tc);
  return cgd_check_run(s);
}
