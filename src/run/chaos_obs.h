/* The chaos diagnostics every run kind can carry (chaos_obs.c): Lyapunov exponents and
 * sharpness as observers. Not installed. */
#ifndef CHAOSGD_CHAOS_OBS_H
#define CHAOSGD_CHAOS_OBS_H

#include <stdio.h>

#include "chaosgd/status.h"

struct cgd_run_ctx;
/* Attach what the options ask for (after the kind's setup, before the trace header). */
int cgd_chaos_attach(struct cgd_run_ctx *r, cgd_error *err);
/* MLP time histograms over the tail (watch_obs.c), unless --watch off */
int cgd_watch_attach(struct cgd_run_ctx *r, cgd_error *err);
/* Extra trace.csv columns (",lambda,lambda_stderr" with an explicit --lyapunov) */
const char *cgd_chaos_trace_header(const struct cgd_run_ctx *r);
void cgd_chaos_trace_row(const struct cgd_run_ctx *r, FILE *fp);

#endif
