/* Shared by the benchmark programs: a monotonic clock and robust summaries of repeated
 * timings (this machine is a shared VM whose speed drifts between repetitions). */
#ifndef CHAOSGD_BENCH_UTIL_H
#define CHAOSGD_BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

static inline double bench_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of the calling thread: on this shared 2-core VM, wall time also counts the
 * time other processes hold the core, so single-threaded figures (and their ratios) are
 * taken in thread CPU time, which is several times more repeatable here. */
static inline double bench_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorts v in place; v[0] is then the minimum and v[n-1] the maximum. */
static inline double bench_median(double *v, size_t n) {
  qsort(v, n, sizeof *v, bench_cmp_double);
  return v[n / 2];
}

#endif
