/* Sharpness by Lanczos on Hessian-vector products; exact extreme eigenvalues for analytic
 * objectives. See chaosgd/sharpness.h. */
#include "chaosgd/sharpness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/lyapunov.h"

int cgd_sharpness_lanczos(size_t dim, cgd_hvp_fn hvp, void *ctx, size_t k, const double *v0,
                          cgd_sharpness *out, double *vec, cgd_error *err) {
  if (dim < 1 || k < 1) return cgd_fail(err, CGD_EUSAGE, "lanczos: need dim, k >= 1");
  if (k > dim) k = dim;
  /* V: (k+1) × dim basis; T: k × k tridiagonal (dense for the Jacobi solver) */
  double *V = malloc(sizeof(double) * ((k + 1) * dim + 2 * k * k + 2 * k + dim));
  if (!V) return cgd_fail(err, CGD_ENOMEM, "lanczos: out of memory (k = %zu)", k);
  double *T = V + (k + 1) * dim, *S = T + k * k, *al = S + k * k, *be = al + k, *w = be + k;
  double nn = 0.0;
  for (size_t i = 0; i < dim; i++) {
    V[i] = v0 ? v0[i] : 1.0 + 0.5 * sin(1.0 + M_SQRT2 * (double)i);
    nn += V[i] * V[i];
  }
  if (!(nn > 0)) {
    free(V);
    return cgd_fail(err, CGD_EUSAGE, "lanczos: zero start vector");
  }
  for (size_t i = 0; i < dim; i++) V[i] /= sqrt(nn);
  size_t m = 0;
  int rc = CGD_OK;
  for (size_t j = 0; j < k; j++) {
    double *vj = V + j * dim, *vn = V + (j + 1) * dim;
    rc = hvp(ctx, vj, vn, err); /* w = H v_j */
    if (rc) break;
    m = j + 1;
    double a = 0.0;
    for (size_t i = 0; i < dim; i++) a += vj[i] * vn[i];
    al[j] = a;
    /* full re-orthogonalisation against every v_0..v_j, twice (classical GS "twice is
     * enough"): keeps the Ritz values free of ghost copies */
    for (int pass = 0; pass < 2; pass++)
      for (size_t p = 0; p <= j; p++) {
        double *vp = V + p * dim, c = 0.0;
        for (size_t i = 0; i < dim; i++) c += vp[i] * vn[i];
        for (size_t i = 0; i < dim; i++) vn[i] -= c * vp[i];
      }
    double b = 0.0;
    for (size_t i = 0; i < dim; i++) b += vn[i] * vn[i];
    b = sqrt(b);
    be[j] = b;
    if (j + 1 == k || b <= 1e-14 * (fabs(a) + (j ? be[j - 1] : 0.0) + 1e-300)) break; /* invariant */
    for (size_t i = 0; i < dim; i++) vn[i] /= b;
  }
  if (rc == CGD_OK) {
    memset(T, 0, sizeof(double) * m * m);
    for (size_t j = 0; j < m; j++) {
      T[j * m + j] = al[j];
      if (j + 1 < m) T[j * m + j + 1] = T[(j + 1) * m + j] = be[j];
    }
    rc = cgd_sym_eigen(m, T, w, S, err);
  }
  if (rc == CGD_OK) {
    out->top = w[m - 1];
    out->bottom = w[0];
    out->iters = m;
    /* residual of the top Ritz pair: ‖H u − θu‖ = β_m |s_{m,top}| */
    out->resid = fabs(be[m - 1] * S[(m - 1) * m + (m - 1)]);
    if (vec) {
      double vn = 0.0;
      for (size_t i = 0; i < dim; i++) {
        double s = 0.0;
        for (size_t j = 0; j < m; j++) s += V[j * dim + i] * S[j * m + (m - 1)];
        vec[i] = s;
        vn += s * s;
      }
      for (size_t i = 0; i < dim; i++) vec[i] /= sqrt(vn);
    }
  }
  free(V);
  return rc;
}

int cgd_objective_hvp(const cgd_objective *obj, const double *x, const double *v, double *hv,
                      cgd_error *err) {
  if (obj->hvp) return obj->hvp(obj->ctx, x, v, hv, err);
  const size_t d = obj->dim;
  if (!obj->hess_ok || d > 64)
    return cgd_fail(err, CGD_EUSAGE, "hvp: %s has neither an hvp nor small Hessians", obj->name);
  double h[64 * 64];
  int rc = obj->eval(obj->ctx, 1, x, NULL, NULL, h, err);
  if (rc) return rc;
  for (size_t a = 0; a < d; a++) { /* hv = H v */
    double s = 0.0;
    for (size_t b = 0; b < d; b++) s += h[a * d + b] * v[b];
    hv[a] = s;
  }
  return CGD_OK;
}

typedef struct {
  const cgd_objective *obj;
  const double *x;
} obj_at;

static int obj_hvp(void *ctx, const double *v, double *hv, cgd_error *err) {
  const obj_at *c = ctx;
  return cgd_objective_hvp(c->obj, c->x, v, hv, err);
}

int cgd_sharpness_objective(const cgd_objective *obj, const double *x, size_t k, const double *v0,
                            cgd_sharpness *out, double *vec, cgd_error *err) {
  obj_at c = {obj, x};
  return cgd_sharpness_lanczos(obj->dim, obj_hvp, &c, k, v0, out, vec, err);
}

int cgd_sharpness_analytic(const cgd_objective *obj, const double *x, cgd_sharpness *out,
                           cgd_error *err) {
  const size_t d = obj->dim;
  if (!obj->hess_ok || d > 64)
    return cgd_fail(err, CGD_EUSAGE, "sharpness: %s has no small Hessian", obj->name);
  double h[64 * 64], w[64];
  int rc = obj->eval(obj->ctx, 1, x, NULL, NULL, h, err);
  if (rc) return rc;
  out->iters = 0;
  out->resid = 0.0;
  if (d == 1) {
    out->top = out->bottom = h[0];
  } else if (d == 2) {
    /* λ = (a + c)/2 ± √(((a − c)/2)² + b²) */
    double a = h[0], b = 0.5 * (h[1] + h[2]), c = h[3];
    double rad = hypot(0.5 * (a - c), b);
    out->top = 0.5 * (a + c) + rad;
    out->bottom = 0.5 * (a + c) - rad;
  } else {
    rc = cgd_sym_eigen(d, h, w, NULL, err);
    if (rc) return rc;
    out->top = w[d - 1];
    out->bottom = w[0];
  }
  return CGD_OK;
}
