/* bench_mlp: µs per full-batch GD step of the d-H-1 MLP on Airfoil, for H = 16, 64, 256,
 * 1024: the BLAS path (the reference, with its split into BLAS calls and element-wise
 * work) beside the fused kernel (mlp_fused.c) at each vector width the CPU has (AVX2,
 * AVX-512), the plain-loop reference and the machine's dgemm rate, all measured in this
 * run on one thread, in thread CPU time (bench_util.h). The kinds are interleaved within
 * each repetition (this machine is a shared VM whose speed drifts) and each figure is a
 * median with its range; the ratio fused/BLAS is the median of the per-repetition ratios.
 *
 *   usage: bench_mlp [DATA_FILE] [--threads N] [--reps R]
 *
 * The bound column is the step's floating-point work at the measured large-dgemm rate:
 * what a perfect implementation would need if every flop ran at peak BLAS speed. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chaosgd/dataset.h"
#include "chaosgd/mlp.h"

#include "bench_util.h"

/* Peak-ish dgemm rate: square 1024 products, best of 5 (the machine's best, as a bound should be). */
static double dgemm_gflops(void) {
  const int N = 1024;
  double *A = malloc(sizeof(double) * N * N * 3), *B = A + N * N, *C = B + N * N;
  for (int i = 0; i < N * N; i++) A[i] = B[i] = 1.0 / (1 + i % 7);
  double best = 1e30;
  for (int r = 0; r < 5; r++) {
    double t = bench_cpu_s();
    /* C <- A B */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0, A, N, B, N, 0.0, C, N);
    t = bench_cpu_s() - t;
    best = t < best ? t : best;
  }
  free(A);
  return 2.0 * N * N * (double)N / best * 1e-9;
}

/* Time GD steps (gradient + one axpy) until at least min_s seconds have passed.
 * kind: 0 BLAS path, 1 plain-loop reference, 2 fused AVX2, 3 fused AVX-512. */
static double time_steps(cgd_mlp *m, double *theta, double *g, size_t P, int kind, void *sc,
                         double min_s) {
  size_t reps = 0;
  double t0 = bench_cpu_s(), t;
  do {
    for (int k = 0; k < 10; k++) {
      if (kind == 0)
        cgd_mlp_loss_grad(m, theta, g);
      else if (kind == 1)
        cgd_mlp_loss_grad_ref(m, theta, g);
      else
        cgd_mlp_loss_grad_fused_at(m, kind, theta, g, sc);
      for (size_t p = 0; p < P; p++) theta[p] -= 1e-4 * g[p]; /* tiny η: stays bounded */
    }
    reps += 10;
    t = bench_cpu_s() - t0;
  } while (t < min_s);
  return 1e6 * t / (double)reps;
}

static void range_str(char *buf, size_t len, double *v, int n) {
  const double med = bench_median(v, (size_t)n);
  snprintf(buf, len, "%.1f (%.1f-%.1f)", med, v[0], v[n - 1]);
}

int main(int argc, char **argv) {
  const char *path = "datasets/airfoil_self_noise.dat";
  int threads = 1, REPS = 7;
  for (int i = 1; i < argc; i++) {
    if ((!strcmp(argv[i], "--threads") || !strcmp(argv[i], "--reps")) && i + 1 < argc) {
      const int is_t = !strcmp(argv[i], "--threads");
      char *end;
      long v = strtol(argv[++i], &end, 10);
      if (*end || v < 1 || v > (is_t ? 256 : 64)) {
        fprintf(stderr, "bench_mlp: --threads takes 1..256, --reps 1..64\n");
        return 2;
      }
      *(is_t ? &threads : &REPS) = (int)v;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: bench_mlp [DATA_FILE] [--threads N] [--reps R]\n");
      return 2;
    } else {
      path = argv[i];
    }
  }
  openblas_set_num_threads(threads);
  cgd_error err;
  cgd_dataset *ds;
  int rc = cgd_dataset_load(path, 0, &ds, &err);
  if (!rc) rc = cgd_dataset_standardize(ds, &err);
  if (rc) {
    fprintf(stderr, "bench_mlp: %s (fetch the data with datasets/fetch.sh)\n", err.msg);
    return 3;
  }
  __builtin_cpu_init();
  const int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const int has512 = __builtin_cpu_supports("avx512f");
  double gf = dgemm_gflops();
  printf("# bench_mlp: %s, n = %zu rows, d = %zu; OpenBLAS %s, %d thread(s); medians of %d "
         "interleaved repetitions (range)\n", path, ds->n, ds->d, openblas_get_config(),
         openblas_get_num_threads(), REPS);
  printf("# measured dgemm rate (1024^3): %.1f GFLOP/s; CPU AVX-512F: %s\n", gf,
         has512 ? "yes" : "no (fused AVX-512 cannot be measured here)");
  printf("# %5s %6s %7s | %-20s %7s %7s | %-20s %-17s | %-20s %-17s | %8s %8s %7s\n", "H", "P",
         "kFLOP", "BLAS path us", "BLAS", "elem", "fused AVX2 us", "fused/BLAS", "fused AVX-512 us",
         "fused/BLAS", "ref us", "bound", "BLAS/bd");
  const size_t Hs[] = {16, 64, 256, 1024};
  char split[512] = "";
  for (size_t k = 0; k < 4; k++) {
    const size_t H = Hs[k], n = ds->n, d = ds->d;
    cgd_mlp *m;
    if (cgd_mlp_create(n, d, H, 0.01, ds->X, ds->y, &m, &err)) {
      fprintf(stderr, "bench_mlp: %s\n", err.msg);
      return 1;
    }
    size_t P = cgd_mlp_nparams(m);
    double *theta = malloc(2 * P * sizeof *theta), *g = theta + P;
    void *sc = malloc(cgd_mlp_fused_scratch_size(m));
    cgd_mlp_init(m, 0, theta);
    /* flops of the BLAS path: two n·H·d products, two n·H products, ~6 n·H element-wise */
    double flops = 4.0 * n * H * d + 4.0 * n * H + 6.0 * n * H;
    enum { RMAX = 64 };
    const double min_s = 0.2;
    double fast_r[RMAX], ref_r[RMAX], blas_r[RMAX], elem_r[RMAX], call_r[4][RMAX];
    double f2[RMAX], f5[RMAX], q2[RMAX], q5[RMAX];
    time_steps(m, theta, g, P, 0, sc, 0.1); /* warm-up */
    const int ref_reps = H <= 256 ? 3 : 1;  /* the slow reference: for scale only */
    for (int r = 0; r < REPS; r++) {
      fast_r[r] = time_steps(m, theta, g, P, 0, sc, min_s);
      if (has2) f2[r] = time_steps(m, theta, g, P, 2, sc, min_s), q2[r] = f2[r] / fast_r[r];
      if (has512) f5[r] = time_steps(m, theta, g, P, 3, sc, min_s), q5[r] = f5[r] / fast_r[r];
      cgd_mlp_set_timing(m, 1);
      cgd_mlp_get_timing(m, 1);
      time_steps(m, theta, g, P, 0, sc, min_s / 2);
      cgd_mlp_timing tm = cgd_mlp_get_timing(m, 1);
      cgd_mlp_set_timing(m, 0);
      blas_r[r] = 1e-3 * tm.ns_blas / (double)tm.calls;
      const double per[4] = {tm.ns_gemm_fwd, tm.ns_gemv_fwd, tm.ns_gemv_bwd, tm.ns_gemm_bwd};
      for (int c = 0; c < 4; c++) call_r[c][r] = 1e-3 * per[c] / (double)tm.calls;
      elem_r[r] = 1e-3 * tm.ns_elementwise / (double)tm.calls;
      if (r < ref_reps) ref_r[r] = time_steps(m, theta, g, P, 1, sc, min_s);
    }
    char sb[64], s2[64] = "-", s5[64] = "-", r2[64] = "-", r5[64] = "-";
    const double ref = bench_median(ref_r, (size_t)ref_reps);
    range_str(sb, sizeof sb, fast_r, REPS);
    const double fast = fast_r[REPS / 2];
    if (has2) {
      range_str(s2, sizeof s2, f2, REPS);
      bench_median(q2, (size_t)REPS); /* sorts: q2[0], q2[REPS-1] are the range */
      snprintf(r2, sizeof r2, "%.3f (%.2f-%.2f)", q2[REPS / 2], q2[0], q2[REPS - 1]);
    }
    if (has512) {
      range_str(s5, sizeof s5, f5, REPS);
      bench_median(q5, (size_t)REPS);
      snprintf(r5, sizeof r5, "%.3f (%.2f-%.2f)", q5[REPS / 2], q5[0], q5[REPS - 1]);
    }
    double bound = flops / (gf * 1e9) * 1e6;
    printf("  %5zu %6zu %7.0f | %-20s %7.1f %7.1f | %-20s %-17s | %-20s %-17s | %8.1f %8.1f %7.2f\n",
           H, P, flops / 1e3, sb, bench_median(blas_r, REPS), bench_median(elem_r, REPS), s2,
           r2, s5, r5, ref, bound, fast / bound);
    if (k == 0) /* the paper's size: where the BLAS time goes */
      snprintf(split, sizeof split,
               "# H = 16 BLAS calls (us): forward dgemm (K = %zu) %.1f, forward dgemv %.1f, "
               "backward dgemv %.1f, backward dgemm (K = n) %.1f\n",
               d, bench_median(call_r[0], REPS), bench_median(call_r[1], REPS),
               bench_median(call_r[2], REPS), bench_median(call_r[3], REPS));
    free(sc);
    free(theta);
    cgd_mlp_free(m);
  }
  fputs(split, stdout);
  printf("# * the split is timed inside the library with the wall clock (a thread-CPU clock\n"
         "#   per call would cost more than the calls): indicative only on a busy machine\n");
  cgd_dataset_free(ds);
  return 0;
}
