#include "chaosgd/mlp.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chaosgd/rng.h"
#include "clones.h"
#include "mlp_internal.h"


int cgd_mlp_create(size_t n, size_t d, size_t H, double leak, const double *X, const double *y,
                   cgd_mlp **out, cgd_error *err) {
  *out = NULL;
  if (n < 1 || d < 1 || H < 1)
    return cgd_fail(err, CGD_EUSAGE, "mlp: need n, d, H >= 1 (got %zu, %zu, %zu)", n, d, H);
  if (!isfinite(leak))
    return cgd_fail(err, CGD_EUSAGE, "mlp: leak must be finite");
  cgd_mlp *m = calloc(1, sizeof *m);
  if (!m) return cgd_fail(err, CGD_ENOMEM, "mlp: out of memory");
  m->n = n; m->d = d; m->H = H; m->leak = leak; m->X = X; m->y = y;
  m->scratch = malloc(sizeof(double) * (2 * n * H + n));
  if (!m->scratch) {
    free(m);
    return cgd_fail(err, CGD_ENOMEM, "mlp: out of memory for %zu×%zu scratch", n, H);
  }
  m->Z = m->scratch;
  m->A = m->Z + n * H;
  m->r = m->A + n * H;
  /* The fused kernel's blocked copy of X and y (mlp_internal.h), and its scratch for calls
   * through cgd_mlp_loss_grad: small next to Z and A, so made for every model. */
  m->nb = (n + 7) / 8;
  const size_t xb_bytes = m->nb * 8 * (d + 2) * sizeof(double);
  m->Xb = aligned_alloc(64, xb_bytes);
  m->fscratch = m->Xb ? malloc(cgd_mlp_fused_scratch_size(m)) : NULL;
  if (!m->Xb || !m->fscratch) {
    cgd_mlp_free(m);
    return cgd_fail(err, CGD_ENOMEM, "mlp: out of memory for the blocked copy of X");
  }
  memset(m->Xb, 0, xb_bytes);
  m->yb = m->Xb + m->nb * 8 * d;
  m->wb = m->yb + m->nb * 8;
  const uint64_t ones = ~UINT64_C(0);
  for (size_t i = 0; i < n; i++) {
    const size_t b = i / 8, l = i % 8;
    for (size_t j = 0; j < d; j++) m->Xb[(b * d + j) * 8 + l] = X[i * d + j];
    m->yb[i] = y[i];
    memcpy(&m->wb[i], &ones, sizeof ones);
  }
  m->kernel = CGD_MLP_KERNEL_BLAS;
  *out = m;
  return CGD_OK;
}

void cgd_mlp_free(cgd_mlp *m) {
  if (!m) return;
  free(m->scratch);
  free(m->Xb);
  free(m->fscratch);
  free(m);
}

int cgd_mlp_set_kernel(cgd_mlp *m, cgd_mlp_kernel k, cgd_error *err) {
  if (!m) return cgd_fail(err, CGD_EUSAGE, "mlp: set_kernel on a NULL model");
  if (k != CGD_MLP_KERNEL_BLAS && k != CGD_MLP_KERNEL_FUSED)
    return cgd_fail(err, CGD_EUSAGE, "mlp: kernel %d is not a cgd_mlp_kernel value", (int)k);
  m->kernel = k;
  return CGD_OK;
}

cgd_mlp_kernel cgd_mlp_get_kernel(const cgd_mlp *m) { return (cgd_mlp_kernel)m->kernel; }

const char *cgd_mlp_kernel_name(cgd_mlp_kernel k) {
  switch (k) {
  case CGD_MLP_KERNEL_BLAS: return "blas";
  case CGD_MLP_KERNEL_FUSED: return "fused";
  }
  return NULL;
}

int cgd_mlp_kernel_parse(const char *s, cgd_mlp_kernel *out, cgd_error *err) {
  if (s && !strcmp(s, "blas")) *out = CGD_MLP_KERNEL_BLAS;
  else if (s && !strcmp(s, "fused")) *out = CGD_MLP_KERNEL_FUSED;
  else
    return cgd_fail(err, CGD_EUSAGE, "kernel '%.100s' is not one of: blas, fused",
                    s ? s : "(null)");
  return CGD_OK;
}

size_t cgd_mlp_nparams(const cgd_mlp *m) { return m->H * m->d + 2 * m->H + 1; }

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return 1e9 * (double)ts.tv_sec + (double)ts.tv_nsec;
}

void cgd_mlp_set_timing(cgd_mlp *m, int on) { m->timing = on; }
cgd_mlp_timing cgd_mlp_get_timing(cgd_mlp *m, int reset) {
  cgd_mlp_timing t = m->t;
  t.ns_blas = t.ns_gemm_fwd + t.ns_gemv_fwd + t.ns_gemv_bwd + t.ns_gemm_bwd;
  if (reset) memset(&m->t, 0, sizeof m->t);
  return t;
}

/* Accumulates the time since *mark into *acc when timing is on. */
static inline void lap(const cgd_mlp *m, double *mark, double *acc) {
  if (!m->timing) return;
  double t = now_ns();
  *acc += t - *mark;
  *mark = t;
}

/* Element-wise kernels of the fast path, rows of H contiguous values. Written branch-free
 * so gcc turns the selects into blends; compiled per x86-64 level (clones.h). */

/* Z[i,:] <- Z[i,:] + b1 ;  A[i,:] <- leaky(Z[i,:])          Z, A: n×H
 * For 0 <= leak <= 1, leaky(z) = max(z, leak·z) — z > a ? z : a with a = leak·z, the same
 * value (z > 0: z > leak·z unless leak = 1, where both are z; z <= 0: leak·z >= z, and
 * z = 0 gives a = ±0, equal to z) — which every clone compiles to a multiply and a max;
 * the form z > 0 ? z : leak·z vectorised only in the AVX-512 clone (the others branched).
 * Other slopes keep the original form. */
CGD_CLONES static void bias_leaky(size_t n, size_t H, const double *restrict b1, double leak,
                                  double *restrict Z, double *restrict A) {
  if (leak >= 0.0 && leak <= 1.0) {
    for (size_t i = 0; i < n; i++) {
      double *restrict zi = Z + i * H, *restrict ai = A + i * H;
      for (size_t j = 0; j < H; j++) {
        const double z = zi[j] + b1[j], a = leak * z;
        zi[j] = z;
        ai[j] = z > a ? z : a;
      }
    }
    return;
  }
  for (size_t i = 0; i < n; i++) {
    double *restrict zi = Z + i * H, *restrict ai = A + i * H;
    for (size_t j = 0; j < H; j++) {
      double z = zi[j] + b1[j];
      zi[j] = z;
      ai[j] = z > 0.0 ? z : leak * z;
    }
  }
}

/* dZ[i,:] <- r[i] W2 ⊙ leaky'(Z[i,:]) ;  gb1 <- Σ_i dZ[i,:] (row order, fixed)
 * Z, dZ: n×H, r: n, W2, gb1: H */
CGD_CLONES static void leaky_backward(size_t n, size_t H, const double *restrict Z,
                                      const double *restrict r, const double *restrict W2,
                                      double leak, double *restrict dZ, double *restrict gb1) {
  for (size_t j = 0; j < H; j++) gb1[j] = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double *restrict zi = Z + i * H;
    double *restrict di = dZ + i * H;
    const double ri = r[i];
    for (size_t j = 0; j < H; j++) {
      double dz = ri * W2[j] * (zi[j] > 0.0 ? 1.0 : leak);
      di[j] = dz;
      gb1[j] += dz;
    }
  }
}

/* Fast path: the three matrix products go to BLAS; the element-wise work is written as
 * branch-free loops over contiguous rows of H so that gcc vectorises them (the ternaries
 * become blends). */
double cgd_mlp_loss_grad(cgd_mlp *m, const double *theta, double *grad) {
  if (m->kernel == CGD_MLP_KERNEL_FUSED) return cgd_mlp_loss_grad_fused(m, theta, grad, m->fscratch);
  const size_t n = m->n, d = m->d, H = m->H;
  const double leak = m->leak;
  const double *W1 = theta, *b1 = W1 + H * d, *W2 = b1 + H, b2 = W2[H];
  double *restrict Z = m->Z, *restrict A = m->A, *restrict r = m->r;
  const double *restrict y = m->y;
  double mark = m->timing ? now_ns() : 0, *te = &m->t.ns_elementwise;

  /* Z <- X W1ᵀ          [n×d]·[d×H] */
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)H, (int)d, 1.0, m->X,
              (int)d, W1, (int)d, 0.0, Z, (int)H);
  lap(m, &mark, &m->t.ns_gemm_fwd);
  /* Z <- Z + 1 b1ᵀ ;  A <- leaky(Z) */
  bias_leaky(n, H, b1, leak, Z, A);
  lap(m, &mark, te);
  /* r <- A W2ᵀ          [n×H]·[H] */
  cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)H, 1.0, A, (int)H, W2, 1, 0.0, r, 1);
  lap(m, &mark, &m->t.ns_gemv_fwd);
  /* r <- ŷ − y ;  L = mean r² */
  double sse = 0.0;
  for (size_t i = 0; i < n; i++) {
    double ri = r[i] + b2 - y[i];
    r[i] = ri;
    sse += ri * ri;
  }
  const double loss = sse / (double)n;
  if (!grad) {
    lap(m, &mark, te);
    if (m->timing) m->t.calls++;
    return loss;
  }

  double *gW1 = grad, *gb1 = gW1 + H * d, *gW2 = gb1 + H, *gb2 = gW2 + H;
  /* dL/dŷ = (2/n) r, folded into the scale factors below instead of a pass over r. */
  const double s = 2.0 / (double)n;
  double sr = 0.0;
  for (size_t i = 0; i < n; i++) sr += r[i];
  *gb2 = s * sr;
  lap(m, &mark, te);
  /* gW2 <- s Aᵀ r       [H×n]·[n] */
  cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)H, s, A, (int)H, r, 1, 0.0, gW2, 1);
  lap(m, &mark, &m->t.ns_gemv_bwd);
  /* dZ <- (r W2) ⊙ leaky'(Z), written over A (A is no longer needed);
   * gb1 <- s 1ᵀ dZ accumulated row by row (fixed order, vectorised over j). */
  leaky_backward(n, H, Z, r, W2, leak, A, gb1);
  for (size_t j = 0; j < H; j++) gb1[j] *= s;
  lap(m, &mark, te);
  /* gW1 <- s dZᵀ X      [H×n]·[n×d] */
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H, (int)d, (int)n, s, A, (int)H,
              m->X, (int)d, 0.0, gW1, (int)d);
  lap(m, &mark, &m->t.ns_gemm_bwd);
  if (m->timing) m->t.calls++;
  return loss;
}

/* Reference: one sample at a time, textbook backpropagation, no BLAS, no scratch. */
double cgd_mlp_loss_grad_ref(const cgd_mlp *m, const double *theta, double *grad) {
  const size_t n = m->n, d = m->d, H = m->H;
  const double *W1 = theta, *b1 = W1 + H * d, *W2 = b1 + H, b2 = W2[H];
  const size_t P = cgd_mlp_nparams(m);
  if (grad) memset(grad, 0, P * sizeof *grad);
  double *z = malloc(2 * H * sizeof *z);
  if (!z) return NAN; /* the caller's finiteness check reports it */
  double *a = z + H;
  double sse = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double *x = m->X + i * d;
    double yhat = b2;
    for (size_t j = 0; j < H; j++) {
      double acc = b1[j];
      for (size_t k = 0; k < d; k++) acc += W1[j * d + k] * x[k];
      z[j] = acc;
      a[j] = acc > 0.0 ? acc : m->leak * acc;
      yhat += W2[j] * a[j];
    }
    double r = yhat - m->y[i];
    sse += r * r;
    if (!grad) continue;
    double dy = 2.0 * r / (double)n;
    double *gW1 = grad, *gb1 = gW1 + H * d, *gW2 = gb1 + H, *gb2 = gW2 + H;
    *gb2 += dy;
    for (size_t j = 0; j < H; j++) {
      gW2[j] += dy * a[j];
      double dz = dy * W2[j] * (z[j] > 0.0 ? 1.0 : m->leak);
      gb1[j] += dz;
      for (size_t k = 0; k < d; k++) gW1[j * d + k] += dz * x[k];
    }
  }
  free(z);
  return sse / (double)n;
}

void cgd_mlp_init(const cgd_mlp *m, uint64_t seed, double *theta) {
  const size_t H = m->H, d = m->d, P = cgd_mlp_nparams(m);
  const double b_in = 1.0 / sqrt((double)d), b_hid = 1.0 / sqrt((double)H);
  for (size_t p = 0; p < P; p++) {
    double bound = p < H * d + H ? b_in : b_hid; /* layer 1: W1, b1; layer 2: W2, b2 */
    theta[p] = bound * (2.0 * cgd_rng_uniform(seed, CGD_STREAM_INIT, p) - 1.0);
  }
}

/* ---------------------------------------------------------------- objective */

static int mlp_eval(void *ctx, size_t n, const double *x, double *f, double *g, double *h,
                    cgd_error *err) {
  cgd_mlp *m = ctx;
  if (h) return cgd_fail(err, CGD_EUSAGE, "mlp: Hessian not available");
  const size_t P = cgd_mlp_nparams(m);
  for (size_t i = 0; i < n; i++) {
    double L = cgd_mlp_loss_grad(m, x + i * P, g ? g + i * P : NULL);
    if (f) f[i] = L;
  }
  return CGD_OK;
}

static void mlp_free_ctx(void *ctx) { cgd_mlp_free(ctx); }

int cgd_mlp_objective_create(cgd_mlp *m, cgd_objective **out, cgd_error *err) {
  cgd_objective *o = calloc(1, sizeof *o);
  if (!o) return cgd_fail(err, CGD_ENOMEM, "mlp: out of memory");
  const size_t H = m->H, d = m->d;
  snprintf(o->name, sizeof o->name, "mlp %zu-%zu-1 leaky(%g)", d, H, m->leak);
  o->dim = cgd_mlp_nparams(m);
  o->ctx = m;
  o->eval = mlp_eval;
  o->free_ctx = mlp_free_ctx;
  o->hvp = cgd_mlp_hvp_cb; /* mlp_hvp.c */
  o->n_views = 4;
  o->views[0] = (cgd_view){"W1", 0, H * d};
  o->views[1] = (cgd_view){"b1", H * d, H};
  o->views[2] = (cgd_view){"W2", H * d + H, H};
  o->views[3] = (cgd_view){"b2", H * d + 2 * H, 1};
  *out = o;
  return CGD_OK;
}
