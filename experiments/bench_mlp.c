/* bench_mlp: µs per full-batch GD step of the d-H-1 MLP on Airfoil, for H = 16, 64, 256,
 * 1024, with the step split into BLAS calls and element-wise work, next to the plain-loop
 * reference and the machine's dgemm rate, all measured in this run on one thread.
 *
 *   usage: bench_mlp [DATA_FILE] [--threads N]
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
    double t = bench_now_s();
    /* C <- A B */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0, A, N, B, N, 0.0, C, N);
    t = bench_now_s() - t;
    best = t < best ? t : best;
  }
  free(A);
  return 2.0 * N * N * (double)N / best * 1e-9;
}

/* Time GD steps (gradient + one axpy) until at least min_s seconds have passed. */
static double time_steps(cgd_mlp *m, double *theta, double *g, size_t P, int ref, double min_s) {
  size_t reps = 0;
  double t0 = bench_now_s(), t;
  do {
    for (int k = 0; k < 10; k++) {
      if (ref)
        cgd_mlp_loss_grad_ref(m, theta, g);
      else
        cgd_mlp_loss_grad(m, theta, g);
      cblas_daxpy((int)P, -1e-4, g, 1, theta, 1); /* θ <- θ − η g (tiny η: stays bounded) */
    }
    reps += 10;
    t = bench_now_s() - t0;
  } while (t < min_s);
  return 1e6 * t / (double)reps;
}

int main(int argc, char **argv) {
  const char *path = "datasets/airfoil_self_noise.dat";
  int threads = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      char *end;
      long v = strtol(argv[++i], &end, 10);
      if (*end || v < 1 || v > 256) {
        fprintf(stderr, "bench_mlp: --threads takes 1..256\n");
        return 2;
      }
      threads = (int)v;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: bench_mlp [DATA_FILE] [--threads N]\n");
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
  double gf = dgemm_gflops();
  printf("# bench_mlp: %s, n = %zu rows, d = %zu; OpenBLAS %s, %d thread(s)\n", path, ds->n,
         ds->d, openblas_get_config(), openblas_get_num_threads());
  printf("# measured dgemm rate (1024^3): %.1f GFLOP/s\n", gf);
  printf("# %5s %6s %9s | %9s %9s %9s | %9s %7s | %8s %7s\n", "H", "P", "kFLOP", "us/step",
         "BLAS", "elemwise", "ref", "ref/x", "bound", "x/bound");
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
    cgd_mlp_init(m, 0, theta);
    /* flops: two n·H·d products, two n·H products, ~6 n·H element-wise operations */
    double flops = 4.0 * n * H * d + 4.0 * n * H + 6.0 * n * H;
    /* This machine is a shared VM whose speed drifts by ±20%: medians of 5 repetitions of
     * 0.2 s each, the three kinds interleaved so that drift hits them alike. */
    enum { REPS = 5 };
    const double min_s = 0.2;
    double fast_r[REPS], ref_r[REPS], blas_r[REPS], elem_r[REPS], call_r[4][REPS];
    time_steps(m, theta, g, P, 0, 0.1); /* warm-up */
    for (int r = 0; r < REPS; r++) {
      fast_r[r] = time_steps(m, theta, g, P, 0, min_s);
      cgd_mlp_set_timing(m, 1);
      cgd_mlp_get_timing(m, 1);
      time_steps(m, theta, g, P, 0, min_s);
      cgd_mlp_timing tm = cgd_mlp_get_timing(m, 1);
      cgd_mlp_set_timing(m, 0);
      blas_r[r] = 1e-3 * tm.ns_blas / (double)tm.calls;
      const double per[4] = {tm.ns_gemm_fwd, tm.ns_gemv_fwd, tm.ns_gemv_bwd, tm.ns_gemm_bwd};
      for (int c = 0; c < 4; c++) call_r[c][r] = 1e-3 * per[c] / (double)tm.calls;
      elem_r[r] = 1e-3 * tm.ns_elementwise / (double)tm.calls;
      ref_r[r] = time_steps(m, theta, g, P, 1, min_s);
    }
    double fast = bench_median(fast_r, REPS), ref = bench_median(ref_r, REPS);
    double bound = flops / (gf * 1e9) * 1e6;
    printf("  %5zu %6zu %9.0f | %9.1f %9.1f %9.1f | %9.1f %7.1f | %8.1f %7.2f\n", H, P,
           flops / 1e3, fast, bench_median(blas_r, REPS), bench_median(elem_r, REPS), ref, ref / fast, bound,
           fast / bound);
    if (k == 0) /* the paper's size: where the BLAS time goes */
      snprintf(split, sizeof split,
               "# H = 16 BLAS calls (us): forward dgemm (K = %zu) %.1f, forward dgemv %.1f, "
               "backward dgemv %.1f, backward dgemm (K = n) %.1f\n",
               d, bench_median(call_r[0], REPS), bench_median(call_r[1], REPS), bench_median(call_r[2], REPS),
               bench_median(call_r[3], REPS));
    free(theta);
    cgd_mlp_free(m);
  }
  fputs(split, stdout);
  cgd_dataset_free(ds);
  return 0;
}
