#include "chaosgd/landscape.h"

#include <math.h>
#include <stdlib.h>

int cgd_f0_minimum(const cgd_objective *obj, double lo, double hi, double *xs, double *H,
                   cgd_error *err) {
  if (!obj->eval_f0 || obj->dim < 1 || obj->dim > 2)
    return cgd_fail(err, CGD_EUSAGE, "f0 minimum: needs a 1-D or 2-D multiscale objective");
  const size_t G = 401, dim = obj->dim, npts = dim == 1 ? G : G * G;
  double *x = malloc(npts * dim * sizeof *x), *f = malloc(npts * sizeof *f);
  int rc = CGD_OK;
  if (!x || !f) {
    rc = cgd_fail(err, CGD_ENOMEM, "f0 minimum: out of memory");
    goto out;
  }
  for (size_t i = 0; i < npts; i++) {
    size_t a = dim == 1 ? i : i / G, b = i % G;
    x[i * dim] = lo + (hi - lo) * (double)a / (double)(G - 1);
    if (dim == 2) x[i * dim + 1] = lo + (hi - lo) * (double)b / (double)(G - 1);
  }
  if ((rc = obj->eval_f0(obj->ctx, npts, x, f, NULL, NULL, err))) goto out;
  size_t imin = 0;
  for (size_t i = 1; i < npts; i++)
    if (f[i] < f[imin]) imin = i;
  for (size_t a = 0; a < dim; a++) xs[a] = x[imin * dim + a];
  /* Newton from the grid point: quadratic convergence where H > 0; stop at the box */
  for (int it = 0; it < 50; it++) {
    double g[2], step[2];
    if ((rc = obj->eval_f0(obj->ctx, 1, xs, NULL, g, H, err))) goto out;
    if (dim == 1) {
      if (!(H[0] > 0)) break;
      step[0] = g[0] / H[0];
    } else {
      double det = H[0] * H[3] - H[1] * H[2];
      if (!(H[0] > 0 && det > 0)) break;
      step[0] = (H[3] * g[0] - H[1] * g[1]) / det;
      step[1] = (H[0] * g[1] - H[2] * g[0]) / det;
    }
    double moved = 0, nx[2];
    int inside = 1;
    for (size_t a = 0; a < dim; a++) {
      nx[a] = xs[a] - step[a];
      inside &= nx[a] >= lo && nx[a] <= hi;
    }
    if (!inside) break;
    for (size_t a = 0; a < dim; a++) {
      moved = fmax(moved, fabs(nx[a] - xs[a]));
      xs[a] = nx[a];
    }
    if (moved <= 1e-15 * (1 + fabs(xs[0]))) break;
  }
  rc = obj->eval_f0(obj->ctx, 1, xs, NULL, NULL, H, err);
out:
  free(x);
  free(f);
  return rc;
}

double cgd_sym_lambda_min(const double *H, size_t dim) {
  if (dim == 1) return H[0];
  double tr = H[0] + H[3], det = H[0] * H[3] - H[1] * H[2];
  return 0.5 * tr - sqrt(fmax(0.25 * tr * tr - det, 0.0));
}

int cgd_quad_model_eval(void *ctx, size_t n, const double *x, double *f, double *g, double *h,
                        cgd_error *err) {
  const cgd_quad_model *q = ctx;
  if (g || h || !f) return cgd_fail(err, CGD_EINTERNAL, "quadratic model: values only");
  for (size_t i = 0; i < n; i++) {
    double d0 = x[i * q->dim] - q->xs[0];
    if (q->dim == 1) {
      f[i] = 0.5 * q->H[0] * d0 * d0;
    } else {
      double d1 = x[i * 2 + 1] - q->xs[1];
      f[i] = 0.5 * (q->H[0] * d0 * d0 + (q->H[1] + q->H[2]) * d0 * d1 + q->H[3] * d1 * d1);
    }
  }
  return CGD_OK;
}
