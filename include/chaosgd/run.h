/* One run, end to end, for every kind (the MLP, a single orbit, an ensemble): build the
 * objective and initial state(s) from the options, step the one loop with its observers,
 * and write one run directory:
 *
 *   config.json  first (the recipe, even if the run crashes)
 *   trace.csv, hist.csv, kind files (params_*.txt, compare.csv, ...)
 *   summary.json (verdict, status, statistics) — complete before anything optional
 *   plot.gp, *.png last; a plot failure is recorded in summary.json, never fatal
 *
 * Divergence and interruption still write every file (summary.json says which). */
#ifndef CHAOSGD_RUN_H
#define CHAOSGD_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "chaosgd/observer.h"
#include "chaosgd/options.h"
#include "chaosgd/stats.h"
#include "chaosgd/status.h"

/* What a finished (or stopped) run reports back; release with cgd_run_result_clear. */
typedef struct cgd_run_result {
  int status;               /* CGD_OK, CGD_EDIVERGED, CGD_EINTERRUPTED, or the error */
  char dir[4096];           /* the run directory */
  cgd_kind_id kind;
  char verdict[32];         /* as in summary.json */
  int have_tail;            /* MLP and single orbits: statistics of the tail window */
  cgd_tail_stats tail;
  double final_value;       /* last observed loss (MLP) or f (orbit); NaN otherwise */
  int64_t first_increase;   /* first step t with L[t+1] > L[t] (-1: never; MLP, orbits) */
  double gibbs[5];          /* analytic: TV, Hellinger, KL, W1, KS to the Gibbs law (NaN) */
  uint64_t steps;
  double seconds;
  size_t nstate;            /* final state: θ (MLP) or the particles (n × dim) */
  double *state_final;
  char plots[512];          /* "off", the PNG names, "skipped (no gnuplot)", "failed: ..." */
  char warning[512];        /* e.g. a run shorter than the relaxation time ("" = none) */
} cgd_run_result;

void cgd_run_result_clear(cgd_run_result *r);

/* Optional extras of a run. */
typedef struct cgd_run_extras {
  const double *state0;     /* initial state(s), n × dim values, instead of the options' */
  size_t nstate0;
  cgd_run_observer *observers; /* attached after the run's own; each one's free is called */
  size_t nobservers;
} cgd_run_extras;

/* Run cfg (checked first with cgd_run_config_check). ex may be NULL. The run directory is
 * complete when this returns, whatever the status. Returns the run's status. */
int cgd_run(const cgd_run_config *cfg, const cgd_run_extras *ex, cgd_run_result *res,
            cgd_error *err);

/* Continue the run in cfg->out from its checkpoint.bin (written every --checkpoint-every
 * steps and when a run is interrupted). cfg is the run's own config.json (as read by
 * cgd_run_config_load; only progress and quiet may differ). The resumed run's trace.csv,
 * hist.csv and summary.json are byte-identical to those of an uninterrupted run; its
 * timing.json says where it resumed. */
int cgd_run_resume(const cgd_run_config *cfg, cgd_run_result *res, cgd_error *err);

/* An orbit diagram (cfg->bifurcation): 1-D GD from one initial point for every rate of
 * cfg->lrs, in parallel over rates (output independent of the thread count), into one
 * directory: config.json, bifurcation.csv, attractor.csv, summary.json (period doublings,
 * onset of chaos and of global chaos), bifurcation.png. */
int cgd_run_bifurcation(const cgd_run_config *cfg, char *dir, size_t len, cgd_error *err);

/* A comparison: every rate of cfg->lrs (cfg->nlr > 1) from the same initial state(s), each
 * run in its own subdirectory lr-<rate> of one directory, then comparison.csv,
 * comparison.json, comparison_hist.csv and comparison.png across them. dir receives the
 * comparison directory. Returns the worst run status (a diverged or interrupted rate does
 * not stop the others, except an interruption) or an error. */
int cgd_run_compare(const cgd_run_config *cfg, char *dir, size_t len, cgd_error *err);

#endif
