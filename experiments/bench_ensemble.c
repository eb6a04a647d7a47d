/* bench_ensemble: ensemble throughput of GD on quartic + sin (ε = 1e-6, η = 0.1), in ns per
 * particle-step, through the library's loop (SLEEF vector kernels, fixed blocks, OpenMP)
 * on 1 and 2 threads, next to a plain scalar C loop with libm measured in this run.
 *
 *   usage: bench_ensemble [PARTICLES] [STEPS]        (default 1000000 100)
 *
 * The plain loop is the reference: x ← x − η (x³ + cos(x/ε)). Both must give the same
 * law; the library's result is also checked bit-identical between 1 and 2 threads. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chaosgd/loop.h"
#include "chaosgd/map.h"
#include "chaosgd/multiscale.h"
#include "chaosgd/rng.h"

#include "bench_util.h"

static int never(void *u, uint64_t t) {
  (void)u;
  (void)t;
  return 0;
}

static double run_lib(const cgd_objective *obj, cgd_map_kind kind, size_t n, uint64_t steps,
                      int threads, const double *x0, double *x) {
  cgd_map *m;
  cgd_error err;
  cgd_map_opts mo = {.kind = kind, .lr = 0.1, .gamma = 0.9, .seed = 1, .sigma2 = {0.5, 0}};
  if (cgd_map_create(&mo, obj, n, &m, &err)) {
    fprintf(stderr, "bench_ensemble: %s\n", err.msg);
    exit(1);
  }
  memcpy(x, x0, n * sizeof *x);
  omp_set_num_threads(threads);
  cgd_observer ob = {.wants = never};
  cgd_loop_opts lo = {.iters = steps, .loss_limit = INFINITY};
  cgd_loop_result r;
  double t = bench_now_s();
  /* the final step is always observed (f and ∇f of all particles): included, as in a run */
  if (cgd_loop_run(&lo, obj, m, n, x, &ob, &r, &err)) {
    fprintf(stderr, "bench_ensemble: %s\n", err.msg);
    exit(1);
  }
  t = bench_now_s() - t;
  cgd_map_free(m);
  return 1e9 * t / ((double)n * (double)steps);
}

int main(int argc, char **argv) {
  size_t n = 1000000;
  uint64_t steps = 100;
  if (argc > 1) n = strtoull(argv[1], NULL, 10);
  if (argc > 2) steps = strtoull(argv[2], NULL, 10);
  if (argc > 3 || n < 1 || steps < 1) {
    fprintf(stderr, "usage: bench_ensemble [PARTICLES] [STEPS]\n");
    return 2;
  }
  const double eps = 1e-6, lr = 0.1;
  cgd_ms_spec spec = {.f0 = "quartic", .f1 = "sin", .eps = eps, .k = 1};
  cgd_objective *obj;
  cgd_error err;
  if (cgd_multiscale_create(&spec, &obj, &err)) {
    fprintf(stderr, "bench_ensemble: %s\n", err.msg);
    return 1;
  }
  double *x0 = malloc(3 * n * sizeof *x0), *x1 = x0 + n, *x2 = x1 + n;
  for (size_t i = 0; i < n; i++) x0[i] = 2 * cgd_rng_uniform(0, CGD_STREAM_X0, i) - 1;

  /* plain scalar loop with libm: the reference */
  memcpy(x2, x0, n * sizeof *x2);
  double t = bench_now_s();
  for (uint64_t s = 0; s < steps; s++)
    for (size_t i = 0; i < n; i++) {
      double x = x2[i];
      x2[i] = x - lr * (x * x * x + cos(x / eps));
    }
  double plain = 1e9 * (bench_now_s() - t) / ((double)n * (double)steps);
  double sink = 0;
  for (size_t i = 0; i < n; i++) sink += x2[i];

  /* This machine is a shared VM whose speed drifts by ±20% from one second to the next:
   * every figure is the median of REPS repetitions, with the range printed beside it. */
  enum { REPS = 5 };
  double one[REPS], two[REPS];
  int same = 1;
  run_lib(obj, CGD_MAP_GD, n, 2, 1, x0, x1); /* warm-up */
  for (int r = 0; r < REPS; r++) {
    one[r] = run_lib(obj, CGD_MAP_GD, n, steps, 1, x0, x1);
    memcpy(x2, x1, n * sizeof *x2);
    two[r] = run_lib(obj, CGD_MAP_GD, n, steps, 2, x0, x1);
    same &= memcmp(x1, x2, n * sizeof *x1) == 0;
  }
  bench_median(one, REPS);
  bench_median(two, REPS);

  printf("# bench_ensemble: GD on quartic + sin, eps = %g, lr = %g, %zu particles, %llu steps\n",
         eps, lr, n, (unsigned long long)steps);
  printf("# %-34s %12s %15s %9s\n", "implementation", "ns/particle", "(range of 5)", "speed-up");
  printf("  %-34s %12.2f %15s %9s\n", "plain C loop, scalar libm cos", plain, "", "1.0");
  printf("  %-34s %12.2f %7.2f - %5.2f %9.1f\n", "chaosgd loop, SLEEF, 1 thread", one[2],
         one[0], one[4], plain / one[2]);
  printf("  %-34s %12.2f %7.2f - %5.2f %9.1f\n", "chaosgd loop, SLEEF, 2 threads", two[2],
         two[0], two[4], plain / two[2]);
  /* the other maps on the same objective, one thread (for scale; no target) */
  const cgd_map_kind others[] = {CGD_MAP_HEAVYBALL, CGD_MAP_STOCHASTIC, CGD_MAP_GAUSSIAN};
  for (int k = 0; k < 3; k++) {
    double t3[3];
    for (int r = 0; r < 3; r++) t3[r] = run_lib(obj, others[k], n, steps, 1, x0, x1);
    bench_median(t3, 3);
    char name[64];
    snprintf(name, sizeof name, "map %s, 1 thread", cgd_map_kind_name(others[k]));
    printf("  %-34s %12.2f %7.2f - %5.2f %9.1f\n", name, t3[1], t3[0], t3[2], plain / t3[1]);
  }
  printf("# 1 vs 2 threads bit-identical: %s   (checksum of the plain loop: %.6g)\n",
         same ? "yes" : "NO", sink);
  free(x0);
  cgd_objective_free(obj);
  return same ? 0 : 1;
}
