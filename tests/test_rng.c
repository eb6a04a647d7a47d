/* The counter RNG: pure function of (seed, stream, index); batch normals equal the scalar
 * ones bit for bit; the laws have the right moments. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "chaosgd/rng.h"

#include "check_main.h"

START_TEST(pure_and_distinct) {
  ck_assert_uint_eq(cgd_rng_u64(1, 2, 3), cgd_rng_u64(1, 2, 3));
  ck_assert_uint_ne(cgd_rng_u64(1, 2, 3), cgd_rng_u64(1, 2, 4));
  ck_assert_uint_ne(cgd_rng_u64(1, 2, 3), cgd_rng_u64(1, 3, 3));
  ck_assert_uint_ne(cgd_rng_u64(1, 2, 3), cgd_rng_u64(2, 2, 3));
  for (uint64_t i = 0; i < 100000; i++) {
    double u = cgd_rng_uniform(7, 1, i);
    ck_assert(u >= 0.0 && u < 1.0);
  }
}
END_TEST

/* N = 10⁶ draws: the standard error of the mean is 1/√N = 0.001 for the normal and
 * 0.00029 for the uniform; of the variance √2/√N = 0.0014 (normal). Bounds are 5 SE. The
 * share beyond 3σ is 0.0027 with SE 5.2e-5. Lag-1 correlation of the index sequence and
 * the correlation between two streams: SE 0.001. */
START_TEST(moments) {
  enum { N = 1000000 };
  double *z = malloc(N * sizeof *z);
  cgd_rng_normal_fill(3, 9, 0, N, z);
  double m = 0, v = 0, tail = 0, um = 0, c1 = 0, cs = 0;
  for (size_t i = 0; i < N; i++) m += z[i];
  m /= N;
  for (size_t i = 0; i < N; i++) {
    v += (z[i] - m) * (z[i] - m);
    tail += fabs(z[i]) > 3;
    if (i) c1 += z[i] * z[i - 1];
    double u = cgd_rng_uniform(3, 10, i);
    um += u;
    cs += (u - 0.5) * (cgd_rng_uniform(3, 11, i) - 0.5);
  }
  v /= N;
  ck_assert_msg(fabs(m) < 0.005, "normal mean %g", m);
  ck_assert_msg(fabs(v - 1) < 0.007, "normal variance %g", v);
  ck_assert_msg(fabs(tail / N - 0.0026998) < 0.00026, "share beyond 3 sigma %g", tail / N);
  ck_assert_msg(fabs(c1 / N) < 0.005, "lag-1 correlation %g", c1 / N);
  ck_assert_msg(fabs(um / N - 0.5) < 0.0015, "uniform mean %g", um / N);
  ck_assert_msg(fabs(cs / N * 12) < 0.005, "correlation between streams %g", cs / N * 12);
  free(z);
}
END_TEST

/* The map's batches and the scalar function are one definition: any split, same bits. */
START_TEST(batch_equals_scalar) {
  enum { N = 1001 };
  double a[N], b[N];
  cgd_rng_normal_fill(5, 4, 12345, N, a);
  for (size_t i = 0; i < N; i++) b[i] = cgd_rng_normal(5, 4, 12345 + i);
  ck_assert_mem_eq(a, b, sizeof a);
  cgd_rng_normal_fill(5, 4, 12345, 7, b);
  cgd_rng_normal_fill(5, 4, 12345 + 7, N - 7, b + 7);
  ck_assert_mem_eq(a, b, sizeof a);
  for (size_t i = 0; i < N; i++) ck_assert(isfinite(a[i]));
  cgd_rng_uniform_fill(5, 4, 999, N, 2.5, a);
  for (size_t i = 0; i < N; i++) b[i] = 2.5 * cgd_rng_uniform(5, 4, 999 + i);
  ck_assert_mem_eq(a, b, sizeof a);
}
END_TEST

int main(void) {
  Suite *s = suite_create("rng");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, pure_and_distinct);
  tcase_add_test(tc, moments);
  tcase_add_test(tc, batch_equals_scalar);
  suite_add_tcase(s, tc);
  return cgd_check_run(s);
}
