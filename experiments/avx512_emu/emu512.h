/* Software emulation of the AVX-512F intrinsics used by chaosgd's kernels (vmath_kernel.h,
 * multiscale.c, mlp_fused.c): exact IEEE semantics per lane (fma by libm's correctly rounded
 * fma), so that run.sh can test the AVX-512 code paths on a CPU without AVX-512. Included
 * with -include after the real immintrin.h; the names are mapped by macros. */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
typedef struct { double v[8]; } emu_pd;
typedef struct { int64_t v[8]; } emu_si;
#define __m512d emu_pd
#define __m512i emu_si
#define E static inline __attribute__((always_inline, target("avx2,fma")))
#define PD1(name, expr) E emu_pd name(emu_pd a) { emu_pd r; for (int i = 0; i < 8; i++) r.v[i] = (expr); return r; }
#define PD2(name, expr) E emu_pd name(emu_pd a, emu_pd b) { emu_pd r; for (int i = 0; i < 8; i++) r.v[i] = (expr); return r; }
#define PD3(name, expr) E emu_pd name(emu_pd a, emu_pd b, emu_pd c) { emu_pd r; for (int i = 0; i < 8; i++) r.v[i] = (expr); return r; }
PD2(emu_add_pd, a.v[i] + b.v[i])
PD2(emu_sub_pd, a.v[i] - b.v[i])
PD2(emu_mul_pd, a.v[i] * b.v[i])
PD2(emu_div_pd, a.v[i] / b.v[i])
PD3(emu_fmadd_pd, fma(a.v[i], b.v[i], c.v[i]))
PD3(emu_fmsub_pd, fma(a.v[i], b.v[i], -c.v[i]))
PD3(emu_fnmadd_pd, fma(-a.v[i], b.v[i], c.v[i]))
PD1(emu_abs_pd, fabs(a.v[i]))
E emu_pd emu_set1_pd(double x) { emu_pd r; for (int i = 0; i < 8; i++) r.v[i] = x; return r; }
E emu_pd emu_setzero_pd(void) { return emu_set1_pd(0.0); }
E emu_si emu_set1_epi64(long long x) { emu_si r; for (int i = 0; i < 8; i++) r.v[i] = x; return r; }
E emu_pd emu_loadu_pd(const void *p) { emu_pd r; memcpy(r.v, p, 64); return r; }
E emu_pd emu_load_pd(const void *p) {
  if ((uintptr_t)p % 64) __builtin_trap(); /* the real instruction faults on misalignment */
  return emu_loadu_pd(p);
}
E void emu_storeu_pd(void *p, emu_pd a) { memcpy(p, a.v, 64); }
E void emu_store_pd(void *p, emu_pd a) { if ((uintptr_t)p % 64) __builtin_trap(); memcpy(p, a.v, 64); }
E emu_si emu_castpd_si512(emu_pd a) { emu_si r; memcpy(r.v, a.v, 64); return r; }
E emu_pd emu_castsi512_pd(emu_si a) { emu_pd r; memcpy(r.v, a.v, 64); return r; }
E emu_si emu_and_si512(emu_si a, emu_si b) { emu_si r; for (int i = 0; i < 8; i++) r.v[i] = a.v[i] & b.v[i]; return r; }
E emu_si emu_xor_si512(emu_si a, emu_si b) { emu_si r; for (int i = 0; i < 8; i++) r.v[i] = a.v[i] ^ b.v[i]; return r; }
E emu_si emu_add_epi64(emu_si a, emu_si b) { emu_si r; for (int i = 0; i < 8; i++) r.v[i] = (int64_t)((uint64_t)a.v[i] + (uint64_t)b.v[i]); return r; }
E emu_si emu_slli_epi64(emu_si a, unsigned k) { emu_si r; for (int i = 0; i < 8; i++) r.v[i] = k > 63 ? 0 : (int64_t)((uint64_t)a.v[i] << k); return r; }
E __mmask8 emu_test_epi64_mask(emu_si a, emu_si b) { unsigned m = 0; for (int i = 0; i < 8; i++) m |= (unsigned)((a.v[i] & b.v[i]) != 0) << i; return (__mmask8)m; }
E emu_pd emu_mask_blend_pd(__mmask8 k, emu_pd a, emu_pd b) { emu_pd r; for (int i = 0; i < 8; i++) r.v[i] = (k >> i) & 1 ? b.v[i] : a.v[i]; return r; }
E emu_si emu_mask_mov_epi64(emu_si src, __mmask8 k, emu_si a) { emu_si r; for (int i = 0; i < 8; i++) r.v[i] = (k >> i) & 1 ? a.v[i] : src.v[i]; return r; }
E emu_pd emu_maskz_mov_pd(__mmask8 k, emu_pd a) { emu_pd r; for (int i = 0; i < 8; i++) r.v[i] = (k >> i) & 1 ? a.v[i] : 0.0; return r; }
E emu_pd emu_mask_add_pd(emu_pd src, __mmask8 k, emu_pd a, emu_pd b) { emu_pd r; for (int i = 0; i < 8; i++) r.v[i] = (k >> i) & 1 ? a.v[i] + b.v[i] : src.v[i]; return r; }
E __mmask8 emu_cmp_pd_mask(emu_pd a, emu_pd b, const int p) {
  unsigned m = 0;
  for (int i = 0; i < 8; i++) {
    int c;
    if (p == _CMP_GT_OQ) c = a.v[i] > b.v[i];
    else if (p == _CMP_LE_OQ) c = a.v[i] <= b.v[i];
    else if (p == _CMP_LT_OQ) c = a.v[i] < b.v[i];
    else __builtin_trap();
    m |= (unsigned)c << i;
  }
  return (__mmask8)m;
}
#define _mm512_add_pd emu_add_pd
#define _mm512_sub_pd emu_sub_pd
#define _mm512_mul_pd emu_mul_pd
#define _mm512_div_pd emu_div_pd
#define _mm512_fmadd_pd emu_fmadd_pd
#define _mm512_fmsub_pd emu_fmsub_pd
#define _mm512_fnmadd_pd emu_fnmadd_pd
#define _mm512_abs_pd emu_abs_pd
#define _mm512_set1_pd emu_set1_pd
#define _mm512_setzero_pd emu_setzero_pd
#define _mm512_set1_epi64 emu_set1_epi64
#define _mm512_loadu_pd emu_loadu_pd
#define _mm512_load_pd emu_load_pd
#define _mm512_storeu_pd emu_storeu_pd
#define _mm512_store_pd emu_store_pd
#define _mm512_castpd_si512 emu_castpd_si512
#define _mm512_castsi512_pd emu_castsi512_pd
#define _mm512_and_si512 emu_and_si512
#define _mm512_xor_si512 emu_xor_si512
#define _mm512_add_epi64 emu_add_epi64
#define _mm512_slli_epi64 emu_slli_epi64
#define _mm512_test_epi64_mask emu_test_epi64_mask
#define _mm512_mask_blend_pd emu_mask_blend_pd
#define _mm512_mask_mov_epi64 emu_mask_mov_epi64
#define _mm512_maskz_mov_pd emu_maskz_mov_pd
#define _mm512_mask_add_pd emu_mask_add_pd
#define _mm512_cmp_pd_mask emu_cmp_pd_mask
