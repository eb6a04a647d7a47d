/* Li–Yorke witness search: grid scan, local refinement, verification by re-evaluation.
 * See chaosgd/liyorke.h. */
#include "chaosgd/liyorke.h"

#include <math.h>
#include <stdlib.h>

#define LY_BATCH 4096

/* margin of (a, b, c, d) for either orientation; −inf when neither holds */
static double margin_of(double a, double b, double c, double d, int *mir) {
  double m1 = fmin(a - d, fmin(b - a, c - b)); /* d ≤ a < b < c */
  double m2 = fmin(d - a, fmin(a - b, b - c)); /* d ≥ a > b > c */
  int ok1 = a - d >= 0 && b - a > 0 && c - b > 0, ok2 = d - a >= 0 && a - b > 0 && b - c > 0;
  if (ok1 && (!ok2 || m1 >= m2)) {
    *mir = 0;
    return m1;
  }
  if (ok2) {
    *mir = 1;
    return m2;
  }
  return -INFINITY;
}

/* out = φ(in) over m points; a point with no orbit to offer maps to NaN, which no witness
 * test accepts. A NaN input (an earlier iterate that had none) is not evaluated; φ itself
 * gives NaN where it has no value (gd_phi: a state the objective refuses as run away). */
static int phi_batch(cgd_map1d_fn phi, void *ctx, size_t m, const double *in, double *out,
                     double *tmp, cgd_error *err) {
  int any_nan = 0;
  for (size_t i = 0; i < m; i++) {
    tmp[i] = isnan(in[i]) ? 0.0 : in[i];
    any_nan |= isnan(in[i]);
  }
  int rc = phi(ctx, m, tmp, out, err);
  if (rc) return rc;
  if (any_nan)
    for (size_t i = 0; i < m; i++)
      if (isnan(in[i])) out[i] = NAN;
  return CGD_OK;
}

/* scan n points a_i = lo + (hi − lo)(i + ½)/n; keeps the best margin */
static int scan(cgd_map1d_fn phi, void *ctx, double lo, double hi, size_t n, double *best_a,
                double *best_m, size_t *cands, cgd_error *err) {
  double *buf = malloc(sizeof(double) * 5 * LY_BATCH);
  if (!buf) return cgd_fail(err, CGD_ENOMEM, "liyorke: out of memory");
  double *A = buf, *B = A + LY_BATCH, *C = B + LY_BATCH, *D = C + LY_BATCH, *T = D + LY_BATCH;
  int rc = CGD_OK;
  for (size_t s = 0; s < n && !rc; s += LY_BATCH) {
    size_t m = n - s < LY_BATCH ? n - s : LY_BATCH;
    for (size_t i = 0; i < m; i++) A[i] = lo + (hi - lo) * ((double)(s + i) + 0.5) / (double)n;
    if ((rc = phi_batch(phi, ctx, m, A, B, T, err)) || (rc = phi_batch(phi, ctx, m, B, C, T, err)) ||
        (rc = phi_batch(phi, ctx, m, C, D, T, err)))
      break;
    for (size_t i = 0; i < m; i++) {
      int mir;
      double mg = margin_of(A[i], B[i], C[i], D[i], &mir);
      if (mg > -INFINITY && cands) (*cands)++;
      if (mg > *best_m) {
        *best_m = mg;
        *best_a = A[i];
      }
    }
  }
  free(buf);
  return rc;
}

int cgd_liyorke_search(cgd_map1d_fn phi, void *ctx, double lo, double hi, size_t n_scan,
                       cgd_liyorke *out, cgd_error *err) {
  *out = (cgd_liyorke){0};
  if (!(hi > lo) || n_scan < 1) return cgd_fail(err, CGD_EUSAGE, "liyorke: need lo < hi, n >= 1");
  double best_a = NAN, best_m = -INFINITY;
  int rc = scan(phi, ctx, lo, hi, n_scan, &best_a, &best_m, &out->candidates, err);
  if (rc) return rc;
  out->scanned = n_scan;
  if (best_m == -INFINITY) return CGD_OK; /* none at this resolution */
  double h = (hi - lo) / (double)n_scan;
  for (int round = 0; round < 3; round++) {
    /* 1001 points over [a − h, a + h]; the centre is one of them only approximately, so
     * the best can only improve or stay */
    rc = scan(phi, ctx, best_a - h, best_a + h, 1001, &best_a, &best_m, NULL, err);
    if (rc) return rc;
    out->scanned += 1001;
    h /= 500.0;
  }
  /* verification: fresh single-point evaluations */
  double a = best_a, b, c, d;
  if ((rc = phi(ctx, 1, &a, &b, err)) || (rc = phi(ctx, 1, &b, &c, err)) || (rc = phi(ctx, 1, &c, &d, err)))
    return rc;
  int mir;
  double mg = margin_of(a, b, c, d, &mir);
  double scale = fmax(fmax(fabs(a), fabs(b)), fmax(fabs(c), fabs(d)));
  out->a = a; out->b = b; out->c = c; out->d = d;
  out->margin = mg;
  out->mirrored = mir;
  out->found = mg > 1e-12 * scale;
  return CGD_OK;
}

typedef struct {
  const cgd_objective *obj;
  double eta;
  double *g;
  unsigned char *refused;
} gd_ctx;

/* φ(x) = x − η f'(x); NaN where the objective refuses x as run away (no orbit from there) */
static int gd_phi(void *ctx, size_t n, const double *x, double *out, cgd_error *err) {
  gd_ctx *c = ctx;
  int rc = cgd_objective_eval_each(c->obj, n, x, NULL, c->g, NULL, c->refused, err);
  if (rc) return rc;
  for (size_t i = 0; i < n; i++) out[i] = c->refused[i] ? NAN : x[i] - c->eta * c->g[i];
  return CGD_OK;
}

int cgd_liyorke_gd(const cgd_objective *obj, double eta, double lo, double hi, size_t n_scan,
                   cgd_liyorke *out, cgd_error *err) {
  if (obj->dim != 1) return cgd_fail(err, CGD_EUSAGE, "liyorke: needs a 1-D objective");
  gd_ctx c = {obj, eta, malloc(sizeof(double) * LY_BATCH), malloc(LY_BATCH)};
  int rc = c.g && c.refused ? cgd_liyorke_search(gd_phi, &c, lo, hi, n_scan, out, err)
                            : cgd_fail(err, CGD_ENOMEM, "liyorke: out of memory");
  free(c.g);
  free(c.refused);
  return rc;
}
