/* The MLP: gradient against central differences, BLAS path against the plain-loop
 * reference, initialisation, and the parameter file round trip. */
#include <cblas.h>
#include <check.h>
#include <omp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaosgd/dataset.h"
#include "chaosgd/mlp.h"
#include "chaosgd/rng.h"

#include "check_main.h"

/* Synthetic regression data: n rows of d standard-normal inputs, a smooth target. */
static void make_data(size_t n, size_t d, uint64_t seed, double *X, double *y) {
  for (size_t i = 0; i < n; i++) {
    double acc = 0;
    for (size_t k = 0; k < d; k++) {
      X[i * d + k] = cgd_rng_normal(seed, 100, i * d + k);
      acc += sin((double)(k + 1) * X[i * d + k]);
    }
    y[i] = acc;
  }
}

/* Every parameter, central differences with h = 1e-5: the truncation error is
 * O(h^2 f''') ~ 1e-10 and the rounding error O(eps_mach L / h) ~ 1e-11, so a signed
 * relative error above 1e-6 means a wrong derivative. The leaky-ReLU kinks are the one
 * thing that breaks finite differences: a unit whose pre-activation lies within h·|x| of 0
 * changes slope inside the stencil. With 64 rows that happens for roughly one parameter
 * in a few hundred; data and seeds are fixed, so the check is deterministic, and a failure
 * naming a single parameter with an error near 1e-2 would point at a kink, not a bug.
 * The relative error uses max(|g|, 1e-3·max|g|) so tiny components are judged on the
 * gradient's own scale. */
static void gradcheck(uint64_t seed) {
  const size_t n = 64, d = 5, H = 16;
  double X[64 * 5], y[64];
  make_data(n, d, seed, X, y);
  cgd_mlp *m;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_create(n, d, H, 0.01, X, y, &m, &err), CGD_OK);
  const size_t P = cgd_mlp_nparams(m);
  ck_assert_uint_eq(P, 16 * 5 + 16 + 16 + 1);
  double *th = malloc(3 * P * sizeof *th), *g = th + P, *tp = g + P;
  cgd_mlp_init(m, seed, th);
  cgd_mlp_loss_grad(m, th, g);
  double gmax = 0;
  for (size_t p = 0; p < P; p++) gmax = fmax(gmax, fabs(g[p]));
  ck_assert_msg(gmax > 1e-3, "gradient is trivially small (max %g)", gmax);
  const double h = 1e-5;
  double worst = 0;
  size_t worst_p = 0;
  for (size_t p = 0; p < P; p++) {
    memcpy(tp, th, P * sizeof *tp);
    tp[p] = th[p] + h;
    double Lp = cgd_mlp_loss_grad(m, tp, NULL);
    tp[p] = th[p] - h;
    double Lm = cgd_mlp_loss_grad(m, tp, NULL);
    double fd = (Lp - Lm) / (2 * h);
    double rel = (fd - g[p]) / fmax(fabs(g[p]), 1e-3 * gmax);
    if (fabs(rel) > fabs(worst)) {
      worst = rel;
      worst_p = p;
    }
  }
  ck_assert_msg(fabs(worst) < 1e-6, "seed %llu: parameter %zu signed relative error %.3g",
                (unsigned long long)seed, worst_p, worst);
  free(th);
  cgd_mlp_free(m);
}

START_TEST(gradient_vs_central_differences) {
  for (uint64_t seed = 0; seed < 4; seed++) gradcheck(seed);
}
END_TEST

/* The BLAS path and the per-sample reference sum in different orders; with |terms| ≤ O(10)
 * and n ≤ 1503 the difference is a few hundred ulps of the result at most: 1e-12 relative
 * to the largest component. */
static void blas_vs_ref(size_t n, size_t d, size_t H, const double *X, const double *y,
                        uint64_t seed) {
  cgd_mlp *m;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_create(n, d, H, 0.01, X, y, &m, &err), CGD_OK);
  const size_t P = cgd_mlp_nparams(m);
  double *th = malloc(3 * P * sizeof *th), *g1 = th + P, *g2 = g1 + P;
  cgd_mlp_init(m, seed, th);
  double L1 = cgd_mlp_loss_grad(m, th, g1);
  double L2 = cgd_mlp_loss_grad_ref(m, th, g2);
  ck_assert_msg(fabs(L1 - L2) <= 1e-12 * fabs(L2), "loss %.17g vs %.17g", L1, L2);
  ck_assert_double_eq(cgd_mlp_loss_grad(m, th, NULL), L1); /* loss-only path, same numbers */
  double gmax = 0;
  for (size_t p = 0; p < P; p++) gmax = fmax(gmax, fabs(g2[p]));
  for (size_t p = 0; p < P; p++)
    ck_assert_msg(fabs(g1[p] - g2[p]) <= 1e-12 * gmax, "H=%zu param %zu: %.17g vs %.17g", H, p,
                  g1[p], g2[p]);
  free(th);
  cgd_mlp_free(m);
}

START_TEST(blas_matches_reference_synthetic) {
  const size_t n = 257, d = 7;
  double *X = malloc(n * d * sizeof *X), *y = malloc(n * sizeof *y);
  make_data(n, d, 7, X, y);
  const size_t Hs[] = {1, 3, 16, 33, 128};
  for (size_t k = 0; k < 5; k++) blas_vs_ref(n, d, Hs[k], X, y, k);
  free(X);
  free(y);
}
END_TEST

START_TEST(blas_matches_reference_airfoil) {
  const char *path = getenv("CGD_AIRFOIL");
  ck_assert_msg(path && access(path, R_OK) == 0,
                "Airfoil data missing (CGD_AIRFOIL=%s): run datasets/fetch.sh", path ? path : "");
  cgd_dataset *ds;
  cgd_error err;
  ck_assert_msg(cgd_dataset_load(path, 0, &ds, &err) == CGD_OK, "%s", err.msg);
  ck_assert_int_eq(cgd_dataset_standardize(ds, &err), CGD_OK);
  blas_vs_ref(ds->n, ds->d, 16, ds->X, ds->y, 0);
  blas_vs_ref(ds->n, ds->d, 64, ds->X, ds->y, 1);
  cgd_dataset_free(ds);
}
END_TEST

START_TEST(init_pytorch_bounds_and_determinism) {
  double X[10 * 5], y[10];
  make_data(10, 5, 1, X, y);
  cgd_mlp *m;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_create(10, 5, 16, 0.01, X, y, &m, &err), CGD_OK);
  const size_t P = cgd_mlp_nparams(m);
  double a[113], b[113], c[113];
  cgd_mlp_init(m, 3, a);
  cgd_mlp_init(m, 3, b);
  cgd_mlp_init(m, 4, c);
  ck_assert_mem_eq(a, b, sizeof a);
  ck_assert_int_ne(memcmp(a, c, sizeof a), 0);
  /* layer 1 (W1, b1): |θ| ≤ 1/√5, layer 2 (W2, b2): |θ| ≤ 1/√16, and the bounds are used:
   * the largest draw of 96 uniforms comes within 5% of the bound with prob. > 0.99 */
  double m1 = 0, m2 = 0;
  for (size_t p = 0; p < P; p++) {
    if (p < 96) m1 = fmax(m1, fabs(a[p]));
    else m2 = fmax(m2, fabs(a[p]));
  }
  ck_assert(m1 <= 1 / sqrt(5.0) && m1 > 0.95 / sqrt(5.0));
  ck_assert(m2 <= 0.25 && m2 > 0.8 * 0.25);
  cgd_mlp_free(m);
}
END_TEST

START_TEST(params_round_trip_exact) {
  double X[8 * 3], y[8];
  make_data(8, 3, 2, X, y);
  cgd_mlp *m;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_create(8, 3, 5, 0.01, X, y, &m, &err), CGD_OK);
  const size_t P = cgd_mlp_nparams(m);
  double th[26], back[26];
  ck_assert_uint_eq(P, 26);
  cgd_mlp_init(m, 9, th);
  th[0] = 1.0 / 3.0;    /* not representable in decimal: needs all 17 digits */
  th[1] = -0x1.0p-1060; /* subnormal */
  char path[] = "/tmp/cgd_params_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  FILE *fp = fdopen(fd, "w");
  ck_assert_int_eq(cgd_mlp_params_write(fp, 3, 5, th, &err), CGD_OK);
  fclose(fp);
  ck_assert_msg(cgd_mlp_params_read(path, 3, 5, back, &err) == CGD_OK, "%s", err.msg);
  ck_assert_mem_eq(th, back, sizeof th);
  /* wrong shapes are refused with a message naming the line */
  ck_assert_int_eq(cgd_mlp_params_read(path, 3, 6, back, &err), CGD_EDATA);
  ck_assert_ptr_nonnull(strstr(err.msg, "line 2"));
  ck_assert_ptr_nonnull(strstr(err.msg, "hidden"));
  ck_assert_int_eq(cgd_mlp_params_read(path, 4, 5, back, &err), CGD_EDATA);
  /* truncated file */
  fp = fopen(path, "w");
  fprintf(fp, "layers 3 5 1\nW1 5 3\n0.1 0.2 0.3\n");
  fclose(fp);
  ck_assert_int_eq(cgd_mlp_params_read(path, 3, 5, back, &err), CGD_EDATA);
  ck_assert_ptr_nonnull(strstr(err.msg, "W1"));
  /* garbage and non-finite values */
  fp = fopen(path, "w");
  fprintf(fp, "layers 3 5 1\nW1 5 3\nnan 0 0\n");
  fclose(fp);
  ck_assert_int_eq(cgd_mlp_params_read(path, 3, 5, back, &err), CGD_EDATA);
  ck_assert_ptr_nonnull(strstr(err.msg, "line 3"));
  unlink(path);
  ck_assert_int_eq(cgd_mlp_params_read(path, 3, 5, back, &err), CGD_EDATA);
  cgd_mlp_free(m);
}
END_TEST


/* Writes text to a fresh temporary file and reads it as a 3-5-1 parameter file. */
static int read_text(const char *text, size_t len, double *theta, cgd_error *err) {
  char path[] = "/tmp/cgd_params_XXXXXX";
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
  close(fd);
  int rc = cgd_mlp_params_read(path, 3, 5, theta, err);
  unlink(path);
  return rc;
}

static void expect_params_error(const char *text, size_t len, const char *frag1,
                                const char *frag2) {
  double th[26];
  for (int i = 0; i < 26; i++) th[i] = 42;
  cgd_error err = {{0}};
  ck_assert_int_eq(read_text(text, len, th, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, frag1) != NULL, "\"%s\" lacks \"%s\"", err.msg, frag1);
  ck_assert_msg(!frag2 || strstr(err.msg, frag2) != NULL, "\"%s\" lacks \"%s\"", err.msg, frag2);
  for (int i = 0; i < 26; i++) ck_assert_double_eq(th[i], 42); /* untouched on error */
}

#define GOOD_HEAD "layers 3 5 1\nW1 5 3\n"
#define GOOD_W1 "1 2 3\n4 5 6\n7 8 9\n10 11 12\n13 14 15\n"
#define GOOD_TAIL "b1 5\n1 2 3 4 5\nW2 1 5\n1 2 3 4 5\nb2 1\n0.5\n"

/* Defect 5: "0.1-0.2" was read as two values and text after a NUL byte was ignored;
 * now every value is one strict token and each record has its own line. */
START_TEST(params_strict_reader) {
  const char *good = GOOD_HEAD GOOD_W1 GOOD_TAIL;
  double th[26];
  cgd_error err = {{0}};
  ck_assert_msg(read_text(good, strlen(good), th, &err) == CGD_OK, "%s", err.msg);
  ck_assert_double_eq(th[14], 15);
  ck_assert_double_eq(th[25], 0.5);
  /* comments, blank lines, CRLF, trailing comments are fine */
  const char *commented = "# c\r\n\nlayers 3 5 1 # shape\r\nW1 5 3\n" GOOD_W1 "\n# x\n" GOOD_TAIL
                          "# end\n\n";
  ck_assert_msg(read_text(commented, strlen(commented), th, &err) == CGD_OK, "%s", err.msg);
  /* two values glued by a minus sign: one bad token, on its line */
  expect_params_error(GOOD_HEAD "1 2 3\n4 0.1-0.2 6\n", 36, "line 4", "'0.1-0.2' is not a number");
  /* the same with the row count right: still an error, not 3 values */
  expect_params_error(GOOD_HEAD "1 2 3\n4 5-6\n7 8 9\n", 37, "line 4", "is not a number");
  /* text after a NUL byte */
  const char nul[] = GOOD_HEAD GOOD_W1 GOOD_TAIL "\0garbage";
  expect_params_error(nul, sizeof nul - 1, "line 14", "NUL byte");
  const char nul2[] = GOOD_HEAD "1 2\0 3\n";
  expect_params_error(nul2, sizeof nul2 - 1, "line 3", "NUL byte");
  /* a transposed W1 (3 lines of 5 values) under a correct header */
  const char *tr = GOOD_HEAD "1 2 3 4 5\n6 7 8 9 10\n11 12 13 14 15\n" GOOD_TAIL;
  expect_params_error(tr, strlen(tr), "line 3", "W1 row 1 of 5 has 5 values, expected 3");
  /* a short row */
  expect_params_error(GOOD_HEAD "1 2\n", 24, "line 3", "W1 row 1 of 5 has 2 values");
  /* junk, hex, inf, range, signs in sizes */
  expect_params_error(GOOD_HEAD "1 2 0x3\n", 28, "line 3", "'0x3' is not a number");
  expect_params_error(GOOD_HEAD "1 inf 3\n", 28, "line 3", "'inf' is not a number");
  expect_params_error(GOOD_HEAD "1 1e999 3\n", 30, "line 3", "out of the range");
  expect_params_error("layers 3 +5 1\n", 14, "line 1", "not a whole number");
  expect_params_error("layers 3 5 1 7\n", 15, "line 1", "takes 3 sizes, found 4");
  expect_params_error("layers 3 5\n", 11, "line 1", "takes 3 sizes, found 2");
  expect_params_error("layer 3 5 1\n", 12, "line 1", "expected 'layers', found 'layer'");
  expect_params_error("", 0, "line 0", "expected 'layers' but the file ends");
  const char *after = GOOD_HEAD GOOD_W1 GOOD_TAIL "0.7\n";
  expect_params_error(after, strlen(after), "line 14", "unexpected text after b2");
  const char *b2two = GOOD_HEAD GOOD_W1 "b1 5\n1 2 3 4 5\nW2 1 5\n1 2 3 4 5\nb2 1\n0.5 0.6\n";
  expect_params_error(b2two, strlen(b2two), "line 13", "b2 has 2 values, expected 1");
  const char *b1split = GOOD_HEAD GOOD_W1 "b1 5\n1 2 3\n4 5\n";
  expect_params_error(b1split, strlen(b1split), "line 9", "b1 has 3 values, expected 5");
}
END_TEST

START_TEST(params_bounded_reads) {
  double th[26];
  cgd_error err = {{0}};
  ck_assert_int_eq(cgd_mlp_params_read("/dev/zero", 3, 5, th, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "/dev/zero line 1: NUL byte") != NULL, "%s", err.msg);
  /* an endless text pipe is refused at the size bound */
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    while (write(fds[1], "# comment\n", 10) > 0) {}
    _exit(0);
  }
  close(fds[1]);
  char dev[64];
  snprintf(dev, sizeof dev, "/dev/fd/%d", fds[0]);
  ck_assert_int_eq(cgd_mlp_params_read(dev, 3, 5, th, &err), CGD_EDATA);
  close(fds[0]);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  ck_assert_msg(strstr(err.msg, "longer than any parameter file of a 3-5-1 model") != NULL, "%s",
                err.msg);
  ck_assert_int_eq(cgd_mlp_params_read("/tmp", 3, 5, th, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "is a directory") != NULL, "%s", err.msg);
  /* in memory, without a terminating NUL */
  const char *good = GOOD_HEAD GOOD_W1 GOOD_TAIL;
  char *copy = malloc(strlen(good));
  memcpy(copy, good, strlen(good));
  ck_assert_int_eq(cgd_mlp_params_parse("mem", copy, strlen(good), 3, 5, th, &err), CGD_OK);
  ck_assert_int_eq(cgd_mlp_params_parse("mem", copy, strlen(good) - 1, 3, 5, th, &err), CGD_OK);
  ck_assert_int_eq(cgd_mlp_params_parse("mem", copy, strlen(good) - 4, 3, 5, th, &err),
                   CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "mem line 12: expected b2 (1 value) but the file ends") != NULL,
                "%s", err.msg);
  free(copy);
}
END_TEST

START_TEST(objective_views_cover_theta) {
  double X[4 * 5], y[4];
  make_data(4, 5, 3, X, y);
  cgd_mlp *m;
  cgd_objective *o;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_create(4, 5, 16, 0.01, X, y, &m, &err), CGD_OK);
  ck_assert_int_eq(cgd_mlp_objective_create(m, &o, &err), CGD_OK);
  ck_assert_uint_eq(o->dim, 113);
  size_t next = 0;
  for (size_t v = 0; v < o->n_views; v++) {
    ck_assert_uint_eq(o->views[v].offset, next);
    next += o->views[v].len;
  }
  ck_assert_uint_eq(next, o->dim);
  /* the objective's f and g are the model's */
  double th[113], g[113], g2[113], f;
  cgd_mlp_init(m, 0, th);
  ck_assert_int_eq(o->eval(o->ctx, 1, th, &f, g, NULL, &err), CGD_OK);
  double L = cgd_mlp_loss_grad_ref(m, th, g2);
  ck_assert(fabs(f - L) <= 1e-13 * L);
  ck_assert_int_eq(o->eval(o->ctx, 1, th, &f, g, g2, &err), CGD_EUSAGE); /* no Hessian */
  cgd_objective_free(o);
}
END_TEST


/* ------------------------------------------------ fused kernel (mlp_fused.c) */

static cgd_dataset *airfoil(void) {
  const char *path = getenv("CGD_AIRFOIL");
  ck_assert_msg(path && access(path, R_OK) == 0,
                "Airfoil data missing (CGD_AIRFOIL=%s): run datasets/fetch.sh", path ? path : "");
  cgd_dataset *ds;
  cgd_error err;
  ck_assert_msg(cgd_dataset_load(path, 0, &ds, &err) == CGD_OK, "%s", err.msg);
  ck_assert_int_eq(cgd_dataset_standardize(ds, &err), CGD_OK);
  return ds;
}

static int level_available(int level) {
  __builtin_cpu_init();
  if (level == 1) return 1;
  if (level == 2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return __builtin_cpu_supports("avx512f");
}

/* The fused kernel against the BLAS path and the reference at one θ, for shapes that hit
 * every code path: d specialised (1..8) or not (11; 70 > 64 takes a heap buffer), n not a
 * multiple of 8, H odd, and slopes outside [0, 1] (the fused algebra holds for any slope).
 * Same 1e-12 bound as BLAS vs reference (different summation orders, same mathematics). */
START_TEST(fused_matches_blas_and_reference) {
  const size_t ns[] = {257, 8, 3, 37}, ds[] = {7, 1, 11, 70}, Hs[] = {1, 3, 16, 33, 128};
  const double leaks[] = {0.01, 0.0, 1.0, -0.5, 2.0};
  for (size_t a = 0; a < 4; a++)
    for (size_t k = 0; k < 5; k++) {
      const size_t n = ns[a], d = ds[a], H = Hs[k];
      double *X = malloc(n * d * sizeof *X), *y = malloc(n * sizeof *y);
      make_data(n, d, 7 + a, X, y);
      cgd_mlp *m;
      cgd_error err;
      ck_assert_int_eq(cgd_mlp_create(n, d, H, leaks[k], X, y, &m, &err), CGD_OK);
      const size_t P = cgd_mlp_nparams(m);
      double *th = malloc(4 * P * sizeof *th), *g1 = th + P, *g2 = g1 + P, *g3 = g2 + P;
      void *sc = malloc(cgd_mlp_fused_scratch_size(m));
      cgd_mlp_init(m, k, th);
      const double L1 = cgd_mlp_loss_grad(m, th, g1);
      const double L2 = cgd_mlp_loss_grad_fused(m, th, g2, sc);
      const double L3 = cgd_mlp_loss_grad_ref(m, th, g3);
      ck_assert_msg(fabs(L1 - L2) <= 1e-12 * fabs(L1), "n=%zu d=%zu H=%zu loss %.17g vs %.17g",
                    n, d, H, L1, L2);
      ck_assert_msg(fabs(L3 - L2) <= 1e-12 * fabs(L3), "loss vs ref");
      ck_assert(cgd_mlp_loss_grad_fused(m, th, NULL, sc) == L2); /* loss-only: same bits */
      double gmax = 0;
      for (size_t p = 0; p < P; p++) gmax = fmax(gmax, fabs(g3[p]));
      for (size_t p = 0; p < P; p++) {
        ck_assert_msg(fabs(g1[p] - g2[p]) <= 1e-12 * gmax, "n=%zu d=%zu H=%zu leak %g param %zu: "
                      "%.17g vs %.17g", n, d, H, leaks[k], p, g1[p], g2[p]);
        ck_assert_msg(fabs(g3[p] - g2[p]) <= 1e-12 * gmax, "vs ref, param %zu", p);
      }
      /* through cgd_mlp_loss_grad once selected */
      ck_assert_int_eq(cgd_mlp_set_kernel(m, CGD_MLP_KERNEL_FUSED, &err), CGD_OK);
      ck_assert(cgd_mlp_loss_grad(m, th, g1) == L2 && !memcmp(g1, g2, P * sizeof *g1));
      free(sc);
      free(th);
      free(X);
      free(y);
      cgd_mlp_free(m);
    }
}
END_TEST

/* Portable C, AVX2 and AVX-512 variants: the same bits (each forced). */
START_TEST(fused_levels_bit_identical) {
  /* 1503 x 5 x 16: Airfoil's shape (188 blocks: three whole tiles of the AVX2 backward
   * and a partial one); 400 x 6 x 5 and 97 x 3 x 7: the tiled backward at its widest d
   * with an odd unit left over, and H mod 4 = 3 in the forward */
  const size_t ns[] = {1503, 13, 8, 1, 400, 97}, ds[] = {5, 7, 11, 2, 6, 3},
               Hs[] = {16, 1, 17, 2, 5, 7};
  for (size_t a = 0; a < 6; a++) {
    const size_t n = ns[a], d = ds[a], H = Hs[a];
    double *X = malloc(n * d * sizeof *X), *y = malloc(n * sizeof *y);
    make_data(n, d, 3 + a, X, y);
    cgd_mlp *m;
    cgd_error err;
    ck_assert_int_eq(cgd_mlp_create(n, d, H, 0.01, X, y, &m, &err), CGD_OK);
    const size_t P = cgd_mlp_nparams(m);
    double *th = malloc(2 * P * sizeof *th), *g0 = th + P, *g = malloc(P * sizeof *g);
    void *sc = malloc(cgd_mlp_fused_scratch_size(m));
    cgd_mlp_init(m, a, th);
    const double L0 = cgd_mlp_loss_grad_fused_at(m, 1, th, g0, sc);
    int tested = 0;
    for (int lv = 1; lv <= 3; lv++) {
      if (!level_available(lv)) {
        if (a == 0) printf("test_mlp: fused level %d not available on this CPU: not run\n", lv);
        continue;
      }
      tested++;
      const double L = cgd_mlp_loss_grad_fused_at(m, lv, th, g, sc);
      ck_assert_msg(L == L0 && !memcmp(g, g0, P * sizeof *g), "level %d differs (n=%zu d=%zu H=%zu)",
                    lv, n, d, H);
    }
    ck_assert_int_ge(tested, 2);
    free(sc);
    free(g);
    free(th);
    free(X);
    free(y);
    cgd_mlp_free(m);
  }
}
END_TEST

/* The one place the kernels may differ: a pre-activation exactly at the kink. One row
 * x = 0 with b1 = 0 gives z = 0: the BLAS path takes the slope leak there (as PyTorch
 * does), the fused kernel the slope 1 (m = [z < 0]); both are subgradients. Every fused
 * width takes the same one. */
START_TEST(fused_kink_convention) {
  const double X[1] = {0.0}, y[1] = {1.0}, leak = 0.01;
  cgd_mlp *m;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_create(1, 1, 1, leak, X, y, &m, &err), CGD_OK);
  const double th[4] = {1.0, 0.0, 1.0, 0.0}; /* W1, b1, W2, b2: z = 0, ŷ = 0, r = −1 */
  double gb[4], gf[4], g[4];
  void *sc = malloc(cgd_mlp_fused_scratch_size(m));
  ck_assert(cgd_mlp_loss_grad(m, th, gb) == 1.0);
  ck_assert(cgd_mlp_loss_grad_fused(m, th, gf, sc) == 1.0);
  /* ∂L/∂b1 = (2/n) r W2 slope */
  ck_assert_double_eq(gb[1], -2.0 * leak);
  ck_assert_double_eq(gf[1], -2.0);
  for (int lv = 1; lv <= 3; lv++)
    if (level_available(lv)) {
      ck_assert(cgd_mlp_loss_grad_fused_at(m, lv, th, g, sc) == 1.0);
      ck_assert_msg(!memcmp(g, gf, sizeof g), "level %d", lv);
    }
  free(sc);
  cgd_mlp_free(m);
}
END_TEST

/* 2000 GD steps at lr 0.02 on Airfoil (H = 16), each kernel on its own trajectory: losses
 * and gradients agree to 1e-12 (relative; gradients on the scale of the largest component)
 * at every step. */
START_TEST(fused_matches_blas_2000_steps_airfoil) {
  cgd_dataset *ds = airfoil();
  cgd_mlp *mb, *mf;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_create(ds->n, ds->d, 16, 0.01, ds->X, ds->y, &mb, &err), CGD_OK);
  ck_assert_int_eq(cgd_mlp_create(ds->n, ds->d, 16, 0.01, ds->X, ds->y, &mf, &err), CGD_OK);
  ck_assert_int_eq(cgd_mlp_set_kernel(mf, CGD_MLP_KERNEL_FUSED, &err), CGD_OK);
  const size_t P = cgd_mlp_nparams(mb);
  double *tb = malloc(4 * P * sizeof *tb), *tf = tb + P, *gb = tf + P, *gf = gb + P;
  cgd_mlp_init(mb, 0, tb);
  memcpy(tf, tb, P * sizeof *tf);
  double worst_l = 0, worst_g = 0;
  for (int t = 0; t < 2000; t++) {
    const double Lb = cgd_mlp_loss_grad(mb, tb, gb), Lf = cgd_mlp_loss_grad(mf, tf, gf);
    worst_l = fmax(worst_l, fabs(Lb - Lf) / fabs(Lb));
    double gmax = 0, dg = 0;
    for (size_t p = 0; p < P; p++) {
      gmax = fmax(gmax, fabs(gb[p]));
      dg = fmax(dg, fabs(gb[p] - gf[p]));
    }
    worst_g = fmax(worst_g, dg / gmax);
    ck_assert_msg(fabs(Lb - Lf) <= 1e-12 * fabs(Lb), "step %d: loss %.17g vs %.17g", t, Lb, Lf);
    ck_assert_msg(dg <= 1e-12 * gmax, "step %d: gradient differs by %.3g of its scale", t,
                  dg / gmax);
    for (size_t p = 0; p < P; p++) {
      tb[p] -= 0.02 * gb[p];
      tf[p] -= 0.02 * gf[p];
    }
  }
  printf("test_mlp: fused vs BLAS over 2000 steps: loss %.2g, gradient %.2g (relative)\n",
         worst_l, worst_g);
  free(tb);
  cgd_mlp_free(mb);
  cgd_mlp_free(mf);
  cgd_dataset_free(ds);
}
END_TEST

/* Each kernel is bit-identical run to run and across thread counts: BLAS with 1 and 2
 * OpenBLAS threads; fused (no threads of its own) called from 2 OpenMP threads at once on
 * one model, each with its own scratch (reentrancy). */
START_TEST(kernels_bit_identical_across_threads) {
  cgd_dataset *ds = airfoil();
  const size_t H = 64;
  cgd_mlp *m;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_create(ds->n, ds->d, H, 0.01, ds->X, ds->y, &m, &err), CGD_OK);
  const size_t P = cgd_mlp_nparams(m);
  double *th = malloc(6 * P * sizeof *th), *g1 = th + P, *g2 = g1 + P, *ga = g2 + P;
  cgd_mlp_init(m, 3, th);
  /* BLAS */
  openblas_set_num_threads(1);
  const double L1 = cgd_mlp_loss_grad(m, th, g1);
  openblas_set_num_threads(2);
  const double L2 = cgd_mlp_loss_grad(m, th, g2);
  openblas_set_num_threads(1);
  ck_assert(L1 == L2 && !memcmp(g1, g2, P * sizeof *g1));
  ck_assert(cgd_mlp_loss_grad(m, th, g2) == L1 && !memcmp(g1, g2, P * sizeof *g1));
  /* fused: one thread, then two threads at once, 20 calls each */
  const size_t ss = cgd_mlp_fused_scratch_size(m);
  char *sc = malloc(2 * ss);
  const double Lf = cgd_mlp_loss_grad_fused(m, th, ga, sc);
  int same[2] = {1, 1};
#pragma omp parallel num_threads(2)
  {
    const int me = omp_get_thread_num();
    double *g = me ? th + 5 * P : th + 4 * P;
    for (int r = 0; r < 20; r++) {
      const double L = cgd_mlp_loss_grad_fused(m, th, g, sc + (size_t)me * ss);
      same[me] &= L == Lf && !memcmp(g, ga, P * sizeof *g);
    }
  }
  ck_assert(same[0] && same[1]);
  free(sc);
  free(th);
  cgd_mlp_free(m);
  cgd_dataset_free(ds);
}
END_TEST

START_TEST(kernel_names_and_errors) {
  cgd_mlp_kernel k;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_kernel_parse("fused", &k, &err), CGD_OK);
  ck_assert_int_eq(k, CGD_MLP_KERNEL_FUSED);
  ck_assert_int_eq(cgd_mlp_kernel_parse("blas", &k, &err), CGD_OK);
  ck_assert_int_eq(k, CGD_MLP_KERNEL_BLAS);
  ck_assert_int_eq(cgd_mlp_kernel_parse("Fused", &k, &err), CGD_EUSAGE);
  ck_assert_ptr_nonnull(strstr(err.msg, "blas, fused"));
  ck_assert_int_eq(cgd_mlp_kernel_parse(NULL, &k, &err), CGD_EUSAGE);
  ck_assert_str_eq(cgd_mlp_kernel_name(CGD_MLP_KERNEL_BLAS), "blas");
  ck_assert_str_eq(cgd_mlp_kernel_name(CGD_MLP_KERNEL_FUSED), "fused");
  double X[5] = {1, 2, 3, 4, 5}, y[5] = {0};
  cgd_mlp *m;
  ck_assert_int_eq(cgd_mlp_create(5, 1, 2, 0.01, X, y, &m, &err), CGD_OK);
  ck_assert_int_eq(cgd_mlp_get_kernel(m), CGD_MLP_KERNEL_BLAS); /* the default */
  ck_assert_int_eq(cgd_mlp_set_kernel(m, (cgd_mlp_kernel)7, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_mlp_get_kernel(m), CGD_MLP_KERNEL_BLAS);
  cgd_mlp_free(m);
}
END_TEST

/* The BLAS path's leaky ReLU in both forms (max form for 0 <= leak <= 1, the select
 * otherwise) against the reference, which keeps the textbook select. */
START_TEST(blas_leaky_forms_match_reference) {
  const size_t n = 61, d = 3;
  double X[61 * 3], y[61];
  make_data(n, d, 5, X, y);
  const double leaks[] = {0.0, 0.01, 0.5, 1.0, -0.3, 1.7};
  for (size_t k = 0; k < 6; k++) {
    cgd_mlp *m;
    cgd_error err;
    ck_assert_int_eq(cgd_mlp_create(n, d, 9, leaks[k], X, y, &m, &err), CGD_OK);
    const size_t P = cgd_mlp_nparams(m);
    double th[9 * 3 + 19], g1[9 * 3 + 19], g2[9 * 3 + 19];
    cgd_mlp_init(m, k, th);
    const double L1 = cgd_mlp_loss_grad(m, th, g1), L2 = cgd_mlp_loss_grad_ref(m, th, g2);
    ck_assert_msg(fabs(L1 - L2) <= 1e-12 * fabs(L2), "leak %g", leaks[k]);
    double gmax = 0;
    for (size_t p = 0; p < P; p++) gmax = fmax(gmax, fabs(g2[p]));
    for (size_t p = 0; p < P; p++) ck_assert(fabs(g1[p] - g2[p]) <= 1e-12 * gmax);
    cgd_mlp_free(m);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("mlp");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, gradient_vs_central_differences);
  tcase_add_test(tc, blas_matches_reference_synthetic);
  tcase_add_test(tc, blas_matches_reference_airfoil);
  tcase_add_test(tc, init_pytorch_bounds_and_determinism);
  tcase_add_test(tc, params_round_trip_exact);
  tcase_add_test(tc, params_strict_reader);
  tcase_add_test(tc, params_bounded_reads);
  tcase_add_test(tc, objective_views_cover_theta);
  tcase_add_test(tc, fused_matches_blas_and_reference);
  tcase_add_test(tc, fused_levels_bit_identical);
  tcase_add_test(tc, fused_kink_convention);
  tcase_add_test(tc, fused_matches_blas_2000_steps_airfoil);
  tcase_add_test(tc, kernels_bit_identical_across_threads);
  tcase_add_test(tc, kernel_names_and_errors);
  tcase_add_test(tc, blas_leaky_forms_match_reference);
  suite_add_tcase(s, tc);
  return cgd_check_run(s);
}
