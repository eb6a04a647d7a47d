/* What watches a run. Every diagnostic — the trace, histograms, tail statistics, crossing
 * counts, and next Lyapunov tangents or sharpness — is an observer attached to the one
 * loop through this interface, the same for every run kind, so a diagnostic is written
 * once and works everywhere (chaosgd/run.h runs a config with extra observers).
 *
 * The run calls, in this order for each observer that has them:
 *   start(info)       once before step 0: the objective, the states, the resolved options
 *                     (info->x holds the initial states; steps and status are 0).
 *   wants(t)          is step t observed? (f and ∇f of all states evaluated). NULL: every
 *                     step. Must be a pure function of t (the loop looks ahead).
 *   observe_chunk(t, c, i0, m, ...)  at an observed step, before observe, per chunk of
 *                     states while it is in cache (chaosgd/loop.h), concurrently for
 *                     different chunks: per-chunk partial reductions, combined in observe.
 *   observe(t, ...)   at an observed step: states x (n × dim), values f (n), gradients g.
 *                     Never a step that fails the loop's check (non-finite f or ∇f, f
 *                     above the loss limit): an analysis never gets a state that ran away.
 *   observe_failing(t, ...)  instead, at that step, the step reported as diverged: for the
 *                     trace, which ends on its row (NULL: the observer does not see it).
 *   block_done(...)   after each map step, per block of states, concurrently for different
 *                     blocks; slot (< CGD_LOOP_SLOTS) is fixed by the block, never by the
 *                     thread, so per-slot accumulators are thread-count independent.
 *   finish(info, rec) once after the loop (also when it diverged or was interrupted):
 *                     add fields to summary.json through rec, write own files into
 *                     info->dir (atomically: chaosgd/runlog.h).
 *   free(state)       always, last.
 *   save(fp), load(fp) checkpoints (train --checkpoint-every, --resume): write and read
 *                     back everything the observer has accumulated, so a resumed run ends
 *                     exactly as an uninterrupted one. A run with an extra observer that
 *                     lacks them cannot be checkpointed (an error says so). */
#ifndef CHAOSGD_OBSERVER_H
#define CHAOSGD_OBSERVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chaosgd/objective.h"
#include "chaosgd/options.h"
#include "chaosgd/status.h"

/* A JSON object under construction (a section of summary.json). Values that are not
 * finite are written as null. Keys keep their insertion order. */
typedef struct cgd_record cgd_record;
cgd_record *cgd_record_object(cgd_record *r, const char *key); /* nested object, created */
void cgd_record_num(cgd_record *r, const char *key, double v);
void cgd_record_int(cgd_record *r, const char *key, long long v);
void cgd_record_str(cgd_record *r, const char *key, const char *s);
void cgd_record_bool(cgd_record *r, const char *key, int v);
void cgd_record_null(cgd_record *r, const char *key);
void cgd_record_nums(cgd_record *r, const char *key, const double *v, size_t n);

/* What an observer may read about the run when it finishes. */
typedef struct cgd_run_info {
  const cgd_run_config *cfg;  /* the resolved options of the run */
  const cgd_objective *obj;
  size_t n, dim;              /* states and their dimension */
  const double *x;            /* the states: initial at start, final at finish (n × dim) */
  const char *dir;            /* the run directory */
  uint64_t steps;             /* map steps completed */
  int status;                 /* CGD_OK, CGD_EDIVERGED, CGD_EINTERRUPTED */
} cgd_run_info;

typedef struct cgd_run_observer {
  const char *name;
  void *state;
  int (*start)(void *state, const cgd_run_info *info, cgd_error *err);
  int (*wants)(void *state, uint64_t step);
  int (*observe)(void *state, uint64_t step, size_t n, const double *x, const double *f,
                 const double *g, cgd_error *err);
  int (*observe_failing)(void *state, uint64_t step, size_t n, const double *x,
                         const double *f, const double *g, cgd_error *err);
  void (*observe_chunk)(void *state, uint64_t step, size_t c, size_t i0, size_t m,
                        const double *x, const double *f, const double *g);
  void (*block_done)(void *state, size_t slot, uint64_t step, size_t i0, size_t nb,
                     const double *x_old, const double *x_new);
  int (*finish)(void *state, const cgd_run_info *info, cgd_record *summary, cgd_error *err);
  void (*free)(void *state);
  int (*save)(void *state, FILE *fp, cgd_error *err);
  int (*load)(void *state, FILE *fp, cgd_error *err);
} cgd_run_observer;

#endif
