/* Exact Hessian-vector products of the d-H-1 leaky-ReLU MLP (Pearlmutter's R-operator,
 * forward-over-reverse), fused with the loss and gradient through the same BLAS products,
 * and the MLP's Lyapunov exponent by a tangent vector and by a twin orbit.
 *
 * With R(·) = d/dα (·)(θ + αv) at α = 0 and v = (V1, c1, V2, c2) laid out like θ:
 *   Z  = X W1ᵀ + 1b1ᵀ             R(Z) = X V1ᵀ + 1c1ᵀ
 *   A  = leaky(Z)                 R(A) = leaky'(Z) ⊙ R(Z)      (leaky'' = 0 a.e.)
 *   r  = A W2ᵀ + b2 − y           R(r) = R(A) W2ᵀ + A V2ᵀ + c2
 *   gb2 = s Σ r                   Hv_b2 = s Σ R(r)                          s = 2/n
 *   gW2 = s Aᵀ r                  Hv_W2 = s (R(A)ᵀ r + Aᵀ R(r))
 *   D  = (r W2) ⊙ leaky'(Z)       R(D) = (R(r) W2 + r V2) ⊙ leaky'(Z)
 *   gb1 = s 1ᵀ D, gW1 = s Dᵀ X    Hv_b1 = s 1ᵀ R(D), Hv_W1 = s R(D)ᵀ X
 * The two first-layer products are done as one: [Z | R(Z)] = X [W1; V1]ᵀ and
 * [gW1; Hv_W1] = s [D | R(D)]ᵀ X, so the tangent costs wider GEMMs, not more of them.
 *
 * The Hessian here is the one of the smooth piece containing θ: leaky-ReLU's kink is
 * measure-zero and its second derivative is taken as 0 there, so the tangent exponent is
 * that of the piecewise-smooth map; the GD map itself jumps where a pre-activation changes
 * sign on a data row, which the twin orbit sees and the tangent does not. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/mlp.h"
#include "clones.h"
#include "mlp_internal.h"

size_t cgd_mlp_hvp_scratch_len(const cgd_mlp *m) {
  const size_t n = m->n, d = m->d, H = m->H;
  return 4 * n * H + 2 * n + 6 * H * d + 4 * H + (H * d + 2 * H + 1);
}

/* Element-wise kernels over rows of stacked buffers (row stride 2H), branch-free so gcc
 * turns the selects into blends; one version without and one with the tangent, so
 * neither carries the other's work or a per-element test. */

/* Z += b1, A = leaky(Z) */
CGD_CLONES static void fwd_plain(size_t n, size_t H, const double *restrict b1, double leak,
                                 double *restrict ZZ, double *restrict AA) {
  const size_t S = 2 * H;
  for (size_t i = 0; i < n; i++) {
    double *restrict z = ZZ + i * S, *restrict a = AA + i * S;
    for (size_t j = 0; j < H; j++) {
      double zj = z[j] + b1[j];
      z[j] = zj;
      a[j] = zj > 0.0 ? zj : leak * zj;
    }
  }
}

/* as fwd_plain, and R(A) = leaky'(Z) ⊙ (R(Z) + c1) */
CGD_CLONES static void fwd_tan(size_t n, size_t H, const double *restrict b1,
                               const double *restrict c1, double leak, double *restrict ZZ,
                               double *restrict AA) {
  const size_t S = 2 * H;
  for (size_t i = 0; i < n; i++) {
    double *restrict z = ZZ + i * S, *restrict a = AA + i * S;
    for (size_t j = 0; j < H; j++) {
      double zj = z[j] + b1[j];
      double mk = zj > 0.0 ? 1.0 : leak;
      z[j] = zj;
      a[j] = mk * zj;
      a[H + j] = mk * (z[H + j] + c1[j]);
    }
  }
}

/* D = (r W2) ⊙ leaky'(Z) over A;  gb1 = Σ_i D[i,:] (fixed row order) */
CGD_CLONES static void bwd_plain(size_t n, size_t H, const double *restrict ZZ,
                                 const double *restrict r, const double *restrict W2, double leak,
                                 double *restrict AA, double *restrict gb1) {
  const size_t S = 2 * H;
  for (size_t j = 0; j < H; j++) gb1[j] = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double *restrict z = ZZ + i * S;
    double *restrict a = AA + i * S;
    const double ri = r[i];
    for (size_t j = 0; j < H; j++) {
      double dz = ri * W2[j] * (z[j] > 0.0 ? 1.0 : leak);
      a[j] = dz;
      gb1[j] += dz;
    }
  }
}

/* as bwd_plain, and R(D) = (R(r) W2 + r V2) ⊙ leaky'(Z) over R(A), hb1 = Σ_i R(D)[i,:] */
CGD_CLONES static void bwd_tan(size_t n, size_t H, const double *restrict ZZ,
                               const double *restrict r, const double *restrict Rr,
                               const double *restrict W2, const double *restrict V2, double leak,
                               double *restrict AA, double *restrict gb1, double *restrict hb1) {
  const size_t S = 2 * H;
  for (size_t j = 0; j < H; j++) gb1[j] = hb1[j] = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double *restrict z = ZZ + i * S;
    double *restrict a = AA + i * S;
    const double ri = r[i], Rri = Rr[i];
    for (size_t j = 0; j < H; j++) {
      double mk = z[j] > 0.0 ? 1.0 : leak;
      double dz = ri * W2[j] * mk;
      double rd = (Rri * W2[j] + ri * V2[j]) * mk;
      a[j] = dz;
      a[H + j] = rd;
      gb1[j] += dz;
      hb1[j] += rd;
    }
  }
}

int cgd_mlp_loss_grad_hvp(const cgd_mlp *m, const double *theta, const double *v, double *loss,
                          double *grad, double *hv, double *scratch, cgd_error *err) {
  const size_t n = m->n, d = m->d, H = m->H, H2 = 2 * H;
  const double leak = m->leak, s = 2.0 / (double)n;
  if (hv && !v) return cgd_fail(err, CGD_EUSAGE, "mlp_hvp: hv wanted without a direction v");
  double *own = NULL;
  if (!scratch) {
    own = scratch = malloc(sizeof(double) * cgd_mlp_hvp_scratch_len(m));
    if (!own) return cgd_fail(err, CGD_ENOMEM, "mlp_hvp: out of memory");
  }
  const int tan = hv != NULL;
  const size_t w = tan ? H2 : H; /* columns of the stacked buffers in use */
  double *ZZ = scratch;          /* n × 2H: [Z | R(Z)] */
  double *AA = ZZ + n * H2;      /* n × 2H: [A | R(A)], later [D | R(D)] */
  double *r = AA + n * H2, *Rr = r + n;
  double *WV = Rr + n;           /* 2H × d: [W1; V1] */
  double *G = WV + H2 * d;       /* 2H × d: [gW1; Hv_W1] */
  double *VW = G + H2 * d;       /* 2H: [V2 | W2] */
  double *GW = VW + H2;          /* 2H: s [Aᵀr | R(A)ᵀr] */
  double *gtmp = GW + H2;        /* P: the gradient when the caller does not want it */
  if (!grad) grad = gtmp;
  const double *W1 = theta, *b1 = W1 + H * d, *W2 = b1 + H, b2 = W2[H];
  const double *V1 = v, *c1 = tan ? V1 + H * d : NULL, *V2 = tan ? c1 + H : NULL;
  const double c2 = tan ? V2[H] : 0.0;

  /* [Z | R(Z)] ← X [W1; V1]ᵀ        [n×d]·[d×2H] */
  memcpy(WV, W1, sizeof(double) * H * d);
  if (tan) memcpy(WV + H * d, V1, sizeof(double) * H * d);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)w, (int)d, 1.0, m->X, (int)d,
              WV, (int)d, 0.0, ZZ, (int)H2);
  if (tan) fwd_tan(n, H, b1, c1, leak, ZZ, AA);
  else fwd_plain(n, H, b1, leak, ZZ, AA);
  /* r ← A W2ᵀ;   R(r) ← [A | R(A)] [V2; W2] = A V2ᵀ + R(A) W2ᵀ   (one gemv over 2H) */
  cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)H, 1.0, AA, (int)H2, W2, 1, 0.0, r, 1);
  if (tan) {
    memcpy(VW, V2, sizeof(double) * H);
    memcpy(VW + H, W2, sizeof(double) * H);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)H2, 1.0, AA, (int)H2, VW, 1, 0.0, Rr, 1);
  }
  /* r += b2 − y;  R(r) += c2 */
  double sse = 0.0, sr = 0.0, sRr = 0.0;
  for (size_t i = 0; i < n; i++) {
    double ri = r[i] + b2 - m->y[i];
    r[i] = ri;
    sse += ri * ri;
    sr += ri;
  }
  if (tan)
    for (size_t i = 0; i < n; i++) {
      Rr[i] += c2;
      sRr += Rr[i];
    }
  if (loss) *loss = sse / (double)n;
  double *gW1 = grad, *gb1 = gW1 + H * d, *gW2 = gb1 + H;
  double *hW1 = hv, *hb1 = tan ? hW1 + H * d : NULL, *hW2 = tan ? hb1 + H : NULL;
  gW2[H] = s * sr; /* gb2 = s Σ r */
  /* [gW2 | s R(A)ᵀ r] ← s [A | R(A)]ᵀ r    (one gemv over 2H) */
  cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)w, s, AA, (int)H2, r, 1, 0.0, GW, 1);
  memcpy(gW2, GW, sizeof(double) * H);
  if (tan) {
    hW2[H] = s * sRr; /* Hv_b2 = s Σ R(r) */
    /* Hv_W2 ← s R(A)ᵀ r + s Aᵀ R(r) */
    memcpy(hW2, GW + H, sizeof(double) * H);
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)H, s, AA, (int)H2, Rr, 1, 1.0, hW2, 1);
    bwd_tan(n, H, ZZ, r, Rr, W2, V2, leak, AA, gb1, hb1);
    for (size_t j = 0; j < H; j++) hb1[j] *= s;
  } else {
    bwd_plain(n, H, ZZ, r, W2, leak, AA, gb1);
  }
  for (size_t j = 0; j < H; j++) gb1[j] *= s;
  /* [gW1; Hv_W1] ← s [D | R(D)]ᵀ X    [2H×n]·[n×d] */
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)w, (int)d, (int)n, s, AA, (int)H2,
              m->X, (int)d, 0.0, G, (int)d);
  memcpy(gW1, G, sizeof(double) * H * d);
  if (tan) memcpy(hW1, G + H * d, sizeof(double) * H * d);
  free(own);
  return CGD_OK;
}

int cgd_mlp_hvp(const cgd_mlp *m, const double *theta, const double *v, double *hv,
                double *scratch, cgd_error *err) {
  return cgd_mlp_loss_grad_hvp(m, theta, v, NULL, NULL, hv, scratch, err);
}

/* objective callback: per-call scratch (reentrant) */
int cgd_mlp_hvp_cb(void *ctx, const double *x, const double *v, double *hv, cgd_error *err) {
  return cgd_mlp_loss_grad_hvp(ctx, x, v, NULL, NULL, hv, NULL, err);
}

/* ----------------------------------------------------------------- Lyapunov exponent */

#include "chaosgd/lyapunov.h"
#include "chaosgd/rng.h"

struct cgd_mlp_lyap {
  const cgd_mlp *m;
  size_t P;
  double delta;
  size_t twin; /* 0: none; K: renormalise every K steps */
  size_t pushes;
  double win_tan; /* Σ tangent log growth since the last renormalisation */
  double *v, *hv, *tw, *gtw, *g, *scratch; /* tangent, H v, twin θ', ∇L(θ'), ∇L(θ), kernel scratch */
  cgd_batch_means tan_bm, twin_bm;
  double last_tan, last_twin; /* per-step log growths of the latest push */
  size_t twin_jumps; /* steps where the twin's log growth exceeded the tangent's by > ln 2 */
  /* The twin ends where its separation is 0 (it fell onto the orbit in floating point) or
   * not finite (it ran away while the orbit did not): a measurement that cannot go on, not
   * the run's divergence. twin_end: the push it ended at, + 1 (0: running). */
  size_t twin_end;
  double twin_end_sep;
};

int cgd_mlp_lyap_create(const cgd_mlp *m, const double *theta0, double delta, uint64_t seed,
                        size_t burn_in, int twin, cgd_mlp_lyap **out, cgd_error *err) {
  *out = NULL;
  if (!(delta > 0) || !isfinite(delta))
    return cgd_fail(err, CGD_EUSAGE, "mlp_lyap: twin offset must be > 0 (got %g)", delta);
  cgd_mlp_lyap *L = calloc(1, sizeof *L);
  if (!L) return cgd_fail(err, CGD_ENOMEM, "mlp_lyap: out of memory");
  const size_t P = cgd_mlp_nparams(m);
  L->m = m; L->P = P; L->delta = delta; L->twin = (size_t)twin;
  L->v = malloc(sizeof(double) * (5 * P + cgd_mlp_hvp_scratch_len(m)));
  if (!L->v) {
    free(L);
    return cgd_fail(err, CGD_ENOMEM, "mlp_lyap: out of memory");
  }
  L->hv = L->v + P; L->tw = L->hv + P; L->gtw = L->tw + P; L->g = L->gtw + P; L->scratch = L->g + P;
  /* random unit direction from the counter RNG (normal by Box–Muller) */
  double nn = 0.0;
  for (size_t p = 0; p < P; p++) {
    double u1 = cgd_rng_uniform(seed, 0x6c79617075ull, 2 * p), u2 = cgd_rng_uniform(seed, 0x6c79617075ull, 2 * p + 1);
    double g = sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
    L->v[p] = g;
    nn += g * g;
  }
  for (size_t p = 0; p < P; p++) {
    L->v[p] /= sqrt(nn);
    L->tw[p] = theta0[p] + delta * L->v[p]; /* θ'_0 = θ_0 + δ v */
  }
  cgd_bm_init(&L->tan_bm, burn_in, 16);
  /* the twin pushes one value per window of K steps: its burn-in counts windows */
  cgd_bm_init(&L->twin_bm, twin > 0 ? burn_in / (size_t)twin : burn_in, 16);
  *out = L;
  return CGD_OK;
}

void cgd_mlp_lyap_free(cgd_mlp_lyap *L) {
  if (!L) return;
  free(L->v);
  free(L);
}

/* At a renormalisation step: lg = ln(‖θ'_t − θ_t‖/δ) and θ'_t put back at distance δ along
 * θ'_t − θ_t; otherwise the twin runs free. Then θ'_{t+1} = θ'_t − η∇L(θ'_t). */
static int twin_step(cgd_mlp_lyap *L, const double *theta, double eta, int renorm, double *lg,
                     cgd_error *err) {
  const size_t P = L->P;
  if (renorm) {
    double nn = 0.0;
    for (size_t p = 0; p < P; p++) {
      double dv = L->tw[p] - theta[p];
      nn += dv * dv;
    }
    double sep = sqrt(nn);
    if (!(sep > 0) || !isfinite(sep)) {
      L->twin_end = L->pushes + 1;
      L->twin_end_sep = sep;
      return CGD_OK;
    }
    *lg = log(sep / L->delta);
    /* θ'_t ← θ_t + δ (θ'_t − θ_t)/‖θ'_t − θ_t‖ */
    const double sc = L->delta / sep;
    for (size_t p = 0; p < P; p++) L->tw[p] = theta[p] + sc * (L->tw[p] - theta[p]);
  }
  int rc = cgd_mlp_loss_grad_hvp(L->m, L->tw, NULL, NULL, L->gtw, NULL, L->scratch, err);
  if (rc) return rc;
  for (size_t p = 0; p < P; p++) L->tw[p] -= eta * L->gtw[p];
  return CGD_OK;
}

/* The tangent part given H(θ_t) v in L->hv: v ← v − η H v, renormalised. */
static double tangent_update(cgd_mlp_lyap *L, double eta) {
  double nn = 0.0;
  for (size_t p = 0; p < L->P; p++) {
    double w = L->v[p] - eta * L->hv[p];
    L->v[p] = w;
    nn += w * w;
  }
  double r = sqrt(nn);
  for (size_t p = 0; p < L->P; p++) L->v[p] /= r;
  return log(r);
}

static int account(cgd_mlp_lyap *L, const double *theta, double eta, double lt, cgd_error *err) {
  cgd_bm_push(&L->tan_bm, lt);
  L->last_tan = lt;
  L->last_twin = NAN;
  if (L->twin && !L->twin_end) {
    const size_t K = L->twin;
    const int renorm = L->pushes % K == 0;
    double lg = 0.0;
    int rc = twin_step(L, theta, eta, renorm, &lg, err);
    if (rc) return rc;
    if (L->twin_end) { /* ended here: nothing to push */
      L->pushes++;
      return CGD_OK;
    }
    if (renorm && L->pushes > 0) {
      /* one value per window: the mean log growth per step over its K steps */
      L->last_twin = lg / (double)K;
      cgd_bm_push(&L->twin_bm, lg / (double)K);
      if (lg - L->win_tan > M_LN2) L->twin_jumps++;
    }
    if (renorm) L->win_tan = 0.0;
    L->win_tan += lt;
  }
  L->pushes++;
  return CGD_OK;
}

int cgd_mlp_lyap_push(cgd_mlp_lyap *L, const double *theta, double eta, cgd_error *err) {
  int rc = cgd_mlp_loss_grad_hvp(L->m, theta, L->v, NULL, NULL, L->hv, L->scratch, err);
  if (rc) return rc;
  return account(L, theta, eta, tangent_update(L, eta), err);
}

int cgd_mlp_lyap_step(cgd_mlp_lyap *L, double *theta, double eta, double *loss, double *grad,
                      cgd_error *err) {
  if (!grad) grad = L->g;
  int rc = cgd_mlp_loss_grad_hvp(L->m, theta, L->v, loss, grad, L->hv, L->scratch, err);
  if (rc) return rc;
  double lt = tangent_update(L, eta);
  /* the twin is compared with θ_t, so it runs before θ moves */
  rc = account(L, theta, eta, lt, err);
  if (rc) return rc;
  for (size_t p = 0; p < L->P; p++) theta[p] -= eta * grad[p]; /* θ ← θ − η∇L(θ) */
  return CGD_OK;
}

cgd_mlp_lyap_result cgd_mlp_lyap_result_get(const cgd_mlp_lyap *L) {
  cgd_mlp_lyap_result r;
  r.tangent = cgd_bm_estimate(&L->tan_bm);
  r.twin = cgd_bm_estimate(&L->twin_bm);
  r.twin_jumps = L->twin_jumps;
  r.steps = L->pushes;
  r.last_tangent = L->last_tan;
  r.last_twin = L->last_twin;
  r.twin_end_step = L->twin_end ? (int64_t)L->twin_end - 1 : -1;
  r.twin_end_separation = L->twin_end ? L->twin_end_sep : NAN;
  return r;
}

const double *cgd_mlp_lyap_tangent(const cgd_mlp_lyap *L) { return L->v; }

/* Checkpoints: the tangent, the twin and the accumulators, as a raw image (same build). */
int cgd_mlp_lyap_save(const cgd_mlp_lyap *L, FILE *fp) {
  const size_t P = L->P;
  int bad = fwrite(&P, sizeof P, 1, fp) != 1 || fwrite(&L->pushes, sizeof L->pushes, 1, fp) != 1 ||
            fwrite(&L->win_tan, sizeof L->win_tan, 1, fp) != 1 ||
            fwrite(L->v, sizeof(double), P, fp) != P || fwrite(L->tw, sizeof(double), P, fp) != P ||
            fwrite(&L->tan_bm, sizeof L->tan_bm, 1, fp) != 1 ||
            fwrite(&L->twin_bm, sizeof L->twin_bm, 1, fp) != 1 ||
            fwrite(&L->last_tan, sizeof(double), 1, fp) != 1 ||
            fwrite(&L->last_twin, sizeof(double), 1, fp) != 1 ||
            fwrite(&L->twin_jumps, sizeof L->twin_jumps, 1, fp) != 1 ||
            fwrite(&L->twin_end, sizeof L->twin_end, 1, fp) != 1 ||
            fwrite(&L->twin_end_sep, sizeof L->twin_end_sep, 1, fp) != 1;
  return bad ? -1 : 0;
}

int cgd_mlp_lyap_load(cgd_mlp_lyap *L, FILE *fp) {
  size_t P;
  if (fread(&P, sizeof P, 1, fp) != 1 || P != L->P) return -1;
  int bad = fread(&L->pushes, sizeof L->pushes, 1, fp) != 1 ||
            fread(&L->win_tan, sizeof L->win_tan, 1, fp) != 1 ||
            fread(L->v, sizeof(double), P, fp) != P || fread(L->tw, sizeof(double), P, fp) != P ||
            fread(&L->tan_bm, sizeof L->tan_bm, 1, fp) != 1 ||
            fread(&L->twin_bm, sizeof L->twin_bm, 1, fp) != 1 ||
            fread(&L->last_tan, sizeof(double), 1, fp) != 1 ||
            fread(&L->last_twin, sizeof(double), 1, fp) != 1 ||
            fread(&L->twin_jumps, sizeof L->twin_jumps, 1, fp) != 1 ||
            fread(&L->twin_end, sizeof L->twin_end, 1, fp) != 1 ||
            fread(&L->twin_end_sep, sizeof L->twin_end_sep, 1, fp) != 1;
  return bad ? -1 : 0;
}
