/* Deterministic element-wise sine and cosine: the same bits on every x86-64 vector width
 * (scalar, AVX2+FMA, AVX-512F) and every batch split, from IEEE operations only.
 *
 * Method (src/core/vmath_kernel.h): quadrant n = round(t·2/π) taken from the low bits of
 * fma(t, 2/π, 1.5·2⁵²); Cody–Waite reduction r + rr = t − n·π/2 with π/2 in three 53-bit
 * parts, kept as a double-double (exact products by fma, one TwoSum); fdlibm's minimax polynomials for sin and cos on [−π/4, π/4]; the
 * polynomial of each lane chosen by a mask and the sign applied by XOR. Every FMA is an
 * explicit fma and the files are compiled with -ffp-contract=off, so no compiler choice
 * can change a rounding.
 *
 * Domain and accuracy: |t| <= CGD_VMATH_MAX_ARG = 2⁴⁰ (≈ 1.1e12). Measured against long
 * double cosl/sinl (tests/test_vmath.c, README "Determinism"): at most 0.78 ulp over
 * uniform and log-uniform arguments in that range and over the doubles nearest to
 * multiples of π/2 (where the reduced argument is smallest; the reduction keeps it as a
 * double-double, so these are within 0.5 ulp). The bound is conservative: the same
 * accuracy was measured up to 1e14, while from ~1e15 the quadrant estimate t·(2/π) is off
 * by more than the polynomials tolerate. Beyond the bound (and at ±∞) the result is NaN
 * and the call fails with CGD_EDOMAIN; a NaN argument gives NaN (no error: non-finite
 * states are the caller's divergence check). */
#ifndef CHAOSGD_VMATH_H
#define CHAOSGD_VMATH_H

#include <stddef.h>

#include "chaosgd/status.h"

/* Largest |argument| the kernel accepts: 2⁴⁰ (≈ 1.1e12). */
#define CGD_VMATH_MAX_ARG 1099511627776.0

/* Vector width of a call (the same values as CGD_TRIG_* of multiscale.h). Every level
 * gives the same bits; a level above what the CPU has is lowered to the best it has. */
enum {
  CGD_VMATH_AUTO = 0,
  CGD_VMATH_SCALAR = 1, /* one double at a time (libm fma) */
  CGD_VMATH_AVX2 = 2,   /* 4 doubles, AVX2 + FMA */
  CGD_VMATH_AVX512 = 3  /* 8 doubles, AVX-512F */
};

/* Best level of this CPU. */
int cgd_vmath_level(void);

/* out[i] = cos(x[i]) / sin(x[i]) for i < n; x and out may be the same array. CGD_EDOMAIN
 * if some |x[i]| > CGD_VMATH_MAX_ARG (those outputs are NaN; err names the first one). */
int cgd_vcos(size_t n, const double *x, double *out, cgd_error *err);
int cgd_vsin(size_t n, const double *x, double *out, cgd_error *err);
/* Both at once (one reduction); s or c may be NULL. */
int cgd_vsincos(size_t n, const double *x, double *s, double *c, cgd_error *err);
/* The same at a chosen level (CGD_VMATH_*), for tests and benchmarks. */
int cgd_vsincos_at(int level, size_t n, const double *x, double *s, double *c, cgd_error *err);

#endif
