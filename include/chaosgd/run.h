/* One run, end to end: build the objective from a config, set the initial state, step the
 * loop, and write the run directory (config.json, trace.csv, hist.csv, summary.json,
 * parameter files, plots). The command-line tools only fill a cgd_run_config. */
#ifndef CHAOSGD_RUN_H
#define CHAOSGD_RUN_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "chaosgd/map.h"
#include "chaosgd/stats.h"
#include "chaosgd/status.h"

typedef struct cgd_run_config {
  /* MLP on a data file */
  char data[4096];       /* data file (default: datasets/airfoil_self_noise.dat) */
  int target_col;        /* 1-based; 0 = last column */
  int standardize;       /* z-score inputs and target (default 1) */
  double holdout;        /* fraction of rows kept out of training (default 0) */
  size_t hidden;         /* H (default 16) */
  double leak;           /* leaky-ReLU slope (default 0.01) */
  char init[4096];       /* initial parameters file ("" = PyTorch-style init from seed) */
  char save_params[4096];/* extra copy of the final parameters ("" = none) */

  /* Analytic multiscale objective f0 + f1,ε (chaosgd/multiscale.h): used instead of the
   * MLP when f0 is not empty. */
  char f0[1024], f1[1024]; /* built-in name or expression; f1 default "sin" */
  double eps;            /* ε (default 1e-6) */
  double k;              /* doublewell k (default 1) */
  size_t nparams;        /* --param name=value */
  char param_names[8][64];
  double param_values[8];
  char x0[256];          /* initial law: "0.37", "0.3,-0.2", "uniform:a,b", "normal:m,s" */
  size_t ensemble;       /* particles (default 1: a single orbit) */
  char hist_at[1024];    /* ensemble histogram steps "10,100,1000" (the last step always) */
  double hist_lo, hist_hi; /* histogram range per coordinate (default −1.5, 1.5) */
  uint64_t burn_in;      /* single orbit: steps left out of the time histogram
                            (default: iters/10) */
  int gibbs_gaussian;    /* compare with the Gaussian form of Rmk 15 (f0's quadratic model
                            at its minimum) instead of the exact rescaled Gibbs law */
  int compare;           /* also run compare_map from the same initial ensemble */
  cgd_map_kind compare_map;

  /* the loop */
  cgd_map_kind map;      /* default gd */
  double lr;             /* η (default 0.02) */
  double gamma, mu;      /* heavy ball / NAG-SC */
  uint64_t iters;        /* default 100000 */
  uint64_t seed;         /* default 0 */
  uint64_t log_every;    /* trace row every this many steps (default 1) */
  uint64_t hist_every;   /* histogram snapshot every this many steps (0: first and last) */
  size_t hist_bins;      /* default 40 */
  double tail_frac;      /* tail window = last tail_frac of the run (default 0.5) */
  double loss_limit;     /* divergence threshold on the loss (default 1e12) */
  cgd_verdict_opts verdict;

  /* outputs */
  char out[4096];        /* run directory ("" = runs/<what>-<time>) */
  int plots;             /* write PNGs with gnuplot when available (default 1) */
  int progress;          /* progress line on stderr when it is a terminal (default 1) */
  int quiet;             /* no informational lines on stderr */
  char command_line[8192]; /* how the tool was invoked, recorded in config.json */

  const volatile sig_atomic_t *stop; /* set by the tool's signal handler */
} cgd_run_config;

void cgd_run_config_defaults(cgd_run_config *c);

/* What a finished (or stopped) run reports back; owned by the caller, release with
 * cgd_run_result_clear. */
typedef struct cgd_run_result {
  int status;               /* CGD_OK, CGD_EDIVERGED, CGD_EINTERRUPTED, ... */
  char dir[4096];           /* the run directory */
  cgd_tail_stats tail;
  int have_tail;
  double final_loss;
  uint64_t steps;
  double seconds;
  size_t nparams;
  double *theta_final;      /* P values (NULL if none) */
  int plots_skipped;
  char verdict[32];         /* as in summary.json */
  int64_t first_increase;   /* first step t with L[t+1] > L[t] (verdict's increase_rtol);
                               -1: the loss never rose */
  double gibbs_tv;          /* analytic runs: TV to the rescaled Gibbs law (NaN if none) */
} cgd_run_result;

void cgd_run_result_clear(cgd_run_result *r);

/* The checks that need no files: option ranges and combinations (e.g. --compare-map or
 * --hist-at on a single orbit, an ensemble for the MLP). cgd_run calls it first; tools
 * may call it before creating anything. CGD_EUSAGE with the option named. */
int cgd_run_config_check(const cgd_run_config *c, cgd_error *err);

/* Run with cfg. theta0 (P values) overrides cfg->init and the seeded initialisation when
 * not NULL. The run directory is complete when this returns, whatever the status:
 * divergence and interruption still write every file (summary.json says which). Returns
 * the run's status; err holds the message. */
int cgd_run(const cgd_run_config *cfg, const double *theta0, cgd_run_result *res,
            cgd_error *err);

/* Write a small-vs-large comparison of finished runs into dir: comparison.csv,
 * comparison.json, and (with gnuplot) comparison.png with both loss traces and the final
 * parameter histograms. */
int cgd_compare_write(const char *dir, const cgd_run_config *cfgs, const cgd_run_result *runs,
                      size_t nruns, int plots, int *plots_skipped, cgd_error *err);

/* The config as recorded in config.json (every option after defaults). */
json_t *cgd_run_config_json(const cgd_run_config *c);

/* Read a config.json written by a run back into c (on top of whatever c holds), so the
 * run can be repeated exactly: every option of the run is in the file. The output
 * directory is not taken from it. Errors (CGD_EDATA) name the file and the key. */
int cgd_run_config_load(const char *path, cgd_run_config *c, cgd_error *err);

#endif
