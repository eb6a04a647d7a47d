/* The deterministic sine/cosine kernel of chaosgd/vmath.h at three widths: one double
 * (scalar), four (AVX2+FMA) and eight (AVX-512F). Internal: included by vmath.c and by the
 * objectives that fuse it into their own loops (multiscale.c). Files that include it are
 * compiled with -ffp-contract=off (CMakeLists.txt), so every multiply and add below is the
 * one written and every FMA is an explicit one.
 *
 * Math (the same sequence of IEEE operations in every variant, hence the same bits):
 *
 *   k  = fma(t, 2/π, 1.5·2⁵²)           t·2/π rounded to an integer n inside the
 *                                        mantissa: n mod 4 = the low two bits of k
 *   n  = k − 1.5·2⁵²                     exact
 *   e  = t − n·P1                        one fma, exact: e lies on t's grid (or 2⁻⁵³'s)
 *                                        and |e| < 1 for |t| <= 2⁴⁰
 *   r + rr = e − n·P2 − n·P3             π/2 = P1 + P2 + P3 + O(2⁻¹⁶⁰) (53 bits each):
 *                                        n·P2 = h + l exactly (mul, fma), e − h by TwoSum
 *                                        into r + err, rr = (err − l) − n·P3; without the
 *                                        tail rr the rounding of r alone costs up to 1 ulp
 *                                        of sin r where sin r falls a binade below r
 *   z  = r²
 *   S = r + ((rr − (z/2)·rr) + (z·r)·(S1 + z(S2 + … + z S6)))   fdlibm __kernel_sin(r, rr)
 *   C = w + ((((1 − w) − z/2) − r·rr) + z²(C1 + … + z C6))     fdlibm __kernel_cos(r, rr),
 *                                        w = 1 − z/2; both minimax on |r| <= π/4
 *   cos t = [S if n odd else C] · (−1 if (n+1) & 2)
 *   sin t = [C if n odd else S] · (−1 if n & 2)        (cos of t − π/2: n → n − 1)
 *
 * The polynomial of a lane is selected by a mask built from n's bits and the sign applied
 * by XOR, so no lane branches. Arguments with |t| > CGD_VMATH_MAX_ARG (including ±∞)
 * give NaN and raise the lane's flag in *bad (the caller turns it into CGD_EDOMAIN); a NaN
 * argument gives NaN without a flag (it is the caller's non-finite state, not a domain
 * question). */
#ifndef CHAOSGD_VMATH_KERNEL_H
#define CHAOSGD_VMATH_KERNEL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "chaosgd/vmath.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define CGD_VM_TWO_OVER_PI 0x1.45f306dc9c883p-1
#define CGD_VM_SHIFT 0x1.8p52
/* π/2 = P1 + P2 + P3 + O(2⁻¹⁶⁰): each part is the next 53 bits of π/2. */
#define CGD_VM_P1 0x1.921fb54442d18p0
#define CGD_VM_P2 0x1.1a62633145c07p-54
#define CGD_VM_P3 -0x1.f1976b7ed8fbcp-110
/* fdlibm k_sin.c / k_cos.c minimax coefficients on [−π/4, π/4]. */
#define CGD_VM_S1 -1.66666666666666324348e-01
#define CGD_VM_S2 8.33333333332248946124e-03
#define CGD_VM_S3 -1.98412698298579493134e-04
#define CGD_VM_S4 2.75573137070700676789e-06
#define CGD_VM_S5 -2.50507602534068634195e-08
#define CGD_VM_S6 1.58969099521155010221e-10
#define CGD_VM_C1 4.16666666666666019037e-02
#define CGD_VM_C2 -1.38888888888741095749e-03
#define CGD_VM_C3 2.48015872894767294178e-05
#define CGD_VM_C4 -2.75573143513906633035e-07
#define CGD_VM_C5 2.08757232129817482790e-09
#define CGD_VM_C6 -1.13596475577881948265e-11

/* ------------------------------------------------------------------ scalar */

static inline double cgd_vm_bits_xor(double v, uint64_t m) {
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  b ^= m;
  memcpy(&v, &b, sizeof v);
  return v;
}

static inline double cgd_vm_bits_or(double v, uint64_t m) {
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  b |= m;
  memcpy(&v, &b, sizeof v);
  return v;
}

/* sin t → *s, cos t → *c (either may be NULL); returns 1 if |t| is beyond the bound. */
static inline int cgd_vm_sincos1(double t, double *s, double *c) {
  const double k = fma(t, CGD_VM_TWO_OVER_PI, CGD_VM_SHIFT);
  const double n = k - CGD_VM_SHIFT;
  const double e1 = fma(-n, CGD_VM_P1, t);
  const double h = n * CGD_VM_P2, l = fma(n, CGD_VM_P2, -h);
  const double r = e1 - h, bb = r - e1;
  const double rr = fma(-n, CGD_VM_P3, ((e1 - (r - bb)) - (h + bb)) - l);
  const double z = r * r;
  double ps = fma(z, CGD_VM_S6, CGD_VM_S5);
  ps = fma(z, ps, CGD_VM_S4);
  ps = fma(z, ps, CGD_VM_S3);
  ps = fma(z, ps, CGD_VM_S2);
  ps = fma(z, ps, CGD_VM_S1);
  const double hz = 0.5 * z;
  const double sr = r + fma(z * r, ps, fma(-hz, rr, rr));
  double pc = fma(z, CGD_VM_C6, CGD_VM_C5);
  pc = fma(z, pc, CGD_VM_C4);
  pc = fma(z, pc, CGD_VM_C3);
  pc = fma(z, pc, CGD_VM_C2);
  pc = fma(z, pc, CGD_VM_C1);
  const double w = 1.0 - hz;
  const double cr = w + fma(z * z, pc, fma(-r, rr, (1.0 - w) - hz));
  uint64_t q;
  memcpy(&q, &k, sizeof q);
  const int bad = fabs(t) > CGD_VMATH_MAX_ARG;
  const uint64_t nan = bad ? ~UINT64_C(0) : 0; /* all-ones: a NaN */
  if (c) *c = cgd_vm_bits_or(cgd_vm_bits_xor((q & 1) ? sr : cr, ((q + 1) & 2) << 62), nan);
  if (s) *s = cgd_vm_bits_or(cgd_vm_bits_xor((q & 1) ? cr : sr, (q & 2) << 62), nan);
  return bad;
}

#if defined(__x86_64__)
/* ------------------------------------------------------------------ AVX2 */

/* The shared part: reduction and both polynomials; q = k's bits (n mod 4 in bits 0-1). */
__attribute__((target("avx2,fma"))) static inline void
cgd_vm_core4(__m256d t, __m256d *sr, __m256d *cr, __m256i *q) {
  const __m256d shift = _mm256_set1_pd(CGD_VM_SHIFT);
  const __m256d k = _mm256_fmadd_pd(t, _mm256_set1_pd(CGD_VM_TWO_OVER_PI), shift);
  const __m256d n = _mm256_sub_pd(k, shift);
  const __m256d e1 = _mm256_fnmadd_pd(n, _mm256_set1_pd(CGD_VM_P1), t);
  const __m256d p2 = _mm256_set1_pd(CGD_VM_P2);
  const __m256d h = _mm256_mul_pd(n, p2), l = _mm256_fmsub_pd(n, p2, h);
  const __m256d r = _mm256_sub_pd(e1, h), bb = _mm256_sub_pd(r, e1);
  const __m256d err = _mm256_sub_pd(_mm256_sub_pd(e1, _mm256_sub_pd(r, bb)), _mm256_add_pd(h, bb));
  const __m256d rr = _mm256_fnmadd_pd(n, _mm256_set1_pd(CGD_VM_P3), _mm256_sub_pd(err, l));
  const __m256d z = _mm256_mul_pd(r, r);
  const __m256d hz = _mm256_mul_pd(_mm256_set1_pd(0.5), z);
  __m256d ps = _mm256_fmadd_pd(z, _mm256_set1_pd(CGD_VM_S6), _mm256_set1_pd(CGD_VM_S5));
  ps = _mm256_fmadd_pd(z, ps, _mm256_set1_pd(CGD_VM_S4));
  ps = _mm256_fmadd_pd(z, ps, _mm256_set1_pd(CGD_VM_S3));
  ps = _mm256_fmadd_pd(z, ps, _mm256_set1_pd(CGD_VM_S2));
  ps = _mm256_fmadd_pd(z, ps, _mm256_set1_pd(CGD_VM_S1));
  *sr = _mm256_add_pd(r, _mm256_fmadd_pd(_mm256_mul_pd(z, r), ps, _mm256_fnmadd_pd(hz, rr, rr)));
  __m256d pc = _mm256_fmadd_pd(z, _mm256_set1_pd(CGD_VM_C6), _mm256_set1_pd(CGD_VM_C5));
  pc = _mm256_fmadd_pd(z, pc, _mm256_set1_pd(CGD_VM_C4));
  pc = _mm256_fmadd_pd(z, pc, _mm256_set1_pd(CGD_VM_C3));
  pc = _mm256_fmadd_pd(z, pc, _mm256_set1_pd(CGD_VM_C2));
  pc = _mm256_fmadd_pd(z, pc, _mm256_set1_pd(CGD_VM_C1));
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d w = _mm256_sub_pd(one, hz);
  const __m256d tail = _mm256_fnmadd_pd(r, rr, _mm256_sub_pd(_mm256_sub_pd(one, w), hz));
  *cr = _mm256_add_pd(w, _mm256_fmadd_pd(_mm256_mul_pd(z, z), pc, tail));
  *q = _mm256_castpd_si256(k);
}

/* Lanes beyond the bound: all-ones (a NaN), flagged in *bad. */
__attribute__((target("avx2,fma"))) static inline __m256d cgd_vm_bad4(__m256d t, __m256d *bad) {
  const __m256d abs = _mm256_andnot_pd(_mm256_set1_pd(-0.0), t);
  const __m256d m = _mm256_cmp_pd(abs, _mm256_set1_pd(CGD_VMATH_MAX_ARG), _CMP_GT_OQ);
  *bad = _mm256_or_pd(*bad, m);
  return m;
}

__attribute__((target("avx2,fma"))) static inline __m256d cgd_vm_cos4(__m256d t, __m256d *bad) {
  __m256d sr, cr;
  __m256i q;
  cgd_vm_core4(t, &sr, &cr, &q);
  /* blendv takes bit 63: n odd → the sine polynomial */
  __m256d v = _mm256_blendv_pd(cr, sr, _mm256_castsi256_pd(_mm256_slli_epi64(q, 63)));
  const __m256i sg = _mm256_slli_epi64(_mm256_add_epi64(q, _mm256_set1_epi64x(1)), 62);
  v = _mm256_xor_pd(v, _mm256_and_pd(_mm256_castsi256_pd(sg), _mm256_set1_pd(-0.0)));
  return _mm256_or_pd(v, cgd_vm_bad4(t, bad));
}

__attribute__((target("avx2,fma"))) static inline __m256d cgd_vm_sin4(__m256d t, __m256d *bad) {
  __m256d sr, cr;
  __m256i q;
  cgd_vm_core4(t, &sr, &cr, &q);
  __m256d v = _mm256_blendv_pd(sr, cr, _mm256_castsi256_pd(_mm256_slli_epi64(q, 63)));
  const __m256i sg = _mm256_slli_epi64(q, 62);
  v = _mm256_xor_pd(v, _mm256_and_pd(_mm256_castsi256_pd(sg), _mm256_set1_pd(-0.0)));
  return _mm256_or_pd(v, cgd_vm_bad4(t, bad));
}

__attribute__((target("avx2,fma"))) static inline void
cgd_vm_sincos4(__m256d t, __m256d *s, __m256d *c, __m256d *bad) {
  __m256d sr, cr;
  __m256i q;
  cgd_vm_core4(t, &sr, &cr, &q);
  const __m256d odd = _mm256_castsi256_pd(_mm256_slli_epi64(q, 63)), sgn = _mm256_set1_pd(-0.0);
  const __m256d m = cgd_vm_bad4(t, bad);
  __m256d vc = _mm256_blendv_pd(cr, sr, odd), vs = _mm256_blendv_pd(sr, cr, odd);
  const __m256i sc = _mm256_slli_epi64(_mm256_add_epi64(q, _mm256_set1_epi64x(1)), 62);
  const __m256i ss = _mm256_slli_epi64(q, 62);
  *c = _mm256_or_pd(_mm256_xor_pd(vc, _mm256_and_pd(_mm256_castsi256_pd(sc), sgn)), m);
  *s = _mm256_or_pd(_mm256_xor_pd(vs, _mm256_and_pd(_mm256_castsi256_pd(ss), sgn)), m);
}

/* ------------------------------------------------------------------ AVX-512F */

__attribute__((target("avx512f"))) static inline void
cgd_vm_core8(__m512d t, __m512d *sr, __m512d *cr, __m512i *q) {
  const __m512d shift = _mm512_set1_pd(CGD_VM_SHIFT);
  const __m512d k = _mm512_fmadd_pd(t, _mm512_set1_pd(CGD_VM_TWO_OVER_PI), shift);
  const __m512d n = _mm512_sub_pd(k, shift);
  const __m512d e1 = _mm512_fnmadd_pd(n, _mm512_set1_pd(CGD_VM_P1), t);
  const __m512d p2 = _mm512_set1_pd(CGD_VM_P2);
  const __m512d h = _mm512_mul_pd(n, p2), l = _mm512_fmsub_pd(n, p2, h);
  const __m512d r = _mm512_sub_pd(e1, h), bb = _mm512_sub_pd(r, e1);
  const __m512d err = _mm512_sub_pd(_mm512_sub_pd(e1, _mm512_sub_pd(r, bb)), _mm512_add_pd(h, bb));
  const __m512d rr = _mm512_fnmadd_pd(n, _mm512_set1_pd(CGD_VM_P3), _mm512_sub_pd(err, l));
  const __m512d z = _mm512_mul_pd(r, r);
  const __m512d hz = _mm512_mul_pd(_mm512_set1_pd(0.5), z);
  __m512d ps = _mm512_fmadd_pd(z, _mm512_set1_pd(CGD_VM_S6), _mm512_set1_pd(CGD_VM_S5));
  ps = _mm512_fmadd_pd(z, ps, _mm512_set1_pd(CGD_VM_S4));
  ps = _mm512_fmadd_pd(z, ps, _mm512_set1_pd(CGD_VM_S3));
  ps = _mm512_fmadd_pd(z, ps, _mm512_set1_pd(CGD_VM_S2));
  ps = _mm512_fmadd_pd(z, ps, _mm512_set1_pd(CGD_VM_S1));
  *sr = _mm512_add_pd(r, _mm512_fmadd_pd(_mm512_mul_pd(z, r), ps, _mm512_fnmadd_pd(hz, rr, rr)));
  __m512d pc = _mm512_fmadd_pd(z, _mm512_set1_pd(CGD_VM_C6), _mm512_set1_pd(CGD_VM_C5));
  pc = _mm512_fmadd_pd(z, pc, _mm512_set1_pd(CGD_VM_C4));
  pc = _mm512_fmadd_pd(z, pc, _mm512_set1_pd(CGD_VM_C3));
  pc = _mm512_fmadd_pd(z, pc, _mm512_set1_pd(CGD_VM_C2));
  pc = _mm512_fmadd_pd(z, pc, _mm512_set1_pd(CGD_VM_C1));
  const __m512d one = _mm512_set1_pd(1.0);
  const __m512d w = _mm512_sub_pd(one, hz);
  const __m512d tail = _mm512_fnmadd_pd(r, rr, _mm512_sub_pd(_mm512_sub_pd(one, w), hz));
  *cr = _mm512_add_pd(w, _mm512_fmadd_pd(_mm512_mul_pd(z, z), pc, tail));
  *q = _mm512_castpd_si512(k);
}

/* Sign bits and the out-of-range NaN, by integer XOR/OR (AVX-512F has no pd logic ops). */
__attribute__((target("avx512f"))) static inline __m512d
cgd_vm_fix8(__m512d v, __m512i sgnsrc, __m512d t, __mmask8 *bad) {
  const __m512i sgn = _mm512_set1_epi64((long long)0x8000000000000000ULL);
  __m512i b = _mm512_xor_si512(_mm512_castpd_si512(v), _mm512_and_si512(sgnsrc, sgn));
  const __mmask8 m =
      _mm512_cmp_pd_mask(_mm512_abs_pd(t), _mm512_set1_pd(CGD_VMATH_MAX_ARG), _CMP_GT_OQ);
  *bad |= m;
  b = _mm512_mask_mov_epi64(b, m, _mm512_set1_epi64(-1));
  return _mm512_castsi512_pd(b);
}

__attribute__((target("avx512f"))) static inline __m512d cgd_vm_cos8(__m512d t, __mmask8 *bad) {
  __m512d sr, cr;
  __m512i q;
  cgd_vm_core8(t, &sr, &cr, &q);
  const __mmask8 odd = _mm512_test_epi64_mask(q, _mm512_set1_epi64(1));
  const __m512d v = _mm512_mask_blend_pd(odd, cr, sr);
  return cgd_vm_fix8(v, _mm512_slli_epi64(_mm512_add_epi64(q, _mm512_set1_epi64(1)), 62), t,
                     bad);
}

__attribute__((target("avx512f"))) static inline __m512d cgd_vm_sin8(__m512d t, __mmask8 *bad) {
  __m512d sr, cr;
  __m512i q;
  cgd_vm_core8(t, &sr, &cr, &q);
  const __mmask8 odd = _mm512_test_epi64_mask(q, _mm512_set1_epi64(1));
  const __m512d v = _mm512_mask_blend_pd(odd, sr, cr);
  return cgd_vm_fix8(v, _mm512_slli_epi64(q, 62), t, bad);
}

__attribute__((target("avx512f"))) static inline void
cgd_vm_sincos8(__m512d t, __m512d *s, __m512d *c, __mmask8 *bad) {
  __m512d sr, cr;
  __m512i q;
  cgd_vm_core8(t, &sr, &cr, &q);
  const __mmask8 odd = _mm512_test_epi64_mask(q, _mm512_set1_epi64(1));
  *c = cgd_vm_fix8(_mm512_mask_blend_pd(odd, cr, sr),
                   _mm512_slli_epi64(_mm512_add_epi64(q, _mm512_set1_epi64(1)), 62), t, bad);
  *s = cgd_vm_fix8(_mm512_mask_blend_pd(odd, sr, cr), _mm512_slli_epi64(q, 62), t, bad);
}
#endif

#endif
