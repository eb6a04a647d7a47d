/* Sweeps: a grid over any run options, one ordinary run (cgd_run) per point, each in its
 * own run directory under one sweep directory, plus sweep.json (the definition, so the
 * sweep can be repeated and resumed) and sweep.csv (one row per point in grid order).
 *
 * Every option of the run table can be given once, as a single value or as a list of
 * values: numbers as "A:B:N", "A:B:log:N" or "a,b,c" (whole-number options must get whole
 * numbers); text options as "a,b"; options whose values hold commas themselves (--x0,
 * --hist-at, --hist-range) as "v1;v2". --param NAME=VALUE may be repeated (not varied).
 * Points are in row-major order of the options as given: the last varied option varies
 * fastest. Everything here is a pure function of the definition and of the files on disk,
 * so sweep.csv does not depend on how many processes ran the points, or in which order.
 *
 * This module runs nothing: the tool (src/tools/sweep.c) decides how points are spread
 * over processes or MPI ranks. */
#ifndef CHAOSGD_SWEEP_H
#define CHAOSGD_SWEEP_H

#include <stddef.h>
#include <stdio.h>

#include "chaosgd/options.h"
#include "chaosgd/status.h"

typedef struct cgd_sweep cgd_sweep;

int cgd_sweep_create(cgd_sweep **out, cgd_error *err);
void cgd_sweep_free(cgd_sweep *s);

/* Is name a run option? *is_flag receives whether it takes no value. 0 if unknown. */
int cgd_sweep_is_option(const char *name, int *is_flag);

/* Add one option (its command-line name, without "--") with its value text (NULL for a
 * flag). Every value is validated through the option table. CGD_EUSAGE naming the option
 * on a bad value, an option given twice, or a grid of whole-number options that gives a
 * fractional value. */
int cgd_sweep_add(cgd_sweep *s, const char *name, const char *value, cgd_error *err);

/* Done adding: counts the points (at most 10^6) and checks their option combinations;
 * when every point fails the check (e.g. --hidden with --f0) that is the sweep's usage
 * error, while a combination only some points fail becomes those points' rows. */
int cgd_sweep_finish(cgd_sweep *s, const char *command_line, cgd_error *err);

size_t cgd_sweep_npoints(const cgd_sweep *s);
/* Varied options (more than one value), in the order given. */
size_t cgd_sweep_naxes(const cgd_sweep *s);
const char *cgd_sweep_axis_name(const cgd_sweep *s, size_t a);
size_t cgd_sweep_axis_len(const cgd_sweep *s, size_t a);
/* 1 when the axis came from an A:B:log:N grid (plots use a log scale) */
int cgd_sweep_axis_log(const cgd_sweep *s, size_t a);

/* The point's directory name: "p0007-lr0.0031623-seed2" (index, then each varied option
 * with its value, 5 significant digits for reals; text made file-name safe). Unique (the
 * index) and stable (a function of the definition). */
void cgd_sweep_point_name(const cgd_sweep *s, size_t i, char *buf, size_t len);

/* The point's run options: defaults, then every option at this point's value, out =
 * dir/NAME, force (the sweep owns its point directories), quiet, no progress line. Returns
 * cgd_run_config_check's status (a usage error is that point's row, not the sweep's). */
int cgd_sweep_point_config(const cgd_sweep *s, size_t i, const char *dir, cgd_run_config *c,
                           cgd_error *err);

/* 1 when dir/NAME holds a complete run of point i: summary.json parses, its status is
 * final ("ok" or "diverged"; interrupted or failed points are redone), its plots are not
 * pending, and config.json records this point's options (every option key compared;
 * auto values accepted as resolved). 0 otherwise. */
int cgd_sweep_point_complete(const cgd_sweep *s, size_t i, const char *dir);

/* Record a point that failed without a summary.json of its own (a usage error from its
 * options, a map it cannot run, a missing data file, a crashed process): writes
 * point_dir/summary.json with the status block (verdict "none", status, message). Such a
 * point is not final: the next run of the sweep tries it again. */
int cgd_sweep_point_fail(const char *point_dir, int status, const char *message, int clear,
                         cgd_error *err);

/* The sweep directory: created if needed. One that holds a different sweep (sweep.json
 * with another definition), or a run or comparison, is refused (CGD_EIO) unless force,
 * which removes the other sweep's points and files first. Writes sweep.json. */
int cgd_sweep_prepare_dir(cgd_sweep *s, const char *dir, int force, cgd_error *err);

/* Counts of a sweep.csv's statuses. */
typedef struct cgd_sweep_counts {
  size_t ok, diverged, interrupted, failed, pending;
} cgd_sweep_counts;

/* sweep.csv from the point directories on disk (atomic write): the varied options, then
 * status, verdict, period, steps, diverged_step, final_value, tail_mean, tail_std,
 * tail_rel_std, tail_frac_increase, first_increase_step, gibbs_tv, lyapunov.lambda,
 * lyapunov.stderr, every sharpness.* field any point has, run_dir (relative to dir),
 * message. An empty cell is undefined; a point never run has status "pending". */
int cgd_sweep_write_csv(cgd_sweep *s, const char *dir, cgd_sweep_counts *counts,
                        cgd_error *err);

/* Phase-diagram figures from the rows of the last cgd_sweep_write_csv: sweep.gp (and its
 * data files sweep_map.dat, sweep_bands.csv), run through gnuplot. x and y name varied
 * options (NULL: the first two varied options, seeds last). Writes phase.png (verdict and
 * tail statistic or λ over x × y, the theory line η = 2ε for f1 = sin on lr × eps) when
 * there are two axes, bands.png (tail statistics against x, the spread over the other
 * options as bands) otherwise or when a seed axis exists. msg receives the outcome as a
 * run's "plots" field does ("phase.png bands.png", "skipped (no gnuplot)", "failed: ...",
 * "none: ..."). Never fatal: returns nothing. */
void cgd_sweep_plot(const cgd_sweep *s, const char *dir, const char *x, const char *y,
                    char *msg, size_t len);

/* table: one CSV of any run directories. A path holding summary.json is a run; another
 * directory stands for its subdirectories that do (a comparison's lr-*, a sweep's points,
 * in name order). Columns: run_dir, kind, then the config.json options that differ
 * between the runs (lr and seed always), then every scalar of summary.json flattened with
 * dotted names (tail.loss_mean, gibbs.tv, lyapunov.lambda, ...) in order of first
 * appearance; arrays are joined with ';'. CGD_EDATA naming a path that holds no run. */
int cgd_table_write(const char *const *paths, size_t n, FILE *out, cgd_error *err);

#endif
