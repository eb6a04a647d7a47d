/* bench_chaos: speed of the chaos diagnostics, each figure beside its reference measured in
 * the same run (this is a shared VM: only ratios within one run mean much).
 *
 *   1. λ of one 1-D orbit over 10⁷ GD steps through cgd_lyapunov_1d, against a hand-written
 *      loop doing the same evaluations and logs (target: ≤ 1.3×)
 *   2. a 400-point orbit diagram of 10⁵ steps each on 2 threads (target: < 10 s)
 *   3. an MLP GD step with a tangent (one fused gradient + HVP pass) against a plain step
 *      (target: ≤ 2.5×)
 *
 *   usage: bench_chaos [DATA_FILE] */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "chaosgd/bifurcation.h"
#include "chaosgd/dataset.h"
#include "chaosgd/lyapunov.h"
#include "chaosgd/mlp.h"
#include "chaosgd/multiscale.h"

#include "bench_util.h"

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "datasets/airfoil_self_noise.dat";
  openblas_set_num_threads(1);
  cgd_error err;
  cgd_ms_spec sp = {.f0 = "doublewell", .f1 = "sin", .eps = 1e-4, .k = 1.0};
  cgd_objective *o;
  if (cgd_multiscale_create(&sp, &o, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  /* 1. library vs hand loop, best of 3 each, interleaved */
  const size_t T = 10000000;
  const double eta = 0.02;
  double best_lib = 1e30, best_hand = 1e30, lam_lib = 0, lam_hand = 0;
  for (int rep = 0; rep < 3; rep++) {
    double t = bench_now_s();
    cgd_estimate e;
    if (cgd_lyapunov_1d(o, eta, 0.9, 0, T, &e, NULL, &err)) return 1;
    t = bench_now_s() - t;
    if (t < best_lib) best_lib = t;
    lam_lib = e.mean;
    t = bench_now_s();
    double x = 0.9, g, h, acc = 0.0;
    for (size_t i = 0; i < T; i++) {
      o->eval(o->ctx, 1, &x, NULL, &g, &h, &err);
      acc += log(fabs(1.0 - eta * h));
      x -= eta * g;
    }
    t = bench_now_s() - t;
    if (t < best_hand) best_hand = t;
    lam_hand = acc / (double)T;
  }
  printf("1. lambda of a 1-D orbit, 1e7 steps: library %.3f s (lambda %.6f), hand loop %.3f s "
         "(lambda %.6f): ratio %.3f (target <= 1.3)\n",
         best_lib, lam_lib, best_hand, lam_hand, best_lib / best_hand);

  /* 2. orbit diagram */
  cgd_ms_spec sq = {.f0 = "quartic", .f1 = "negcos", .eps = 1e-3, .k = 1.0};
  cgd_objective *q;
  if (cgd_multiscale_create(&sq, &q, &err)) return 1;
  double et[400], wp, wo;
  cgd_grid(2e-3, 5e-3, 400, 0, et, &err);
  cgd_wells_for("negcos", 1e-3, &wp, &wo, &err);
  cgd_bif_spec b = {.etas = et, .n_eta = 400, .x0 = 0.01, .burn_in = 10000, .steps = 90000,
                    .keep = 256, .well_period = wp, .well_offset = wo, .threads = 2};
  cgd_bif_result *r;
  double t = bench_now_s();
  if (cgd_bifurcation(q, &b, &r, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  t = bench_now_s() - t;
  printf("2. orbit diagram, 400 rates x 1e5 steps, 2 threads: %.2f s (target < 10 s); chaos onset %.4f eps\n",
         t, r->chaos_onset / 1e-3);
  cgd_bif_result_free(r);

  /* 3. MLP step with a tangent vs plain */
  cgd_dataset *ds;
  if (cgd_dataset_load(path, 0, &ds, &err) || cgd_dataset_standardize(ds, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    return 3;
  }
  cgd_mlp *m;
  if (cgd_mlp_create(ds->n, ds->d, 16, 0.01, ds->X, ds->y, &m, &err)) return 1;
  const size_t P = cgd_mlp_nparams(m);
  double *th = malloc(sizeof(double) * 3 * P), *th2 = th + P, *g = th2 + P;
  cgd_mlp_init(m, 0, th);
  for (size_t p = 0; p < P; p++) th2[p] = th[p];
  cgd_mlp_lyap *L;
  if (cgd_mlp_lyap_create(m, th2, 1e-8, 0, 0, 0, &L, &err)) return 1;
  double tp[5], tt[5];
  const int N = 2000;
  for (int rep = 0; rep < 5; rep++) {
    double t0 = bench_now_s();
    for (int i = 0; i < N; i++) {
      cgd_mlp_loss_grad(m, th, g);
      cblas_daxpy((int)P, -0.02, g, 1, th, 1); /* θ ← θ − η g */
    }
    tp[rep] = (bench_now_s() - t0) / N * 1e6;
    t0 = bench_now_s();
    for (int i = 0; i < N; i++) cgd_mlp_lyap_step(L, th2, 0.02, NULL, NULL, &err);
    tt[rep] = (bench_now_s() - t0) / N * 1e6;
  }
  double mp = bench_median(tp, 5), mt = bench_median(tt, 5);
  printf("3. MLP 5-16-1 step: plain %.1f us, with tangent (fused gradient + HVP) %.1f us: ratio %.2f (target <= 2.5)\n",
         mp, mt, mt / mp);
  cgd_mlp_lyap_free(L);
  free(th);
  cgd_mlp_free(m);
  cgd_dataset_free(ds);
  cgd_objective_free(q);
  cgd_objective_free(o);
  return 0;
}
