/* The options of a run: one table (name, JSON key, type, field, default, accepted range,
 * help text, the run kinds it applies to) from which everything else is produced — the
 * command-line parser, --help, the defaults, the config.json writer, the strict
 * config.json reader and the option checks. A value is validated in one place whatever
 * its source (command line or config.json), with the same message.
 *
 * A run is of one kind, decided by the options: "mlp" (no --f0), "orbit" (--f0 and one
 * particle) or "ensemble" (--f0 and --ensemble N > 1). An option given for a kind it does
 * not apply to is an error, never silently ignored. */
#ifndef CHAOSGD_OPTIONS_H
#define CHAOSGD_OPTIONS_H

#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "chaosgd/map.h"
#include "chaosgd/stats.h"
#include "chaosgd/status.h"

/* Run kinds, as a bit mask for the option table. */
typedef enum {
  CGD_KIND_MLP = 1,
  CGD_KIND_ORBIT = 2,
  CGD_KIND_ENSEMBLE = 4
} cgd_kind_id;
#define CGD_KIND_ANALYTIC (CGD_KIND_ORBIT | CGD_KIND_ENSEMBLE)
#define CGD_KIND_ALL (CGD_KIND_MLP | CGD_KIND_ANALYTIC)

#define CGD_MAX_LR 4096    /* rates of one comparison or orbit diagram */
#define CGD_MAX_PARAMS 8   /* --param NAME=VALUE */
#define CGD_OPT_MAX 64     /* entries of the option table */

typedef struct cgd_run_config {
  /* MLP on a data file */
  char data[4096];       /* data file */
  uint64_t target_col;   /* 1-based; 0 = last column */
  int standardize;       /* z-score inputs and target */
  double holdout;        /* fraction of rows kept out of training */
  uint64_t hidden;       /* H */
  double leak;           /* leaky-ReLU slope */
  char kernel[16];       /* "blas" (reference) or "fused" (chaosgd/mlp.h) */
  char init[4096];       /* initial parameters file ("" = PyTorch-style init from seed) */
  char save_params[4096];/* extra copy of the final parameters ("" = none) */
  uint64_t blas_threads; /* OpenBLAS threads (0: OpenBLAS's default); set by the tool */

  /* analytic multiscale objective f0 + f1,ε (chaosgd/multiscale.h), used when f0 != "" */
  char f0[1024], f1[1024];
  double eps, k;
  size_t nparams;
  char param_names[CGD_MAX_PARAMS][64];
  double param_values[CGD_MAX_PARAMS];
  char x0[256];          /* initial law (chaosgd/sampling.h) */
  uint64_t ensemble;     /* particles (1: a single orbit) */
  char hist_at[1024];    /* ensemble histogram steps "10,100" (the last step always) */
  double hist_range[2];  /* histogram range per coordinate */
  uint64_t burn_in;      /* single orbit: steps left out of its histogram (UINT64_MAX: auto) */
  int gibbs_gaussian;    /* Rmk 15's Gaussian form instead of the exact rescaled Gibbs law */
  int compare;           /* also run compare_map from the same initial ensemble */
  cgd_map_kind compare_map;

  /* the loop */
  cgd_map_kind map;
  double lr;             /* η of this run */
  double lrs[CGD_MAX_LR];/* --lr A,B,...: a comparison when nlr > 1 */
  size_t nlr;
  double gamma, mu;
  uint64_t iters, seed;
  uint64_t log_every;    /* 0: auto (1; ensembles max(10, iters/1000)) */
  uint64_t hist_every;   /* MLP parameter histograms (0: first and last only) */
  uint64_t hist_bins;    /* 0: auto (40 MLP, 100 1-D, 20 per axis 2-D) */
  double tail_frac;
  double loss_limit;
  cgd_verdict_opts verdict;

  /* chaos diagnostics (src/run/chaos_obs.c) */
  int lyapunov;          /* 1 on, 0 off, -1 auto: on for the MLP (GD) and single orbits */
  uint64_t lyap_burn_in; /* steps before the exponent accumulates (UINT64_MAX: auto, the
                            start of the tail window) */
  uint64_t lyap_twin_every; /* MLP: a twin orbit 1e-8 away, renormalised every K steps (0: none) */
  uint64_t sharpness_every; /* top Hessian eigenvalue every N steps (0: never) */
  int li_yorke;          /* single 1-D orbit: Li-Yorke witness of the GD map */
  int bifurcation;       /* an orbit diagram over the rates lrs (chaosgd/run.h) */
  char watch[1024];      /* MLP time histograms: "auto", "off" or W1[i,j],b1[i],W2[j],b2 */
  int horizon;           /* single 1-D orbit: predictability horizon (long-double twin) */

  /* outputs */
  char out[4096];        /* run directory ("" = runs/<what>-<time>-<pid>) */
  char max_memory[32];   /* "auto" or bytes with an optional K/M/G/T suffix */
  int plots, progress, quiet, force;
  uint64_t checkpoint_every; /* write checkpoint.bin every N steps (0: only when interrupted) */
  int resume;            /* train --resume RUN: continue the run in out */
  char command_line[8192];

  /* where each option's value came from (index in the option table): 0 default,
   * CGD_SRC_FILE config.json, CGD_SRC_CLI the command line */
  unsigned char src[CGD_OPT_MAX];
  char config_path[4096];/* the config.json the values came from ("" = none) */

  const volatile sig_atomic_t *stop; /* set by the tool's signal handler (not an option) */
} cgd_run_config;

enum { CGD_SRC_DEFAULT = 0, CGD_SRC_FILE = 1, CGD_SRC_CLI = 2 };

/* A config with every default; NULL on out of memory. The struct is large (long paths and
 * expressions): keep it on the heap and pass it by pointer. */
cgd_run_config *cgd_run_config_create(void);
cgd_run_config *cgd_run_config_dup(const cgd_run_config *c);
void cgd_run_config_free(cgd_run_config *c);
void cgd_run_config_defaults(cgd_run_config *c);

/* The kind of run the options describe. */
cgd_kind_id cgd_run_config_kind(const cgd_run_config *c);
const char *cgd_kind_name(cgd_kind_id k);

/* Set one option by its command-line name ("lr", "hidden", "no-plots", ...) from text,
 * with the checks of the table; used by the command line, by sweeps and by tests. For a
 * flag (no value) pass value NULL. CGD_EUSAGE with "--NAME: ..." on a bad value or an
 * unknown name. */
int cgd_run_config_set(cgd_run_config *c, const char *name, const char *value, cgd_error *err);

/* Parse a command line (argv[0] is the tool's name) into c. Returns CGD_OK, or 1 when an
 * action option (--help, --version, --critical-k) has been carried out on `out` and the tool
 * should exit 0, or an error. --config FILE must come first; options after it override
 * the file's. Records the command line. */
int cgd_run_config_parse_argv(cgd_run_config *c, int argc, char **argv, FILE *out, cgd_error *err);

/* --help text generated from the table, with defaults. */
void cgd_run_config_usage(FILE *out);

/* Read a config.json written by a run into c, strictly: unknown keys, wrong types and
 * out-of-range values are errors (CGD_EDATA) naming the file and the key, with the same
 * words as on the command line. Informational keys a run writes (software, dataset,
 * model, objective_info, command_line, out, kind, objective) are accepted and not used. */
int cgd_run_config_load(const char *path, cgd_run_config *c, cgd_error *err);
/* --resume DIR: DIR/config.json into c, with out = DIR and resume set; nothing given on a
 * command line (src cleared), as the run's own options were checked when it started. */
int cgd_run_config_load_resume(const char *dir, cgd_run_config *c, cgd_error *err);
/* The same from a string in memory (name is used in messages); for tests and fuzzing. */
int cgd_run_config_load_string(const char *text, size_t len, const char *name,
                               cgd_run_config *c, cgd_error *err);

/* The combination checks that need no files: options given for a kind they do not apply
 * to, maps that need an analytic objective, --compare-map or --hist-at on a single orbit,
 * the initial law and step lists well formed. CGD_EUSAGE naming the option. */
int cgd_run_config_check(const cgd_run_config *c, cgd_error *err);

/* --max-memory text ("auto", "4G", "512M", "1000000") as bytes; "auto" is
 * cgd_default_max_memory() (chaosgd/limits.h). CGD_EUSAGE otherwise. */
int cgd_parse_memory(const char *s, uint64_t *out, cgd_error *err);

/* Shortest decimal text that reads back as v (%.15g, %.16g or %.17g): "0.9", not
 * "0.90000000000000002". buf of at least 32 bytes. */
const char *cgd_fmt_double(double v, char *buf, size_t len);

#endif
