#include "chaosgd/loop.h"
#include "clones.h"
#include "finite.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Index of the first non-finite entry of v[0..len), or len: the common all-finite case
 * in one vectorised pass (finite.h). */
CGD_CLONES static size_t first_nonfinite(const double *v, size_t len) {
  uint64_t bad = 0;
  for (size_t k = 0; k < len; k++) bad |= cgd_nonfinite_bit(v[k]);
  if (!(bad >> 63)) return len;
  for (size_t k = 0; k < len; k++)
    if (!isfinite(v[k])) return k;
  return len;
}

/* The first bad entries of an observed step's values, by kind: non-finite f, f above
 * the loss limit, non-finite ∇f (indices of states; n when there is none). */
typedef struct bad_at {
  size_t f_nonfinite, f_limit, g_nonfinite;
} bad_at;

/* Index of the first f[k] > limit, or len (NaN is not above it). */
CGD_CLONES static size_t first_above(const double *f, size_t len, double limit) {
  uint64_t any = 0;
  for (size_t k = 0; k < len; k++) any |= f[k] > limit;
  if (!any) return len;
  for (size_t k = 0; k < len; k++)
    if (f[k] > limit) return k;
  return len;
}

/* An observed step: f and ∇f of all states, evaluated and checked chunk by chunk while
 * the chunk is in cache (for 10⁶ states the checks were three more passes over arrays
 * read back from memory). Chunks of a re-entrant objective run on the loop's threads;
 * the first bad entry of each kind is the smallest index over the chunks, so the
 * verdict does not depend on the thread count. */
#define CGD_EVAL_CHUNK CGD_LOOP_OBS_CHUNK

static int eval_observed(const cgd_objective *obj, const cgd_observer *obs, uint64_t t,
                         double limit, size_t n, size_t dim, const double *x, double *f,
                         double *g, bad_at *bad, cgd_error *err) {
  const size_t nch = (n + CGD_EVAL_CHUNK - 1) / CGD_EVAL_CHUNK;
  bad->f_nonfinite = bad->f_limit = bad->g_nonfinite = n;
  int rc = CGD_OK;
  size_t first_err = nch; /* the first chunk whose evaluation failed */
#pragma omp parallel for schedule(static) if (nch > 1 && obj->reentrant)
  for (size_t c = 0; c < nch; c++) {
    const size_t i0 = c * CGD_EVAL_CHUNK, m = n - i0 < CGD_EVAL_CHUNK ? n - i0 : CGD_EVAL_CHUNK;
    cgd_error e;
    int st = obj->eval(obj->ctx, m, x + i0 * dim, f + i0, g + i0 * dim, NULL, &e);
    size_t a = m, b = m, d = m * dim;
    if (!st) {
      a = first_nonfinite(f + i0, m);
      b = first_above(f + i0, m, limit);
      d = first_nonfinite(g + i0 * dim, m * dim);
      if (obs && obs->observe_chunk)
        obs->observe_chunk(obs->user, t, c, i0, m, x + i0 * dim, f + i0, g + i0 * dim);
    }
#pragma omp critical(cgd_eval_observed)
    {
      if (st && c < first_err) {
        first_err = c;
        rc = st;
        *err = e;
      }
      if (a < m && i0 + a < bad->f_nonfinite) bad->f_nonfinite = i0 + a;
      if (b < m && i0 + b < bad->f_limit) bad->f_limit = i0 + b;
      if (d < m * dim && i0 + d / dim < bad->g_nonfinite) bad->g_nonfinite = i0 + d / dim;
    }
  }
  return rc;
}

/* A non-finite value as a message shows it: "nan", not glibc's "-nan" for a NaN that
 * happens to carry the sign bit (its sign means nothing). */
static double shown(double v) { return isnan(v) ? NAN : v; }

/* The verdict on an observed step, in a fixed order of kinds: non-finite f, then f above
 * the limit, then a non-finite gradient (the first state of each). */
static int check_observed(const cgd_loop_opts *o, uint64_t t, size_t dim, const bad_at *bad,
                          size_t n, const double *f, const double *g, cgd_error *err) {
  size_t k = bad->f_nonfinite;
  if (k < n)
    return cgd_fail(err, CGD_EDIVERGED, "diverged at step %llu: f is %g (state %zu)",
                    (unsigned long long)t, shown(f[k]), k);
  if ((k = bad->f_limit) < n)
    return cgd_fail(err, CGD_EDIVERGED, "diverged at step %llu: f = %g exceeds %g (state %zu)",
                    (unsigned long long)t, f[k], o->loss_limit, k);
  if ((k = bad->g_nonfinite) < n) {
    size_t a = 0;
    while (a + 1 < dim && isfinite(g[k * dim + a])) a++;
    return cgd_fail(err, CGD_EDIVERGED, "diverged at step %llu: gradient is %g (state %zu)",
                    (unsigned long long)t, shown(g[k * dim + a]), k);
  }
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
  /* map scratch, ∇f, and for a block observer a second copy of the block's states */
  const size_t per_state = map_sc + (use_g ? dim : 0) + (track ? dim : 0);
  res->steps = o->first_step;
  res->bad_step = -1;
  res->last_checked = -1;
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
      bad_at bad;
      if ((rc = eval_observed(obj, obs, t, o->loss_limit, n, dim, x, f, g, &bad, err))) {
        /* the objective's own divergence (a multiscale state that ran away) has a step
         * here too, as when a block meets it: summary.json says where */
        if (rc == CGD_EDIVERGED) res->bad_step = (int64_t)t;
        break;
      }
      if ((rc = check_observed(o, t, dim, &bad, n, f, g, err))) {
        res->bad_step = (int64_t)t;
        /* a failing step goes only to observe_failing (the trace ends on the row that
         * diverged); an error there (writing the trace) is reported instead */
        cgd_error oe;
        int orc = obs && obs->observe_failing ? obs->observe_failing(obs->user, t, n, x, f, g, &oe) : CGD_OK;
        if (orc) rc = orc, *err = oe;
        break;
      }
      res->last_checked = (int64_t)t;
      if (obs && obs->observe && (rc = obs->observe(obs->user, t, n, x, f, g, err))) break;
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
        double *gw = sc + map_sc * nb, *other = gw + (use_g ? dim : 0) * nb;
        /* With a block observer the states alternate between the block and a second
         * buffer, so the observer sees the states before and after each step without a
         * copy; the block gets them back once, at the end of the run of steps. */
        double *cur = xb, *nxt = track ? other : xb;
        int st = CGD_OK;
        for (uint64_t u = t; u < t + len && !st; u++) {
          const double *gb = NULL;
          if (use_g && observed)
            gb = g + i0 * dim; /* ∇f at the observed step is already known */
          else if (use_g && !(st = obj->eval(obj->ctx, nb, cur, NULL, gw, NULL, &berr[b])))
            gb = gw;
          if (st) { /* the objective refused state u itself */
            bbad[b] = u;
            break;
          }
          /* The map tests its new states itself (CGD_EDIVERGED with the step taken); the
           * observer sees that step too. A step that failed before (the objective inside
           * the map) is no step: the block keeps its states. */
          int stepped;
          st = cgd_map_step(map, obj, u, i0, nb, cur, nxt, gb, sc, &stepped, &berr[b]);
          if (track && stepped) {
            obs->block_done(obs->user, s, u, i0, nb, cur, nxt);
            double *tmp = cur;
            cur = nxt;
            nxt = tmp;
          }
          if (st) bbad[b] = u + 1; /* the map's new state u + 1 is the bad one */
          /* ... unless ∇f at state u was already not finite (f undefined there, e.g. log of
           * a negative number): then u is, as an observed step would have said. Looked at
           * only on this failure path, so the common step pays nothing. */
          if (st == CGD_EDIVERGED && gb == gw) {
            const size_t k = first_nonfinite(gw, nb * dim);
            if (k < nb * dim) {
              bbad[b] = u;
              cgd_fail(&berr[b], CGD_EDIVERGED, "diverged at step %llu: gradient is %g (state %zu)",
                       (unsigned long long)u, shown(gw[k]), i0 + k / dim);
            }
          }
        }
        if (cur != xb) memcpy(xb, cur, nb * dim * sizeof *xb);
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
      /* the first bad state's index is also the number of steps the ensemble completed, as
       * at an observed step: neither depends on how steps were grouped between observations */
      if (rc == CGD_EDIVERGED) res->bad_step = (int64_t)bbad[worst];
      res->steps = bbad[worst];
      break;
    }
    t += len;
    res->steps = t;
  }
  free(f); free(g); free(scratch); free(bstat); free(bbad); free(berr);
  return rc;
}
