/* bench_ensemble: ensemble throughput of GD on quartic + sin (ε = 1e-6, η = 0.1), in ns per
 * particle-step, through the library's loop on 1 and 2 threads, at each vector width of
 * the deterministic sin/cos (AVX2, and AVX-512 where the CPU has it), each next to its
 * reference measured in the same run:
 *
 *   glibc loop   a ten-line C loop, x ← x − η (x³ + cos(x·(1/ε))), over glibc's vector cos
 *                (libmvec, through an OpenMP "declare simd" declaration; this file is
 *                built with -fopenmp-simd and no fast-math), compiled for the same ISA,
 *                blocked like the library (2048 particles × 64 steps in cache)
 *   train        the whole `train` process on the same ensemble (start-up, initial
 *                sampling, histograms, crossing bookkeeping, files), if it is found
 *                next to this program
 *   plain loop   the same update with scalar libm cos (for scale)
 *
 *   usage: bench_ensemble [PARTICLES] [STEPS] [REPS]      (default 1000000 100 7)
 *
 * The machine is a shared VM whose speed drifts: every figure is the median of REPS
 * repetitions, interleaved so that drift hits all alike, with the range beside it and
 * the ratio to its reference (median of the per-repetition ratios). One-thread figures
 * are thread CPU time (train: the process's user + system CPU time), the 2-thread one
 * wall time. The library's result
 * is checked bit-identical between 1 and 2 threads and between the AVX2 and AVX-512
 * kernels. */
#include <fcntl.h>
#include <immintrin.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaosgd/loop.h"
#include "chaosgd/map.h"
#include "chaosgd/multiscale.h"
#include "chaosgd/rng.h"

#include "bench_util.h"

extern char **environ;

/* ------------------------------------------------------------ references */

/* glibc's vector cos: libmvec has _ZGVdN4v_cos (AVX2) and _ZGVeN8v_cos (AVX-512). */
#pragma omp declare simd notinbranch
extern double cos(double);

/* One step over a block is a function of its own, so that the compiler cannot reorder
 * the loops: gcc -O3's unroll-and-jam otherwise fused pairs of steps per vector of
 * particles, which chains two cos calls on one register and made the reference 1.4x
 * slower than the plain step-then-particles order (-O2 kept that order). */
#define GLIBC_LOOP(NAME, TARGET)                                                            \
  __attribute__((target(TARGET), noinline)) static void NAME##_step(size_t m, double *xb,  \
                                                                    double lr, double inv) { \
    _Pragma("omp simd") for (size_t i = 0; i < m; i++) {                                    \
      const double v = xb[i];                                                               \
      xb[i] = v - lr * (v * v * v + cos(v * inv));                                          \
    }                                                                                       \
  }                                                                                         \
  __attribute__((target(TARGET), noinline)) static void NAME(size_t n, double *x,          \
                                                             uint64_t steps, double lr,    \
                                                             double inv) {                 \
    for (size_t i0 = 0; i0 < n; i0 += 2048) {                                               \
      const size_t m = n - i0 < 2048 ? n - i0 : 2048;                                       \
      for (uint64_t s = 0; s < steps; s++) NAME##_step(m, x + i0, lr, inv);                 \
    }                                                                                       \
  }
GLIBC_LOOP(glibc_loop_avx2, "avx2,fma")
GLIBC_LOOP(glibc_loop_avx512, "avx512f")

/* For comparison, the kernel chaosgd used before its own: SLEEF 3.5's deterministic u35
 * cos (Sleef_finz_cosd4_u35avx2), in the same ten-line loop. */
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#include <sleef.h>
#pragma GCC pop_options
__attribute__((target("avx2,fma"), noinline)) static void sleef_step_avx2(size_t m, double *xb,
                                                                         double lr, double inv) {
  const __m256d vl = _mm256_set1_pd(lr), vi = _mm256_set1_pd(inv);
  for (size_t i = 0; i + 4 <= m; i += 4) { /* m is a multiple of 4 here */
    const __m256d v = _mm256_loadu_pd(xb + i);
    const __m256d g = _mm256_add_pd(_mm256_mul_pd(_mm256_mul_pd(v, v), v),
                                    Sleef_finz_cosd4_u35avx2(_mm256_mul_pd(v, vi)));
    _mm256_storeu_pd(xb + i, _mm256_sub_pd(v, _mm256_mul_pd(vl, g)));
  }
}
__attribute__((target("avx2,fma"), noinline)) static void sleef_loop_avx2(size_t n, double *x,
                                                                         uint64_t steps,
                                                                         double lr, double inv) {
  for (size_t i0 = 0; i0 < n; i0 += 2048) { /* one step a call, as GLIBC_LOOP */
    const size_t m = n - i0 < 2048 ? n - i0 : 2048;
    for (uint64_t s = 0; s < steps; s++) sleef_step_avx2(m, x + i0, lr, inv);
  }
}

static double run_sleef(size_t n, uint64_t steps, double lr, double eps, const double *x0,
                        double *x) {
  memcpy(x, x0, n * sizeof *x);
  double t = bench_cpu_s();
  for (uint64_t s = 0; s < steps; s += 64)
    sleef_loop_avx2(n, x, steps - s < 64 ? steps - s : 64, lr, 1.0 / eps);
  return 1e9 * (bench_cpu_s() - t) / ((double)n * (double)steps);
}

/* Steps are run in chunks of 64, as the library's loop does between observations. */
static double run_glibc(int avx512, size_t n, uint64_t steps, double lr, double eps,
                        const double *x0, double *x) {
  memcpy(x, x0, n * sizeof *x);
  double t = bench_cpu_s();
  for (uint64_t s = 0; s < steps; s += 64) {
    const uint64_t len = steps - s < 64 ? steps - s : 64;
    (avx512 ? glibc_loop_avx512 : glibc_loop_avx2)(n, x, len, lr, 1.0 / eps);
  }
  return 1e9 * (bench_cpu_s() - t) / ((double)n * (double)steps);
}

/* ------------------------------------------------------------ the library */

static int never(void *u, uint64_t t) {
  (void)u;
  (void)t;
  return 0;
}

static double run_lib(const cgd_objective *obj, cgd_map_kind kind, size_t n, uint64_t steps,
                      int threads, double lr, const double *x0, double *x) {
  cgd_map *m;
  cgd_error err;
  cgd_map_opts mo = {.kind = kind, .lr = lr, .gamma = 0.9, .seed = 1, .sigma2 = {0.5, 0}};
  if (cgd_map_create(&mo, obj, n, &m, &err)) {
    fprintf(stderr, "bench_ensemble: %s\n", err.msg);
    exit(1);
  }
  memcpy(x, x0, n * sizeof *x);
  omp_set_num_threads(threads);
  cgd_observer ob = {.wants = never};
  cgd_loop_opts lo = {.iters = steps, .loss_limit = INFINITY};
  cgd_loop_result r;
  /* one thread: CPU time of this thread (it runs the whole loop); two: wall time */
  double (*clock_s)(void) = threads == 1 ? bench_cpu_s : bench_now_s;
  double t = clock_s();
  /* the final step is always observed (f and ∇f of all particles): included, as in a run */
  if (cgd_loop_run(&lo, obj, m, n, x, &ob, &r, &err)) {
    fprintf(stderr, "bench_ensemble: %s\n", err.msg);
    exit(1);
  }
  t = clock_s() - t;
  cgd_map_free(m);
  return 1e9 * t / ((double)n * (double)steps);
}

/* The train tool beside this program, or NULL. */
static const char *train_path(void) {
  static char buf[PATH_MAX];
  ssize_t k = readlink("/proc/self/exe", buf, sizeof buf - 16);
  if (k <= 0) return NULL;
  buf[k] = 0;
  char *sl = strrchr(buf, '/');
  if (!sl) return NULL;
  strcpy(sl + 1, "train");
  return access(buf, X_OK) == 0 ? buf : NULL;
}

/* Wall time of one `train` process on the same ensemble, in ns per particle-step; < 0 if
 * it failed. Its run directory goes to a temporary folder, removed afterwards. */
static double run_train(const char *train, size_t n, uint64_t steps, double lr, double eps) {
  char dir[] = "/tmp/bench_ensemble.XXXXXX";
  if (!mkdtemp(dir)) return -1;
  char out[64], ns[32], it[32], lrs[32], es[32];
  snprintf(out, sizeof out, "%s/run", dir);
  snprintf(ns, sizeof ns, "%zu", n);
  snprintf(it, sizeof it, "%llu", (unsigned long long)steps);
  snprintf(lrs, sizeof lrs, "%g", lr);
  snprintf(es, sizeof es, "%g", eps);
  char *argv[] = {(char *)train, "--f0", "quartic", "--f1", "sin", "--eps", es, "--lr", lrs,
                  "--ensemble", ns, "--iters", it, "--x0", "uniform:-1,1", "--no-plots",
                  "--quiet", "--out", out, NULL};
  /* one thread, like the loop it is compared with (getenv takes the first entry) */
  size_t ne = 0;
  while (environ[ne]) ne++;
  char **envp = malloc((ne + 2) * sizeof *envp);
  if (!envp) return -1;
  envp[0] = "OMP_NUM_THREADS=1";
  memcpy(envp + 1, environ, (ne + 1) * sizeof *envp);
  pid_t pid;
  int st = -1;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  posix_spawn_file_actions_t fa; /* its stdout (the run directory) is not ours */
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  if (posix_spawn(&pid, train, &fa, NULL, argv, envp) == 0) wait4(pid, &st, 0, &ru);
  posix_spawn_file_actions_destroy(&fa);
  free(envp);
  /* the whole process's CPU time, user + system (it runs one thread) */
  const double t = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
                   (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd)) { /* a leftover temporary folder is not a failure of the figure */
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
  return 1e9 * t / ((double)n * (double)steps);
}

/* ------------------------------------------------------------ report */

typedef struct series {
  double v[64], ratio[64];
} series;

static void row(const char *name, series *s, int reps, const char *ref) {
  double v[64], r[64];
  memcpy(v, s->v, reps * sizeof *v);
  memcpy(r, s->ratio, reps * sizeof *r);
  const double med = bench_median(v, (size_t)reps), rmed = bench_median(r, (size_t)reps);
  if (ref)
    printf("  %-44s %8.3f  %6.3f-%6.3f  %6.2fx %-14s (%.2f-%.2f)\n", name, med, v[0],
           v[reps - 1], rmed, ref, r[0], r[reps - 1]);
  else
    printf("  %-44s %8.3f  %6.3f-%6.3f\n", name, med, v[0], v[reps - 1]);
}

int main(int argc, char **argv) {
  uint64_t n64 = 1000000, steps = 100, reps64 = 7;
  const char *me = "bench_ensemble";
  if (argc > 4 || (argc > 1 && argv[1][0] == '-')) {
    fprintf(stderr, "usage: bench_ensemble [PARTICLES] [STEPS] [REPS<=64]\n");
    return 2;
  }
  if ((argc > 1 && bench_u64_arg(me, "PARTICLES", argv[1], 1, 100000000, &n64)) ||
      (argc > 2 && bench_u64_arg(me, "STEPS", argv[2], 1, 10000000, &steps)) ||
      (argc > 3 && bench_u64_arg(me, "REPS", argv[3], 1, 64, &reps64)))
    return 2;
  const size_t n = (size_t)n64;
  const int reps = (int)reps64;
  const double eps = 1e-6, lr = 0.1;
  __builtin_cpu_init();
  const int has512 = __builtin_cpu_supports("avx512f");
  cgd_objective *obj[2] = {NULL, NULL}; /* AVX2, AVX-512 */
  for (int w = 0; w < 1 + has512; w++) {
    cgd_ms_spec spec = {.f0 = "quartic", .f1 = "sin", .eps = eps, .k = 1,
                        .trig_isa = w ? CGD_TRIG_AVX512 : CGD_TRIG_AVX2};
    cgd_error err;
    if (cgd_multiscale_create(&spec, &obj[w], &err)) {
      fprintf(stderr, "bench_ensemble: %s\n", err.msg);
      return 1;
    }
  }
  double *x0 = malloc(4 * n * sizeof *x0), *x1 = x0 + n, *x2 = x1 + n, *x3 = x2 + n;
  for (size_t i = 0; i < n; i++) x0[i] = 2 * cgd_rng_uniform(0, CGD_STREAM_X0, i) - 1;
  const char *train = train_path();

  /* plain scalar loop with libm: for scale, once (through a pointer, so that the
   * declare-simd declaration above cannot vectorise it) */
  double (*volatile scalar_cos)(double) = cos;
  memcpy(x2, x0, n * sizeof *x2);
  double t = bench_cpu_s();
  for (uint64_t s = 0; s < steps; s++)
    for (size_t i = 0; i < n; i++) {
      double x = x2[i];
      x2[i] = x - lr * (x * x * x + scalar_cos(x / eps));
    }
  const double plain = 1e9 * (bench_cpu_s() - t) / ((double)n * (double)steps);

  series g2 = {{0}, {0}}, l2 = g2, g5 = g2, l5 = g2, two = g2, tr = g2, sl = g2;
  int same_threads = 1, same_isa = 1, have_train = train != NULL;
  run_lib(obj[0], CGD_MAP_GD, n, 2, 1, lr, x0, x1); /* warm-up */
  run_glibc(0, n, 2, lr, eps, x0, x2);
  for (int r = 0; r < reps; r++) {
    g2.v[r] = run_glibc(0, n, steps, lr, eps, x0, x2);
    l2.v[r] = run_lib(obj[0], CGD_MAP_GD, n, steps, 1, lr, x0, x1);
    l2.ratio[r] = l2.v[r] / g2.v[r];
    sl.v[r] = run_sleef(n - n % 4, steps, lr, eps, x0, x3);
    sl.ratio[r] = sl.v[r] / g2.v[r];
    if (has512) {
      g5.v[r] = run_glibc(1, n, steps, lr, eps, x0, x2);
      l5.v[r] = run_lib(obj[1], CGD_MAP_GD, n, steps, 1, lr, x0, x3);
      l5.ratio[r] = l5.v[r] / g5.v[r];
      same_isa &= memcmp(x1, x3, n * sizeof *x1) == 0;
    }
    const int best = has512;
    two.v[r] = run_lib(obj[best], CGD_MAP_GD, n, steps, 2, lr, x0, x2);
    two.ratio[r] = two.v[r] / (best ? g5.v[r] : g2.v[r]);
    same_threads &= memcmp(x1, x2, n * sizeof *x1) == 0;
    if (have_train) {
      tr.v[r] = run_train(train, n, steps, lr, eps);
      tr.ratio[r] = tr.v[r] / (best ? g5.v[r] : g2.v[r]);
      if (tr.v[r] < 0) have_train = 0;
    }
  }

  printf("# bench_ensemble: GD on quartic + sin, eps = %g, lr = %g, %zu particles, %llu steps, "
         "medians of %d interleaved repetitions\n", eps, lr, n, (unsigned long long)steps, reps);
  printf("# CPU: AVX-512F %s\n", has512 ? "yes" : "no (AVX-512 rows cannot be measured here)");
  printf("# %-44s %8s  %13s  %s\n", "implementation", "ns/p-step", "range", "ratio to reference (range)");
  row("glibc vector cos loop, AVX2 (reference)", &g2, reps, NULL);
  row("chaosgd loop, deterministic cos, AVX2, 1 thr", &l2, reps, "glibc AVX2");
  row("SLEEF u35 cos loop (the former kernel), AVX2", &sl, reps, "glibc AVX2");
  if (has512) {
    row("glibc vector cos loop, AVX-512 (reference)", &g5, reps, NULL);
    row("chaosgd loop, deterministic cos, AVX-512, 1 thr", &l5, reps, "glibc AVX-512");
  }
  row("chaosgd loop, best width, 2 threads", &two, reps, has512 ? "glibc AVX-512" : "glibc AVX2");
  if (have_train)
    row("train, whole process, 1 thread", &tr, reps,
        has512 ? "glibc AVX-512" : "glibc AVX2");
  else
    printf("  train: not measured (no ./train beside this program, or it failed)\n");
  printf("  %-44s %8.3f  (once, for scale)\n", "plain C loop, scalar libm cos", plain);
  /* the other maps on the same objective, one thread (for scale; no target) */
  const cgd_map_kind others[] = {CGD_MAP_HEAVYBALL, CGD_MAP_STOCHASTIC, CGD_MAP_GAUSSIAN};
  for (int k = 0; k < 3; k++) {
    series o = {{0}, {0}};
    for (int r = 0; r < 3; r++) o.v[r] = run_lib(obj[has512], others[k], n, steps, 1, lr, x0, x3);
    char name[64];
    snprintf(name, sizeof name, "map %s, 1 thread", cgd_map_kind_name(others[k]));
    row(name, &o, 3, NULL);
  }
  printf("# 1 vs 2 threads bit-identical: %s; AVX2 vs AVX-512 bit-identical: %s\n",
         same_threads ? "yes" : "NO", has512 ? (same_isa ? "yes" : "NO") : "not measurable here");
  free(x0);
  cgd_objective_free(obj[0]);
  cgd_objective_free(obj[1]);
  return same_threads && same_isa ? 0 : 1;
}
