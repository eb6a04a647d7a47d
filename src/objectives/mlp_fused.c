/* Fused forward/backward kernel of the d-H-1 leaky-ReLU MLP (chaosgd/mlp.h,
 * CGD_MLP_KERNEL_FUSED): loss and gradient in two passes over the data that never form
 * Z or A, at three widths (8-lane portable C, AVX2+FMA as two 4-lane halves, AVX-512F)
 * that give the same bits.
 *
 * Math. With leaky(z) = z − κ[z < 0]z, κ = 1 − leak (any leak), and m_ih = [z_ih < 0]:
 *
 *   z_ih = b1_h + W1_h·x_i
 *   ŷ_i  = b2 + Σ_h W2_h leaky(z_ih) = c0 + v·x_i + Σ_h c_h m_ih z_ih
 *          c0 = b2 + W2·b1,  v = W1ᵀW2 (d),  c_h = −κ W2_h
 *   r_i  = ŷ_i − y_i,  L = (1/n) Σ r_i²,  s = 2/n
 *
 * so the forward pass needs each z_ih only for its sign and, where negative, one product;
 * it keeps a 1-bit sign mask per unit and row. With the full sums R = Σ_i r_i,
 * q = Σ_i r_i x_i and the masked sums M_h = Σ_{m_ih} r_i, Q_h = Σ_{m_ih} r_i x_i:
 *
 *   t_h = R − κ M_h                    (= Σ_i r_i leaky'(z_ih))
 *   u_h = q − κ Q_h                    (d; = Σ_i r_i leaky'(z_ih) x_i)
 *   ∂L/∂b2 = s R,  ∂L/∂b1_h = s W2_h t_h,  ∂L/∂W1_h = s W2_h u_h,
 *   ∂L/∂W2_h = s Σ_i r_i leaky(z_ih) = s (b1_h t_h + W1_h·u_h)
 *
 * At a kink (z exactly ±0) this kernel takes the slope 1, the BLAS path (like PyTorch)
 * the slope leak; both are subgradients, and a pre-activation that is exactly zero on a
 * real row is a measure-zero event (padding rows, where z = b1, carry r = 0).
 *
 * Layout. Rows go in blocks of 8, one 8-lane vector per feature (a blocked copy of X made
 * at cgd_mlp_create), padding rows have x = y = 0 and an all-zero lane mask that clears
 * their residual. Lane l of every accumulator sums the rows 8b + l over blocks b in order;
 * the lanes are added in the fixed tree ((0+1)+(2+3))+((4+5)+(6+7)). The forward
 * accumulates Σ_h c_h m z in two chains (even and odd h, added at the end) so that an
 * FMA's latency does not serialise it. Every variant performs exactly these IEEE
 * operations per lane with explicit FMAs (the file is compiled with -ffp-contract=off),
 * so the three give identical bits, independent of threads (none are used) and runs.
 *
 * Reentrant: all mutable state is the caller's scratch (cgd_mlp_fused_scratch_size). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/mlp.h"
#include "mlp_internal.h"
#include "simd.h"

#define L 8 /* rows per block */
/* The vector paths keep their accumulators in arrays of vectors indexed by feature (or
 * unit) with a compile-time bound; they stay in registers only if those loops are fully
 * unrolled. -O3 does that by itself, -O2 (RelWithDebInfo) did not and the kernel ran 2x
 * slower from memory, so the unrolling is asked for here, not left to the build type. */
#define UNROLL _Pragma("GCC unroll 8")

/* Scratch layout (64-byte aligned pieces):
 *   r[nb·8] | q[d·8] | c[H] | v[d] | acc[H·(d+1)·8] | mask[nb·H]
 * acc holds the lanes of the backward's masked sums between the tiles of the AVX2 path. */
typedef struct fused_scratch {
  double *r, *q, *c, *v, *acc;
  uint8_t *mask;
} fused_scratch;

static size_t up64(size_t b) { return (b + 63) & ~(size_t)63; }

size_t cgd_mlp_fused_scratch_size(const cgd_mlp *m) {
  const size_t nb = m->nb, d = m->d, H = m->H;
  return 64 + up64(nb * L * 8) + up64(d * L * 8) + up64(H * 8) + up64(d * 8) +
         up64(H * (d + 1) * L * 8) + up64(nb * H);
}

static fused_scratch carve(const cgd_mlp *m, void *scratch) {
  const size_t nb = m->nb, d = m->d, H = m->H;
  char *p = (char *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
  fused_scratch s;
  s.r = (double *)p, p += up64(nb * L * 8);
  s.q = (double *)p, p += up64(d * L * 8);
  s.c = (double *)p, p += up64(H * 8);
  s.v = (double *)p, p += up64(d * 8);
  s.acc = (double *)p, p += up64(H * (d + 1) * L * 8);
  s.mask = (uint8_t *)p;
  return s;
}

/* The fixed lane tree. */
static inline __attribute__((always_inline)) double lane_sum(const double *a) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* c_h = −κ W2_h, v = W1ᵀW2 (h in order), c0 = b2 + W2·b1 (h in order). */
static inline __attribute__((always_inline)) double precompute(const cgd_mlp *m, const double *theta, double *c, double *v) {
  const size_t d = m->d, H = m->H;
  const double *W1 = theta, *b1 = W1 + H * d, *W2 = b1 + H, b2 = W2[H];
  const double kappa = 1.0 - m->leak;
  for (size_t j = 0; j < d; j++) v[j] = 0.0;
  double c0 = b2;
  for (size_t h = 0; h < H; h++) {
    c[h] = -(kappa * W2[h]);
    for (size_t j = 0; j < d; j++) v[j] = fma(W2[h], W1[h * d + j], v[j]);
    c0 = fma(W2[h], b1[h], c0);
  }
  return c0;
}

/* The gradient from the reduced sums of unit h (see the header comment). */
static inline __attribute__((always_inline)) void grad_unit(size_t h, size_t d, const double *theta, size_t H, double s,
                             double kappa, double R, const double *qs, double M,
                             const double *Q, double *grad) {
  const double *W1 = theta, *b1 = W1 + H * d, *W2 = b1 + H;
  double *gW1 = grad, *gb1 = gW1 + H * d, *gW2 = gb1 + H;
  const double t = fma(-kappa, M, R), sw = s * W2[h];
  gb1[h] = sw * t;
  double acc = b1[h] * t;
  for (size_t j = 0; j < d; j++) {
    const double u = fma(-kappa, Q[j], qs[j]);
    gW1[h * d + j] = sw * u;
    acc = fma(W1[h * d + j], u, acc);
  }
  gW2[h] = s * acc;
}

/* ------------------------------------------------------------ portable C (8 lanes) */

static double fused_generic(const cgd_mlp *m, const double *theta, double *grad,
                            fused_scratch *S) {
  const size_t nb = m->nb, d = m->d, H = m->H;
  const double *W1 = theta, *b1 = W1 + H * d;
  const double kappa = 1.0 - m->leak, s = 2.0 / (double)m->n;
  const double c0 = precompute(m, theta, S->c, S->v);
  const double *c = S->c, *v = S->v;
  double sse[L] = {0}, Rl[L] = {0};
  double *q = S->q; /* q[j·8 + l] */
  memset(q, 0, d * L * sizeof *q);
  for (size_t b = 0; b < nb; b++) {
    const double *xb = m->Xb + b * d * L;
    double a0[L] = {0}, a1[L] = {0};
    for (size_t h = 0; h < H; h++) {
      double z[L];
      for (int l = 0; l < L; l++) z[l] = b1[h];
      for (size_t j = 0; j < d; j++)
        for (int l = 0; l < L; l++) z[l] = fma(W1[h * d + j], xb[j * L + l], z[l]);
      unsigned bits = 0;
      double *a = h & 1 ? a1 : a0;
      for (int l = 0; l < L; l++) {
        const int neg = z[l] < 0.0;
        bits |= (unsigned)neg << l;
        a[l] = fma(c[h], neg ? z[l] : 0.0, a[l]);
      }
      S->mask[b * H + h] = (uint8_t)bits;
    }
    for (int l = 0; l < L; l++) {
      double yh = c0;
      for (size_t j = 0; j < d; j++) yh = fma(v[j], xb[j * L + l], yh);
      yh = yh + (a0[l] + a1[l]);
      double r = yh - m->yb[b * L + l];
      uint64_t rb, wb;
      memcpy(&rb, &r, 8);
      memcpy(&wb, &m->wb[b * L + l], 8);
      rb &= wb;
      memcpy(&r, &rb, 8);
      S->r[b * L + l] = r;
      sse[l] = fma(r, r, sse[l]);
      if (grad) {
        Rl[l] = Rl[l] + r;
        for (size_t j = 0; j < d; j++) q[j * L + l] = fma(r, xb[j * L + l], q[j * L + l]);
      }
    }
  }
  const double loss = lane_sum(sse) / (double)m->n;
  if (!grad) return loss;
  const double R = lane_sum(Rl);
  double qs[64], Qs[64], *qsum = d <= 64 ? qs : malloc(2 * d * sizeof *qsum),
                         *Qsum = d <= 64 ? Qs : qsum + d;
  if (!qsum) return NAN;
  for (size_t j = 0; j < d; j++) qsum[j] = lane_sum(q + j * L);
  grad[H * d + 2 * H] = s * R;
  for (size_t h = 0; h < H; h++) {
    double Ml[L] = {0};
    memset(q, 0, d * L * sizeof *q); /* reused for Q_h lanes */
    for (size_t b = 0; b < nb; b++) {
      const unsigned bits = S->mask[b * H + h];
      const double *xb = m->Xb + b * d * L;
      for (int l = 0; l < L; l++) {
        const double rm = (bits >> l) & 1 ? S->r[b * L + l] : 0.0;
        Ml[l] = Ml[l] + rm;
        for (size_t j = 0; j < d; j++) q[j * L + l] = fma(rm, xb[j * L + l], q[j * L + l]);
      }
    }
    for (size_t j = 0; j < d; j++) Qsum[j] = lane_sum(q + j * L);
    grad_unit(h, d, theta, H, s, kappa, R, qsum, lane_sum(Ml), Qsum, grad);
  }
  if (qsum != qs) free(qsum);
  return loss;
}

#if defined(__x86_64__)
/* ------------------------------------------------------------ AVX2: two 4-lane halves */

#define AVX2 __attribute__((target("avx2,fma")))

/* Lane bits → 4-lane mask vector (bit k of the nibble → lane k all-ones), from a table:
 * one load instead of a broadcast, an AND and a compare per use. */
#define NIB(k) {(k) & 1 ? -1 : 0, (k) & 2 ? -1 : 0, (k) & 4 ? -1 : 0, (k) & 8 ? -1 : 0}
static const int64_t NIB_MASK[16][4] __attribute__((aligned(32))) = {
    NIB(0), NIB(1), NIB(2),  NIB(3),  NIB(4),  NIB(5),  NIB(6),  NIB(7),
    NIB(8), NIB(9), NIB(10), NIB(11), NIB(12), NIB(13), NIB(14), NIB(15)};
#undef NIB
AVX2 static inline __m256d nib_mask(unsigned nib) {
  return _mm256_load_pd((const double *)NIB_MASK[nib]);
}

AVX2 static inline void store_lanes(double *dst, __m256d lo, __m256d hi) {
  _mm256_storeu_pd(dst, lo);
  _mm256_storeu_pd(dst + 4, hi);
}

/* One unit's forward output: its mask byte (m = [z < 0], the sign bit of min(z, +0)),
 * and c_u min(z, +0) = c_u m z added into the parity accumulators of both halves.
 * vminpd returns its second operand when z is ±0 or NaN, so min(z, +0) is exactly
 * z < 0 ? z : +0, the generic C form: one instruction for the compare and the AND. */
AVX2 static inline __attribute__((always_inline)) void unit_out(__m256d z0, __m256d z1, double cu,
                                                                uint8_t *mask, __m256d *a0,
                                                                __m256d *a1) {
  const __m256d zero = _mm256_setzero_pd();
  const __m256d n0 = _mm256_min_pd(z0, zero), n1 = _mm256_min_pd(z1, zero);
  *mask = (uint8_t)(_mm256_movemask_pd(n0) | (_mm256_movemask_pd(n1) << 4));
  const __m256d cv = _mm256_set1_pd(cu);
  *a0 = _mm256_fmadd_pd(cv, n0, *a0);
  *a1 = _mm256_fmadd_pd(cv, n1, *a1);
}

/* The backward's masked sums of units 0..H2−1 (H2 even) for D <= 6, into S->acc: per unit
 * D·8 lanes of Q, then 8 of M. The data go in tiles of TB blocks that stay in L1 (a pass
 * over all of X per unit streamed it from L2, which bounded the pass); within a tile two
 * units at a time, one 4-lane half of the rows at a time, so that the 2(D+1) accumulators
 * stay in registers and each load of r and x feeds two FMAs. The lanes wait in S->acc
 * between tiles, so each lane still sums its rows in block order: the same bits as the
 * other widths. */
enum { FUSED_DP = 6, FUSED_TB = 48 };
AVX2 static inline __attribute__((always_inline)) void
backward_tiles_avx2(const cgd_mlp *m, const fused_scratch *S, const size_t D, size_t H2) {
  enum { DP = FUSED_DP, TB = FUSED_TB };
  const size_t nb = m->nb, H = m->H, stride = (D + 1) * L;
  double *acc = S->acc;
  memset(acc, 0, H2 * stride * sizeof *acc);
  for (size_t t0 = 0; t0 < nb; t0 += TB) {
    const size_t t1 = t0 + TB < nb ? t0 + TB : nb;
    for (size_t hp = 0; hp < H2; hp += 2) {
      double *aa = acc + hp * stride, *ab = aa + stride;
      for (int sh = 0; sh < L; sh += 4) {
        __m256d Qa[DP], Qb[DP];
        UNROLL for (size_t j = 0; j < D; j++) {
          Qa[j] = _mm256_loadu_pd(aa + j * L + sh);
          Qb[j] = _mm256_loadu_pd(ab + j * L + sh);
        }
        __m256d Ma = _mm256_loadu_pd(aa + D * L + sh), Mb = _mm256_loadu_pd(ab + D * L + sh);
        /* The mask nibbles are read one block ahead: the chain byte load → shift →
         * table load → AND → FMA is longer than the FP scheduler can wait on (its
         * FMAs fill it), so the table index must be ready when the block starts. */
        const uint8_t *mk = S->mask + t0 * H + hp;
        unsigned ka = (mk[0] >> sh) & 15, kb = (mk[1] >> sh) & 15;
        for (size_t b = t0; b < t1; b++) {
          const double *xb = m->Xb + b * D * L + sh;
          __m256d rv = _mm256_load_pd(S->r + b * L + sh);
          __asm__("" : "+x"(rv)); /* loaded once, not once per AND */
          const __m256d ra = _mm256_and_pd(nib_mask(ka), rv);
          const __m256d rb = _mm256_and_pd(nib_mask(kb), rv);
          mk += H;
          if (b + 1 < t1) ka = (mk[0] >> sh) & 15, kb = (mk[1] >> sh) & 15;
          Ma = _mm256_add_pd(Ma, ra);
          Mb = _mm256_add_pd(Mb, rb);
          UNROLL for (size_t j = 0; j < D; j++) {
            __m256d xj = _mm256_load_pd(xb + j * L);
            __asm__("" : "+x"(xj)); /* one load for both FMAs */
            Qa[j] = _mm256_fmadd_pd(ra, xj, Qa[j]);
            Qb[j] = _mm256_fmadd_pd(rb, xj, Qb[j]);
          }
        }
        UNROLL for (size_t j = 0; j < D; j++) {
          _mm256_storeu_pd(aa + j * L + sh, Qa[j]);
          _mm256_storeu_pd(ab + j * L + sh, Qb[j]);
        }
        _mm256_storeu_pd(aa + D * L + sh, Ma);
        _mm256_storeu_pd(ab + D * L + sh, Mb);
      }
    }
  }
}

/* Block b's residuals masked by unit h's sign bits, as two 4-lane halves, added into the
 * unit's M lanes. */
AVX2 static inline __attribute__((always_inline)) void
masked_r(const fused_scratch *S, size_t H, size_t b, size_t h, __m256d *M0, __m256d *M1,
         __m256d *rm0, __m256d *rm1) {
  const unsigned bits = S->mask[b * H + h];
  *rm0 = _mm256_and_pd(nib_mask(bits & 15), _mm256_load_pd(S->r + b * L));
  *rm1 = _mm256_and_pd(nib_mask(bits >> 4), _mm256_load_pd(S->r + b * L + 4));
  *M0 = _mm256_add_pd(*M0, *rm0);
  *M1 = _mm256_add_pd(*M1, *rm1);
}

/* One unit's masked sums over all blocks (the path for the units the tiles leave, and for
 * D > 6): Qsum[0..d) and the returned M, lane-summed. The accumulators are registers when
 * D <= 8 is a compile-time constant, else the lanes of S->q. */
AVX2 static inline __attribute__((always_inline)) double
backward_unit_avx2(const cgd_mlp *m, const fused_scratch *S, const size_t D, size_t h,
                   double *Qsum) {
  enum { DM = 8 };
  const size_t nb = m->nb, d = D ? D : m->d, H = m->H;
  const __m256d zero = _mm256_setzero_pd();
  double lanes[L], *q = S->q;
  __m256d M0 = zero, M1 = zero;
  if (D && D <= DM) {
    __m256d Q0[DM], Q1[DM];
    UNROLL for (size_t j = 0; j < D; j++) Q0[j] = Q1[j] = zero;
    for (size_t b = 0; b < nb; b++) {
      const double *xb = m->Xb + b * D * L;
      __m256d rm0, rm1;
      masked_r(S, H, b, h, &M0, &M1, &rm0, &rm1);
      UNROLL for (size_t j = 0; j < D; j++) {
        Q0[j] = _mm256_fmadd_pd(rm0, _mm256_load_pd(xb + j * L), Q0[j]);
        Q1[j] = _mm256_fmadd_pd(rm1, _mm256_load_pd(xb + j * L + 4), Q1[j]);
      }
    }
    UNROLL for (size_t j = 0; j < D; j++) {
      store_lanes(lanes, Q0[j], Q1[j]);
      Qsum[j] = lane_sum(lanes);
    }
  } else {
    memset(q, 0, d * L * sizeof *q);
    for (size_t b = 0; b < nb; b++) {
      const double *xb = m->Xb + b * d * L;
      __m256d rm0, rm1;
      masked_r(S, H, b, h, &M0, &M1, &rm0, &rm1);
      for (size_t j = 0; j < d; j++) {
        _mm256_store_pd(q + j * L, _mm256_fmadd_pd(rm0, _mm256_load_pd(xb + j * L),
                                                   _mm256_load_pd(q + j * L)));
        _mm256_store_pd(q + j * L + 4, _mm256_fmadd_pd(rm1, _mm256_load_pd(xb + j * L + 4),
                                                       _mm256_load_pd(q + j * L + 4)));
      }
    }
    for (size_t j = 0; j < d; j++) Qsum[j] = lane_sum(q + j * L);
  }
  store_lanes(lanes, M0, M1);
  return lane_sum(lanes);
}

/* D is a compile-time constant in the specialised copies (d = 1..8), so the feature
 * vectors and accumulators live in registers; D = 0 means "use d". */
AVX2 static inline __attribute__((always_inline)) double
fused_avx2_body(const cgd_mlp *m, const double *theta, double *grad, fused_scratch *S,
                const size_t D) {
  const size_t nb = m->nb, d = D ? D : m->d, H = m->H;
  const double *W1 = theta, *b1 = W1 + H * d;
  const double kappa = 1.0 - m->leak, s = 2.0 / (double)m->n;
  const double c0 = precompute(m, theta, S->c, S->v);
  const double *c = S->c, *v = S->v;
  const __m256d zero = _mm256_setzero_pd();
  __m256d sse0 = zero, sse1 = zero, R0 = zero, R1 = zero;
  double *q = S->q;
  memset(q, 0, d * L * sizeof *q);
  for (size_t b = 0; b < nb; b++) {
    const double *xb = m->Xb + b * d * L;
    __m256d a00 = zero, a01 = zero, a10 = zero, a11 = zero; /* [h parity][half] */
    /* Four units at a time: eight independent FMA chains (four, in pairs, left the FMA
     * ports idle waiting on latency), x in two registers, each unit's c m z into the
     * accumulator of its parity, in h order. Then the last H mod 4 units one by one. */
    size_t h = 0;
    for (; h + 4 <= H; h += 4) {
      const double *w = W1 + h * d;
      __m256d z[4][2];
      UNROLL for (int u = 0; u < 4; u++) z[u][0] = z[u][1] = _mm256_set1_pd(b1[h + (size_t)u]);
      UNROLL for (size_t j = 0; j < d; j++) {
        __m256d x0 = _mm256_load_pd(xb + j * L), x1 = _mm256_load_pd(xb + j * L + 4);
        __asm__("" : "+x"(x0), "+x"(x1)); /* one load each, not one per FMA */
        UNROLL for (int u = 0; u < 4; u++) {
          const __m256d wu = _mm256_set1_pd(w[(size_t)u * d + j]);
          z[u][0] = _mm256_fmadd_pd(wu, x0, z[u][0]);
          z[u][1] = _mm256_fmadd_pd(wu, x1, z[u][1]);
        }
      }
      uint8_t *mk = S->mask + b * H + h;
      unit_out(z[0][0], z[0][1], c[h], mk, &a00, &a01);
      unit_out(z[1][0], z[1][1], c[h + 1], mk + 1, &a10, &a11);
      unit_out(z[2][0], z[2][1], c[h + 2], mk + 2, &a00, &a01);
      unit_out(z[3][0], z[3][1], c[h + 3], mk + 3, &a10, &a11);
    }
    for (; h < H; h++) {
      const __m256d bh = _mm256_set1_pd(b1[h]);
      __m256d z0 = bh, z1 = bh;
      UNROLL for (size_t j = 0; j < d; j++) {
        const __m256d w = _mm256_set1_pd(W1[h * d + j]);
        z0 = _mm256_fmadd_pd(w, _mm256_load_pd(xb + j * L), z0);
        z1 = _mm256_fmadd_pd(w, _mm256_load_pd(xb + j * L + 4), z1);
      }
      if (h & 1)
        unit_out(z0, z1, c[h], S->mask + b * H + h, &a10, &a11);
      else
        unit_out(z0, z1, c[h], S->mask + b * H + h, &a00, &a01);
    }
    __m256d y0 = _mm256_set1_pd(c0), y1 = y0;
    UNROLL for (size_t j = 0; j < d; j++) {
      const __m256d vj = _mm256_set1_pd(v[j]);
      y0 = _mm256_fmadd_pd(vj, _mm256_load_pd(xb + j * L), y0);
      y1 = _mm256_fmadd_pd(vj, _mm256_load_pd(xb + j * L + 4), y1);
    }
    y0 = _mm256_add_pd(y0, _mm256_add_pd(a00, a10));
    y1 = _mm256_add_pd(y1, _mm256_add_pd(a01, a11));
    const __m256d r0 = _mm256_and_pd(_mm256_load_pd(m->wb + b * L),
                                     _mm256_sub_pd(y0, _mm256_load_pd(m->yb + b * L)));
    const __m256d r1 = _mm256_and_pd(_mm256_load_pd(m->wb + b * L + 4),
                                     _mm256_sub_pd(y1, _mm256_load_pd(m->yb + b * L + 4)));
    store_lanes(S->r + b * L, r0, r1);
    sse0 = _mm256_fmadd_pd(r0, r0, sse0);
    sse1 = _mm256_fmadd_pd(r1, r1, sse1);
    if (grad) {
      R0 = _mm256_add_pd(R0, r0);
      R1 = _mm256_add_pd(R1, r1);
      UNROLL for (size_t j = 0; j < d; j++) {
        _mm256_store_pd(q + j * L,
                        _mm256_fmadd_pd(r0, _mm256_load_pd(xb + j * L), _mm256_load_pd(q + j * L)));
        _mm256_store_pd(q + j * L + 4, _mm256_fmadd_pd(r1, _mm256_load_pd(xb + j * L + 4),
                                                       _mm256_load_pd(q + j * L + 4)));
      }
    }
  }
  double lanes[L];
  store_lanes(lanes, sse0, sse1);
  const double loss = lane_sum(lanes) / (double)m->n;
  if (!grad) return loss;
  store_lanes(lanes, R0, R1);
  const double R = lane_sum(lanes);
  double qs[64], Qs[64], *qsum = d <= 64 ? qs : malloc(2 * d * sizeof *qsum),
                         *Qsum = d <= 64 ? Qs : qsum + d;
  if (!qsum) return NAN;
  UNROLL for (size_t j = 0; j < d; j++) qsum[j] = lane_sum(q + j * L);
  grad[H * d + 2 * H] = s * R;
  /* Backward: per unit, masked sums over all blocks in block order; for D <= 6 the even
   * number of units first in L1 tiles (backward_tiles_avx2), the rest one by one. */
  size_t h0 = 0;
  if (D && D <= FUSED_DP && H >= 2) {
    const size_t H2 = H & ~(size_t)1, stride = (D + 1) * L;
    backward_tiles_avx2(m, S, D, H2);
    for (; h0 < H2; h0++) {
      const double *a = S->acc + h0 * stride;
      UNROLL for (size_t j = 0; j < D; j++) Qsum[j] = lane_sum(a + j * L);
      grad_unit(h0, d, theta, H, s, kappa, R, qsum, lane_sum(a + D * L), Qsum, grad);
    }
  }
  for (size_t h = h0; h < H; h++) {
    const double M = backward_unit_avx2(m, S, D, h, Qsum);
    grad_unit(h, d, theta, H, s, kappa, R, qsum, M, Qsum, grad);
  }
  if (qsum != qs) free(qsum);
  return loss;
}

#define SPECIALISE(NAME, BODY, ATTR)                                                        \
  ATTR static double NAME(const cgd_mlp *m, const double *theta, double *grad,             \
                          fused_scratch *S) {                                               \
    switch (m->d) {                                                                         \
    case 1: return BODY(m, theta, grad, S, 1);                                              \
    case 2: return BODY(m, theta, grad, S, 2);                                              \
    case 3: return BODY(m, theta, grad, S, 3);                                              \
    case 4: return BODY(m, theta, grad, S, 4);                                              \
    case 5: return BODY(m, theta, grad, S, 5);                                              \
    case 6: return BODY(m, theta, grad, S, 6);                                              \
    case 7: return BODY(m, theta, grad, S, 7);                                              \
    case 8: return BODY(m, theta, grad, S, 8);                                              \
    default: return BODY(m, theta, grad, S, 0);                                             \
    }                                                                                       \
  }
SPECIALISE(fused_avx2, fused_avx2_body, AVX2)

/* ------------------------------------------------------------ AVX-512F: one 8-lane vector */

#define AVX512 __attribute__((target("avx512f")))

AVX512 static inline __attribute__((always_inline)) double
fused_avx512_body(const cgd_mlp *m, const double *theta, double *grad, fused_scratch *S,
                  const size_t D) {
  const size_t nb = m->nb, d = D ? D : m->d, H = m->H;
  const double *W1 = theta, *b1 = W1 + H * d;
  const double kappa = 1.0 - m->leak, s = 2.0 / (double)m->n;
  const double c0 = precompute(m, theta, S->c, S->v);
  const double *c = S->c, *v = S->v;
  const __m512d zero = _mm512_setzero_pd();
  __m512d sse = zero, Rv = zero;
  double *q = S->q;
  memset(q, 0, d * L * sizeof *q);
  for (size_t b = 0; b < nb; b++) {
    const double *xb = m->Xb + b * d * L;
    __m512d a0 = zero, a1 = zero;
    for (size_t h = 0; h < H; h++) {
      __m512d z = _mm512_set1_pd(b1[h]);
      UNROLL for (size_t j = 0; j < d; j++)
        z = _mm512_fmadd_pd(_mm512_set1_pd(W1[h * d + j]), _mm512_load_pd(xb + j * L), z);
      const __mmask8 neg = _mm512_cmp_pd_mask(z, zero, _CMP_LT_OQ);
      S->mask[b * H + h] = (uint8_t)neg;
      const __m512d mz = _mm512_maskz_mov_pd(neg, z);
      if (h & 1)
        a1 = _mm512_fmadd_pd(_mm512_set1_pd(c[h]), mz, a1);
      else
        a0 = _mm512_fmadd_pd(_mm512_set1_pd(c[h]), mz, a0);
    }
    __m512d y = _mm512_set1_pd(c0);
    UNROLL for (size_t j = 0; j < d; j++)
      y = _mm512_fmadd_pd(_mm512_set1_pd(v[j]), _mm512_load_pd(xb + j * L), y);
    y = _mm512_add_pd(y, _mm512_add_pd(a0, a1));
    const __m512d r = _mm512_castsi512_pd(
        _mm512_and_si512(_mm512_castpd_si512(_mm512_load_pd(m->wb + b * L)),
                         _mm512_castpd_si512(_mm512_sub_pd(y, _mm512_load_pd(m->yb + b * L)))));
    _mm512_store_pd(S->r + b * L, r);
    sse = _mm512_fmadd_pd(r, r, sse);
    if (grad) {
      Rv = _mm512_add_pd(Rv, r);
      UNROLL for (size_t j = 0; j < d; j++)
        _mm512_store_pd(q + j * L, _mm512_fmadd_pd(r, _mm512_load_pd(xb + j * L),
                                                   _mm512_load_pd(q + j * L)));
    }
  }
  double lanes[L];
  _mm512_storeu_pd(lanes, sse);
  const double loss = lane_sum(lanes) / (double)m->n;
  if (!grad) return loss;
  _mm512_storeu_pd(lanes, Rv);
  const double R = lane_sum(lanes);
  double qs[64], Qs[128], *qsum = d <= 64 ? qs : malloc(3 * d * sizeof *qsum),
                          *Qsum = d <= 64 ? Qs : qsum + d;
  if (!qsum) return NAN;
  UNROLL for (size_t j = 0; j < d; j++) qsum[j] = lane_sum(q + j * L);
  grad[H * d + 2 * H] = s * R;
  /* Backward, two units per pass over the data (they share the loads of r and x). */
  enum { DM = 8 };
  for (size_t h = 0; h < H; h += 2) {
    const int two = h + 1 < H;
    __m512d Ma = zero, Mb = zero;
    if (D && D <= DM) {
      __m512d Qa[DM], Qb[DM];
      UNROLL for (size_t j = 0; j < D; j++) Qa[j] = Qb[j] = zero;
      for (size_t b = 0; b < nb; b++) {
        const double *xb = m->Xb + b * D * L;
        const __m512d rv = _mm512_load_pd(S->r + b * L);
        const __m512d ra = _mm512_maskz_mov_pd(S->mask[b * H + h], rv);
        const __m512d rb = _mm512_maskz_mov_pd(two ? S->mask[b * H + h + 1] : 0, rv);
        Ma = _mm512_add_pd(Ma, ra);
        Mb = _mm512_add_pd(Mb, rb);
        UNROLL for (size_t j = 0; j < D; j++) {
          const __m512d xj = _mm512_load_pd(xb + j * L);
          Qa[j] = _mm512_fmadd_pd(ra, xj, Qa[j]);
          Qb[j] = _mm512_fmadd_pd(rb, xj, Qb[j]);
        }
      }
      UNROLL for (size_t j = 0; j < D; j++) {
        _mm512_storeu_pd(lanes, Qa[j]);
        Qsum[j] = lane_sum(lanes);
        _mm512_storeu_pd(lanes, Qb[j]);
        Qsum[64 + j] = lane_sum(lanes);
      }
      _mm512_storeu_pd(lanes, Ma);
      grad_unit(h, d, theta, H, s, kappa, R, qsum, lane_sum(lanes), Qsum, grad);
      if (two) {
        _mm512_storeu_pd(lanes, Mb);
        grad_unit(h + 1, d, theta, H, s, kappa, R, qsum, lane_sum(lanes), Qsum + 64, grad);
      }
    } else {
      for (size_t u = h; u < h + 1 + (size_t)two; u++) {
        __m512d M = zero;
        memset(q, 0, d * L * sizeof *q);
        for (size_t b = 0; b < nb; b++) {
          const double *xb = m->Xb + b * d * L;
          const __m512d rm = _mm512_maskz_mov_pd(S->mask[b * H + u], _mm512_load_pd(S->r + b * L));
          M = _mm512_add_pd(M, rm);
          for (size_t j = 0; j < d; j++)
            _mm512_store_pd(q + j * L, _mm512_fmadd_pd(rm, _mm512_load_pd(xb + j * L),
                                                       _mm512_load_pd(q + j * L)));
        }
        for (size_t j = 0; j < d; j++) Qsum[j] = lane_sum(q + j * L);
        _mm512_storeu_pd(lanes, M);
        grad_unit(u, d, theta, H, s, kappa, R, qsum, lane_sum(lanes), Qsum, grad);
      }
    }
  }
  if (qsum != qs) free(qsum);
  return loss;
}
SPECIALISE(fused_avx512, fused_avx512_body, AVX512)
#endif

/* ------------------------------------------------------------ entry points */

double cgd_mlp_loss_grad_fused_at(const cgd_mlp *m, int level, const double *theta,
                                  double *grad, void *scratch) {
  if (!m || !theta || !scratch) return NAN;
  fused_scratch S = carve(m, scratch);
  const int best = cgd_simd_level();
  if (level <= 0 || level > best) level = best;
#if defined(__x86_64__)
  if (level == CGD_SIMD_AVX512) return fused_avx512(m, theta, grad, &S);
  if (level == CGD_SIMD_AVX2) return fused_avx2(m, theta, grad, &S);
#endif
  return fused_generic(m, theta, grad, &S);
}

double cgd_mlp_loss_grad_fused(const cgd_mlp *m, const double *theta, double *grad,
                               void *scratch) {
  return cgd_mlp_loss_grad_fused_at(m, 0, theta, grad, scratch);
}
