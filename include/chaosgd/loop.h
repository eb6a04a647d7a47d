/* The one iteration loop every run goes through (MLP and analytic objectives alike).
 *
 * For t = 0 .. iters: if the observer wants step t (and always at t = iters), evaluate
 * f and ∇f of all states, check them, and hand (t, x_t, f, ∇f) to the observer; then,
 * unless t = iters, advance every state by one step of the map. Runs of unobserved steps
 * work block by block (a fixed block size, never dependent on thread count): a block
 * takes up to 64 steps at a time while its states stay in cache, which is exact because
 * states only interact through the observer. Blocks run on OpenMP threads when there are
 * many states. Re-entrant: no globals, so a sweep can run many loops in one process. */
#ifndef CHAOSGD_LOOP_H
#define CHAOSGD_LOOP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "chaosgd/map.h"
#include "chaosgd/objective.h"
#include "chaosgd/status.h"

typedef struct cgd_observer {
  void *user;
  /* Nonzero if step t must be observed (f and ∇f of all states). NULL: every step. Must be
   * a pure function of t: the loop looks ahead to find runs of unobserved steps, which
   * each block then advances on its own while it is in cache (at most 64 steps). */
  int (*wants)(void *user, uint64_t step);
  /* x: n × dim states at step t, f: n values, g: n × dim gradients. Returning non-zero
   * stops the loop with that status (e.g. an output error). */
  int (*observe)(void *user, uint64_t step, size_t n, const double *x, const double *f,
                 const double *g, cgd_error *err);
  /* Optional: called instead of observe at an observed step that fails the loop's check
   * (f or ∇f not finite, f above the limit), the step the loop then reports as diverged,
   * so that a trace can end on that row. NULL: the observer never sees a failing step,
   * which is what an analysis wants (no Hessian or tangent of a state that ran away). */
  int (*observe_failing)(void *user, uint64_t step, size_t n, const double *x,
                         const double *f, const double *g, cgd_error *err);
  /* Optional: at an observed step, before observe, chunk c of the states (states
   * [i0, i0+m), c = i0 / CGD_LOOP_OBS_CHUNK) right after its evaluation, while it is in
   * cache: reductions over 10⁶ states done here cost no pass over memory. Called
   * concurrently for different chunks: keep one partial result per chunk and combine
   * them in chunk order in observe, so the result does not depend on the thread count. */
  void (*observe_chunk)(void *user, uint64_t step, size_t c, size_t i0, size_t m,
                        const double *x, const double *f, const double *g);
  /* Optional, cheap per-step bookkeeping without evaluating f: after every map step, for
   * each block of states [i0, i0+nb), the states before (x_old) and after (x_new) the
   * step from `step` to `step+1`. Called concurrently for different blocks; `slot`
   * (< CGD_LOOP_SLOTS) is fixed by the block index, never by the thread, so per-slot
   * integer accumulators give the same totals for any thread count. */
  void (*block_done)(void *user, size_t slot, uint64_t step, size_t i0, size_t nb,
                     const double *x_old, const double *x_new);
} cgd_observer;

#define CGD_LOOP_SLOTS 64
#define CGD_LOOP_OBS_CHUNK 4096

typedef struct cgd_loop_opts {
  uint64_t iters;                     /* number of map steps */
  double loss_limit;                  /* observed f above this is divergence (default 1e12) */
  const volatile sig_atomic_t *stop;  /* checked every step; set by a signal handler */
  size_t block;                       /* states per block (0: 2048) */
  /* Resuming (a checkpoint): start at step first_step instead of 0, with x the states at
   * that step; first_observed = 1 when the observer has already seen first_step (it is not
   * observed again). The result's steps count from 0 as in an uninterrupted run. */
  uint64_t first_step;
  int first_observed;
} cgd_loop_opts;

typedef struct cgd_loop_result {
  uint64_t steps;      /* map steps completed */
  int64_t bad_step;    /* step at which divergence was detected (-1: none) */
  int64_t last_checked; /* the last observed step that passed the check (-1: none yet) */
} cgd_loop_result;

/* Returns CGD_OK, CGD_EDIVERGED (non-finite f, ∇f or state, or f > loss_limit; the
 * observer has seen the offending step when it was observed), CGD_EINTERRUPTED (stop
 * flag), or the first error of the objective, map or observer. */
int cgd_loop_run(const cgd_loop_opts *o, const cgd_objective *obj, cgd_map *map, size_t n,
                 double *x, const cgd_observer *obs, cgd_loop_result *res, cgd_error *err);

#endif
