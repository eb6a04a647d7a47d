#include "chaosgd/loop.h"
#include "clones.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Index of the first non-finite entry of v[0..len), or len. The common all-finite case is
 * one pass of integer and/add/or on the bits (an all-ones exponent plus one carries into
 * the sign bit), which vectorises; a floating-point test would be a serial chain. */
CGD_CLONES static size_t first_nonfinite(const double *v, size_t len) {
  const uint64_t EXP = 0x7ff0000000000000ULL, ONE = 0x0010000000000000ULL;
  uint64_t bad = 0;
  for (size_t k = 0; k < len; k++) {
    uint64_t b;
    memcpy(&b, &v[k], sizeof b);
    bad |= (b & EXP) + ONE;
  }
  if (!(bad >> 63)) return len;
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

/* Maximum steps a block advances on its own between two synchronisation points. A block
 * of B states stays in cache for all of them, so memory traffic falls by this factor; the
 * stop flag is checked at least this often. */
#define CGD_LOOP_CHUNK 64

int cgd_loop_run(const cgd_loop_opts *o, const cgd_objective *obj, cgd_map *map, size_t n,
                 double *x, const cgd_observer *obs, cgd_loop_result *res, cgd_error *err) {
  const size_t dim = obj->dim;
  const size_t B = o->block ? o->block : 2048;
  const size_t nblocks = (n + B - 1) / B;
  const size_t nslots = nblocks < CGD_LOOP_SLOTS ? nblocks : CGD_LOOP_SLOTS;
  const int track = obs && obs->block_done;
  const int use_g = cgd_map_uses_gradient(map);
  const size_t map_sc = cgd_map_scratch(map);
  const size_t per_state = map_sc + (use_g ? dim : 0) + (track ? dim : 0);
  res->steps = o->first_step;
  res->bad_step = -1;
  if (o->first_step > o->iters)
    return cgd_fail(err, CGD_EUSAGE, "loop: first step %llu is past the last step %llu",
                    (unsigned long long)o->first_step, (unsigned long long)o->iters);

  double *f = malloc(n * sizeof *f);
  double *g = malloc(n * dim * sizeof *g);
  /* Per-slot scratch: slot s serves blocks s, s+nslots, ..., so no two threads share one
   * and the block split (hence every result) never depends on the thread count. */
  double *scratch = malloc((per_state ? per_state : 1) * (n < B ? n : B) * nslots *
                           sizeof *scratch);
  int *bstat = calloc(nblocks, sizeof *bstat);
  uint64_t *bbad = calloc(nblocks, sizeof *bbad);
  cgd_error *berr = malloc(sizeof *berr * nblocks);
  if (!f || !g || !scratch || !bstat || !bbad || !berr) {
    free(f); free(g); free(scratch); free(bstat); free(bbad); free(berr);
    return cgd_fail(err, CGD_ENOMEM, "loop: out of memory for %zu states of dim %zu", n, dim);
  }
  int rc = CGD_OK;

  for (uint64_t t = o->first_step;;) {
    if (o->stop && *o->stop) {
      rc = cgd_fail(err, CGD_EINTERRUPTED, "interrupted at step %llu", (unsigned long long)t);
      break;
    }
    /* a resumed run's first step may have been observed before the checkpoint */
    const int seen = t == o->first_step && o->first_observed;
    if (seen && t == o->iters) break;
    const int observed = !seen && (t == o->iters || !obs || !obs->wants || obs->wants(obs->user, t));
    uint64_t len = 1; /* steps this pass advances every block */
    if (observed) {
      if ((rc = obj->eval(obj->ctx, n, x, f, g, NULL, err))) break;
      /* The observer sees a bad step too, so the trace ends on the row that diverged. */
      if (obs && obs->observe && (rc = obs->observe(obs->user, t, n, x, f, g, err))) break;
      if ((rc = check_observed(o, t, n, dim, f, g, err))) {
        res->bad_step = (int64_t)t;
        break;
      }
      if (t == o->iters) break;
    } else {
      /* the run of unobserved steps starting at t (wants is a pure function of the step) */
      while (obs && obs->wants && len < CGD_LOOP_CHUNK && t + len < o->iters &&
             !obs->wants(obs->user, t + len))
        len++;
    }
    memset(bstat, 0, nblocks * sizeof *bstat);
  /* blocks run concurrently only on a reentrant objective (objective.h's contract) */
#pragma omp parallel for schedule(static) if (nblocks > 1 && obj->reentrant)
    for (size_t s = 0; s < nslots; s++) {
      double *sc = scratch + s * per_state * B;
      for (size_t b = s; b < nblocks; b += nslots) {
        const size_t i0 = b * B, nb = i0 + B <= n ? B : n - i0;
        double *xb = x + i0 * dim;
        double *gw = sc + map_sc * nb, *xold = sc + (per_state - (track ? dim : 0)) * nb;
        int st = CGD_OK;
        for (uint64_t u = t; u < t + len && !st; u++) {
          const double *gb = NULL;
          if (use_g && observed)
            gb = g + i0 * dim; /* ∇f at the observed step is already known */
          else if (use_g && !(st = obj->eval(obj->ctx, nb, xb, NULL, gw, NULL, &berr[b])))
            gb = gw;
          if (track) memcpy(xold, xb, nb * dim * sizeof *xb);
          if (!st) st = cgd_map_step(map, obj, u, i0, nb, xb, gb, sc, &berr[b]);
          if (!st && track) obs->block_done(obs->user, s, u, i0, nb, xold, xb);
          if (!st && first_nonfinite(xb, nb * dim) < nb * dim)
            st = cgd_fail(&berr[b], CGD_EDIVERGED,
                          "diverged at step %llu: a state became non-finite (states %zu..%zu)",
                          (unsigned long long)(u + 1), i0, i0 + nb - 1);
          if (st) bbad[b] = u + 1;
        }
        bstat[b] = st;
      }
    }
    /* The first failure in step order (then block order), whatever thread met it. */
    size_t worst = nblocks;
    for (size_t b = 0; b < nblocks; b++)
      if (bstat[b] && (worst == nblocks || bbad[b] < bbad[worst])) worst = b;
    if (worst < nblocks) {
      rc = bstat[worst];
      *err = berr[worst];
      if (rc == CGD_EDIVERGED) res->bad_step = (int64_t)bbad[worst];
      break;
    }
    t += len;
    res->steps = t;
  }
  free(f); free(g); free(scratch); free(bstat); free(bbad); free(berr);
  return rc;
}
