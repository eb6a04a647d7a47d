/* Predictability horizon: a long-double reference orbit beside the double one.
 * See chaosgd/horizon.h. */
#include "chaosgd/horizon.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/lyapunov.h"

int cgd_ms_grad_ld_supported(const cgd_ms_spec *s) {
  static const char *const F0[] = {"quadratic", "quartic", "tilted", "doublewell"};
  static const char *const F1[] = {"sin", "negcos", "quasi", "madeup", "none"};
  int a = 0, b = 0;
  for (size_t i = 0; i < 4; i++) a |= !strcmp(s->f0, F0[i]);
  for (size_t i = 0; i < 5; i++) b |= !strcmp(s->f1, F1[i]);
  return a && b;
}

long double cgd_ms_grad_ld(const void *ctx, long double x) {
  const cgd_ms_spec *s = ctx;
  const long double e = s->eps, u = x / e;
  long double g = 0.0L;
  if (!strcmp(s->f0, "quadratic")) g = x;                                   /* (x²/2)' */
  else if (!strcmp(s->f0, "quartic")) g = x * x * x;                        /* (x⁴/4)' */
  else if (!strcmp(s->f0, "tilted")) g = x * (x * x - 1.0L) + 0.125L;       /* ((x²−1)²/4 + x/8)' */
  else if (!strcmp(s->f0, "doublewell")) g = 4.0L * s->k * x * (x * x - 1.0L); /* (k(x²−1)²)' */
  if (!strcmp(s->f1, "sin")) g += cosl(u);                                  /* (ε sin(x/ε))' */
  else if (!strcmp(s->f1, "negcos")) g += sinl(u);                          /* (−ε cos(x/ε))' */
  else if (!strcmp(s->f1, "quasi")) g += cosl(u) + sqrtl(2.0L) * cosl(sqrtl(2.0L) * u);
  else if (!strcmp(s->f1, "madeup")) {
    /* (ε cos(1 + cos(ax)/ε))' = a sin(ax) sin(1 + cos(ax)/ε), a = √3/5 */
    const long double a = sqrtl(3.0L) / 5.0L;
    g += a * sinl(a * x) * sinl(1.0L + cosl(a * x) / e);
  }
  return g;
}

struct cgd_horizon_acc {
  cgd_grad_ld_fn grad;
  const void *ctx;
  long double eta, xr;
  size_t t, burn_in, first_diff;
  double delta0, rmin, rmax;
  /* record separations: (step, value) whenever the separation exceeds all before, so the
   * first crossing of any threshold fixed afterwards can be read back */
  size_t nrec, caprec;
  size_t *rec_t;
  double *rec_v;
  int diff_seen;
};

int cgd_horizon_create(cgd_grad_ld_fn grad, const void *ctx, double eta, double x0,
                       size_t burn_in, cgd_horizon_acc **out, cgd_error *err) {
  *out = NULL;
  cgd_horizon_acc *h = calloc(1, sizeof *h);
  if (!h) return cgd_fail(err, CGD_ENOMEM, "horizon: out of memory");
  h->grad = grad;
  h->ctx = ctx;
  h->eta = eta;
  h->xr = x0;
  h->burn_in = burn_in;
  h->rmin = INFINITY;
  h->rmax = -INFINITY;
  *out = h;
  return CGD_OK;
}

void cgd_horizon_free(cgd_horizon_acc *h) {
  if (!h) return;
  free(h->rec_t);
  free(h->rec_v);
  free(h);
}

void cgd_horizon_push(cgd_horizon_acc *h, double x) {
  double xr = (double)h->xr, sep = fabs(x - xr);
  if (!h->diff_seen && sep > 0) {
    h->diff_seen = 1;
    h->first_diff = h->t;
    h->delta0 = sep;
  }
  if (h->nrec == 0 || sep > h->rec_v[h->nrec - 1]) {
    if (h->nrec == h->caprec) {
      size_t nc = h->caprec ? 2 * h->caprec : 64;
      size_t *nt = realloc(h->rec_t, nc * sizeof *nt);
      if (nt) h->rec_t = nt;
      double *nv = realloc(h->rec_v, nc * sizeof *nv);
      if (nv) h->rec_v = nv;
      if (nt && nv) h->caprec = nc;
    }
    if (h->nrec < h->caprec) {
      h->rec_t[h->nrec] = h->t;
      h->rec_v[h->nrec++] = sep;
    }
  }
  if (h->t >= h->burn_in) {
    h->rmin = fmin(h->rmin, xr);
    h->rmax = fmax(h->rmax, xr);
  }
  h->xr -= h->eta * h->grad(h->ctx, h->xr); /* x ← x − η f'(x), in long double */
  h->t++;
}

cgd_horizon cgd_horizon_get(const cgd_horizon_acc *h, double frac, double lambda) {
  cgd_horizon r = {0};
  r.steps = h->t;
  r.first_diff = h->first_diff;
  r.delta0 = h->delta0;
  r.size = h->rmax - h->rmin;
  r.lambda = lambda;
  const double thr = frac * r.size;
  for (size_t i = 0; i < h->nrec; i++)
    if (h->rec_v[i] > thr) {
      r.horizon = h->rec_t[i];
      break;
    }
  r.predicted_u = log(1.0 / DBL_EPSILON * 2.0) / lambda; /* u = 2^-53 = DBL_EPSILON/2 */
  r.predicted_d0 = h->diff_seen ? (double)h->first_diff + log(thr / h->delta0) / lambda : NAN;
  r.tv_hist = NAN;
  return r;
}

int cgd_horizon_1d(const cgd_objective *obj, const cgd_ms_spec *spec, double eta, double x0,
                   size_t burn_in, size_t steps, double frac, cgd_horizon *out, cgd_error *err) {
  if (obj->dim != 1 || !cgd_ms_grad_ld_supported(spec))
    return cgd_fail(err, CGD_EUSAGE, "horizon: needs a 1-D built-in f0 + f1 (got %s + %s)",
                    spec->f0, spec->f1);
  cgd_horizon_acc *h;
  int rc = cgd_horizon_create(cgd_ms_grad_ld, spec, eta, x0, burn_in, &h, err);
  if (rc) return rc;
  double *xs = malloc(sizeof(double) * 2 * steps);
  if (!xs) {
    cgd_horizon_free(h);
    return cgd_fail(err, CGD_ENOMEM, "horizon: out of memory");
  }
  double *xr = xs + steps;
  cgd_lyap1d ly;
  cgd_lyap1d_init(&ly, burn_in);
  double x = x0, g, f2;
  for (size_t t = 0; t < steps; t++) {
    rc = obj->eval(obj->ctx, 1, &x, NULL, &g, &f2, err);
    if (rc) break;
    cgd_lyap1d_push(&ly, eta, f2);
    xs[t] = x;
    xr[t] = (double)h->xr;
    cgd_horizon_push(h, x);
    x -= eta * g;
  }
  if (rc == CGD_OK) {
    *out = cgd_horizon_get(h, frac, cgd_lyap1d_estimate(&ly).mean);
    /* TV of the time histograms after burn-in, 100 bins over the reference's range */
    enum { NB = 100 };
    double ca[NB] = {0}, cb[NB] = {0}, lo = h->rmin, w = (h->rmax - h->rmin) / NB;
    size_t cnt = 0;
    for (size_t t = burn_in; t < steps && w > 0; t++) {
      long ia = (long)floor((xs[t] - lo) / w), ib = (long)floor((xr[t] - lo) / w);
      ia = ia < 0 ? 0 : ia >= NB ? NB - 1 : ia;
      ib = ib < 0 ? 0 : ib >= NB ? NB - 1 : ib;
      ca[ia]++;
      cb[ib]++;
      cnt++;
    }
    double tv = 0;
    for (int i = 0; i < NB; i++) tv += fabs(ca[i] - cb[i]);
    out->tv_hist = cnt ? 0.5 * tv / (double)cnt : NAN;
  }
  free(xs);
  cgd_horizon_free(h);
  return rc;
}
