#include "chaosgd/rng.h"

#include <math.h>

static inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static const uint64_t GOLDEN = 0x9e3779b97f4a7c15ULL;

uint64_t cgd_rng_u64(uint64_t seed, uint64_t stream, uint64_t index) {
  /* Two rounds of mixing for the key so that nearby (seed, stream) pairs give unrelated
   * starting points on the SplitMix cycle. */
  uint64_t key = mix64(mix64(seed + GOLDEN) ^ (stream * 0xd1b54a32d192ed03ULL));
  return mix64(key + (index + 1) * GOLDEN);
}

double cgd_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index) {
  return (double)(cgd_rng_u64(seed, stream, index) >> 11) * 0x1.0p-53;
}

double cgd_rng_normal(uint64_t seed, uint64_t stream, uint64_t index) {
  /* Both uniforms come from the same counter: the second from a disjoint stream. */
  double u1 = ((double)(cgd_rng_u64(seed, stream, index) >> 11) + 0.5) * 0x1.0p-53;
  double u2 = cgd_rng_uniform(seed, stream ^ 0x8000000000000000ULL, index);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
