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

#if defined(__x86_64__) && defined(__clang__)
/* clang ignores "#pragma GCC target" and defines no ISA macros for it, so sleef.h would
 * leave its AVX2/AVX-512 declarations out. The macros are set only around the include,
 * and the declarations get the target attribute (clang refuses vector arguments to a
 * function declared without it); the vector types come from immintrin.h either way and
 * code generation is still chosen by each kernel's own target attribute. Used by the
 * clang fuzz builds. */
#include <immintrin.h>
#if !defined(__AVX__)
#define __AVX__ 1
#define CGD_UNDEF_AVX
#endif
#if !defined(__AVX2__)
#define __AVX2__ 1
#define CGD_UNDEF_AVX2
#endif
#if !defined(__FMA__)
#define __FMA__ 1
#define CGD_UNDEF_FMA
#endif
#if !defined(__AVX512F__)
#define __AVX512F__ 1
#define CGD_UNDEF_AVX512F
#endif
#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f"))), apply_to = function)
#include <sleef.h>
#pragma clang attribute pop
#ifdef CGD_UNDEF_AVX
#undef __AVX__
#undef CGD_UNDEF_AVX
#endif
#ifdef CGD_UNDEF_AVX2
#undef __AVX2__
#undef CGD_UNDEF_AVX2
#endif
#ifdef CGD_UNDEF_FMA
#undef __FMA__
#undef CGD_UNDEF_FMA
#endif
#ifdef CGD_UNDEF_AVX512F
#undef __AVX512F__
#undef CGD_UNDEF_AVX512F
#endif
#elif defined(__x86_64__)
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
