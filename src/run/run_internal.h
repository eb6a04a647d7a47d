/* Pieces shared by the run drivers (MLP: run.c, analytic objectives: run_ms.c). */
#ifndef CHAOSGD_RUN_INTERNAL_H
#define CHAOSGD_RUN_INTERNAL_H

#include <jansson.h>

#include "chaosgd/run.h"

int cgd_run_ms(const cgd_run_config *cfg, cgd_run_result *res, cgd_error *err);

double cgd_now_s(void);
/* jansson refuses non-finite reals: those become null. */
json_t *cgd_jreal(double v);
/* The summary.json fields every run has: verdict, status, message, interrupted,
 * diverged_step, iters, steps_completed. */
void cgd_summary_status(json_t *sum, const char *verdict, int run_rc, const cgd_error *run_err,
                        int64_t bad_step, uint64_t iters, uint64_t steps);
/* Tail statistics as an object: start_step, steps, <what>_mean/_std/_rel_std/_min/_max,
 * frac_increase, lag1_autocorr_increments, period (null if none). */
json_t *cgd_tail_json(const cgd_tail_stats *ts, const char *what);
/* Tail statistics and verdict of the series L[0..nobs) over the last cfg->tail_frac of it
 * into res->tail (res->have_tail = 1); nothing when fewer than 3 values were observed. */
int cgd_run_tail(const cgd_run_config *cfg, const double *L, size_t nobs, cgd_run_result *res,
                 cgd_error *err);
/* One progress line on stderr, at most every 0.25 s (and at the last step). */
void cgd_progress(double *last, double t0, uint64_t t, uint64_t iters, double value);


#endif
