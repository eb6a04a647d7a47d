#include "chaosgd/rng.h"

#include <math.h>
#include <string.h>

#include "clones.h"

#include "simd.h"

static inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static const uint64_t GOLDEN = 0x9e3779b97f4a7c15ULL;

/* Two rounds of mixing for the key so that nearby (seed, stream) pairs give unrelated
 * starting points on the SplitMix cycle. */
static inline uint64_t key_of(uint64_t seed, uint64_t stream) {
  return mix64(mix64(seed + GOLDEN) ^ (stream * 0xd1b54a32d192ed03ULL));
}

uint64_t cgd_rng_u64(uint64_t seed, uint64_t stream, uint64_t index) {
  return mix64(key_of(seed, stream) + (index + 1) * GOLDEN);
}

double cgd_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index) {
  return (double)(cgd_rng_u64(seed, stream, index) >> 11) * 0x1.0p-53;
}

CGD_CLONES static void uniform_fill(uint64_t key, uint64_t index0, size_t n, double scale,
                                    double *restrict out) {
  for (size_t i = 0; i < n; i++)
    out[i] = scale * ((double)(mix64(key + (index0 + i + 1) * GOLDEN) >> 11) * 0x1.0p-53);
}

void cgd_rng_uniform_fill(uint64_t seed, uint64_t stream, uint64_t index0, size_t n,
                          double scale, double *out) {
  uniform_fill(key_of(seed, stream), index0, n, scale, out);
}

/* ---------------------------------------------------------------- normals, in batches */

/* u1 in (0, 1) (never 0: log), u2 in [0, 1): the two uniforms of Box-Muller for each
 * index, the second from a disjoint stream. Integer-only, so it vectorises. */
CGD_CLONES static void box_muller_uniforms(uint64_t k1, uint64_t k2, uint64_t index0, size_t n,
                                           double *restrict u1, double *restrict u2) {
  for (size_t i = 0; i < n; i++) {
    const uint64_t c = (index0 + i + 1) * GOLDEN;
    u1[i] = ((double)(mix64(k1 + c) >> 11) + 0.5) * 0x1.0p-53;
    u2[i] = (double)(mix64(k2 + c) >> 11) * 0x1.0p-53;
  }
}

/* out = sqrt(−2 ln u1) · cos(2π u2) with SLEEF's deterministic ("finz"/"cinz") 1-ULP log
 * and 3.5-ULP sincos: the same bits on the AVX-512 and AVX2 kernels; partial vectors are
 * padded so every value goes through the same kernel. (The 3.5-ULP AVX-512 log of SLEEF
 * 3.5 is 25× slower than its 1-ULP one, 22 ns against 0.9 ns per value.) */
typedef void (*bm_fn)(size_t n, const double *u1, const double *u2, double *out);

static void bm_scalar(size_t n, const double *u1, const double *u2, double *out) {
  for (size_t i = 0; i < n; i++) {
    double l = Sleef_cinz_logd1_u10purec(u1[i]);
    double c = Sleef_cinz_sincosd1_u35purec(2.0 * M_PI * u2[i]).y;
    out[i] = sqrt(-2.0 * l) * c;
  }
}

#if defined(__x86_64__)
#define BM_BODY(VT, W, LOADU, STOREU, SET1, MUL, SQRT, LOG, SINCOS)                         \
  const VT m2 = SET1(-2.0), tp = SET1(2.0 * M_PI);                                          \
  for (size_t j = 0; j < n; j += W) {                                                       \
    const size_t w = n - j < W ? n - j : W;                                                 \
    double a[W], b[W], o[W];                                                                \
    for (size_t k = 0; k < W; k++) {                                                        \
      a[k] = k < w ? u1[j + k] : 0.5;                                                       \
      b[k] = k < w ? u2[j + k] : 0.0;                                                       \
    }                                                                                       \
    const VT l = LOG(LOADU(a));                                                             \
    const VT c = SINCOS(MUL(tp, LOADU(b))).y;                                               \
    STOREU(o, MUL(SQRT(MUL(m2, l)), c));                                                    \
    memcpy(out + j, o, w * sizeof *o);                                                      \
  }

__attribute__((target("avx2,fma"))) static void bm_avx2(size_t n, const double *u1,
                                                        const double *u2, double *out) {
  BM_BODY(__m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_mul_pd,
          _mm256_sqrt_pd, Sleef_finz_logd4_u10avx2, Sleef_finz_sincosd4_u35avx2)
}

__attribute__((target("avx512f"))) static void bm_avx512(size_t n, const double *u1,
                                                         const double *u2, double *out) {
  BM_BODY(__m512d, 8, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd, _mm512_mul_pd,
          _mm512_sqrt_pd, Sleef_finz_logd8_u10avx512f, Sleef_finz_sincosd8_u35avx512f)
}
#undef BM_BODY
#endif

static bm_fn bm_best(void) {
  switch (cgd_simd_level()) {
#if defined(__x86_64__)
  case CGD_SIMD_AVX512: return bm_avx512;
  case CGD_SIMD_AVX2: return bm_avx2;
#endif
  default: return bm_scalar;
  }
}

void cgd_rng_normal_fill(uint64_t seed, uint64_t stream, uint64_t index0, size_t n,
                         double *out) {
  enum { CHUNK = 256 };
  const uint64_t k1 = key_of(seed, stream), k2 = key_of(seed, stream ^ 0x8000000000000000ULL);
  const bm_fn bm = bm_best();
  double u1[CHUNK], u2[CHUNK];
  for (size_t j = 0; j < n; j += CHUNK) {
    const size_t m = n - j < CHUNK ? n - j : CHUNK;
    box_muller_uniforms(k1, k2, index0 + j, m, u1, u2);
    bm(m, u1, u2, out + j);
  }
}

double cgd_rng_normal(uint64_t seed, uint64_t stream, uint64_t index) {
  double z;
  cgd_rng_normal_fill(seed, stream, index, 1, &z);
  return z;
}
