/* bench_mlp_lyapunov: the largest Lyapunov exponent of full-batch GD on the Airfoil MLP
 * (5-16-1, leaky 0.01, z-scored, PyTorch init), by a tangent vector (exact HVPs) and by a
 * twin orbit at δ = 1e-8, over windows of the run; the loss trend and the sharpness beside.
 *
 *   usage: bench_mlp_lyapunov [--data FILE] [--lr X] [--seed N] [--iters N] [--windows K]
 *                             [--delta D]   (twin offset, default 1e-8)
 *                             [--twin-every K]   (twin renormalised every K steps, default 1)
 *
 * Prints one line per window (steps, loss mean, share of rising steps, λ_tangent ± se,
 * λ_twin ± se, twin jumps, sharpness at the window's end, and kink flips: the mean number of
 * (data row, hidden unit) pre-activations that change sign per step — each one is a jump
 * of the GD map) and a summary line for the last half of the run (the tail the
 * verdict uses). Exponents are per step (natural log). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/dataset.h"
#include "chaosgd/lyapunov.h"
#include "chaosgd/mlp.h"
#include "chaosgd/sharpness.h"

#include "bench_util.h"

typedef struct { cgd_mlp *m; const double *th; double *scr; } at_t;
static int hvp_at(void *ctx, const double *v, double *hv, cgd_error *err) {
  at_t *a = ctx;
  return cgd_mlp_hvp(a->m, a->th, v, hv, a->scr, err);
}

int main(int argc, char **argv) {
  const char *path = "datasets/airfoil_self_noise.dat";
  double lr = 0.02, delta = 1e-8;
  uint64_t seed = 0, iters = 100000, K = 10, twin_every = 1;
  const char *me = "bench_mlp_lyapunov";
  if (argc % 2 == 0) {
    fprintf(stderr, "usage: %s [--data FILE] [--lr LR] [--seed S] [--iters N] [--windows K] "
                    "[--delta D] [--twin-every N]\n", me);
    return 2;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    int bad = 0;
    if (!strcmp(k, "--data")) path = v;
    else if (!strcmp(k, "--lr")) bad = bench_double_arg(me, k, v, 1e-300, 1e300, &lr);
    else if (!strcmp(k, "--seed")) bad = bench_u64_arg(me, k, v, 0, UINT64_MAX, &seed);
    else if (!strcmp(k, "--iters")) bad = bench_u64_arg(me, k, v, 1, 1000000000, &iters);
    else if (!strcmp(k, "--windows")) bad = bench_u64_arg(me, k, v, 1, 100000, &K);
    else if (!strcmp(k, "--delta")) bad = bench_double_arg(me, k, v, 1e-300, 1, &delta);
    else if (!strcmp(k, "--twin-every")) bad = bench_u64_arg(me, k, v, 1, 1000000000, &twin_every);
    else {
      fprintf(stderr, "%s: unknown option %s\n", me, k);
      return 2;
    }
    if (bad) return 2;
  }
  openblas_set_num_threads(1);
  cgd_error err;
  cgd_dataset *ds;
  if (cgd_dataset_load(path, 0, &ds, &err) || cgd_dataset_standardize(ds, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 3;
  }
  cgd_mlp *m;
  if (cgd_mlp_create(ds->n, ds->d, 16, 0.01, ds->X, ds->y, &m, &err)) return 1;
  const size_t P = cgd_mlp_nparams(m);
  double *th = malloc(sizeof(double) * 3 * P), *g = th + P, *vec = g + P;
  double *scr = malloc(sizeof(double) * cgd_mlp_hvp_scratch_len(m));
  cgd_mlp_init(m, seed, th);
  cgd_mlp_lyap *L;
  /* whole run and last half (burn-in iters/2) */
  if (cgd_mlp_lyap_create(m, th, delta, seed, 0, (int)twin_every, &L, &err)) return 1;
  printf("# lr %g seed %lu iters %lu delta %g twin_every %lu: window_end loss_mean frac_rising lambda_tan se lambda_twin se twin_jumps sharpness flips_per_step\n",
         lr, seed, iters, delta, twin_every);
  const size_t W = iters / K;
  cgd_batch_means wt, ww;
  double lsum = 0, prev = NAN, t0 = bench_now_s();
  size_t rises = 0, jumps0 = 0, tail_rises = 0;
  cgd_batch_means tail_t, tail_w;
  cgd_bm_init(&tail_t, 0, 16);
  cgd_bm_init(&tail_w, 0, 16);
  cgd_bm_init(&wt, 0, 16);
  cgd_bm_init(&ww, 0, 16);
  /* activation pattern: sign of Z = X W1ᵀ + b1, recomputed each step */
  const size_t n = ds->n, d = ds->d, H = 16;
  double *Z = malloc(sizeof(double) * n * H);
  unsigned char *sg = calloc(n * H, 1);
  size_t flips = 0, tail_rise_noflip = 0;
  for (size_t t = 0; t < iters; t++) {
    size_t flips_now = 0;
    double loss;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)H, (int)d, 1.0, ds->X, (int)d,
                th, (int)d, 0.0, Z, (int)H); /* Z = X W1ᵀ */
    for (size_t i = 0; i < n * H; i++) {
      unsigned char pos = Z[i] + th[H * d + i % H] > 0.0; /* + b1 */
      flips_now += t > 0 && pos != sg[i];
      sg[i] = pos;
    }
    flips += flips_now;
    if (cgd_mlp_lyap_step(L, th, lr, &loss, g, &err)) {
      fprintf(stderr, "step %zu: %s\n", t, err.msg);
      return 5;
    }
    cgd_mlp_lyap_result r = cgd_mlp_lyap_result_get(L);
    cgd_bm_push(&wt, r.last_tangent);
    if (isfinite(r.last_twin)) cgd_bm_push(&ww, r.last_twin);
    if (t >= iters / 2) {
      cgd_bm_push(&tail_t, r.last_tangent);
      if (isfinite(r.last_twin)) cgd_bm_push(&tail_w, r.last_twin);
      tail_rises += loss > prev;
      /* a rise with the same activation pattern at θ_{t−1} and θ_t: the step stayed on one
       * smooth piece of L */
      tail_rise_noflip += loss > prev && flips_now == 0;
    }
    lsum += loss;
    rises += loss > prev;
    prev = loss;
    if ((t + 1) % W == 0) {
      at_t a = {m, th, scr};
      cgd_sharpness sh;
      cgd_sharpness_lanczos(P, hvp_at, &a, 40, NULL, &sh, vec, &err);
      cgd_estimate et = cgd_bm_estimate(&wt), ew = cgd_bm_estimate(&ww);
      printf("%zu %.6f %.4f %.4e %.1e %.4e %.1e %zu %.4f %.3f\n", t + 1, lsum / (double)W,
             (double)rises / (double)W, et.mean, et.se, ew.mean, ew.se, r.twin_jumps - jumps0, sh.top,
             (double)flips / (double)W);
      flips = 0;
      fflush(stdout);
      jumps0 = r.twin_jumps;
      lsum = 0;
      rises = 0;
      cgd_bm_init(&wt, 0, 16);
      cgd_bm_init(&ww, 0, 16);
    }
  }
  cgd_mlp_lyap_result r = cgd_mlp_lyap_result_get(L);
  cgd_estimate et = cgd_bm_estimate(&tail_t), ew = cgd_bm_estimate(&tail_w);
  printf("SUMMARY lr %g seed %lu iters %lu delta %g twin_every %lu: whole run tangent %.4e +- %.1e twin %.4e +- %.1e jumps %zu; "
         "last half tangent %.4e +- %.1e twin %.4e +- %.1e rising %.4f (%zu rising steps without a kink flip); "
         "2/lr %.1f; %.1f us/step\n",
         lr, seed, iters, delta, twin_every, r.tangent.mean, r.tangent.se, r.twin.mean, r.twin.se, r.twin_jumps, et.mean,
         et.se, ew.mean, ew.se, (double)tail_rises / (double)(iters - iters / 2), tail_rise_noflip, 2.0 / lr,
         1e6 * (bench_now_s() - t0) / (double)iters);
  cgd_mlp_lyap_free(L);
  free(Z);
  free(sg);
  free(scr);
  free(th);
  cgd_mlp_free(m);
  cgd_dataset_free(ds);
  return 0;
}
