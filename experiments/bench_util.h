/* Shared by the benchmark programs: a monotonic clock, robust summaries of repeated
 * timings (this machine is a shared VM whose speed drifts between repetitions) and strict
 * parsing of their options. */
#ifndef CHAOSGD_BENCH_UTIL_H
#define CHAOSGD_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chaosgd/parse.h"

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

/* Options of the benchmark programs go through the library's one strict number parser,
 * as the tools' do: the whole argument must be the number and lie in [lo, hi]; otherwise
 * a message naming the program, the option and the value, and the caller exits 2. */
static inline int bench_u64_arg(const char *prog, const char *opt, const char *v, uint64_t lo,
                                uint64_t hi, uint64_t *out) {
  uint64_t x;
  const cgd_parse_code c = cgd_parse_u64(v, &x);
  if (c != CGD_PARSE_OK) {
    fprintf(stderr, "%s: %s '%s' %s\n", prog, opt, v, cgd_parse_why(c));
    return 2;
  }
  if (x < lo || x > hi) {
    fprintf(stderr, "%s: %s '%s' must be in %llu..%llu\n", prog, opt, v,
            (unsigned long long)lo, (unsigned long long)hi);
    return 2;
  }
  *out = x;
  return 0;
}

static inline int bench_double_arg(const char *prog, const char *opt, const char *v, double lo,
                                   double hi, double *out) {
  double x;
  const cgd_parse_code c = cgd_parse_double(v, &x);
  if (c != CGD_PARSE_OK) {
    fprintf(stderr, "%s: %s '%s' %s\n", prog, opt, v, cgd_parse_why(c));
    return 2;
  }
  if (!(x >= lo && x <= hi)) {
    fprintf(stderr, "%s: %s '%s' must be in [%g, %g]\n", prog, opt, v, lo, hi);
    return 2;
  }
  *out = x;
  return 0;
}

/* "A:B" (two doubles) in place of sscanf: each part strictly, a copy bounded by len. */
static inline int bench_pair_arg(const char *prog, const char *opt, const char *v, double lo,
                                 double hi, double *a, double *b) {
  char buf[128];
  const char *colon = strchr(v, ':');
  if (!colon || (size_t)(colon - v) >= sizeof buf) {
    fprintf(stderr, "%s: %s '%s' must be A:B\n", prog, opt, v);
    return 2;
  }
  memcpy(buf, v, (size_t)(colon - v));
  buf[colon - v] = 0;
  return bench_double_arg(prog, opt, buf, lo, hi, a) ||
                 bench_double_arg(prog, opt, colon + 1, lo, hi, b)
             ? 2
             : 0;
}

#endif
