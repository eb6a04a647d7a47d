/* Lyapunov exponents: batch-means running estimates, 1-D orbits, ensembles, Benettin QR,
 * norm averages, and the theoretical m of Cond. 2. See chaosgd/lyapunov.h. */
#include "chaosgd/lyapunov.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ batch means */

void cgd_bm_init(cgd_batch_means *bm, size_t burn_in, size_t min_batch) {
  memset(bm, 0, sizeof *bm);
  bm->burn_in = burn_in;
  bm->blen = min_batch ? min_batch : 1;
}

void cgd_bm_push(cgd_batch_means *bm, double v) {
  if (bm->seen++ < bm->burn_in) return;
  bm->n++;
  bm->sum += v;
  bm->cur += v;
  if (++bm->cur_n < bm->blen) return;
  bm->bsum[bm->nb++] = bm->cur;
  bm->cur = 0.0;
  bm->cur_n = 0;
  if (bm->nb == CGD_BM_MAX) {
    /* 64 batches full: merge neighbours, batch length doubles (adjacent batches, so each
     * merged batch is still a contiguous stretch of the orbit). */
    for (size_t i = 0; i < CGD_BM_MAX / 2; i++) bm->bsum[i] = bm->bsum[2 * i] + bm->bsum[2 * i + 1];
    bm->nb = CGD_BM_MAX / 2;
    bm->blen *= 2;
  }
}

cgd_estimate cgd_bm_estimate(const cgd_batch_means *bm) {
  cgd_estimate e = {NAN, NAN, bm->n, bm->nb, bm->blen};
  if (bm->n == 0) return e;
  e.mean = bm->sum / (double)bm->n;
  if (bm->nb < 8) return e;
  /* se = sd(batch means)/√B, batch means about their own average (the partial batch in
   * progress is left out of the error, not of the mean). */
  double mb = 0.0;
  for (size_t b = 0; b < bm->nb; b++) mb += bm->bsum[b];
  mb /= (double)bm->nb * (double)bm->blen;
  double ss = 0.0;
  for (size_t b = 0; b < bm->nb; b++) {
    double dv = bm->bsum[b] / (double)bm->blen - mb;
    ss += dv * dv;
  }
  e.se = sqrt(ss / (double)(bm->nb - 1) / (double)bm->nb);
  return e;
}

/* ------------------------------------------------------------------------- 1-D */

void cgd_lyap1d_init(cgd_lyap1d *a, size_t burn_in) { cgd_bm_init(&a->bm, burn_in, 16); }

/* ln|φ'(x)| with φ(x) = x − η f'(x):  φ' = 1 − η f'' */
void cgd_lyap1d_push(cgd_lyap1d *a, double eta, double f2) {
  cgd_bm_push(&a->bm, log(fabs(1.0 - eta * f2)));
}

cgd_estimate cgd_lyap1d_estimate(const cgd_lyap1d *a) { return cgd_bm_estimate(&a->bm); }

int cgd_lyapunov_1d(const cgd_objective *obj, double eta, double x0, size_t burn_in, size_t steps,
                    cgd_estimate *out, double *x_end, cgd_error *err) {
  if (obj->dim != 1 || !obj->hess_ok)
    return cgd_fail(err, CGD_EUSAGE, "lyapunov_1d: needs a 1-D objective with Hessians (%s)",
                    obj->name);
  cgd_lyap1d a;
  cgd_lyap1d_init(&a, burn_in);
  double x = x0, g, h;
  for (size_t t = 0; t < burn_in + steps; t++) {
    int rc = obj->eval(obj->ctx, 1, &x, NULL, &g, &h, err);
    if (rc) return rc;
    cgd_lyap1d_push(&a, eta, h);
    x -= eta * g; /* x ← x − η f'(x) */
    if (!isfinite(x))
      return cgd_fail(err, CGD_EDIVERGED, "lyapunov_1d: orbit diverged at step %zu", t);
  }
  *out = cgd_lyap1d_estimate(&a);
  if (x_end) *x_end = x;
  return CGD_OK;
}

/* --------------------------------------------------------------------- linear algebra */

int cgd_sym_eigen(size_t d, double *a, double *w, double *vecs, cgd_error *err) {
  if (vecs)
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++) vecs[i * d + j] = i == j;
  /* cyclic Jacobi: each rotation zeroes a[p][q]; converges quadratically */
  for (int sweep = 0; sweep < 100; sweep++) {
    double off = 0.0, tot = 0.0;
    for (size_t p = 0; p < d; p++)
      for (size_t q = 0; q < d; q++) {
        double v = a[p * d + q] * a[p * d + q];
        tot += v;
        if (p != q) off += v;
      }
    if (off <= 1e-30 * tot || off == 0.0) break;
    for (size_t p = 0; p + 1 < d; p++)
      for (size_t q = p + 1; q < d; q++) {
        double apq = a[p * d + q];
        if (apq == 0.0) continue;
        double app = a[p * d + p], aqq = a[q * d + q];
        if (fabs(apq) <= 1e-18 * (fabs(app) + fabs(aqq))) {
          /* below rounding of the diagonal: dropping it changes no eigenvalue (NR's rule) */
          a[p * d + q] = a[q * d + p] = 0.0;
          continue;
        }
        double th = (aqq - app) / (2.0 * apq);
        double t = (th >= 0 ? 1.0 : -1.0) / (fabs(th) + sqrt(th * th + 1.0));
        double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
        for (size_t k = 0; k < d; k++) { /* A ← Gᵀ A G, columns then rows */
          double akp = a[k * d + p], akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (size_t k = 0; k < d; k++) {
          double apk = a[p * d + k], aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        if (vecs)
          for (size_t k = 0; k < d; k++) {
            double vkp = vecs[k * d + p], vkq = vecs[k * d + q];
            vecs[k * d + p] = c * vkp - s * vkq;
            vecs[k * d + q] = s * vkp + c * vkq;
          }
      }
    if (sweep == 99) return cgd_fail(err, CGD_EINTERNAL, "sym_eigen: Jacobi did not converge");
  }
  for (size_t i = 0; i < d; i++) w[i] = a[i * d + i];
  /* ascending order (insertion sort, with the eigenvector columns) */
  for (size_t i = 1; i < d; i++)
    for (size_t j = i; j > 0 && w[j - 1] > w[j]; j--) {
      double t = w[j]; w[j] = w[j - 1]; w[j - 1] = t;
      if (vecs)
        for (size_t k = 0; k < d; k++) {
          double u = vecs[k * d + j]; vecs[k * d + j] = vecs[k * d + j - 1]; vecs[k * d + j - 1] = u;
        }
    }
  return CGD_OK;
}

double cgd_matrix_norm2(size_t d, const double *A, int symmetric) {
  if (d == 1) return fabs(A[0]);
  if (d == 2) {
    /* σ²max = (T + √((T − 2|D|)(T + 2|D|)))/2, T = ‖A‖F², D = det A */
    double T = A[0] * A[0] + A[1] * A[1] + A[2] * A[2] + A[3] * A[3];
    double D = fabs(A[0] * A[3] - A[1] * A[2]);
    double disc = (T - 2 * D) * (T + 2 * D);
    return sqrt(0.5 * (T + sqrt(disc > 0 ? disc : 0)));
  }
  double *a = malloc(sizeof(double) * (d * d + d));
  if (!a) return NAN;
  double *w = a + d * d;
  if (symmetric) {
    memcpy(a, A, sizeof(double) * d * d);
  } else { /* AᵀA */
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++) {
        double s = 0;
        for (size_t k = 0; k < d; k++) s += A[k * d + i] * A[k * d + j];
        a[i * d + j] = s;
      }
  }
  double r = NAN;
  if (cgd_sym_eigen(d, a, w, NULL, NULL) == CGD_OK)
    r = symmetric ? fmax(fabs(w[0]), fabs(w[d - 1])) : sqrt(fmax(w[d - 1], 0.0));
  free(a);
  return r;
}

/* -------------------------------------------------------------------------- ensembles */

struct cgd_lyap_ens {
  size_t n, dim, burn_in, pushed, steps;
  double *sum; /* n: Σ ln growth */
  double *v;   /* n × dim tangents (dim > 1) */
  double *tmp; /* dim */
};

int cgd_lyap_ens_create(size_t n, size_t dim, size_t burn_in, cgd_lyap_ens **out, cgd_error *err) {
  *out = NULL;
  if (n < 1 || dim < 1) return cgd_fail(err, CGD_EUSAGE, "lyap_ens: need n, dim >= 1");
  cgd_lyap_ens *e = calloc(1, sizeof *e);
  if (!e) return cgd_fail(err, CGD_ENOMEM, "lyap_ens: out of memory");
  e->n = n; e->dim = dim; e->burn_in = burn_in;
  e->sum = calloc(n, sizeof *e->sum);
  e->v = dim > 1 ? malloc(sizeof(double) * n * dim) : NULL;
  e->tmp = malloc(sizeof(double) * dim);
  if (!e->sum || !e->tmp || (dim > 1 && !e->v)) {
    cgd_lyap_ens_free(e);
    return cgd_fail(err, CGD_ENOMEM, "lyap_ens: out of memory for %zu particles", n);
  }
  /* a generic unit direction (irrational components: no exact alignment with the axes,
   * on which a separable map would keep it) */
  if (dim > 1) {
    double nn = 0;
    for (size_t a = 0; a < dim; a++) nn += (1.0 + M_SQRT2 * (double)a) * (1.0 + M_SQRT2 * (double)a);
    for (size_t i = 0; i < n; i++)
      for (size_t a = 0; a < dim; a++) e->v[i * dim + a] = (1.0 + M_SQRT2 * (double)a) / sqrt(nn);
  }
  *out = e;
  return CGD_OK;
}

void cgd_lyap_ens_free(cgd_lyap_ens *e) {
  if (!e) return;
  free(e->sum); free(e->v); free(e->tmp); free(e);
}

/* v ← J v, s += ln‖v‖, v ← v/‖v‖ (J given by hess: I − η h, or directly) */
static void ens_push(cgd_lyap_ens *e, double eta, const double *M, int is_hess) {
  if (e->pushed++ < e->burn_in) return;
  e->steps++;
  const size_t n = e->n, d = e->dim;
  if (d == 1) {
    double *restrict s = e->sum;
    if (is_hess)
      for (size_t i = 0; i < n; i++) s[i] += log(fabs(1.0 - eta * M[i]));
    else
      for (size_t i = 0; i < n; i++) s[i] += log(fabs(M[i]));
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const double *Mi = M + i * d * d;
    double *vi = e->v + i * d, nn = 0.0;
    for (size_t a = 0; a < d; a++) {
      double acc = 0.0;
      for (size_t b = 0; b < d; b++) acc += Mi[a * d + b] * vi[b];
      e->tmp[a] = is_hess ? vi[a] - eta * acc : acc;
      nn += e->tmp[a] * e->tmp[a];
    }
    double r = sqrt(nn);
    e->sum[i] += log(r);
    if (r > 0 && isfinite(r)) /* else keep the old direction (see cgd_lyap_qr_push_jac) */
      for (size_t a = 0; a < d; a++) vi[a] = e->tmp[a] / r;
  }
}

void cgd_lyap_ens_push_hess(cgd_lyap_ens *e, double eta, const double *h) { ens_push(e, eta, h, 1); }
void cgd_lyap_ens_push_jac(cgd_lyap_ens *e, const double *J) { ens_push(e, 0.0, J, 0); }

double cgd_lyap_ens_particle(const cgd_lyap_ens *e, size_t i) {
  return e->steps ? e->sum[i] / (double)e->steps : NAN;
}

cgd_lyap_summary cgd_lyap_ens_summary(const cgd_lyap_ens *e) {
  cgd_lyap_summary s = {e->n, e->steps, NAN, NAN, NAN, NAN, NAN, NAN};
  if (!e->steps) return s;
  double m = 0, mn = INFINITY, mx = -INFINITY, pos = 0;
  for (size_t i = 0; i < e->n; i++) {
    double l = e->sum[i] / (double)e->steps;
    m += l;
    mn = fmin(mn, l);
    mx = fmax(mx, l);
    pos += l > 0;
  }
  m /= (double)e->n;
  double ss = 0;
  for (size_t i = 0; i < e->n; i++) {
    double dv = e->sum[i] / (double)e->steps - m;
    ss += dv * dv;
  }
  s.mean = m; s.min = mn; s.max = mx;
  s.std = sqrt(ss / (double)e->n);
  s.frac_positive = pos / (double)e->n;
  s.stderr_mean = s.std / sqrt((double)e->n);
  return s;
}

/* ---------------------------------------------------------------------- Benettin QR */

struct cgd_lyap_qr {
  size_t d, k;
  double *Q, *W, *J; /* d×k, d×k, d×d */
  cgd_batch_means *bm; /* k exponents */
  cgd_batch_means nav; /* norm average */
};

int cgd_lyap_qr_create(size_t d, size_t k, size_t burn_in, cgd_lyap_qr **out, cgd_error *err) {
  *out = NULL;
  if (d < 1 || k < 1 || k > d) return cgd_fail(err, CGD_EUSAGE, "lyap_qr: need 1 <= k <= d");
  cgd_lyap_qr *q = calloc(1, sizeof *q);
  if (!q) return cgd_fail(err, CGD_ENOMEM, "lyap_qr: out of memory");
  q->d = d; q->k = k;
  q->Q = malloc(sizeof(double) * (2 * d * k + d * d));
  q->bm = malloc(sizeof *q->bm * k);
  if (!q->Q || !q->bm) {
    cgd_lyap_qr_free(q);
    return cgd_fail(err, CGD_ENOMEM, "lyap_qr: out of memory (d = %zu)", d);
  }
  q->W = q->Q + d * k;
  q->J = q->W + d * k;
  /* generic directions (no exact alignment with invariant subspaces), orthonormalised by
   * modified Gram–Schmidt so that the first step's R carries no initial norms */
  double *Q = q->Q;
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < k; j++) Q[i * k + j] = (i == j) + 0.1 * sin(1.0 + (double)(i * k + j) * M_SQRT2);
  for (size_t j = 0; j < k; j++) {
    for (size_t p = 0; p < j; p++) {
      double r = 0;
      for (size_t i = 0; i < d; i++) r += Q[i * k + p] * Q[i * k + j];
      for (size_t i = 0; i < d; i++) Q[i * k + j] -= r * Q[i * k + p];
    }
    double nn = 0;
    for (size_t i = 0; i < d; i++) nn += Q[i * k + j] * Q[i * k + j];
    for (size_t i = 0; i < d; i++) Q[i * k + j] /= sqrt(nn);
  }
  for (size_t j = 0; j < k; j++) cgd_bm_init(&q->bm[j], burn_in, 16);
  cgd_bm_init(&q->nav, burn_in, 16);
  *out = q;
  return CGD_OK;
}

void cgd_lyap_qr_free(cgd_lyap_qr *q) {
  if (!q) return;
  free(q->Q); free(q->bm); free(q);
}

size_t cgd_lyap_qr_k(const cgd_lyap_qr *q) { return q->k; }

void cgd_lyap_qr_push_jac(cgd_lyap_qr *q, const double *J, int symmetric) {
  const size_t d = q->d, k = q->k;
  double *W = q->W, *Q = q->Q;
  /* W ← J Q */
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < k; j++) {
      double s = 0;
      for (size_t l = 0; l < d; l++) s += J[i * d + l] * Q[l * k + j];
      W[i * k + j] = s;
    }
  /* modified Gram–Schmidt: W = Q R, λ_j += ln R_jj */
  for (size_t j = 0; j < k; j++) {
    for (size_t p = 0; p < j; p++) {
      double r = 0;
      for (size_t i = 0; i < d; i++) r += Q[i * k + p] * W[i * k + j];
      for (size_t i = 0; i < d; i++) W[i * k + j] -= r * Q[i * k + p];
    }
    double nn = 0;
    for (size_t i = 0; i < d; i++) nn += W[i * k + j] * W[i * k + j];
    double r = sqrt(nn);
    cgd_bm_push(&q->bm[j], log(r));
    /* r = 0 (a singular J: superstable step) logs −inf and keeps the old direction, so
     * the basis stays finite */
    if (r > 0 && isfinite(r))
      for (size_t i = 0; i < d; i++) Q[i * k + j] = W[i * k + j] / r;
  }
  cgd_bm_push(&q->nav, log(cgd_matrix_norm2(d, J, symmetric)));
}

/* J = I − η h */
void cgd_lyap_qr_push_hess(cgd_lyap_qr *q, double eta, const double *h) {
  const size_t d = q->d;
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) q->J[i * d + j] = (i == j) - eta * h[i * d + j];
  cgd_lyap_qr_push_jac(q, q->J, 1);
}

cgd_estimate cgd_lyap_qr_exponent(const cgd_lyap_qr *q, size_t j) { return cgd_bm_estimate(&q->bm[j]); }
cgd_estimate cgd_lyap_qr_norm_average(const cgd_lyap_qr *q) { return cgd_bm_estimate(&q->nav); }

int cgd_lyapunov_spectrum(const cgd_objective *obj, double eta, const double *x0, size_t burn_in,
                          size_t steps, cgd_estimate *spectrum, cgd_estimate *norm_average,
                          cgd_error *err) {
  const size_t d = obj->dim;
  if (!obj->hess_ok || d > 64)
    return cgd_fail(err, CGD_EUSAGE, "lyapunov_spectrum: needs Hessians and dim <= 64 (%s)", obj->name);
  cgd_lyap_qr *q;
  int rc = cgd_lyap_qr_create(d, d, burn_in, &q, err);
  if (rc) return rc;
  double *x = malloc(sizeof(double) * (2 * d + d * d));
  if (!x) {
    cgd_lyap_qr_free(q);
    return cgd_fail(err, CGD_ENOMEM, "lyapunov_spectrum: out of memory");
  }
  double *g = x + d, *h = g + d;
  memcpy(x, x0, sizeof(double) * d);
  for (size_t t = 0; t < burn_in + steps && rc == CGD_OK; t++) {
    rc = obj->eval(obj->ctx, 1, x, NULL, g, h, err);
    if (rc) break;
    cgd_lyap_qr_push_hess(q, eta, h);
    for (size_t a = 0; a < d; a++) {
      x[a] -= eta * g[a]; /* x ← x − η∇f(x) */
      if (!isfinite(x[a]))
        rc = cgd_fail(err, CGD_EDIVERGED, "lyapunov_spectrum: orbit diverged at step %zu", t);
    }
  }
  if (rc == CGD_OK) {
    if (spectrum)
      for (size_t j = 0; j < d; j++) spectrum[j] = cgd_lyap_qr_exponent(q, j);
    if (norm_average) *norm_average = cgd_lyap_qr_norm_average(q);
  }
  free(x);
  cgd_lyap_qr_free(q);
  return rc;
}

/* ----------------------------------------------------------------- momentum Jacobians */

void cgd_jacobian_heavyball(size_t d, double eta, double gamma, const double *h, double *J) {
  const size_t D = 2 * d;
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) {
      double hij = h[i * d + j], id = i == j;
      J[i * D + j] = id - eta * hij;          /* ∂x'/∂x = I − ηH */
      J[i * D + d + j] = gamma * id;          /* ∂x'/∂v = γI */
      J[(d + i) * D + j] = -eta * hij;        /* ∂v'/∂x = −ηH */
      J[(d + i) * D + d + j] = gamma * id;    /* ∂v'/∂v = γI */
    }
}

void cgd_jacobian_nag_sc(size_t d, double eta, double c, const double *h, double *J) {
  const size_t D = 2 * d;
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) {
      double id = i == j, a = id - eta * h[i * d + j];
      J[i * D + j] = 0.0;                     /* ∂x'/∂x = 0 */
      J[i * D + d + j] = a;                   /* ∂x'/∂y = I − ηH(y) */
      J[(d + i) * D + j] = -c * id;           /* ∂y'/∂x = −cI */
      J[(d + i) * D + d + j] = (1.0 + c) * a; /* ∂y'/∂y = (1 + c)(I − ηH(y)) */
    }
}

/* ------------------------------------------------------------------------- theory */

/* E_θ ln|a + b sin θ|, θ uniform: ln((|a| + √(a² − b²))/2) if |a| ≥ |b|, else ln(|b|/2) */
static double mean_log_affine_sin(double a, double b) {
  a = fabs(a);
  b = fabs(b);
  if (a >= b) return log(0.5 * (a + sqrt((a - b) * (a + b))));
  return log(0.5 * b);
}

int cgd_lyap_m_theory(const char *f1, double eps, const cgd_objective *obj, double *m,
                      const char **method, cgd_error *err) {
  const char *meth = NULL;
  double acc = 0.0;
  if (!f1) f1 = "";
  if (!strcmp(f1, "sin") || !strcmp(f1, "negcos")) {
    /* ε f1'' = −sin θ (sin) or cos θ (negcos): same law of |·| over a period */
    const size_t N = (size_t)1 << 20;
    for (size_t j = 0; j < N; j++) acc += log(fabs(sin(2.0 * M_PI * ((double)j + 0.5) / (double)N)));
    *m = acc / (double)N;
    meth = "period quadrature (midpoint, 2^20 nodes)";
  } else if (!strcmp(f1, "quasi")) {
    /* ε f1'' = −(sin θ1 + 2 sin θ2): closed-form inner mean over θ1, midpoint over θ2 */
    const size_t N = (size_t)1 << 16;
    for (size_t j = 0; j < N; j++)
      acc += mean_log_affine_sin(2.0 * sin(2.0 * M_PI * ((double)j + 0.5) / (double)N), 1.0);
    *m = acc / (double)N;
    meth = "torus of independent phases (closed-form inner mean, midpoint 2^16 outer)";
  } else if (!strcmp(f1, "madeup")) {
    /* ε f1'' → −(3/25) sin² s cos φ with s, φ independent as ε → 0 */
    *m = log(3.0 / 25.0) - 3.0 * M_LN2;
    meth = "eps->0 limit over independent macro and fast phases: ln(3/25) - 3 ln 2";
  } else if (!strcmp(f1, "sincos2d")) {
    /* ε∇²f1 = diag(−sin θx, −cos θy): ‖·‖₂ = max(|sin θx|, |cos θy|) */
    const size_t N = 2048;
    for (size_t i = 0; i < N; i++) {
      double si = fabs(sin(2.0 * M_PI * ((double)i + 0.5) / (double)N)), row = 0.0;
      for (size_t j = 0; j < N; j++)
        row += log(fmax(si, fabs(cos(2.0 * M_PI * ((double)j + 0.5) / (double)N))));
      acc += row;
    }
    *m = acc / ((double)N * (double)N);
    meth = "torus quadrature (midpoint 2048^2)";
  } else if (!strcmp(f1, "none") || !strcmp(f1, "")) {
    return cgd_fail(err, CGD_EUSAGE, "m_theory: not available for f1 = '%s'", f1);
  } else {
    if (!obj || !obj->eval_f1 || !obj->hess_ok || obj->dim > 2)
      return cgd_fail(err, CGD_EUSAGE,
                      "m_theory: not available for expression f1 without a 1-D/2-D objective");
    const size_t d = obj->dim, N = d == 1 ? (size_t)1 << 20 : 1024, B = 1024;
    const double L = 2000.0 * M_PI * eps, lo = -0.5 * L;
    double *x = malloc(sizeof(double) * B * (d + d * d));
    if (!x) return cgd_fail(err, CGD_ENOMEM, "m_theory: out of memory");
    double *h = x + B * d;
    const size_t total = d == 1 ? N : N * N;
    for (size_t s = 0; s < total; s += B) {
      size_t nb = total - s < B ? total - s : B;
      for (size_t i = 0; i < nb; i++) {
        size_t idx = s + i;
        if (d == 1) {
          x[i] = lo + L * ((double)idx + 0.5) / (double)N;
        } else {
          x[2 * i] = lo + L * ((double)(idx / N) + 0.5) / (double)N;
          x[2 * i + 1] = lo + L * ((double)(idx % N) + 0.5) / (double)N;
        }
      }
      int rc = obj->eval_f1(obj->ctx, nb, x, NULL, NULL, h, err);
      if (rc) {
        free(x);
        return rc;
      }
      for (size_t i = 0; i < nb; i++) {
        double e[4];
        for (size_t a = 0; a < d * d; a++) e[a] = eps * h[i * d * d + a];
        acc += log(cgd_matrix_norm2(d, e, 1));
      }
    }
    free(x);
    *m = acc / (double)total;
    meth = "numeric window average over [-1000 pi eps, 1000 pi eps)";
  }
  if (method) *method = meth;
  return CGD_OK;
}

/* ------------------------------------------------------------------------ verdicts */

cgd_mverdict cgd_mverdict_measured(int converged, int periodic, int descending, cgd_estimate lambda) {
  const double z = 3.0;
  if (converged) return CGD_MVERDICT_CONVERGED;
  if (periodic) return CGD_MVERDICT_PERIODIC;
  if (descending) return CGD_MVERDICT_DESCENDING;
  if (lambda.batches < 8 || !isfinite(lambda.mean) || !isfinite(lambda.se))
    return lambda.mean == -INFINITY ? CGD_MVERDICT_QUASIPERIODIC : CGD_MVERDICT_UNDECIDED;
  if (lambda.mean - z * lambda.se > 0) return CGD_MVERDICT_CHAOTIC;
  if (lambda.mean + z * lambda.se < 0) return CGD_MVERDICT_QUASIPERIODIC;
  return CGD_MVERDICT_UNDECIDED;
}

const char *cgd_mverdict_name(cgd_mverdict v) {
  static const char *const N[] = {"converged", "periodic", "descending", "chaotic", "quasiperiodic", "undecided"};
  return (unsigned)v < sizeof N / sizeof *N ? N[v] : "?";
}

/* ------------------------------------------------------------------ checkpoints */

/* Raw images of the accumulators (same machine, same build: a checkpoint is not a portable
 * archive). Each read checks the shape it expects. */
static int put(FILE *fp, const void *p, size_t bytes) { return fwrite(p, 1, bytes, fp) == bytes ? 0 : -1; }
static int get(FILE *fp, void *p, size_t bytes) { return fread(p, 1, bytes, fp) == bytes ? 0 : -1; }

int cgd_lyap_qr_save(const cgd_lyap_qr *q, FILE *fp) {
  return put(fp, &q->d, sizeof q->d) || put(fp, &q->k, sizeof q->k) ||
         put(fp, q->Q, sizeof(double) * q->d * q->k) || put(fp, q->bm, sizeof *q->bm * q->k) ||
         put(fp, &q->nav, sizeof q->nav) ? -1 : 0;
}

int cgd_lyap_qr_load(cgd_lyap_qr *q, FILE *fp) {
  size_t d, k;
  if (get(fp, &d, sizeof d) || get(fp, &k, sizeof k) || d != q->d || k != q->k) return -1;
  return get(fp, q->Q, sizeof(double) * d * k) || get(fp, q->bm, sizeof *q->bm * k) ||
         get(fp, &q->nav, sizeof q->nav) ? -1 : 0;
}

int cgd_lyap_ens_save(const cgd_lyap_ens *e, FILE *fp) {
  return put(fp, &e->n, sizeof e->n) || put(fp, &e->dim, sizeof e->dim) ||
         put(fp, &e->pushed, sizeof e->pushed) || put(fp, &e->steps, sizeof e->steps) ||
         put(fp, e->sum, sizeof(double) * e->n) ||
         (e->v && put(fp, e->v, sizeof(double) * e->n * e->dim)) ? -1 : 0;
}

int cgd_lyap_ens_load(cgd_lyap_ens *e, FILE *fp) {
  size_t n, dim;
  if (get(fp, &n, sizeof n) || get(fp, &dim, sizeof dim) || n != e->n || dim != e->dim) return -1;
  return get(fp, &e->pushed, sizeof e->pushed) || get(fp, &e->steps, sizeof e->steps) ||
         get(fp, e->sum, sizeof(double) * n) || (e->v && get(fp, e->v, sizeof(double) * n * dim))
             ? -1 : 0;
}
