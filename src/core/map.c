#include "chaosgd/map.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/rng.h"
#include "clones.h"
#include "finite.h"

struct cgd_map {
  cgd_map_opts o;
  size_t n, dim;
  double c;      /* nag-sc coefficient */
  double sigma[2];
  double *state; /* heavyball: v; nag-sc: y (n × dim); NULL otherwise */
};

/* Finiteness is folded into the update passes (finite.h): two integer operations per
 * state in a loop that is bound by loads and stores anyway, where a separate pass over the
 * block cost as much as the update itself. */

/* xn <- x − η g; returns the OR of cgd_nonfinite_bit over the new states. xn is x (in place)
 * or does not overlap it: two loops, each of which the compiler may vectorise without an
 * overlap test. A plain loop, not cblas_daxpy: OpenBLAS's daxpy uses FMA in its vector
 * body and not in its tail, so an element's rounding would depend on where a block
 * boundary falls (caught by tests/test_loop.c). */
CGD_CLONES static uint64_t descend(size_t len, double lr, const double *restrict g,
                                   const double *x, double *xn) {
  uint64_t bad = 0;
  if (xn == x) {
    for (size_t k = 0; k < len; k++) {
      xn[k] -= lr * g[k];
      bad |= cgd_nonfinite_bit(xn[k]);
    }
    return bad;
  }
  const double *restrict xo = x;
  double *restrict xw = xn;
  for (size_t k = 0; k < len; k++) {
    xw[k] = xo[k] - lr * g[k];
    bad |= cgd_nonfinite_bit(xw[k]);
  }
  return bad;
}

/* v <- γ v − η g, xn <- x + v; as descend. */
CGD_CLONES static uint64_t heavy_ball(size_t len, double lr, double gm, const double *restrict g,
                                      double *restrict v, const double *x, double *xn) {
  uint64_t bad = 0;
  if (xn == x) {
    for (size_t k = 0; k < len; k++) {
      v[k] = gm * v[k] - lr * g[k];
      xn[k] += v[k];
      bad |= cgd_nonfinite_bit(xn[k]);
    }
    return bad;
  }
  const double *restrict xo = x;
  double *restrict xw = xn;
  for (size_t k = 0; k < len; k++) {
    v[k] = gm * v[k] - lr * g[k];
    xw[k] = xo[k] + v[k];
    bad |= cgd_nonfinite_bit(xw[k]);
  }
  return bad;
}

/* OR of cgd_nonfinite_bit over v[0..len), for the maps whose update loop does not fold it. */
CGD_CLONES static uint64_t nonfinite_bits(size_t len, const double *v) {
  uint64_t bad = 0;
  for (size_t k = 0; k < len; k++) bad |= cgd_nonfinite_bit(v[k]);
  return bad;
}

static const char *const NAMES[] = {"gd", "stochastic", "gaussian", "heavyball", "nag-sc"};

int cgd_map_kind_parse(const char *s, cgd_map_kind *k) {
  for (int i = 0; i < 5; i++)
    if (strcmp(s, NAMES[i]) == 0) {
      *k = (cgd_map_kind)i;
      return CGD_OK;
    }
  return CGD_EUSAGE;
}

const char *cgd_map_kind_name(cgd_map_kind k) {
  return (unsigned)k < 5 ? NAMES[k] : "unknown";
}

int cgd_map_create(const cgd_map_opts *o, const cgd_objective *obj, size_t n, cgd_map **out,
                   cgd_error *err) {
  *out = NULL;
  if (!(o->lr > 0) || !isfinite(o->lr))
    return cgd_fail(err, CGD_EUSAGE, "learning rate must be a positive number (got %g)", o->lr);
  const int split = o->kind == CGD_MAP_STOCHASTIC || o->kind == CGD_MAP_GAUSSIAN;
  if (split && (!obj->eval_f0 || !obj->noise))
    return cgd_fail(err, CGD_EUSAGE,
                    "map '%s' needs a multiscale objective f0 + f1 (objective '%s' has no split)",
                    cgd_map_kind_name(o->kind), obj->name);
  if (o->kind == CGD_MAP_HEAVYBALL && !(o->gamma >= 0 && o->gamma < 1))
    return cgd_fail(err, CGD_EUSAGE, "heavy ball needs 0 <= gamma < 1 (got %g)", o->gamma);
  if (o->kind == CGD_MAP_NAGSC && !(o->mu > 0 && o->mu * o->lr < 1))
    return cgd_fail(err, CGD_EUSAGE, "nag-sc needs mu > 0 and mu*lr < 1 (got mu %g, lr %g)",
                    o->mu, o->lr);
  if (o->kind == CGD_MAP_GAUSSIAN && obj->dim > 2)
    return cgd_fail(err, CGD_EUSAGE, "gaussian map: dimension %zu > 2", obj->dim);
  cgd_map *m = calloc(1, sizeof *m);
  if (!m) return cgd_fail(err, CGD_ENOMEM, "map: out of memory");
  m->o = *o;
  m->n = n;
  m->dim = obj->dim;
  if (o->kind == CGD_MAP_NAGSC) {
    double s = sqrt(o->mu * o->lr);
    m->c = (1 - s) / (1 + s);
  }
  for (size_t a = 0; a < 2; a++) m->sigma[a] = sqrt(o->sigma2[a] > 0 ? o->sigma2[a] : 0);
  if (o->kind == CGD_MAP_HEAVYBALL || o->kind == CGD_MAP_NAGSC) {
    m->state = calloc(n * m->dim, sizeof *m->state);
    if (!m->state) {
      free(m);
      return cgd_fail(err, CGD_ENOMEM, "map: out of memory for %zu states", n);
    }
  }
  *out = m;
  return CGD_OK;
}

double *cgd_map_state(cgd_map *m, size_t *len) {
  *len = m->state ? m->n * m->dim : 0;
  return m->state;
}

void cgd_map_free(cgd_map *m) {
  if (!m) return;
  free(m->state);
  free(m);
}

int cgd_map_uses_gradient(const cgd_map *m) {
  return m->o.kind == CGD_MAP_GD || m->o.kind == CGD_MAP_HEAVYBALL;
}

size_t cgd_map_scratch(const cgd_map *m) {
  switch (m->o.kind) {
  case CGD_MAP_STOCHASTIC:
  case CGD_MAP_GAUSSIAN: return 2 * m->dim;
  case CGD_MAP_NAGSC: return m->dim;
  default: return 0;
  }
}

/* The map's update proper; returns the OR of cgd_nonfinite_bit over the new states in *bad. */
static int map_update(cgd_map *m, const cgd_objective *obj, uint64_t step, size_t i0, size_t nb,
                      const double *x, double *xn, const double *g, double *scratch,
                      uint64_t *bad, cgd_error *err) {
  const size_t dim = m->dim, len = nb * dim;
  const double lr = m->o.lr;
  /* Key of a random draw: one index per (step, particle); coordinates are spread by the
   * noise callback (index·dim + a) so every draw is unique. */
  const uint64_t index0 = step * (uint64_t)m->n + i0;
  int rc;
  switch (m->o.kind) {
  case CGD_MAP_GD:
    *bad = descend(len, lr, g, x, xn);
    return CGD_OK;
  case CGD_MAP_HEAVYBALL:
    *bad = heavy_ball(len, lr, m->o.gamma, g, m->state + i0 * dim, x, xn);
    return CGD_OK;
  case CGD_MAP_NAGSC: {
    double *restrict y = m->state + i0 * dim;
    if (step == 0) memcpy(y, x, len * sizeof *y); /* y0 = x0 */
    if ((rc = obj->eval(obj->ctx, nb, y, NULL, scratch, NULL, err))) return rc;
    const double c = m->c;
    for (size_t k = 0; k < len; k++) {
      double v = y[k] - lr * scratch[k];
      y[k] = v + c * (v - x[k]);
      xn[k] = v;
    }
    break;
  }
  case CGD_MAP_STOCHASTIC: {
    double *g0 = scratch, *zeta = scratch + len;
    if ((rc = obj->eval_f0(obj->ctx, nb, x, NULL, g0, NULL, err))) return rc;
    if ((rc = obj->noise(obj->ctx, nb, m->o.seed, index0, zeta)))
      return cgd_fail(err, rc, "noise sampling failed");
    for (size_t k = 0; k < len; k++) xn[k] = x[k] + lr * (zeta[k] - g0[k]);
    break;
  }
  case CGD_MAP_GAUSSIAN: {
    double *g0 = scratch, *xi = scratch + len;
    if ((rc = obj->eval_f0(obj->ctx, nb, x, NULL, g0, NULL, err))) return rc;
    /* ξ for (particle i, coordinate a) is draw (step·n + i)·dim + a: one batch */
    cgd_rng_normal_fill(m->o.seed, CGD_STREAM_GAUSS, index0 * dim, len, xi);
    for (size_t i = 0; i < nb; i++)
      for (size_t a = 0; a < dim; a++)
        xn[i * dim + a] = x[i * dim + a] + lr * (m->sigma[a] * xi[i * dim + a] - g0[i * dim + a]);
    break;
  }
  default: return cgd_fail(err, CGD_EINTERNAL, "unknown map kind %d", (int)m->o.kind);
  }
  *bad = nonfinite_bits(len, xn);
  return CGD_OK;
}

int cgd_map_step(cgd_map *m, const cgd_objective *obj, uint64_t step, size_t i0, size_t nb,
                 const double *x, double *x_new, const double *g, double *scratch,
                 int *stepped, cgd_error *err) {
  uint64_t bad = 0;
  int rc = map_update(m, obj, step, i0, nb, x, x_new, g, scratch, &bad, err);
  if (stepped) *stepped = !rc; /* map_update fails only before it writes x_new */
  if (rc || !(bad >> 63)) return rc;
  return cgd_fail(err, CGD_EDIVERGED,
                  "diverged at step %llu: a state became non-finite (states %zu..%zu)",
                  (unsigned long long)(step + 1), i0, i0 + nb - 1);
}
