/* Check suite for src/stats.c: histograms, tail statistics and verdicts, distances, the
 * rescaled Gibbs law by quadrature, two-pass moments. Every reference below is computed
 * independently of the code under test (direct formulas, erf, a trapezoid rule). */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/rng.h"
#include "chaosgd/stats.h"

#include "check_main.h"

static const uint64_t SEED = 20201206u; /* arbitrary; fixed so every run sees the same data */
static const uint64_t STREAM_TEST = 77u;

/* Relative comparison with an absolute floor of the same size, for values that may be 0. */
static int close_rel(double a, double b, double rtol) {
  return fabs(a - b) <= rtol * fmax(fabs(b), 1.0e-300) || a == b;
}

/* ---------------------------------------------------------------- histograms */

/* Where a single value lands: bin index, or -1 under, -2 over, -3 non-finite. */
static long where(cgd_hist *h, double v) {
  cgd_hist_reset(h);
  cgd_hist_add(h, &v, 1, 1);
  if (h->under) return -1;
  if (h->over) return -2;
  if (h->nonfinite) return -3;
  for (size_t k = 0; k < h->nbins; k++)
    if (h->count[k]) return (long)k;
  return -4;
}

START_TEST(test_hist_create_errors) {
  cgd_hist *h = (cgd_hist *)1;
  cgd_error err = {{0}};
  ck_assert_int_eq(cgd_hist_create(1.0, 1.0, 4, &h, &err), CGD_EUSAGE);
  ck_assert_ptr_null(h);
  ck_assert(strlen(err.msg) > 0);
  ck_assert_int_eq(cgd_hist_create(2.0, 1.0, 4, &h, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_hist_create(0.0, 1.0, 0, &h, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_hist_create(NAN, 1.0, 4, &h, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_hist_create(0.0, INFINITY, 4, &h, &err), CGD_EUSAGE);
  /* hi - lo overflows to inf although both ends are finite. */
  ck_assert_int_eq(cgd_hist_create(-DBL_MAX, DBL_MAX, 4, &h, &err), CGD_EUSAGE);
  /* bins narrower than the spacing of doubles near 1 could never be told apart. */
  ck_assert_int_eq(cgd_hist_create(1.0, nextafter(1.0, 2.0), 4, &h, &err), CGD_EUSAGE);
  cgd_hist2d *h2 = NULL;
  ck_assert_int_eq(cgd_hist2d_create(0, 1, 2, 1, 0, 2, &h2, &err), CGD_EUSAGE);
  ck_assert_ptr_null(h2);
}
END_TEST

/* Membership must be exact against the documented edges lo + k·w: an edge value belongs to
 * the bin it opens, the next double below it to the previous bin; hi to the last bin. The
 * ranges are non-dyadic so that (v−lo)/w rounds across edges in both directions
 * (e.g. [-1.3, 2.9) with 7 bins rounds just-below-edge values up, with 8 bins rounds
 * edge 7 down; [0.3, 1.7) with 7 bins rounds edges 3..5 down). The last two ranges have
 * bins narrower than 2^-1024 (subnormal widths, still distinct edges): 1/w is +inf there,
 * so the estimate cannot be (v − lo)·(1/w). */
START_TEST(test_hist_edges) {
  const double los[] = {-1.3, -1.3, 0.3, 0.1, -3.3, -2.2, 0.0, -3e-308};
  const double his[] = {2.9, 2.9, 1.7, 0.7, 4.1, 0.35, 1e-307, 2e-308};
  const size_t nbs[] = {7, 8, 7, 7, 7, 50, 100, 10};
  cgd_error err;
  for (size_t r = 0; r < sizeof los / sizeof los[0]; r++) {
    cgd_hist *h = NULL;
    const double lo = los[r], hi = his[r];
    const size_t nb = nbs[r];
    ck_assert_int_eq(cgd_hist_create(lo, hi, nb, &h, &err), CGD_OK);
    const double w = (hi - lo) / (double)nb;
    for (size_t k = 0; k < nb; k++) {
      double e = lo + (double)k * w;
      ck_assert_msg(where(h, e) == (long)k, "range %zu edge %zu", r, k);
      if (k > 0)
        ck_assert_msg(where(h, nextafter(e, -INFINITY)) == (long)k - 1, "range %zu below edge %zu",
                      r, k);
      ck_assert_int_eq(where(h, nextafter(e, INFINITY)), (long)k);
    }
    ck_assert_int_eq(where(h, hi), (long)nb - 1);
    ck_assert_int_eq(where(h, nextafter(hi, -INFINITY)), (long)nb - 1);
    ck_assert_int_eq(where(h, nextafter(hi, INFINITY)), -2);
    ck_assert_int_eq(where(h, nextafter(lo, -INFINITY)), -1);
    ck_assert_int_eq(where(h, NAN), -3);
    ck_assert_int_eq(where(h, INFINITY), -3);
    ck_assert_int_eq(where(h, -INFINITY), -3);

    /* Random in-range values: each must land in a bin whose edges bracket it. */
    for (uint64_t i = 0; i < 5000; i++) {
      double v = lo + (hi - lo) * cgd_rng_uniform(SEED, STREAM_TEST, i);
      long k = where(h, v);
      ck_assert(k >= 0 && k < (long)nb);
      ck_assert(v >= lo + (double)k * w);
      ck_assert((size_t)k == nb - 1 || v < lo + (double)(k + 1) * w);
    }
    cgd_hist_free(h);
  }
}
END_TEST

/* cgd_hist_count (the two-pass binning of ensembles) puts every value where cgd_hist_add
 * does: edges and their neighbours, hi, out of range, non-finite, random values, over
 * more than one chunk and with a stride; and leaves the moments alone. */
START_TEST(test_hist_count_matches_add) {
  const double los[] = {-1.3, 0.3, -2.2, 0.0};
  const double his[] = {2.9, 1.7, 0.35, 1e-307}; /* the last: subnormal bin widths */
  const size_t nbs[] = {8, 7, 50, 100};
  cgd_error err;
  for (size_t r = 0; r < sizeof los / sizeof los[0]; r++) {
    const double lo = los[r], hi = his[r], w = (hi - lo) / (double)nbs[r];
    enum { N = 1500 };
    double v[2 * N];
    size_t n = 0;
    for (size_t k = 0; k <= nbs[r] && n + 3 <= N; k++) {
      const double e = lo + (double)k * w;
      v[n++] = e;
      v[n++] = nextafter(e, -INFINITY);
      v[n++] = nextafter(e, INFINITY);
    }
    const double special[] = {hi, nextafter(hi, INFINITY), lo, nextafter(lo, -INFINITY), NAN,
                              INFINITY, -INFINITY, 1e300, -1e300, 0.0, -0.0};
    for (size_t k = 0; k < sizeof special / sizeof special[0]; k++) v[n++] = special[k];
    for (uint64_t i = 0; n < N; i++)
      v[n++] = lo - 0.5 + (hi - lo + 1.0) * cgd_rng_uniform(SEED, STREAM_TEST, i);
    for (size_t stride = 1; stride <= 2; stride++) {
      double sv[2 * N];
      for (size_t i = 0; i < N; i++) sv[i * stride] = v[i], sv[i * stride + stride - 1] = v[i];
      cgd_hist *a = NULL, *b = NULL;
      ck_assert_int_eq(cgd_hist_create(lo, hi, nbs[r], &a, &err), CGD_OK);
      ck_assert_int_eq(cgd_hist_create(lo, hi, nbs[r], &b, &err), CGD_OK);
      cgd_hist_add(a, sv, N, stride);
      cgd_hist_count(b, sv, 700, stride); /* two calls: counts accumulate */
      cgd_hist_count(b, sv + 700 * stride, N - 700, stride);
      ck_assert_mem_eq(a->count, b->count, nbs[r] * sizeof *a->count);
      ck_assert_uint_eq(a->under, b->under);
      ck_assert_uint_eq(a->over, b->over);
      ck_assert_uint_eq(a->nonfinite, b->nonfinite);
      ck_assert_uint_eq(b->n, 0);
      ck_assert(b->mean == 0.0 && b->m2 == 0.0);
      cgd_hist_free(a);
      cgd_hist_free(b);
    }
  }
}
END_TEST

/* Out-of-range finite values go to under/over AND into the moments; non-finite values go
 * to nonfinite only. */
START_TEST(test_hist_under_over_nonfinite) {
  cgd_hist *h = NULL;
  cgd_error err;
  ck_assert_int_eq(cgd_hist_create(0.0, 1.0, 10, &h, &err), CGD_OK);
  const double v[] = {-0.5, 0.25, 1.0, 3.0, NAN, INFINITY, -INFINITY, 0.0};
  cgd_hist_add(h, v, 8, 1);
  ck_assert_uint_eq(h->under, 1);
  ck_assert_uint_eq(h->over, 1);
  ck_assert_uint_eq(h->nonfinite, 3);
  ck_assert_uint_eq(h->n, 5);
  ck_assert_uint_eq(h->count[0], 1);
  ck_assert_uint_eq(h->count[2], 1);
  ck_assert_uint_eq(h->count[9], 1);
  ck_assert(h->min == -0.5 && h->max == 3.0);
  /* mean of {-0.5, 0.25, 1, 3, 0} = 3.75/5 = 0.75; small exact-ish data, a few ulps. */
  ck_assert(close_rel(h->mean, 0.75, 1e-15));
  double p[10];
  ck_assert_uint_eq(cgd_hist_prob(h, p), 3);
  ck_assert(p[0] == 1.0 / 3.0 && p[2] == 1.0 / 3.0 && p[9] == 1.0 / 3.0);

  cgd_hist_reset(h);
  ck_assert_uint_eq(h->n + h->under + h->over + h->nonfinite, 0);
  ck_assert(cgd_hist_std(h) == 0.0);
  ck_assert_uint_eq(cgd_hist_prob(h, p), 0);
  for (int k = 0; k < 10; k++) ck_assert(p[k] == 0.0);
  cgd_hist_free(h);
}
END_TEST

/* Probabilities: each p[k] is count/total and they sum to 1 up to the rounding of 40
 * additions (40 ulps ≈ 1e-14, asserted at 1e-13). Uses stride 2 to check strided reads. */
START_TEST(test_hist_prob_sum) {
  enum { N = 10000, NB = 40 };
  double *v = malloc(2 * N * sizeof *v);
  ck_assert_ptr_nonnull(v);
  for (uint64_t i = 0; i < 2 * N; i++)
    v[i] = (i % 2 == 0) ? cgd_rng_normal(SEED, STREAM_TEST, i) : NAN; /* odd slots skipped */
  cgd_hist *h = NULL;
  cgd_error err;
  ck_assert_int_eq(cgd_hist_create(-2.0, 2.0, NB, &h, &err), CGD_OK);
  cgd_hist_add(h, v, N, 2);
  ck_assert_uint_eq(h->nonfinite, 0);
  ck_assert_uint_eq(h->n, N);
  double p[NB];
  uint64_t in = cgd_hist_prob(h, p);
  ck_assert_uint_eq(in, N - h->under - h->over);
  ck_assert(h->under > 0 && h->over > 0); /* ±2σ cuts ~4.6% of a normal sample */
  double s = 0.0;
  for (int k = 0; k < NB; k++) {
    s += p[k];
    ck_assert(p[k] == (double)h->count[k] / (double)in);
  }
  ck_assert(fabs(s - 1.0) <= 1e-13);
  cgd_hist_free(h);
  free(v);
}
END_TEST

/* Welford moments against a direct two-pass computation. The data sit on a large offset
 * (1e4 with unit spread) where a naive Σx² − n·mean² would lose ~8 digits; Welford and
 * two-pass both keep ~1e-15 relative, so 1e-12 leaves room without hiding a real bug. */
START_TEST(test_hist_moments) {
  enum { N = 50000 };
  double *v = malloc(N * sizeof *v);
  ck_assert_ptr_nonnull(v);
  for (uint64_t i = 0; i < N; i++) v[i] = 1.0e4 + cgd_rng_normal(SEED, STREAM_TEST + 1, i);
  cgd_hist *h = NULL;
  cgd_error err;
  ck_assert_int_eq(cgd_hist_create(9.99e3, 1.001e4, 16, &h, &err), CGD_OK);
  /* Two chunks: the moments must carry over between calls. */
  cgd_hist_add(h, v, N / 3, 1);
  cgd_hist_add(h, v + N / 3, N - N / 3, 1);

  double s = 0.0, mn = v[0], mx = v[0];
  for (int i = 0; i < N; i++) {
    s += v[i];
    mn = fmin(mn, v[i]);
    mx = fmax(mx, v[i]);
  }
  const double mean = s / N;
  double ss = 0.0;
  for (int i = 0; i < N; i++) ss += (v[i] - mean) * (v[i] - mean);
  ck_assert_uint_eq(h->n, N);
  ck_assert(close_rel(h->mean, mean, 1e-12));
  ck_assert(close_rel(h->m2, ss, 1e-12));
  ck_assert(close_rel(cgd_hist_std(h), sqrt(ss / N), 1e-12));
  ck_assert(h->min == mn && h->max == mx);

  double m2, var2;
  cgd_mean_var(v, N, &m2, &var2);
  ck_assert(close_rel(m2, mean, 1e-12));
  ck_assert(close_rel(var2, ss / N, 1e-12));
  cgd_hist_free(h);
  free(v);
}
END_TEST

/* Every range cgd_hist_fit_range makes is one cgd_hist_create accepts, for data of any
 * scale (one value, a few ulps apart, both signs near ±DBL_MAX, none finite), and it
 * contains the data whenever their span is finite. */
START_TEST(test_hist_fit_range) {
  const double big = DBL_MAX, n = NAN, inf = INFINITY;
  const double cases[][3] = {
      {1.0, 1.0, 1.0},          {-3.0, 2.0, 5.0},     {1e299, 1e299, 1e299},
      {-big, -big, -big},       {big, big, big},      {-big, big, 0.0},
      {1.0, nextafter(1.0, 2.0), 1.0}, {5e-324, 1e-323, 0.0}, {n, inf, -inf},
      {0.0, -0.0, 0.0},         {-1e-310, 1e-310, 0.0}, {1e300, -1e300, 7.0}};
  const size_t bins[] = {1, 40, 100000};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    for (size_t b = 0; b < 3; b++) {
      double lo = INFINITY, hi = -INFINITY;
      cgd_finite_minmax(cases[c], 3, 1, &lo, &hi);
      const double dlo = lo, dhi = hi;
      cgd_hist_fit_range(&lo, &hi, bins[b]);
      cgd_hist *h = NULL;
      cgd_error err;
      ck_assert_msg(cgd_hist_create(lo, hi, bins[b], &h, &err) == CGD_OK, "case %zu, %zu bins: %s",
                    c, bins[b], err.msg);
      if (dlo <= dhi && isfinite(dhi - dlo)) ck_assert(lo <= dlo && dhi <= hi);
      cgd_hist_free(h);
    }
  /* no finite value: [-0.5, 0.5]; one value: c ± 0.5 at ordinary scales */
  double lo = INFINITY, hi = -INFINITY;
  cgd_hist_fit_range(&lo, &hi, 40);
  ck_assert(lo == -0.5 && hi == 0.5);
  lo = hi = 3.0;
  cgd_hist_fit_range(&lo, &hi, 40);
  ck_assert(lo == 2.5 && hi == 3.5);
  /* an ordinary range is left as it is */
  lo = -1.25, hi = 7.5;
  cgd_hist_fit_range(&lo, &hi, 40);
  ck_assert(lo == -1.25 && hi == 7.5);
}
END_TEST

START_TEST(test_hist2d) {
  cgd_hist2d *h = NULL;
  cgd_error err;
  ck_assert_int_eq(cgd_hist2d_create(0.0, 1.0, 2, -1.0, 1.0, 4, &h, &err), CGD_OK);
  const double pts[] = {
      0.0,  -1.0,     /* (0,0) */
      1.0,  1.0,      /* both at the upper end: last bin (1,3) */
      0.5,  0.0,      /* x edge of bin 1, y edge of bin 2: (1,2) */
      0.49, 0.99,     /* (0,3) */
      1.5,  0.0,      /* x outside */
      0.2,  -1.5,     /* y outside */
      NAN,  0.0,      /* non-finite */
      0.2,  INFINITY, /* non-finite wins over outside */
  };
  cgd_hist2d_add(h, pts, 8);
  ck_assert_uint_eq(h->outside, 2);
  ck_assert_uint_eq(h->nonfinite, 2);
  ck_assert_uint_eq(h->count[0 * 4 + 0], 1);
  ck_assert_uint_eq(h->count[1 * 4 + 3], 1);
  ck_assert_uint_eq(h->count[1 * 4 + 2], 1);
  ck_assert_uint_eq(h->count[0 * 4 + 3], 1);
  double p[8], s = 0.0;
  ck_assert_uint_eq(cgd_hist2d_prob(h, p), 4);
  for (int k = 0; k < 8; k++) s += p[k];
  ck_assert(s == 1.0); /* four quarters and zeros: exact in binary */
  cgd_hist2d_free(h);
}
END_TEST

/* ---------------------------------------------------------------- tail statistics */

static cgd_tail_stats tail(const double *L, size_t n, size_t start) {
  cgd_tail_stats ts;
  cgd_error err;
  cgd_verdict_opts o;
  cgd_verdict_defaults(&o);
  ck_assert_int_eq(cgd_tail_stats_compute(L, n, start, &o, &ts, &err), CGD_OK);
  return ts;
}

START_TEST(test_tail_constant) {
  double L[1000];
  for (int t = 0; t < 1000; t++) L[t] = 3.5;
  cgd_tail_stats ts = tail(L, 1000, 100);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_CONVERGED);
  ck_assert_uint_eq(ts.start, 100);
  ck_assert_uint_eq(ts.len, 900);
  ck_assert(ts.mean == 3.5 && ts.std == 0.0 && ts.rel_std == 0.0);
  ck_assert(ts.frac_increase == 0.0);
  ck_assert(ts.lag1_autocorr_incr == 0.0); /* all increments 0: undefined → 0 */
  ck_assert_int_eq(ts.period, 0);
  ck_assert_str_eq(cgd_verdict_name(ts.verdict), "converged");

  /* All zeros: the 1e-300 floor makes a zero loss converged, and rel_std is 0 by rule. */
  for (int t = 0; t < 1000; t++) L[t] = 0.0;
  ts = tail(L, 1000, 0);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_CONVERGED);
  ck_assert(ts.rel_std == 0.0);
}
END_TEST

/* 1, 0.99, 0.99², ...: every step lowers the loss by 1% — never within the 1e-9 converged
 * band nor periodic (steps near the start are 1% of the range, far above 1e-6). */
START_TEST(test_tail_descending) {
  enum { N = 2000 };
  double L[N];
  L[0] = 1.0;
  for (int t = 1; t < N; t++) L[t] = 0.99 * L[t - 1];
  cgd_tail_stats ts = tail(L, N, 0);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_DESCENDING);
  ck_assert(ts.frac_increase == 0.0);
  ck_assert_int_eq(ts.period, 0);
  ck_assert(ts.min == L[N - 1] && ts.max == 1.0);
}
END_TEST

/* A descent with chatter: L = 1/(1 + t/100) plus a bump of 1e-4 on every 7th step, which
 * makes the step into it rise once the descent per step is below 1e-4 (t > 900): 13.7% of
 * the steps, like the kink rises of a still-descending MLP run. The 20 block means strictly
 * decrease (block_means_decreasing), but the rises exceed the 2% cap of "descending", so
 * the verdict is chaotic; with the cap raised to 20% it is descending. The logistic map's
 * block means are not monotone. */
START_TEST(test_tail_trend_with_rises) {
  enum { N = 20000 };
  double *L = malloc(N * sizeof *L);
  ck_assert_ptr_nonnull(L);
  for (int t = 0; t < N; t++) L[t] = 1.0 / (1.0 + t / 100.0) + (t % 7 == 6 ? 1e-4 : 0.0);
  cgd_tail_stats ts = tail(L, N, 0);
  ck_assert_msg(ts.frac_increase > 0.13 && ts.frac_increase < 0.15, "%g", ts.frac_increase);
  ck_assert_int_eq(ts.block_means_decreasing, 1);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_CHAOTIC);
  cgd_verdict_opts o;
  cgd_verdict_defaults(&o);
  o.descent_max_rise = 0.2;
  cgd_error err;
  ck_assert_int_eq(cgd_tail_stats_compute(L, N, 0, &o, &ts, &err), CGD_OK);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_DESCENDING);
  L[0] = 0.3;
  for (int t = 1; t < N; t++) L[t] = 4.0 * L[t - 1] * (1.0 - L[t - 1]);
  ts = tail(L, N, 0);
  ck_assert_int_eq(ts.block_means_decreasing, 0);
  free(L);
}
END_TEST

/* An exact 3-cycle is periodic with period 3 wherever the tail starts, provided the tail
 * holds more than two cycles (len > 2p); with len = 6 = 2p the claim is refused. */
START_TEST(test_tail_period3) {
  enum { N = 300 };
  double L[N];
  const double cyc[3] = {1.0, 2.0, 5.0};
  for (int t = 0; t < N; t++) L[t] = cyc[t % 3];
  cgd_tail_stats ts = tail(L, N, 0);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_PERIODIC);
  ck_assert_int_eq(ts.period, 3);
  ts = tail(L, N, 7);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_PERIODIC);
  ck_assert_int_eq(ts.period, 3);
  /* Increases 1→2, 2→5 out of steps 1→2, 2→5, 5→1: over 99 whole cycles (297 steps,
   * len 298) exactly 198 of them. */
  ts = tail(L, 298, 0);
  ck_assert(ts.frac_increase == 198.0 / 297.0);

  ts = tail(L, 7, 0);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_PERIODIC);
  ck_assert_int_eq(ts.period, 3);
  ts = tail(L, 6, 0);
  ck_assert_int_eq(ts.period, 0);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_CHAOTIC);

  /* Period 2 that settles geometrically onto its cycle: from t = 30 the residual drift
   * |M[t+2]−M[t]| = ¾·2^−t ≤ 7e-10 is inside 1e-6 of the range (≈ 2), from t = 5 it is not. */
  double M[200];
  for (int t = 0; t < 200; t++) M[t] = (t % 2 ? 3.0 : 1.0) + ldexp(1.0, -t);
  ts = tail(M, 200, 30);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_PERIODIC);
  ck_assert_int_eq(ts.period, 2);
  ts = tail(M, 200, 5);
  ck_assert_int_eq(ts.period, 0);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_CHAOTIC);
}
END_TEST

/* Logistic map at r = 4. Its invariant density is 1/(π√(x(1−x))), with CDF
 * (2/π)·asin(√x); x_{t+1} > x_t ⇔ 4(1−x) > 1 ⇔ x < 3/4, so
 * P(increase) = (2/π)·asin(√3/2) = (2/π)(π/3) = 2/3. For 10^4 samples the binomial
 * standard error is √(2/9/10^4) ≈ 0.005; 0.02 is four of them. */
START_TEST(test_tail_logistic) {
  enum { N = 10000 };
  double *L = malloc(N * sizeof *L);
  ck_assert_ptr_nonnull(L);
  L[0] = 0.3;
  for (int t = 1; t < N; t++) L[t] = 4.0 * L[t - 1] * (1.0 - L[t - 1]);
  cgd_tail_stats ts = tail(L, N, 0);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_CHAOTIC);
  ck_assert_int_eq(ts.period, 0);
  const double expect = 2.0 / M_PI * asin(sqrt(3.0) / 2.0);
  ck_assert(fabs(expect - 2.0 / 3.0) < 1e-15);
  ck_assert_msg(fabs(ts.frac_increase - expect) < 0.02, "frac_increase %.4f vs %.4f",
                ts.frac_increase, expect);
  /* Invariant law has mean 1/2, variance 1/8; same order of tolerance as above. */
  ck_assert(fabs(ts.mean - 0.5) < 0.02);
  ck_assert(fabs(ts.std - sqrt(0.125)) < 0.02);
  free(L);
}
END_TEST

START_TEST(test_tail_diverged) {
  double L[50];
  for (int t = 0; t < 50; t++) L[t] = 1.0 / (1.0 + t);
  L[40] = NAN;
  cgd_tail_stats ts = tail(L, 50, 10);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_DIVERGED);
  ck_assert(isnan(ts.mean) && isnan(ts.frac_increase));
  ck_assert_int_eq(ts.period, 0);
  /* Diverged takes precedence even over a constant rest. */
  for (int t = 0; t < 50; t++) L[t] = 2.0;
  L[49] = INFINITY;
  ts = tail(L, 50, 0);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_DIVERGED);
  /* A NaN before the tail does not matter. */
  L[49] = 2.0;
  L[3] = NAN;
  ts = tail(L, 50, 4);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_CONVERGED);
}
END_TEST

/* Increments of an i.i.d. sequence: d_t = x_{t+1} − x_t share x_{t+1} with opposite signs,
 * so Cov(d_t, d_{t+1}) = −Var x, Var d = 2 Var x and the lag-1 autocorrelation is −1/2.
 * Bartlett's formula for an MA(1) with ρ₁ = −1/2 gives a sampling sd of √(0.5/N) ≈ 0.007
 * for N = 10^4; the 3/√N = 0.03 band is more than four of them. */
START_TEST(test_tail_lag1_iid) {
  enum { N = 10000 };
  double *L = malloc(N * sizeof *L);
  ck_assert_ptr_nonnull(L);
  for (uint64_t t = 0; t < N; t++) L[t] = 5.0 + cgd_rng_uniform(SEED, STREAM_TEST + 2, t);
  cgd_tail_stats ts = tail(L, N, 0);
  ck_assert_msg(fabs(ts.lag1_autocorr_incr + 0.5) < 3.0 / sqrt((double)N), "lag1 %.4f",
                ts.lag1_autocorr_incr);
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_CHAOTIC);
  /* Uniform steps up: P(x_{t+1} > x_t) = 1/2, binomial sd 0.005. */
  ck_assert(fabs(ts.frac_increase - 0.5) < 0.02);
  free(L);

  /* Hand example: L = 0, 1, 3, 2 → d = 1, 2, −1, d̄ = 2/3, deviations 1/3, 4/3, −5/3;
   * Σ lag-1 products = 4/9 − 20/9 = −16/9, Σ squares = 42/9, ratio −8/21 (a few ulps). */
  const double M[4] = {0.0, 1.0, 3.0, 2.0};
  ts = tail(M, 4, 0);
  ck_assert(close_rel(ts.lag1_autocorr_incr, -8.0 / 21.0, 1e-14));
}
END_TEST

START_TEST(test_tail_errors) {
  double L[3] = {1, 2, 3};
  cgd_tail_stats ts;
  cgd_error err;
  ck_assert_int_eq(cgd_tail_stats_compute(L, 3, 2, NULL, &ts, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_tail_stats_compute(L, 3, 3, NULL, &ts, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_tail_stats_compute(L, 3, 9, NULL, &ts, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_tail_stats_compute(NULL, 3, 0, NULL, &ts, &err), CGD_EUSAGE);
  cgd_verdict_opts o;
  cgd_verdict_defaults(&o);
  o.period_rtol = -1.0;
  ck_assert_int_eq(cgd_tail_stats_compute(L, 3, 0, &o, &ts, &err), CGD_EUSAGE);
  /* NULL options mean the defaults. */
  ck_assert_int_eq(cgd_tail_stats_compute(L, 3, 0, NULL, &ts, &err), CGD_OK);
  /* A rising sequence is neither converged, periodic nor descending: the rules call it
   * chaotic (the loop's loss limit is what catches a runaway rise). */
  ck_assert_int_eq(ts.verdict, CGD_VERDICT_CHAOTIC);
  ck_assert_str_eq(cgd_verdict_name(CGD_VERDICT_DESCENDING), "descending");
  ck_assert_str_eq(cgd_verdict_name(CGD_VERDICT_PERIODIC), "periodic");
  ck_assert_str_eq(cgd_verdict_name(CGD_VERDICT_CHAOTIC), "chaotic");
  ck_assert_str_eq(cgd_verdict_name(CGD_VERDICT_DIVERGED), "diverged");
}
END_TEST

/* ---------------------------------------------------------------- distances */

START_TEST(test_dist_identical) {
  const double p[5] = {0.1, 0.2, 0.3, 0.25, 0.15};
  double q[5];
  for (int k = 0; k < 5; k++) q[k] = 3.0 * p[k]; /* same law before normalisation */
  struct cgd_distances d;
  cgd_error err;
  ck_assert_int_eq(cgd_distances_1d(p, q, 5, 0.5, &d, &err), CGD_OK);
  /* Normalising p and 3p can differ by an ulp per bin; 1e-15 absolute covers that. */
  ck_assert(d.tv <= 1e-15 && d.hellinger <= 1e-15 && fabs(d.kl) <= 1e-15);
  ck_assert(d.w1 <= 1e-15 && d.ks <= 1e-15);
  ck_assert_int_eq(cgd_distances_1d(p, p, 5, 0.5, &d, &err), CGD_OK);
  ck_assert(d.tv == 0.0 && d.hellinger == 0.0 && d.kl == 0.0 && d.w1 == 0.0 && d.ks == 0.0);
}
END_TEST

START_TEST(test_dist_disjoint) {
  const double p[4] = {1.0, 1.0, 0.0, 0.0}, q[4] = {0.0, 0.0, 2.0, 6.0};
  struct cgd_distances d;
  cgd_error err;
  ck_assert_int_eq(cgd_distances_1d(p, q, 4, 1.0, &d, &err), CGD_OK);
  ck_assert(d.tv == 1.0); /* sums of halves and quarters: exact */
  /* (√½)² and (√¾)² are each within an ulp of ½ and ¾, so ~1e-16 either way. */
  ck_assert(fabs(d.hellinger - 1.0) <= 1e-15);
  ck_assert(d.ks == 1.0);
  /* W1 = ∫|F−G|: F−G = 1/2, 1, 3/4 on the three inner edges → 2.25 bin widths, exact. */
  ck_assert(d.w1 == 2.25);
  /* q has no mass where p lives: every p-bin pays ln(p/1e-12). */
  ck_assert(close_rel(d.kl, log(0.5 / 1e-12), 1e-15));
}
END_TEST

/* p = (1,4,4)/9, q = (4,4,1)/9 (passed unnormalised), w = 1/4:
 *   tv  = ½(3/9 + 0 + 3/9) = 1/3
 *   hel = √(½((1/3−2/3)² + 0 + (2/3−1/3)²)) = √(1/9) = 1/3
 *   kl  = (1/9)ln(1/4) + (4/9)ln 4 = (1/3) ln 4 = (2/3) ln 2
 *   P = (1/9, 5/9, 1), Q = (4/9, 8/9, 1): w1 = ¼(1/3 + 1/3) = 1/6, ks = 1/3.
 * The operations involve no cancellation of large terms, so results are within a few
 * ulps; 1e-15 relative is ~4.5 ulps. */
START_TEST(test_dist_hand) {
  const double p[3] = {1.0, 4.0, 4.0}, q[3] = {4.0, 4.0, 1.0};
  struct cgd_distances d;
  cgd_error err;
  ck_assert_int_eq(cgd_distances_1d(p, q, 3, 0.25, &d, &err), CGD_OK);
  ck_assert_msg(close_rel(d.tv, 1.0 / 3.0, 1e-15), "tv %.17g", d.tv);
  ck_assert_msg(close_rel(d.hellinger, 1.0 / 3.0, 1e-15), "hel %.17g", d.hellinger);
  ck_assert_msg(close_rel(d.kl, 2.0 / 3.0 * log(2.0), 1e-15), "kl %.17g", d.kl);
  ck_assert_msg(close_rel(d.w1, 1.0 / 6.0, 1e-15), "w1 %.17g", d.w1);
  ck_assert_msg(close_rel(d.ks, 1.0 / 3.0, 1e-15), "ks %.17g", d.ks);

  /* The n-D version agrees on tv/hellinger/kl and leaves w1/ks undefined. */
  struct cgd_distances e;
  ck_assert_int_eq(cgd_distances(p, q, 3, &e, &err), CGD_OK);
  ck_assert(e.tv == d.tv && e.hellinger == d.hellinger && e.kl == d.kl);
  ck_assert(isnan(e.w1) && isnan(e.ks));
}
END_TEST

/* KL floor: a bin where q is empty but p is not costs p·ln(p/1e-12) instead of +inf;
 * a bin where p is empty costs nothing whatever q is. */
START_TEST(test_dist_kl_floor) {
  struct cgd_distances d;
  cgd_error err;
  const double p1[2] = {1.0, 1.0}, q1[2] = {1.0, 0.0};
  ck_assert_int_eq(cgd_distances(p1, q1, 2, &d, &err), CGD_OK);
  const double expect = 0.5 * log(0.5) + 0.5 * log(0.5 / 1e-12);
  ck_assert(isfinite(d.kl));
  ck_assert_msg(close_rel(d.kl, expect, 1e-15), "kl %.17g vs %.17g", d.kl, expect);
  /* Reverse direction: p = (1,0), q = (1/2,1/2) → KL = ln 2 exactly as without a floor. */
  ck_assert_int_eq(cgd_distances(q1, p1, 2, &d, &err), CGD_OK);
  ck_assert(close_rel(d.kl, log(2.0), 1e-15));
  /* q below the floor but non-zero is floored too: q = 1e-14 counts as 1e-12. */
  const double q2[2] = {1.0, 1e-14};
  ck_assert_int_eq(cgd_distances(p1, q2, 2, &d, &err), CGD_OK);
  ck_assert(close_rel(d.kl, 0.5 * log(0.5 / (1.0 / (1.0 + 1e-14))) + 0.5 * log(0.5 / 1e-12),
                      1e-14));
}
END_TEST

/* Point masses k bins apart: F − G = 1 on exactly k edges, so W1 = k·w and KS = 1. */
START_TEST(test_dist_w1_point_masses) {
  enum { M = 20 };
  const double w = 0.1;
  struct cgd_distances d;
  cgd_error err;
  for (int k = 1; k <= 10; k++) {
    double p[M] = {0}, q[M] = {0};
    p[3] = 1.0;
    q[3 + k] = 7.0;
    ck_assert_int_eq(cgd_distances_1d(p, q, M, w, &d, &err), CGD_OK);
    ck_assert_msg(close_rel(d.w1, k * w, 1e-15), "k=%d w1 %.17g", k, d.w1);
    ck_assert(d.ks == 1.0 && d.tv == 1.0 && d.hellinger == 1.0);
    /* Symmetric in its arguments. */
    ck_assert_int_eq(cgd_distances_1d(q, p, M, w, &d, &err), CGD_OK);
    ck_assert(close_rel(d.w1, k * w, 1e-15) && d.ks == 1.0);
  }
}
END_TEST

START_TEST(test_dist_errors) {
  struct cgd_distances d;
  cgd_error err;
  const double ok[3] = {1, 2, 3}, zero[3] = {0, 0, 0}, neg[3] = {1, -1e-300, 3},
               nan3[3] = {1, NAN, 3}, inf3[3] = {1, INFINITY, 3};
  ck_assert_int_eq(cgd_distances_1d(ok, zero, 3, 1.0, &d, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_distances_1d(zero, ok, 3, 1.0, &d, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_distances_1d(ok, neg, 3, 1.0, &d, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_distances(nan3, ok, 3, &d, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_distances(ok, inf3, 3, &d, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_distances(ok, ok, 0, &d, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_distances_1d(ok, ok, 3, 0.0, &d, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_distances_1d(ok, ok, 3, NAN, &d, &err), CGD_EUSAGE);
  ck_assert(strlen(err.msg) > 0);
}
END_TEST

/* ---------------------------------------------------------------- Gibbs law */

typedef struct {
  int calls;
  size_t points;
  int fail;     /* 1: return CGD_EDATA with a message; 2: write NaN */
  double offset; /* added to f0: the law must not change */
} f0_ctx;

static int f0_quad(void *ctx, size_t n, const double *x, double *f, double *g, double *h,
                   cgd_error *err) {
  f0_ctx *c = ctx;
  c->calls++;
  c->points += n;
  ck_assert(g == NULL && h == NULL);
  if (c->fail == 1) return cgd_fail(err, CGD_EDATA, "boom from f0");
  for (size_t i = 0; i < n; i++) f[i] = 0.5 * x[i] * x[i] + c->offset;
  if (c->fail == 2) f[n / 2] = NAN;
  return CGD_OK;
}

static int f0_quartic(void *ctx, size_t n, const double *x, double *f, double *g, double *h,
                      cgd_error *err) {
  (void)ctx, (void)g, (void)h, (void)err;
  for (size_t i = 0; i < n; i++) f[i] = 0.25 * x[i] * x[i] * x[i] * x[i];
  return CGD_OK;
}

/* f0(x, y) = x²/2 + y²: separable, so ρ factorises. */
static int f0_sep2(void *ctx, size_t n, const double *x, double *f, double *g, double *h,
                   cgd_error *err) {
  f0_ctx *c = ctx;
  (void)g, (void)h, (void)err;
  c->calls++;
  c->points += n;
  for (size_t i = 0; i < n; i++) f[i] = 0.5 * x[2 * i] * x[2 * i] + x[2 * i + 1] * x[2 * i + 1];
  return CGD_OK;
}

/* Bin probabilities of N(0, s²) restricted to [lo, hi) with nb bins, by erf. */
static void normal_bins(double s, double lo, double hi, size_t nb, double *p) {
  const double w = (hi - lo) / (double)nb, c = 1.0 / (s * sqrt(2.0));
  double tot = 0.0;
  for (size_t k = 0; k < nb; k++) {
    double a = lo + (double)k * w, b = lo + (double)(k + 1) * w;
    p[k] = 0.5 * (erf(b * c) - erf(a * c));
    tot += p[k];
  }
  for (size_t k = 0; k < nb; k++) p[k] /= tot;
}

/* f0 = x²/2 gives ρ ∝ exp(−x²/(ησ²)), a normal with variance ησ²/2; choosing
 * ησ² = 2s² makes it N(0, s²). 5-point Gauss–Legendre on sub-intervals of width 1/32 is
 * accurate far beyond 1e-10 for a Gaussian of scale 0.7 (error ~ h^10 f^(10)), so the
 * tolerance only absorbs rounding in erf differences. */
START_TEST(test_gibbs_1d_quadratic) {
  enum { NB = 18 };
  const double s = 0.7, eta = 0.49, sigma2 = 2.0 * s * s / eta;
  const double lo = -2.0, hi = 2.5;
  double p[NB], ref[NB];
  f0_ctx c = {0, 0, 0, 0.0};
  cgd_error err;
  ck_assert_int_eq(cgd_gibbs_bins_1d(f0_quad, &c, eta, sigma2, lo, hi, NB, p, &err), CGD_OK);
  /* The brief: all nodes in one batched call (5 nodes × 8 sub-intervals per bin). */
  ck_assert_int_eq(c.calls, 1);
  ck_assert_uint_eq(c.points, NB * 40);
  normal_bins(s, lo, hi, NB, ref);
  double tot = 0.0;
  for (int k = 0; k < NB; k++) {
    ck_assert_msg(fabs(p[k] - ref[k]) < 1e-10, "bin %d: %.15g vs %.15g", k, p[k], ref[k]);
    tot += p[k];
  }
  ck_assert(fabs(tot - 1.0) < 1e-14);

  /* Shift invariance: adding 1e4 to f0 multiplies ρ by exp(−2e4/0.98), which underflows
   * to 0 unless the exponent is shifted by its minimum; the law must not change. */
  c.offset = 1e4;
  ck_assert_int_eq(cgd_gibbs_bins_1d(f0_quad, &c, eta, sigma2, lo, hi, NB, p, &err), CGD_OK);
  for (int k = 0; k < NB; k++) ck_assert(fabs(p[k] - ref[k]) < 1e-10);
}
END_TEST

/* A very peaked law (ησ² tiny) whose un-shifted weights all underflow: still sums to 1. */
START_TEST(test_gibbs_1d_underflow) {
  double p[10];
  f0_ctx c = {0, 0, 0, 0.0};
  cgd_error err;
  /* ρ ∝ exp(−x²/1e-4) on [3, 4): every node has exponent ≤ −9e4 before the shift. */
  ck_assert_int_eq(cgd_gibbs_bins_1d(f0_quad, &c, 1e-4, 1.0, 3.0, 4.0, 10, p, &err), CGD_OK);
  double tot = 0.0;
  for (int k = 0; k < 10; k++) {
    ck_assert(isfinite(p[k]) && p[k] >= 0.0);
    tot += p[k];
  }
  ck_assert(fabs(tot - 1.0) < 1e-14);
  ck_assert(p[0] > 0.99); /* all mass hugs the left end */
}
END_TEST

/* f0 = x⁴/4, ησ² = 1: ρ ∝ exp(−x⁴/2). Reference: trapezoid with 4000 panels per bin
 * (h = 6.25e-5); its error per bin is ≈ w·h²·max|ρ''|/12 ≈ 2.5e-10 relative to the total
 * mass ≈ 2.16, so 1e-7 is a wide margin for both methods. */
START_TEST(test_gibbs_1d_quartic) {
  enum { NB = 16, PANELS = 4000 };
  const double lo = -2.0, hi = 2.0, w = (hi - lo) / NB;
  double p[NB], ref[NB], tot = 0.0;
  cgd_error err;
  ck_assert_int_eq(cgd_gibbs_bins_1d(f0_quartic, NULL, 1.0, 1.0, lo, hi, NB, p, &err), CGD_OK);
  for (int k = 0; k < NB; k++) {
    const double a = lo + k * w, h = w / PANELS;
    double s = 0.0;
    for (int i = 0; i <= PANELS; i++) {
      double x = a + i * h, r = exp(-0.5 * x * x * x * x);
      s += (i == 0 || i == PANELS) ? 0.5 * r : r;
    }
    ref[k] = s * h;
    tot += ref[k];
  }
  for (int k = 0; k < NB; k++) {
    ref[k] /= tot;
    ck_assert_msg(fabs(p[k] - ref[k]) < 1e-7, "bin %d: %.15g vs %.15g", k, p[k], ref[k]);
  }
}
END_TEST

/* f0 = x²/2 + y², ησ² = 1: ρ ∝ exp(−x²)·exp(−2y²) = N(0, 1/2) ⊗ N(0, 1/4), so each bin's
 * probability is the product of 1-D erf probabilities. 5×5 nodes on 4×4 sub-cells of side
 * 1/8 integrate these Gaussians to ~1e-15; 1e-9 absorbs erf rounding with margin. The
 * grid is non-square and off-centre so swapped axes or a wrong i*ny+j layout fail. */
START_TEST(test_gibbs_2d_separable) {
  enum { NX = 11, NY = 6 };
  const double xlo = -2.5, xhi = 3.0, ylo = -1.5, yhi = 1.5;
  double p[NX * NY], px[NX], py[NY];
  f0_ctx c = {0, 0, 0, 0.0};
  cgd_error err;
  ck_assert_int_eq(cgd_gibbs_bins_2d(f0_sep2, &c, 1.0, 1.0, xlo, xhi, NX, ylo, yhi, NY, p, &err),
                   CGD_OK);
  ck_assert_uint_eq(c.points, (size_t)NX * NY * 400);
  normal_bins(sqrt(0.5), xlo, xhi, NX, px);
  normal_bins(0.5, ylo, yhi, NY, py);
  double tot = 0.0;
  for (int i = 0; i < NX; i++)
    for (int j = 0; j < NY; j++) {
      ck_assert_msg(fabs(p[i * NY + j] - px[i] * py[j]) < 1e-9, "bin (%d,%d): %.15g vs %.15g",
                    i, j, p[i * NY + j], px[i] * py[j]);
      tot += p[i * NY + j];
    }
  ck_assert(fabs(tot - 1.0) < 1e-13);
}
END_TEST

/* Errors from the callback come back with their status and message; NaN values and bad
 * arguments are refused without calling anything undefined. */
START_TEST(test_gibbs_errors) {
  double p[8];
  cgd_error err;
  f0_ctx c = {0, 0, 1, 0.0};
  ck_assert_int_eq(cgd_gibbs_bins_1d(f0_quad, &c, 1.0, 1.0, -1.0, 1.0, 8, p, &err), CGD_EDATA);
  ck_assert_ptr_nonnull(strstr(err.msg, "boom from f0"));
  /* NaN from f0: a usage error (f0 is an option; README: expression errors exit 2),
   * naming the node */
  c.fail = 2;
  ck_assert_int_eq(cgd_gibbs_bins_1d(f0_quad, &c, 1.0, 1.0, -1.0, 1.0, 8, p, &err), CGD_EUSAGE);
  ck_assert_msg(strstr(err.msg, "f0 is NaN at x = ") != NULL, "%s", err.msg);
  c.fail = 1;
  ck_assert_int_eq(cgd_gibbs_bins_2d(f0_quad, &c, 1.0, 1.0, -1, 1, 2, -1, 1, 4, p, &err),
                   CGD_EDATA);
  ck_assert_ptr_nonnull(strstr(err.msg, "boom from f0"));
  c.fail = 0;
  ck_assert_int_eq(cgd_gibbs_bins_1d(f0_quad, &c, 0.0, 1.0, -1.0, 1.0, 8, p, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_gibbs_bins_1d(f0_quad, &c, 1.0, -1.0, -1.0, 1.0, 8, p, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_gibbs_bins_1d(f0_quad, &c, 1.0, 1.0, 1.0, -1.0, 8, p, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_gibbs_bins_1d(f0_quad, &c, 1.0, 1.0, -1.0, 1.0, 0, p, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_gibbs_bins_1d(NULL, &c, 1.0, 1.0, -1.0, 1.0, 8, p, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_gibbs_bins_2d(f0_sep2, &c, 1.0, 1.0, -1, 1, 2, 1, -1, 4, p, &err),
                   CGD_EUSAGE);
}
END_TEST

/* ---------------------------------------------------------------- moments */

/* {1,2,3,4} + 1e9: every value, the mean 1e9 + 2.5 and the variance 1.25 are exact in
 * binary, and a two-pass method reproduces them exactly despite the offset. */
START_TEST(test_mean_var) {
  const double v[4] = {1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4};
  double m, var;
  cgd_mean_var(v, 4, &m, &var);
  ck_assert(m == 1e9 + 2.5);
  ck_assert(var == 1.25);
  cgd_mean_var(v, 0, &m, &var);
  ck_assert(m == 0.0 && var == 0.0);
  cgd_mean_var(v, 1, &m, NULL);
  ck_assert(m == v[0]);
  /* squares that overflow (a blown-up series): the spread is still measured (it was 0) */
  {
    const double big[4] = {1.0, 4.8e274, 2.0, 3.0};
    double mu, var;
    cgd_mean_var(big, 4, &mu, &var);
    ck_assert(isinf(var));
    cgd_tail_stats ts;
    cgd_verdict_opts vo;
    cgd_verdict_defaults(&vo);
    cgd_error err;
    ck_assert_int_eq(cgd_tail_stats_compute(big, 4, 0, &vo, &ts, &err), CGD_OK);
    const double want = 4.8e274 * sqrt(3.0) / 4.0; /* one value c among ~0: c·√(n−1)/n */
    ck_assert_msg(fabs(ts.std - want) <= 1e-12 * want, "std %g, want %g", ts.std, want);
    /* a sum that overflows (values near DBL_MAX): the mean is still finite and right */
    const double top[3] = {0x1.8p1023, 0x1.6p1023, 0x1.7p1023};
    ck_assert_int_eq(cgd_tail_stats_compute(top, 3, 0, &vo, &ts, &err), CGD_OK);
    ck_assert(ts.mean == 0x1.7p1023);
    ck_assert_msg(fabs(ts.std - 0x1p1019 * sqrt(2.0 / 3.0)) <= 1e-12 * ts.std, "std %a", ts.std);
  }
}
END_TEST

static Suite *stats_suite(void) {
  Suite *s = suite_create("stats");
  TCase *th = tcase_create("hist");
  tcase_add_test(th, test_hist_create_errors);
  tcase_add_test(th, test_hist_edges);
  tcase_add_test(th, test_hist_under_over_nonfinite);
  tcase_add_test(th, test_hist_count_matches_add);
  tcase_add_test(th, test_hist_prob_sum);
  tcase_add_test(th, test_hist_moments);
  tcase_add_test(th, test_hist2d);
  tcase_add_test(th, test_hist_fit_range);
  suite_add_tcase(s, th);

  TCase *tt = tcase_create("tail");
  tcase_add_test(tt, test_tail_constant);
  tcase_add_test(tt, test_tail_descending);
  tcase_add_test(tt, test_tail_trend_with_rises);
  tcase_add_test(tt, test_tail_period3);
  tcase_add_test(tt, test_tail_logistic);
  tcase_add_test(tt, test_tail_diverged);
  tcase_add_test(tt, test_tail_lag1_iid);
  tcase_add_test(tt, test_tail_errors);
  suite_add_tcase(s, tt);

  TCase *td = tcase_create("distances");
  tcase_add_test(td, test_dist_identical);
  tcase_add_test(td, test_dist_disjoint);
  tcase_add_test(td, test_dist_hand);
  tcase_add_test(td, test_dist_kl_floor);
  tcase_add_test(td, test_dist_w1_point_masses);
  tcase_add_test(td, test_dist_errors);
  suite_add_tcase(s, td);

  TCase *tg = tcase_create("gibbs");
  tcase_add_test(tg, test_gibbs_1d_quadratic);
  tcase_add_test(tg, test_gibbs_1d_underflow);
  tcase_add_test(tg, test_gibbs_1d_quartic);
  tcase_add_test(tg, test_gibbs_2d_separable);
  tcase_add_test(tg, test_gibbs_errors);
  suite_add_tcase(s, tg);

  TCase *tm = tcase_create("moments");
  tcase_add_test(tm, test_mean_var);
  suite_add_tcase(s, tm);
  return s;
}

int main(void) {
  return cgd_check_run(stats_suite());
}
