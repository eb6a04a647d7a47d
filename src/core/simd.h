/* SLEEF with its AVX2 and AVX-512 entry points declared, and the CPU's vector level, for
 * the kernels that pick a vector width at run time (multiscale.c, rng.c).
 *
 * sleef.h declares its AVX2 and AVX-512 functions only when the compiler targets those
 * ISAs; the build targets baseline x86-64, so the declarations are enabled here and the
 * kernels that call them carry their own target attribute and run only after
 * cgd_simd_level() said the CPU has it. immintrin.h comes first so that its intrinsics
 * keep their own (narrower) targets. */
#ifndef CHAOSGD_SIMD_H
#define CHAOSGD_SIMD_H

#if defined(__x86_64__)
#include <immintrin.h>
#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f")
#include <sleef.h>
#pragma GCC pop_options
#else
#include <sleef.h>
#endif

/* Same values as CGD_TRIG_SCALAR/AVX2/AVX512 of multiscale.h. */
enum { CGD_SIMD_SCALAR = 1, CGD_SIMD_AVX2 = 2, CGD_SIMD_AVX512 = 3 };

static inline int cgd_simd_level(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return CGD_SIMD_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return CGD_SIMD_AVX2;
#endif
  return CGD_SIMD_SCALAR;
}

#endif
