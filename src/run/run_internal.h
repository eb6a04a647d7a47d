/* The run driver's inside: the run context, the kind adapters and the built-in observers.
 * One driver (run.c) does everything every run does — run directory, config.json, the
 * loop and its observers, tail statistics, verdict, summary status, interruption,
 * divergence, progress, plots last. A kind (kind_mlp.c, kind_ms.c) is a table of small
 * functions: build the objective and initial states, name and fill its trace columns,
 * attach its own observers, add its summary fields, write its plot script. Not installed. */
#ifndef CHAOSGD_RUN_INTERNAL_H
#define CHAOSGD_RUN_INTERNAL_H

#include <jansson.h>
#include <stdio.h>

#include "chaosgd/loop.h"
#include "chaosgd/map.h"
#include "chaosgd/observer.h"
#include "chaosgd/run.h"
#include "chaosgd/runlog.h"
#include "jsonio.h"

#define CGD_RUN_MAX_OBS 16

typedef struct cgd_run_ctx cgd_run_ctx;

typedef struct cgd_kind {
  cgd_kind_id id;
  const char *series;  /* name of the observed value (loss, f) whose every step is kept for
                          the tail statistics and verdict; NULL: none (ensembles) */
  /* resolve the kind's auto options in r->cfg; build r->obj, r->n, r->dim, r->x (the
   * initial states), r->mo (map options), r->what (default directory name); attach the
   * kind's observers (cgd_run_attach) */
  int (*setup)(cgd_run_ctx *r, cgd_error *err);
  /* config.json additions (dataset, model, objective_info) */
  void (*describe)(cgd_run_ctx *r, json_t *conf);
  /* after config.json: the trace header line (without newline) and initial files */
  const char *(*trace_header)(cgd_run_ctx *r);
  int (*begin)(cgd_run_ctx *r, cgd_error *err);
  /* one trace.csv row (without newline) at an observed, logged step */
  void (*trace_row)(cgd_run_ctx *r, FILE *fp, uint64_t t, size_t n, const double *x,
                    const double *f, const double *g);
  /* optional: the row's reductions over chunk c of the states, while it is in cache
   * (cgd_observer.observe_chunk), before trace_row at the same step */
  void (*trace_chunk)(cgd_run_ctx *r, uint64_t t, size_t c, size_t i0, size_t m,
                      const double *x, const double *f, const double *g);
  /* after the loop and the observers' finish: the kind's files and summary fields; may set
   * r->verdict (ensembles) and change r->run_rc (a second map that was interrupted) */
  int (*end)(cgd_run_ctx *r, json_t *sum, cgd_error *err);
  /* the body of plot.gp; pngs receives the names of the figures it draws. Returns 0, or -1
   * with why (a reason there is nothing to plot) filled. */
  int (*plot)(cgd_run_ctx *r, FILE *gp, char *pngs, size_t len, char *why, size_t wlen);
  /* checkpoints (checkpoint.h): the kind's accumulators and its own files' offsets; load
   * also reopens those files at their offsets (a resumed run skips begin) */
  int (*save)(cgd_run_ctx *r, FILE *fp, cgd_error *err);
  int (*load)(cgd_run_ctx *r, FILE *fp, cgd_error *err);
  void (*free)(cgd_run_ctx *r);
} cgd_kind;

extern const cgd_kind cgd_kind_mlp, cgd_kind_orbit, cgd_kind_ensemble;

struct cgd_run_ctx {
  cgd_run_config *cfg;      /* resolved copy, owned */
  const cgd_kind *kind;
  void *ks;                 /* the kind's state */
  cgd_objective *obj;
  cgd_map_opts mo;
  size_t n, dim;
  double *x;                /* n × dim states */
  double *x0;               /* the initial states (kept for a second map) */
  char what[256];
  char dir[4096];
  cgd_outfile trace;
  cgd_run_observer obs[CGD_RUN_MAX_OBS];
  size_t nobs, nobs_builtin; /* the first nobs_builtin are the driver's and the kind's,
                                checkpointed with them; the others need save/load */
  cgd_map *map;             /* while the loop runs */
  /* resuming from a checkpoint */
  int resuming;
  uint64_t first_step;
  int first_observed;
  /* the observed series (kinds with a series): L[t] for every step t observed */
  double *L;
  uint64_t last_obs;
  int any_obs;
  double failing_f; /* f (loss) of the step reported as diverged, if observed (else NaN) */
  /* the loop's outcome */
  cgd_loop_result lr;
  int run_rc;
  cgd_error run_err;
  double seconds, t0, last_progress;
  int tty;
  char verdict[32];
  cgd_run_result *res;
  void *lyap_state;         /* the Lyapunov observer, for trace columns (chaos_obs.c) */
};

/* Attach an observer (its free is called when the run ends, attached or not). */
int cgd_run_attach(cgd_run_ctx *r, const cgd_run_observer *o, cgd_error *err);

/* The record interface over a jansson object. */
static inline cgd_record *cgd_rec(json_t *o) { return (cgd_record *)o; }

double cgd_now_s(void);

/* Tail statistics object: start_step, steps, <what>_mean/_std/_rel_std/_min/_max,
 * frac_increase, lag1_autocorr_increments, period (null if none). */
json_t *cgd_tail_json(const cgd_tail_stats *ts, const char *what);

#endif
