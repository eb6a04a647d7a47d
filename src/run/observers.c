/* Services of the run that the driver, the kinds and the diagnostics all use: attaching
 * an observer, the summary records (observer.h), tail statistics as JSON, the clock. Kept
 * apart from the driver so that kinds and observers depend on this file, and the driver
 * on them, with no circle between source files. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "run_internal.h"

double cgd_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cgd_run_result_clear(cgd_run_result *r) {
  free(r->state_final);
  memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- records (observer.h) */

cgd_record *cgd_record_object(cgd_record *r, const char *key) {
  json_t *o = json_object_get((json_t *)r, key);
  if (!json_is_object(o)) {
    o = json_object();
    json_object_set_new((json_t *)r, key, o);
  }
  return (cgd_record *)o;
}
void cgd_record_num(cgd_record *r, const char *key, double v) {
  json_object_set_new((json_t *)r, key, cgd_jreal(v));
}
void cgd_record_int(cgd_record *r, const char *key, long long v) {
  json_object_set_new((json_t *)r, key, json_integer(v));
}
void cgd_record_str(cgd_record *r, const char *key, const char *s) {
  json_object_set_new((json_t *)r, key, json_string(s));
}
void cgd_record_bool(cgd_record *r, const char *key, int v) {
  json_object_set_new((json_t *)r, key, json_boolean(v));
}
void cgd_record_null(cgd_record *r, const char *key) {
  json_object_set_new((json_t *)r, key, json_null());
}
void cgd_record_nums(cgd_record *r, const char *key, const double *v, size_t n) {
  json_object_set_new((json_t *)r, key, cgd_jarray(v, n));
}

json_t *cgd_tail_json(const cgd_tail_stats *ts, const char *what) {
  json_t *tj = json_object();
  char key[64];
  json_object_set_new(tj, "start_step", json_integer((json_int_t)ts->start));
  json_object_set_new(tj, "steps", json_integer((json_int_t)ts->len));
  const char *names[] = {"mean", "std", "rel_std", "min", "max"};
  const double vals[] = {ts->mean, ts->std, ts->rel_std, ts->min, ts->max};
  for (int k = 0; k < 5; k++) {
    snprintf(key, sizeof key, "%s_%s", what, names[k]);
    json_object_set_new(tj, key, cgd_jreal(vals[k]));
  }
  json_object_set_new(tj, "frac_increase", cgd_jreal(ts->frac_increase));
  json_object_set_new(tj, "lag1_autocorr_increments", cgd_jreal(ts->lag1_autocorr_incr));
  json_object_set_new(tj, "period", ts->period ? json_integer(ts->period) : json_null());
  if (ts->len && isfinite(ts->mean))
    json_object_set_new(tj, "block_means_decreasing", json_boolean(ts->block_means_decreasing));
  return tj;
}

int cgd_run_attach(cgd_run_ctx *r, const cgd_run_observer *o, cgd_error *err) {
  if (r->nobs == CGD_RUN_MAX_OBS) {
    if (o->free) o->free(o->state);
    return cgd_fail(err, CGD_EINTERNAL, "too many observers (at most %d)", CGD_RUN_MAX_OBS);
  }
  r->obs[r->nobs++] = *o;
  return CGD_OK;
}

