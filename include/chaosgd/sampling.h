/* Initial states drawn from a law written as text (the --x0 option):
 *   "a"            every particle at a (1-D)
 *   "a,b"          every particle at (a, b) (2-D)
 *   "uniform:L,H"  each coordinate uniform on [L, H), L < H
 *   "normal:M,S"   each coordinate normal with mean M and standard deviation S >= 0
 * Draws come from the counter RNG keyed by (seed, CGD_STREAM_X0, particle·dim + coord),
 * so particle i starts at the same point whatever the number of particles. */
#ifndef CHAOSGD_SAMPLING_H
#define CHAOSGD_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

#include "chaosgd/status.h"

typedef enum { CGD_LAW_POINT = 0, CGD_LAW_UNIFORM, CGD_LAW_NORMAL } cgd_law_kind;

typedef struct cgd_law {
  cgd_law_kind kind;
  size_t npoint;   /* CGD_LAW_POINT: 1 or 2 coordinates given */
  double a, b;     /* point (a, b); uniform [a, b); normal mean a, std b */
} cgd_law;

/* Parse spec; CGD_EUSAGE "--x0 'SPEC': expected ..." on any malformed text. */
int cgd_law_parse(const char *spec, cgd_law *law, cgd_error *err);
/* n states of dimension dim into x (n·dim values). A point law must have dim coordinates
 * (CGD_EUSAGE otherwise). */
int cgd_law_sample(const cgd_law *law, size_t dim, size_t n, uint64_t seed, double *x,
                   cgd_error *err);

#endif
