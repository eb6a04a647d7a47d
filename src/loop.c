#include "chaosgd/loop.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Index of the first non-finite entry of v[0..len), or len. */
static size_t first_nonfinite(const double *v, size_t len) {
  /* The sum of v·0 is NaN iff some entry is NaN or ±inf: one vectorisable pass for the
   * common all-finite case, then a scan only when something is wrong. */
  double acc = 0.0;
  for (size_t k = 0; k < len; k++) acc += v[k] * 0.0;
  if (acc == 0.0) return len;
  for (size_t k = 0; k < len; k++)
    if (!isfinite(v[k])) return k;
  return len;
}

static int check_observed(const cgd_loop_opts *o, uint64_t t, size_t n, size_t dim,
                          const double *f, const double *g, cgd_error *err) {
  size_t k = first_nonfinite(f, n);
  if (k < n)
    return cgd_fail(err, CGD_EDIVERGED, "diverged at step %llu: f is %g (state %zu)",
                    (unsigned long long)t, f[k], k);
  for (size_t i = 0; i < n; i++)
    if (f[i] > o->loss_limit)
      return cgd_fail(err, CGD_EDIVERGED, "diverged at step %llu: f = %g exceeds %g (state %zu)",
                      (unsigned long long)t, f[i], o->loss_limit, i);
  k = first_nonfinite(g, n * dim);
  if (k < n * dim)
    return cgd_fail(err, CGD_EDIVERGED, "diverged at step %llu: gradient is %g (state %zu)",
                    (unsigned long long)t, g[k], k / dim);
  return CGD_OK;
}

int cgd_loop_run(const cgd_loop_opts *o, const cgd_objective *obj, cgd_map *map, size_t n,
                 double *x, const cgd_observer *obs, cgd_loop_result *res, cgd_error *err) {
  const size_t dim = obj->dim;
  const size_t B = o->block ? o->block : 2048;
  const size_t nblocks = (n + B - 1) / B;
  const int track = obs && obs->block_done;
  const size_t per_state =
      cgd_map_scratch(map) + (cgd_map_uses_gradient(map) ? dim : 0) + (track ? dim : 0);
  const int use_g = cgd_map_uses_gradient(map);
  res->steps = 0;
  res->bad_step = -1;

  double *f = malloc(n * sizeof *f);
  double *g = malloc(n * dim * sizeof *g);
  /* Per-block scratch, indexed by block so no two threads ever share one. */
  double *scratch = malloc((per_state ? per_state : 1) * (n < B ? n : B) *
                           (nblocks < CGD_LOOP_SLOTS ? nblocks : CGD_LOOP_SLOTS) * sizeof *scratch);
  int *bstat = calloc(nblocks, sizeof *bstat);
  cgd_error *berr = malloc(sizeof *berr * (nblocks < CGD_LOOP_SLOTS ? nblocks : CGD_LOOP_SLOTS));
  if (!f || !g || !scratch || !bstat || !berr) {
    free(f); free(g); free(scratch); free(bstat); free(berr);
    return cgd_fail(err, CGD_ENOMEM, "loop: out of memory for %zu states of dim %zu", n, dim);
  }
  const size_t nslots = nblocks < CGD_LOOP_SLOTS ? nblocks : CGD_LOOP_SLOTS;
  int rc = CGD_OK;

  for (uint64_t t = 0;; t++) {
    if (o->stop && *o->stop) {
      rc = cgd_fail(err, CGD_EINTERRUPTED, "interrupted at step %llu", (unsigned long long)t);
      break;
    }
    const int observed = t == o->iters || !obs || !obs->wants || obs->wants(obs->user, t);
    if (observed) {
      if ((rc = obj->eval(obj->ctx, n, x, f, g, NULL, err))) break;
      /* The observer sees a bad step too, so the trace ends on the row that diverged. */
      if (obs && obs->observe && (rc = obs->observe(obs->user, t, n, x, f, g, err))) break;
      if ((rc = check_observed(o, t, n, dim, f, g, err))) {
        res->bad_step = (int64_t)t;
        break;
      }
      if (t == o->iters) break;
    }
    /* One map step, block by block. Slot s serves blocks s, s+nslots, ... so scratch is
     * bounded while the block split (and hence every result) is fixed. */
    memset(bstat, 0, nblocks * sizeof *bstat);
#pragma omp parallel for schedule(static) if (nblocks > 1)
    for (size_t s = 0; s < nslots; s++) {
      double *sc = scratch + s * per_state * B;
      for (size_t b = s; b < nblocks; b += nslots) {
        const size_t i0 = b * B, nb = i0 + B <= n ? B : n - i0;
        double *xb = x + i0 * dim;
        const double *gb = NULL;
        int st = CGD_OK;
        if (use_g) {
          if (observed) {
            gb = g + i0 * dim;
          } else {
            double *gw = sc + cgd_map_scratch(map) * nb;
            st = obj->eval(obj->ctx, nb, xb, NULL, gw, NULL, &berr[s]);
            gb = gw;
          }
        }
        double *xold = sc + (per_state - (track ? dim : 0)) * nb;
        if (track) memcpy(xold, xb, nb * dim * sizeof *xb);
        if (!st) st = cgd_map_step(map, obj, t, i0, nb, xb, gb, sc, &berr[s]);
        if (!st && track) obs->block_done(obs->user, s, t, i0, nb, xold, xb);
        if (!st && first_nonfinite(xb, nb * dim) < nb * dim)
          st = cgd_fail(&berr[s], CGD_EDIVERGED,
                        "diverged at step %llu: a state became non-finite (states %zu..%zu)",
                        (unsigned long long)(t + 1), i0, i0 + nb - 1);
        bstat[b] = st;
        if (st) break;
      }
    }
    for (size_t b = 0; b < nblocks; b++)
      if (bstat[b]) {
        rc = bstat[b];
        *err = berr[b % nslots];
        if (rc == CGD_EDIVERGED) res->bad_step = (int64_t)(t + 1);
        break;
      }
    if (rc) break;
    res->steps = t + 1;
  }
  free(f); free(g); free(scratch); free(bstat); free(berr);
  return rc;
}
