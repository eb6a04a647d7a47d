/* Deterministic element-wise sin/cos over arrays (chaosgd/vmath.h): the kernels of
 * vmath_kernel.h driven at the CPU's (or a forced) vector width. A partial last vector
 * goes through the scalar kernel, which gives the same bits as the vector lanes. */
#include "chaosgd/vmath.h"

#include "simd.h"
#include "vmath_kernel.h"

_Static_assert((int)CGD_VMATH_SCALAR == (int)CGD_SIMD_SCALAR &&
                   (int)CGD_VMATH_AVX2 == (int)CGD_SIMD_AVX2 &&
                   (int)CGD_VMATH_AVX512 == (int)CGD_SIMD_AVX512,
               "vmath levels are the SIMD levels");

int cgd_vmath_level(void) { return cgd_simd_level(); }

/* Each returns the index of the first out-of-range argument, or n, and its value in *v
 * (read before the store: x and the output may be the same array). */
static size_t sincos_scalar(size_t i0, size_t n, const double *x, double *s, double *c,
                            double *v) {
  size_t first = n;
  for (size_t i = i0; i < n; i++) {
    const double t = x[i];
    if (cgd_vm_sincos1(t, s ? s + i : NULL, c ? c + i : NULL) && first == n) {
      first = i;
      *v = t;
    }
  }
  return first;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static size_t sincos_avx2(size_t n, const double *x,
                                                              double *s, double *c, double *v) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d t = _mm256_loadu_pd(x + i);
    __m256d bad = _mm256_setzero_pd();
    if (s && c) {
      __m256d vs, vc;
      cgd_vm_sincos4(t, &vs, &vc, &bad);
      _mm256_storeu_pd(s + i, vs);
      _mm256_storeu_pd(c + i, vc);
    } else if (c) {
      _mm256_storeu_pd(c + i, cgd_vm_cos4(t, &bad));
    } else {
      _mm256_storeu_pd(s + i, cgd_vm_sin4(t, &bad));
    }
    const int m = _mm256_movemask_pd(bad);
    if (m) { /* report this vector's first bad lane; the scalar kernel does the rest */
      double tb[4], later;
      _mm256_storeu_pd(tb, t);
      sincos_scalar(i + 4, n, x, s, c, &later);
      *v = tb[__builtin_ctz((unsigned)m)];
      return i + (size_t)__builtin_ctz((unsigned)m);
    }
  }
  return sincos_scalar(i, n, x, s, c, v);
}

__attribute__((target("avx512f"))) static size_t sincos_avx512(size_t n, const double *x,
                                                               double *s, double *c, double *v) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m512d t = _mm512_loadu_pd(x + i);
    __mmask8 bad = 0;
    if (s && c) {
      __m512d vs, vc;
      cgd_vm_sincos8(t, &vs, &vc, &bad);
      _mm512_storeu_pd(s + i, vs);
      _mm512_storeu_pd(c + i, vc);
    } else if (c) {
      _mm512_storeu_pd(c + i, cgd_vm_cos8(t, &bad));
    } else {
      _mm512_storeu_pd(s + i, cgd_vm_sin8(t, &bad));
    }
    if (bad) { /* report this vector's first bad lane; the scalar kernel does the rest */
      double tb[8], later;
      _mm512_storeu_pd(tb, t);
      sincos_scalar(i + 8, n, x, s, c, &later);
      *v = tb[__builtin_ctz((unsigned)bad)];
      return i + (size_t)__builtin_ctz((unsigned)bad);
    }
  }
  return sincos_scalar(i, n, x, s, c, v);
}
#endif

int cgd_vsincos_at(int level, size_t n, const double *x, double *s, double *c, cgd_error *err) {
  if (n && (!x || (!s && !c)))
    return cgd_fail(err, CGD_EUSAGE, "cgd_vsincos: NULL array");
  if (level < CGD_VMATH_AUTO || level > CGD_VMATH_AVX512)
    return cgd_fail(err, CGD_EUSAGE, "cgd_vsincos: level %d is not a CGD_VMATH_* value", level);
  const int best = cgd_simd_level();
  if (level == CGD_VMATH_AUTO || level > best) level = best;
  size_t first;
  double v = 0;
#if defined(__x86_64__)
  if (level == CGD_VMATH_AVX512)
    first = sincos_avx512(n, x, s, c, &v);
  else if (level == CGD_VMATH_AVX2)
    first = sincos_avx2(n, x, s, c, &v);
  else
#endif
    first = sincos_scalar(0, n, x, s, c, &v);
  if (first < n)
    return cgd_fail(err, CGD_EDOMAIN,
                    "sin/cos argument %g (element %zu) is beyond the deterministic kernel's "
                    "range |t| <= 2^40 = %.0f", v, first, CGD_VMATH_MAX_ARG);
  return CGD_OK;
}

int cgd_vsincos(size_t n, const double *x, double *s, double *c, cgd_error *err) {
  return cgd_vsincos_at(CGD_VMATH_AUTO, n, x, s, c, err);
}
int cgd_vcos(size_t n, const double *x, double *out, cgd_error *err) {
  return cgd_vsincos_at(CGD_VMATH_AUTO, n, x, NULL, out, err);
}
int cgd_vsin(size_t n, const double *x, double *out, cgd_error *err) {
  return cgd_vsincos_at(CGD_VMATH_AUTO, n, x, out, NULL, err);
}
