/* The one run driver: every kind goes through cgd_run. Order of writing is the contract:
 * config.json first, data files and summary.json complete before plots, plots last and
 * never fatal. */
#include "chaosgd/run.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chaosgd/loop.h"
#include "chaosgd_version.h"
#include "chaos_obs.h"
#include "checkpoint.h"
#include "run_internal.h"

/* OpenBLAS extensions (declared in its cblas.h) used to record which BLAS ran. */
extern char *openblas_get_config(void);
extern int openblas_get_num_threads(void);

/* ---------------------------------------------------------------- the observers' fan-out */

static int mux_wants(void *u, uint64_t t) {
  cgd_run_ctx *r = u;
  for (size_t i = 0; i < r->nobs; i++)
    if (!r->obs[i].wants || r->obs[i].wants(r->obs[i].state, t)) return 1;
  return 0;
}

/* An observer sees the steps it asked for, and the last one. */
static int mux_observe(void *u, uint64_t t, size_t n, const double *x, const double *f,
                       const double *g, cgd_error *err) {
  cgd_run_ctx *r = u;
  for (size_t i = 0; i < r->nobs; i++) {
    const cgd_run_observer *o = &r->obs[i];
    if (!o->observe || (o->wants && t != r->cfg->iters && !o->wants(o->state, t))) continue;
    int rc = o->observe(o->state, t, n, x, f, g, err);
    if (rc) return rc;
  }
  return CGD_OK;
}

/* The step the loop reports as diverged: only to the observers that take it (the trace). */
static int mux_observe_failing(void *u, uint64_t t, size_t n, const double *x, const double *f,
                               const double *g, cgd_error *err) {
  cgd_run_ctx *r = u;
  for (size_t i = 0; i < r->nobs; i++) {
    const cgd_run_observer *o = &r->obs[i];
    int rc = o->observe_failing ? o->observe_failing(o->state, t, n, x, f, g, err) : CGD_OK;
    if (rc) return rc;
  }
  return CGD_OK;
}

static void mux_observe_chunk(void *u, uint64_t t, size_t c, size_t i0, size_t m,
                              const double *x, const double *f, const double *g) {
  cgd_run_ctx *r = u;
  for (size_t i = 0; i < r->nobs; i++) {
    const cgd_run_observer *o = &r->obs[i];
    if (!o->observe_chunk || (o->wants && t != r->cfg->iters && !o->wants(o->state, t))) continue;
    o->observe_chunk(o->state, t, c, i0, m, x, f, g);
  }
}

static void mux_block(void *u, size_t slot, uint64_t t, size_t i0, size_t nb,
                      const double *xo, const double *xn) {
  cgd_run_ctx *r = u;
  for (size_t i = 0; i < r->nobs; i++)
    if (r->obs[i].block_done) r->obs[i].block_done(r->obs[i].state, slot, t, i0, nb, xo, xn);
}

/* ---------------------------------------------------------------- built-in observers */

/* trace.csv: a row every log_every steps and at the last observed step */
static int trace_wants(void *u, uint64_t t) {
  cgd_run_ctx *r = u;
  return t % r->cfg->log_every == 0;
}
/* the kind's per-chunk reductions for its row (ensemble moments) */
static void trace_chunk(void *u, uint64_t t, size_t c, size_t i0, size_t m, const double *x,
                        const double *f, const double *g) {
  cgd_run_ctx *r = u;
  if (t % r->cfg->log_every == 0 || t == r->cfg->iters)
    r->kind->trace_chunk(r, t, c, i0, m, x, f, g);
}

static int trace_row(cgd_run_ctx *r, uint64_t t, size_t n, const double *x, const double *f,
                     const double *g, cgd_error *err) {
  r->kind->trace_row(r, r->trace.fp, t, n, x, f, g);
  cgd_chaos_trace_row(r, r->trace.fp);
  if (fputc('\n', r->trace.fp) == EOF || ferror(r->trace.fp))
    return cgd_fail(err, CGD_EIO, "error writing %s: %s", r->trace.tmp_path, strerror(errno));
  return CGD_OK;
}

/* The step the run diverged on: its row ends trace.csv whatever --log-every says; it is
 * not part of the series (tail statistics, final value, the verdict), which stops at the
 * last step that passed the loop's check. */
static int trace_observe_failing(void *u, uint64_t t, size_t n, const double *x, const double *f,
                                 const double *g, cgd_error *err) {
  cgd_run_ctx *r = u;
  r->failing_f = f[0];
  return trace_row(r, t, n, x, f, g, err);
}

static int trace_observe(void *u, uint64_t t, size_t n, const double *x, const double *f,
                         const double *g, cgd_error *err) {
  cgd_run_ctx *r = u;
  r->last_obs = t;
  r->any_obs = 1;
  if (r->L) r->L[t] = f[0];
  int rc;
  if ((t % r->cfg->log_every == 0 || t == r->cfg->iters) && (rc = trace_row(r, t, n, x, f, g, err)))
    return rc;
  if (r->tty) {
    double now = cgd_now_s();
    if (now - r->last_progress > 0.25 || t == r->cfg->iters) {
      double el = now - r->t0, rem = t ? el / (double)t * (double)(r->cfg->iters - t) : 0;
      fprintf(stderr, "\r  step %llu/%llu", (unsigned long long)t, (unsigned long long)r->cfg->iters);
      if (r->kind->series && isfinite(f[0])) fprintf(stderr, "  %s %.6g", r->kind->series, f[0]);
      fprintf(stderr, "  elapsed %.1fs  remaining %.1fs   ", el, rem);
      r->last_progress = now;
    }
  }
  return CGD_OK;
}

/* The series of a kind that has one (loss, f): observed at every step, so the verdict
 * does not depend on --log-every; its tail statistics go to summary.json. */
static int series_finish(void *u, const cgd_run_info *info, cgd_record *sum, cgd_error *err) {
  cgd_run_ctx *r = u;
  (void)info;
  const size_t nobs = r->any_obs ? (size_t)r->last_obs + 1 : 0;
  cgd_run_result *res = r->res;
  res->final_value = nobs ? r->L[nobs - 1] : NAN;
  res->first_increase = -1;
  for (size_t t = 0; t + 1 < nobs; t++)
    if (r->L[t + 1] - r->L[t] > r->cfg->verdict.increase_rtol * fabs(r->L[t])) {
      res->first_increase = (int64_t)t;
      break;
    }
  /* the step the run diverged on is not in the series, but a finite value above the loss
   * limit right after it is still a rise (a NaN is not) */
  if (res->first_increase < 0 && nobs && r->lr.bad_step == (int64_t)nobs &&
      r->failing_f - r->L[nobs - 1] > r->cfg->verdict.increase_rtol * fabs(r->L[nobs - 1]))
    res->first_increase = (int64_t)nobs - 1;
  if (nobs < 3) return CGD_OK;
  size_t start = (size_t)floor((1.0 - r->cfg->tail_frac) * (double)(nobs - 1));
  if (nobs - start < 2) start = nobs - 2;
  int rc = cgd_tail_stats_compute(r->L, nobs, start, &r->cfg->verdict, &res->tail, err);
  if (rc) return rc;
  res->have_tail = 1;
  /* "chaotic" is a claim about an exponent: without one the run is only aperiodic (the
   * Lyapunov observer, when attached, replaces this with the measured verdict) */
  snprintf(r->verdict, sizeof r->verdict, "%s",
           res->tail.verdict == CGD_VERDICT_CHAOTIC ? "aperiodic" : cgd_verdict_name(res->tail.verdict));
  json_object_set_new((json_t *)sum, "tail", cgd_tail_json(&res->tail, r->kind->series));
  return CGD_OK;
}

/* ---------------------------------------------------------------- checkpoints */

/* the last character is the format's version (2: a single orbit's pending state) */
static const char CK_MAGIC[8] = {'C', 'G', 'D', 'C', 'K', 'P', 'T', '2'};

/* The state at step t (observed: the observers have already seen t). */
static int ckpt_write(cgd_run_ctx *r, uint64_t t, int observed, cgd_error *err) {
  for (size_t i = r->nobs_builtin; i < r->nobs; i++)
    if (!r->obs[i].save && r->obs[i].state != r)
      return cgd_fail(err, CGD_EUSAGE, "observer '%s' cannot be checkpointed (no save)",
                      r->obs[i].name ? r->obs[i].name : "?");
  cgd_outfile f;
  int rc = cgd_outfile_open(&f, r->dir, "checkpoint.bin", err);
  if (rc) return rc;
  FILE *fp = f.fp;
  size_t mlen;
  double *ms = cgd_map_state(r->map, &mlen);
  if (fflush(r->trace.fp) != 0) {
    cgd_outfile_discard(&f);
    return cgd_fail(err, CGD_EIO, "error writing %s: %s", r->trace.tmp_path, strerror(errno));
  }
  fwrite(CK_MAGIC, 1, sizeof CK_MAGIC, fp);
  cgd_ck_put_u64(fp, t);
  cgd_ck_put_u64(fp, (uint64_t)observed);
  cgd_ck_put(fp, r->x, r->n * r->dim * sizeof *r->x);
  cgd_ck_put(fp, ms, mlen * sizeof *ms);
  cgd_ck_put_u64(fp, r->last_obs);
  cgd_ck_put_u64(fp, (uint64_t)r->any_obs);
  cgd_ck_put(fp, r->L, r->L && r->any_obs ? (r->last_obs + 1) * sizeof *r->L : 0);
  cgd_ck_put_u64(fp, (uint64_t)ftell(r->trace.fp));
  if (r->kind->save && (rc = r->kind->save(r, fp, err))) goto fail;
  for (size_t i = r->nobs_builtin; i < r->nobs; i++)
    if (r->obs[i].state != r && (rc = r->obs[i].save(r->obs[i].state, fp, err))) goto fail;
  fwrite(CK_MAGIC, 1, sizeof CK_MAGIC, fp);
  return cgd_outfile_commit(&f, err);
fail:
  cgd_outfile_discard(&f);
  return rc;
}

static int ckpt_read(cgd_run_ctx *r, cgd_error *err) {
  char path[4200], magic[8];
  snprintf(path, sizeof path, "%s/checkpoint.bin", r->dir);
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return cgd_fail(err, CGD_EDATA, "--resume: %s: %s (a run writes it with --checkpoint-every N "
                    "and when interrupted)", path, strerror(errno));
  uint64_t t, observed, any, off;
  size_t mlen;
  double *ms = cgd_map_state(r->map, &mlen);
  int rc = fread(magic, 1, 8, fp) == 8 && !memcmp(magic, CK_MAGIC, 8)
               ? CGD_OK : cgd_fail(err, CGD_EDATA, "%s: not a chaosgd checkpoint of this version", path);
  if (!rc) rc = cgd_ck_get_u64(fp, &t, "step", err);
  if (!rc) rc = cgd_ck_get_u64(fp, &observed, "observed", err);
  if (!rc && t > r->cfg->iters) rc = cgd_fail(err, CGD_EDATA, "%s: step %llu is past the run's end", path, (unsigned long long)t);
  if (!rc) rc = cgd_ck_get(fp, r->x, r->n * r->dim * sizeof *r->x, "states", err);
  if (!rc) rc = cgd_ck_get(fp, ms, mlen * sizeof *ms, "map state", err);
  if (!rc) rc = cgd_ck_get_u64(fp, &r->last_obs, "last observed step", err);
  if (!rc) rc = cgd_ck_get_u64(fp, &any, "observed", err);
  if (!rc && (r->last_obs > t || (r->L && any && r->last_obs > r->cfg->iters)))
    rc = cgd_fail(err, CGD_EDATA, "%s: inconsistent steps", path);
  r->any_obs = any != 0;
  if (!rc) rc = cgd_ck_get(fp, r->L, r->L && r->any_obs ? (r->last_obs + 1) * sizeof *r->L : 0, "series", err);
  if (!rc) rc = cgd_ck_get_u64(fp, &off, "trace offset", err);
  if (!rc) rc = cgd_outfile_reopen(&r->trace, r->dir, "trace.csv", (long)off, err);
  if (!rc && r->kind->load) rc = r->kind->load(r, fp, err);
  for (size_t i = r->nobs_builtin; !rc && i < r->nobs; i++)
    if (r->obs[i].state != r)
      rc = r->obs[i].load ? r->obs[i].load(r->obs[i].state, fp, err)
                        : cgd_fail(err, CGD_EUSAGE, "observer '%s' cannot be resumed (no load)", r->obs[i].name);
  if (!rc && (fread(magic, 1, 8, fp) != 8 || memcmp(magic, CK_MAGIC, 8)))
    rc = cgd_fail(err, CGD_EDATA, "%s: damaged (no end mark)", path);
  fclose(fp);
  r->first_step = t;
  r->first_observed = (int)observed;
  return rc;
}

static int ckpt_wants(void *u, uint64_t t) {
  cgd_run_ctx *r = u;
  return t % r->cfg->checkpoint_every == 0 && t > 0 && t < r->cfg->iters;
}

static int ckpt_observe(void *u, uint64_t t, size_t n, const double *x, const double *f,
                        const double *g, cgd_error *err) {
  (void)n, (void)x, (void)f, (void)g;
  return ckpt_wants(u, t) ? ckpt_write(u, t, 1, err) : CGD_OK;
}

/* ---------------------------------------------------------------- phases of a run */

static json_t *software_json(const cgd_run_config *c) {
  json_t *sw = json_object();
  json_object_set_new(sw, "chaosgd_version", json_string(CGD_VERSION));
  json_object_set_new(sw, "git_revision", json_string(CGD_GIT_REV));
  json_object_set_new(sw, "blas", json_string(openblas_get_config()));
  json_object_set_new(sw, "blas_threads", json_integer(openblas_get_num_threads()));
  (void)c;
  return sw;
}

/* Every output path is checked before step 0: the run directory (and, unless --force, that
 * it holds no earlier run) and --save-params. */
static int prepare_outputs(cgd_run_ctx *r, cgd_error *err) {
  const cgd_run_config *c = r->cfg;
  int rc = cgd_run_dir_prepare(c->out, r->what, c->force, r->dir, sizeof r->dir, err);
  if (rc) return rc;
  if (c->save_params[0]) rc = cgd_check_writable(c->save_params, "--save-params", err);
  return rc;
}

static int write_config(cgd_run_ctx *r, cgd_error *err) {
  snprintf(r->cfg->out, sizeof r->cfg->out, "%s", r->dir); /* the directory actually used */
  json_t *conf = cgd_run_config_json(r->cfg);
  json_t *out = json_string(r->dir);
  /* "out" right after the options, where a reader looks for it */
  json_object_set_new(conf, "out", out);
  if (r->kind->describe) r->kind->describe(r, conf);
  json_object_set_new(conf, "software", software_json(r->cfg));
  int rc = cgd_json_write(r->dir, "config.json", conf, err);
  json_decref(conf);
  return rc;
}

static void status_block(cgd_run_ctx *r, json_t *sum) {
  /* a run stopped by an error other than divergence or a signal has no verdict on its
   * dynamics: its status and message say what stopped it */
  const int stopped = r->run_rc && r->run_rc != CGD_EDIVERGED && r->run_rc != CGD_EINTERRUPTED;
  const char *verdict = r->run_rc == CGD_EDIVERGED ? "diverged"
                        : stopped || !r->verdict[0] ? "none"
                                                    : r->verdict;
  snprintf(r->res->verdict, sizeof r->res->verdict, "%s", verdict);
  json_object_set_new(sum, "verdict", json_string(verdict));
  json_object_set_new(sum, "status", json_string(cgd_status_name(r->run_rc)));
  json_object_set_new(sum, "message", json_string(r->run_rc ? r->run_err.msg : ""));
  json_object_set_new(sum, "interrupted", json_boolean(r->run_rc == CGD_EINTERRUPTED));
  json_object_set_new(sum, "diverged_step",
                      r->lr.bad_step >= 0 ? json_integer(r->lr.bad_step) : json_null());
  json_object_set_new(sum, "iters", json_integer((json_int_t)r->cfg->iters));
  json_object_set_new(sum, "steps_completed", json_integer((json_int_t)r->lr.steps));
}

static int run_loop(cgd_run_ctx *r, cgd_error *err) {
  cgd_run_info info = {r->cfg, r->obj, r->n, r->dim, r->x, r->dir, 0, CGD_OK};
  int rc = CGD_OK;
  if ((rc = cgd_map_create(&r->mo, r->obj, r->n, &r->map, err))) return rc;
  for (size_t i = 0; i < r->nobs && !rc; i++)
    if (r->obs[i].start) rc = r->obs[i].start(r->obs[i].state, &info, err);
  /* after start: a resumed observer's accumulators replace what start set up */
  if (!rc && r->resuming) rc = ckpt_read(r, err);
  /* the checkpoint observer comes last: every other one has seen the step it saves */
  if (!rc && r->cfg->checkpoint_every) {
    cgd_run_observer ck = {.name = "checkpoint", .state = r, .wants = ckpt_wants,
                           .observe = ckpt_observe};
    rc = cgd_run_attach(r, &ck, err);
  }
  if (rc) return rc;
  /* the per-block and per-chunk hooks only when some observer has one (for the first,
   * the loop keeps the states before and after each step) */
  int blocks = 0, chunks = 0;
  for (size_t i = 0; i < r->nobs; i++) {
    blocks |= r->obs[i].block_done != NULL;
    chunks |= r->obs[i].observe_chunk != NULL;
  }
  cgd_observer ob = {.user = r, .wants = mux_wants, .observe = mux_observe,
                     .observe_failing = mux_observe_failing,
                     .observe_chunk = chunks ? mux_observe_chunk : NULL,
                     .block_done = blocks ? mux_block : NULL};
  /* analytic objectives have no loss limit: only non-finite values are divergence */
  cgd_loop_opts lo = {.iters = r->cfg->iters,
                      .loss_limit = r->kind->id == CGD_KIND_MLP ? r->cfg->loss_limit : INFINITY,
                      .stop = r->cfg->stop, .first_step = r->first_step,
                      .first_observed = r->first_observed};
  r->tty = r->cfg->progress && !r->cfg->quiet && isatty(STDERR_FILENO);
  r->t0 = r->last_progress = cgd_now_s();
  r->run_rc = cgd_loop_run(&lo, r->obj, r->map, r->n, r->x, &ob, &r->lr, &r->run_err);
  r->seconds = cgd_now_s() - r->t0;
  if (r->tty) fputc('\n', stderr);
  /* an interrupted run can be continued: its state at the step it stopped, not yet observed */
  if (r->run_rc == CGD_EINTERRUPTED) {
    cgd_error ce;
    /* best effort: the interrupted run's own files come first */
    if (ckpt_write(r, r->lr.steps, 0, &ce) && !r->cfg->quiet)
      fprintf(stderr, "train: warning: no checkpoint (the run cannot be resumed): %s\n", ce.msg);
  }
  /* Whatever stopped the run (divergence, a signal, an objective refusing a state the
   * dynamics reached, an observer's error) is its outcome: finish still writes what it has,
   * with that status, and the run returns it. */
  return CGD_OK;
}

/* Wall-clock figures apart from summary.json, which stays a pure function of the inputs. */
static int write_timing(cgd_run_ctx *r, cgd_error *err) {
  json_t *t = json_object();
  const uint64_t steps = r->lr.steps - r->first_step;
  json_object_set_new(t, "seconds", json_real(r->seconds));
  json_object_set_new(t, "steps_this_process", json_integer((json_int_t)steps));
  json_object_set_new(t, "resumed_from_step", r->resuming ? json_integer((json_int_t)r->first_step) : json_null());
  if (r->kind->id == CGD_KIND_MLP)
    json_object_set_new(t, "us_per_step", cgd_jreal(steps ? 1e6 * r->seconds / (double)steps : NAN));
  else
    json_object_set_new(t, "ns_per_particle_step",
                        cgd_jreal(steps ? 1e9 * r->seconds / ((double)steps * (double)r->n) : NAN));
  int rc = cgd_json_write(r->dir, "timing.json", t, err);
  json_decref(t);
  return rc;
}

/* Plots, last: summary.json is already complete; the outcome is recorded in it again. */
static void plot_last(cgd_run_ctx *r, json_t *sum) {
  char *msg = r->res->plots;
  const size_t mlen = sizeof r->res->plots;
  cgd_error e;
  if (!r->cfg->plots || !r->kind->plot) {
    snprintf(msg, mlen, "off");
    return;
  }
  cgd_outfile gp;
  char pngs[256] = "", why[256] = "";
  if (cgd_outfile_open(&gp, r->dir, "plot.gp", &e)) {
    snprintf(msg, mlen, "failed: %.480s", e.msg);
  } else if (r->kind->plot(r, gp.fp, pngs, sizeof pngs, why, sizeof why)) {
    cgd_outfile_discard(&gp);
    snprintf(msg, mlen, "none: %s", why);
  } else {
    int skipped = 0;
    if (cgd_gnuplot_script(&gp, r->dir, "plot.gp", &skipped, &e))
      snprintf(msg, mlen, "failed: %.480s", e.msg);
    else
      snprintf(msg, mlen, "%s", skipped ? "skipped (no gnuplot)" : pngs);
  }
  json_object_set_new(sum, "plots", json_string(msg));
  if (cgd_json_write(r->dir, "summary.json", sum, &e) && !r->cfg->quiet)
    fprintf(stderr, "train: warning: %s\n", e.msg);
}

/* An analysis that fails at the end (an observer's finish, the kind's end) does not take
 * the run's summary with it: every other one still reports, the first failure becomes the
 * run's status and message (or, after a run that had already failed, "analysis_error"),
 * and summary.json is written. Only failing to write the summary itself is returned. */
static int finish(cgd_run_ctx *r, cgd_error *err) {
  int rc = cgd_outfile_commit(&r->trace, err);
  if (rc) return rc;
  json_t *sum = json_object();
  cgd_run_info info = {r->cfg, r->obj, r->n, r->dim, r->x, r->dir, r->lr.steps, r->run_rc};
  int frc = CGD_OK;
  cgd_error ferr = {0}, e;
  for (size_t i = 0; i <= r->nobs; i++) {
    const int last = i == r->nobs;
    if (last ? !r->kind->end : !r->obs[i].finish) continue;
    rc = last ? r->kind->end(r, sum, &e)
              : r->obs[i].finish(r->obs[i].state, &info, cgd_rec(sum), &e);
    if (rc && !frc) frc = rc, ferr = e;
  }
  if (frc && !r->run_rc) r->run_rc = frc, r->run_err = ferr;
  else if (frc) json_object_set_new(sum, "analysis_error", json_string(ferr.msg));
  /* the status block first in the file, the rest after it */
  json_t *doc = json_object();
  status_block(r, doc);
  json_object_update(doc, sum);
  json_decref(sum);
  if (r->res->warning[0]) json_object_set_new(doc, "warning", json_string(r->res->warning));
  json_object_set_new(doc, "plots", json_string(r->cfg->plots && r->kind->plot ? "pending" : "off"));
  rc = cgd_json_write(r->dir, "summary.json", doc, err);
  if (!rc) rc = write_timing(r, err);
  if (!rc) plot_last(r, doc);
  json_decref(doc);
  return rc;
}

static void ctx_free(cgd_run_ctx *r) {
  if (!r) return;
  cgd_outfile_discard(&r->trace);
  for (size_t i = 0; i < r->nobs; i++)
    if (r->obs[i].free) r->obs[i].free(r->obs[i].state);
  if (r->kind && r->kind->free) r->kind->free(r);
  cgd_map_free(r->map);
  cgd_objective_free(r->obj);
  free(r->x);
  free(r->x0);
  free(r->L);
  cgd_run_config_free(r->cfg);
  free(r);
}

static const cgd_kind *kind_of(cgd_kind_id id) {
  return id == CGD_KIND_MLP ? &cgd_kind_mlp : id == CGD_KIND_ORBIT ? &cgd_kind_orbit
                                                                   : &cgd_kind_ensemble;
}

/* Build the objective and states, then the observers every run has. */
static int setup(cgd_run_ctx *r, const cgd_run_extras *ex, cgd_error *err) {
  int rc = r->kind->setup(r, err);
  if (rc) return rc;
  if (ex && ex->state0) {
    if (ex->nstate0 != r->n * r->dim)
      return cgd_fail(err, CGD_EUSAGE, "initial state has %zu values, the run needs %zu",
                      ex->nstate0, r->n * r->dim);
    memcpy(r->x, ex->state0, ex->nstate0 * sizeof *r->x);
  }
  r->x0 = malloc(r->n * r->dim * sizeof *r->x0);
  if (!r->x0) return cgd_fail(err, CGD_ENOMEM, "out of memory for %zu states", r->n);
  memcpy(r->x0, r->x, r->n * r->dim * sizeof *r->x0);
  if (r->kind->series) {
    r->L = malloc((r->cfg->iters + 1) * sizeof *r->L);
    if (!r->L)
      return cgd_fail(err, CGD_ENOMEM, "out of memory for a series of %llu steps",
                      (unsigned long long)r->cfg->iters);
  }
  /* the trace (and the series it feeds) goes first: kinds' observers may read r->L */
  cgd_run_observer tr = {.name = "trace", .state = r, .observe = trace_observe,
                         .observe_failing = trace_observe_failing,
                         .observe_chunk = r->kind->trace_chunk ? trace_chunk : NULL,
                         .wants = r->kind->series ? NULL : trace_wants,
                         .finish = r->kind->series ? series_finish : NULL};
  memmove(r->obs + 1, r->obs, r->nobs * sizeof *r->obs);
  r->obs[0] = tr;
  r->nobs++;
  r->nobs_builtin = r->nobs;
  /* the chaos diagnostics: observers with their own checkpoint state */
  if ((rc = cgd_chaos_attach(r, err))) return rc;
  for (size_t i = 0; ex && i < ex->nobservers; i++)
    if ((rc = cgd_run_attach(r, &ex->observers[i], err))) return rc;
  return CGD_OK;
}

static int run_or_resume(const cgd_run_config *cfg, const cgd_run_extras *ex, int resume,
                         cgd_run_result *res, cgd_error *err) {
  memset(res, 0, sizeof *res);
  res->final_value = NAN;
  res->first_increase = -1;
  for (int i = 0; i < 5; i++) res->gibbs[i] = NAN;
  int rc = cgd_run_config_check(cfg, err);
  if (rc) return res->status = rc;
  cgd_run_ctx *r = calloc(1, sizeof *r);
  if (!r || !(r->cfg = cgd_run_config_dup(cfg))) {
    free(r);
    return res->status = cgd_fail(err, CGD_ENOMEM, "out of memory");
  }
  r->res = res;
  r->failing_f = NAN;
  r->resuming = resume;
  r->kind = kind_of(cgd_run_config_kind(cfg));
  res->kind = r->kind->id;
  r->lr.bad_step = -1;
  if (r->cfg->nlr > 1) r->cfg->nlr = 1; /* a run has one rate; comparisons split them */
  if ((rc = setup(r, ex, err))) goto done;
  if (resume) { /* the directory, config.json and the files so far are the run's own */
    snprintf(r->dir, sizeof r->dir, "%s", cfg->out);
  } else {
    if ((rc = prepare_outputs(r, err)) || (rc = write_config(r, err))) goto done;
    if ((rc = cgd_outfile_open(&r->trace, r->dir, "trace.csv", err))) goto done;
    fprintf(r->trace.fp, "%s%s\n", r->kind->trace_header(r), cgd_chaos_trace_header(r));
    if (r->kind->begin && (rc = r->kind->begin(r, err))) goto done;
  }
  snprintf(res->dir, sizeof res->dir, "%s", r->dir);
  if ((rc = run_loop(r, err))) goto done;
  res->steps = r->lr.steps;
  res->seconds = r->seconds;
  if ((rc = finish(r, err))) goto done;
  /* a finished run needs no checkpoint any more; an interrupted one keeps it */
  if (r->run_rc != CGD_EINTERRUPTED) {
    char ck[4200];
    snprintf(ck, sizeof ck, "%s/checkpoint.bin", r->dir);
    remove(ck);
  }
  /* the final state, for comparisons and library callers */
  res->nstate = r->n * r->dim;
  res->state_final = r->x;
  r->x = NULL;
  rc = r->run_rc;
  *err = r->run_err;
done:
  res->status = rc;
  ctx_free(r);
  return rc;
}

int cgd_run(const cgd_run_config *cfg, const cgd_run_extras *ex, cgd_run_result *res,
            cgd_error *err) {
  return run_or_resume(cfg, ex, 0, res, err);
}

int cgd_run_resume(const cgd_run_config *cfg, cgd_run_result *res, cgd_error *err) {
  return run_or_resume(cfg, NULL, 1, res, err);
}
