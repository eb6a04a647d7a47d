/* Chaos, measured, as observers of any run (chaosgd/lyapunov.h, sharpness.h):
 *
 *   lyapunov   every step (after burn-in) the Jacobian of the run's map at x_t:
 *                GD          J = I − η∇²f(x_t)
 *                stochastic, gaussian   J = I − η∇²f0(x_t) (additive noise)
 *                heavy ball  J on (x, v) from ∇²f(x_t);  NAG-SC  J on (x, y) from ∇²f(y_t)
 *              1-D GD/noise maps: eq. (4) mean of ln|J|; otherwise Benettin QR (the full
 *              spectrum) and the norm average; ensembles one tangent per particle; the MLP a
 *              tangent through exact Hessian-vector products (and optionally a twin run).
 *   sharpness  every N steps the top (and bottom) Hessian eigenvalue beside 2/η.
 *
 * Both write summary.json objects; the exponent also decides the verdict (the same rule
 * for every kind, cgd_mverdict_measured). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/horizon.h"
#include "chaosgd/liyorke.h"
#include "chaosgd/lyapunov.h"
#include "chaosgd/mlp.h"
#include "chaosgd/multiscale.h"
#include "chaosgd/sharpness.h"
#include "chaos_obs.h"
#include "ms_spec.h"
#include "run_internal.h"

enum { LY_1D, LY_QR, LY_ENS, LY_MLP };

typedef struct lyap_obs {
  cgd_run_ctx *r;
  int method;
  int momentum;              /* heavy ball or NAG-SC: Jacobians on the doubled state */
  size_t d, D;               /* state dimension, map dimension (2d with momentum) */
  size_t burn_in;
  cgd_lyap1d l1;
  cgd_lyap_qr *qr;
  cgd_lyap_ens *ens;
  cgd_mlp_lyap *mlp;
  double *h, *J;             /* scratch: n Hessians, one Jacobian */
  const double *map_state;   /* NAG-SC: y */
  double c;                  /* NAG-SC coefficient */
  int trace;                 /* write the running estimate into trace.csv */
} lyap_obs;

static const char *method_name(const lyap_obs *l) {
  switch (l->method) {
  case LY_1D: return "eq4-1d: mean ln|1 - lr f''(x)|";
  case LY_QR: return l->momentum ? "benettin-qr on (x, momentum)" : "benettin-qr: tangents of I - lr H";
  case LY_ENS: return "one tangent per particle";
  default: return "mlp tangent by exact Hessian-vector products";
  }
}

/* The Hessians the map's Jacobian needs, at the n states x (or, for NAG-SC, at y). */
static int hessians(lyap_obs *l, size_t n, const double *x, cgd_error *err) {
  const cgd_objective *o = l->r->obj;
  const cgd_map_kind k = l->r->cfg->map;
  const double *at = k == CGD_MAP_NAGSC && l->map_state ? l->map_state : x;
  cgd_eval_fn fn = (k == CGD_MAP_STOCHASTIC || k == CGD_MAP_GAUSSIAN) ? o->eval_f0 : o->eval;
  return fn(o->ctx, n, at, NULL, NULL, l->h, err);
}

static int lyap_observe(void *u, uint64_t t, size_t n, const double *x, const double *f,
                        const double *g, cgd_error *err) {
  lyap_obs *l = u;
  (void)f, (void)g;
  const cgd_run_config *c = l->r->cfg;
  if (t == c->iters) return CGD_OK; /* no step follows the last state */
  if (l->method == LY_MLP) return cgd_mlp_lyap_push(l->mlp, x, c->lr, err);
  int rc = hessians(l, n, x, err);
  if (rc) return rc;
  if (l->method == LY_1D) {
    cgd_lyap1d_push(&l->l1, c->lr, l->h[0]);
  } else if (l->method == LY_ENS) {
    cgd_lyap_ens_push_hess(l->ens, c->lr, l->h);
  } else if (!l->momentum) {
    cgd_lyap_qr_push_hess(l->qr, c->lr, l->h);
  } else {
    if (c->map == CGD_MAP_HEAVYBALL) cgd_jacobian_heavyball(l->d, c->lr, c->gamma, l->h, l->J);
    else cgd_jacobian_nag_sc(l->d, c->lr, l->c, l->h, l->J);
    cgd_lyap_qr_push_jac(l->qr, l->J, 0);
  }
  return CGD_OK;
}

static cgd_estimate lyap_estimate(const lyap_obs *l) {
  switch (l->method) {
  case LY_1D: return cgd_lyap1d_estimate(&l->l1);
  case LY_QR: return cgd_lyap_qr_exponent(l->qr, 0);
  case LY_MLP: return cgd_mlp_lyap_result_get(l->mlp).tangent;
  default: {
    cgd_lyap_summary s = cgd_lyap_ens_summary(l->ens);
    return (cgd_estimate){s.mean, s.stderr_mean, s.steps, 0, 0};
  }
  }
}

static void lyap_trace_row(void *u, FILE *fp) {
  cgd_estimate e = lyap_estimate(u);
  fprintf(fp, ",%.17g,%.17g", e.mean, e.se);
}

static json_t *est_json(json_t *o, const char *key, cgd_estimate e) {
  char k2[64];
  json_object_set_new(o, key, cgd_jreal(e.mean));
  snprintf(k2, sizeof k2, "%s_stderr", key);
  json_object_set_new(o, k2, cgd_jreal(e.se));
  return o;
}

/* The measured verdict: the tail's rules first, then the exponent's interval. */
static void measured_verdict(lyap_obs *l, cgd_estimate e) {
  cgd_run_ctx *r = l->r;
  if (!r->res->have_tail || r->run_rc == CGD_EDIVERGED) return;
  const cgd_verdict v = r->res->tail.verdict;
  if (v == CGD_VERDICT_DIVERGED) return;
  cgd_mverdict m = cgd_mverdict_measured(v == CGD_VERDICT_CONVERGED, v == CGD_VERDICT_PERIODIC,
                                         v == CGD_VERDICT_DESCENDING, e);
  snprintf(r->verdict, sizeof r->verdict, "%s", cgd_mverdict_name(m));
}

static int lyap_finish(void *u, const cgd_run_info *info, cgd_record *rec, cgd_error *err) {
  lyap_obs *l = u;
  cgd_run_ctx *r = l->r;
  const cgd_run_config *c = r->cfg;
  json_t *o = json_object();
  (void)info;
  cgd_estimate e = lyap_estimate(l);
  json_object_set_new(o, "method", json_string(method_name(l)));
  est_json(o, "lambda", e);
  json_object_set_new(o, "stderr", cgd_jreal(e.se)); /* the name the README promises */
  json_object_set_new(o, "steps", json_integer((json_int_t)e.n));
  json_object_set_new(o, "burn_in", json_integer((json_int_t)l->burn_in));
  json_object_set_new(o, "batches", json_integer((json_int_t)e.batches));
  if (l->method == LY_QR) {
    size_t k = cgd_lyap_qr_k(l->qr);
    json_t *sp = json_array(), *se = json_array();
    for (size_t j = 0; j < k; j++) {
      cgd_estimate ej = cgd_lyap_qr_exponent(l->qr, j);
      json_array_append_new(sp, cgd_jreal(ej.mean));
      json_array_append_new(se, cgd_jreal(ej.se));
    }
    json_object_set_new(o, "spectrum", sp);
    json_object_set_new(o, "spectrum_stderr", se);
    est_json(o, "norm_average", cgd_lyap_qr_norm_average(l->qr));
  }
  if (l->method == LY_ENS) {
    cgd_lyap_summary s = cgd_lyap_ens_summary(l->ens);
    json_object_set_new(o, "particles", json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "count",
                                                   (json_int_t)s.particles, "mean", cgd_jreal(s.mean),
                                                   "std", cgd_jreal(s.std), "min", cgd_jreal(s.min),
                                                   "max", cgd_jreal(s.max), "frac_positive",
                                                   cgd_jreal(s.frac_positive)));
  }
  if (l->method == LY_MLP) {
    cgd_mlp_lyap_result m = cgd_mlp_lyap_result_get(l->mlp);
    if (c->lyap_twin_every) {
      json_t *tw = json_object();
      est_json(tw, "lambda", m.twin);
      json_object_set_new(tw, "delta", json_real(1e-8));
      json_object_set_new(tw, "renormalise_every", json_integer((json_int_t)c->lyap_twin_every));
      json_object_set_new(tw, "jumps", json_integer((json_int_t)m.twin_jumps));
      json_object_set_new(tw, "ended_at_step", m.twin_end_step >= 0 ? json_integer(m.twin_end_step) : json_null());
      if (m.twin_end_step >= 0)
        json_object_set_new(tw, "ended_because",
                            json_string(m.twin_end_separation == 0
                                            ? "separation 0: the twin fell onto the orbit in floating point"
                                            : "separation not finite: the twin ran away"));
      json_object_set_new(tw, "note", json_string("a finite separation: it also grows across the "
                                                  "kinks where the leaky-ReLU gradient jumps, which "
                                                  "the tangent (Hessian) exponent does not see"));
      json_object_set_new(o, "twin", tw);
    }
  }
  if (c->f0[0]) { /* the theory of Cond. 2 beside the measurement */
    double m;
    const char *how = "";
    cgd_error e2;
    if (cgd_lyap_m_theory(c->f1, c->eps, r->obj, &m, &how, &e2) == CGD_OK) {
      json_object_set_new(o, "m_theory", cgd_jreal(m));
      json_object_set_new(o, "m_method", json_string(how));
      json_object_set_new(o, "lambda_theory", cgd_jreal(m + log(c->lr / c->eps)));
    } else {
      json_object_set_new(o, "m_theory", json_null());
      json_object_set_new(o, "m_method", json_string(e2.msg));
    }
  }
  json_object_set_new((json_t *)rec, "lyapunov", o);
  measured_verdict(l, e);
  (void)err;
  return CGD_OK;
}

static int lyap_save(void *u, FILE *fp, cgd_error *err) {
  lyap_obs *l = u;
  int bad = 0;
  switch (l->method) {
  case LY_1D: bad = fwrite(&l->l1, sizeof l->l1, 1, fp) != 1; break;
  case LY_QR: bad = cgd_lyap_qr_save(l->qr, fp); break;
  case LY_ENS: bad = cgd_lyap_ens_save(l->ens, fp); break;
  default: bad = cgd_mlp_lyap_save(l->mlp, fp); break;
  }
  return bad ? cgd_fail(err, CGD_EIO, "checkpoint: writing the Lyapunov state: %s", strerror(errno)) : CGD_OK;
}

static int lyap_load(void *u, FILE *fp, cgd_error *err) {
  lyap_obs *l = u;
  int bad = 0;
  switch (l->method) {
  case LY_1D: bad = fread(&l->l1, sizeof l->l1, 1, fp) != 1; break;
  case LY_QR: bad = cgd_lyap_qr_load(l->qr, fp); break;
  case LY_ENS: bad = cgd_lyap_ens_load(l->ens, fp); break;
  default: bad = cgd_mlp_lyap_load(l->mlp, fp); break;
  }
  return bad ? cgd_fail(err, CGD_EDATA, "checkpoint: the Lyapunov state does not fit this run") : CGD_OK;
}

static void lyap_free(void *u) {
  lyap_obs *l = u;
  cgd_lyap_qr_free(l->qr);
  cgd_lyap_ens_free(l->ens);
  cgd_mlp_lyap_free(l->mlp);
  free(l->h);
  free(l->J);
  free(l);
}

/* Built at start: the MLP's tangent starts from θ_0, NAG-SC needs the map's y. */
static int lyap_start(void *u, const cgd_run_info *info, cgd_error *err) {
  lyap_obs *l = u;
  cgd_run_ctx *r = l->r;
  const cgd_run_config *c = r->cfg;
  size_t len;
  l->map_state = cgd_map_state(r->map, &len);
  if (c->map == CGD_MAP_NAGSC) {
    double s = sqrt(c->mu * c->lr);
    l->c = (1 - s) / (1 + s);
  }
  if (l->method == LY_MLP)
    return cgd_mlp_lyap_create(r->obj->ctx, info->x, 1e-8, c->seed, l->burn_in,
                               (int)c->lyap_twin_every, &l->mlp, err);
  if (l->method == LY_ENS) return cgd_lyap_ens_create(r->n, l->D, l->burn_in, &l->ens, err);
  if (l->method == LY_QR) return cgd_lyap_qr_create(l->D, l->D, l->burn_in, &l->qr, err);
  cgd_lyap1d_init(&l->l1, l->burn_in);
  return CGD_OK;
}

/* ---------------------------------------------------------------- sharpness */

typedef struct sharp_obs {
  cgd_run_ctx *r;
  cgd_outfile csv;
  double *vec, *v0;          /* the last top eigenvector: the next Lanczos warm start */
  int have_v0;
  size_t samples, above_tail, tail_samples;
  double tail_sum, last, tail_start;
} sharp_obs;

static int sharp_wants(void *u, uint64_t t) {
  sharp_obs *s = u;
  return t % s->r->cfg->sharpness_every == 0;
}

static int sharp_observe(void *u, uint64_t t, size_t n, const double *x, const double *f,
                         const double *g, cgd_error *err) {
  sharp_obs *s = u;
  cgd_run_ctx *r = s->r;
  (void)n, (void)f, (void)g;
  cgd_sharpness sh;
  int rc = r->kind->id == CGD_KIND_MLP
               ? cgd_sharpness_objective(r->obj, x, 40, s->have_v0 ? s->v0 : NULL, &sh, s->vec, err)
               : cgd_sharpness_analytic(r->obj, x, &sh, err);
  if (rc) return rc;
  if (r->kind->id == CGD_KIND_MLP) {
    memcpy(s->v0, s->vec, r->dim * sizeof *s->v0);
    s->have_v0 = 1;
  }
  const double thr = 2.0 / r->cfg->lr;
  fprintf(s->csv.fp, "%llu,%.17g,%.17g,%.17g,%d\n", (unsigned long long)t, sh.top, sh.bottom, thr,
          sh.top > thr);
  s->samples++;
  s->last = sh.top;
  if ((double)t >= s->tail_start) {
    s->tail_samples++;
    s->tail_sum += sh.top;
    s->above_tail += sh.top > thr;
  }
  if (ferror(s->csv.fp)) return cgd_fail(err, CGD_EIO, "error writing %s: %s", s->csv.tmp_path, strerror(errno));
  return CGD_OK;
}

static int sharp_finish(void *u, const cgd_run_info *info, cgd_record *rec, cgd_error *err) {
  sharp_obs *s = u;
  (void)info;
  json_t *o = json_object();
  json_object_set_new(o, "every", json_integer((json_int_t)s->r->cfg->sharpness_every));
  json_object_set_new(o, "samples", json_integer((json_int_t)s->samples));
  json_object_set_new(o, "two_over_lr", json_real(2.0 / s->r->cfg->lr));
  json_object_set_new(o, "last", cgd_jreal(s->samples ? s->last : NAN));
  json_object_set_new(o, "tail_samples", json_integer((json_int_t)s->tail_samples));
  json_object_set_new(o, "tail_mean", cgd_jreal(s->tail_samples ? s->tail_sum / (double)s->tail_samples : NAN));
  json_object_set_new(o, "tail_frac_above_2_over_lr",
                      cgd_jreal(s->tail_samples ? (double)s->above_tail / (double)s->tail_samples : NAN));
  json_object_set_new(o, "method", json_string(s->r->kind->id == CGD_KIND_MLP
                                                   ? "lanczos, 40 Hessian-vector products, warm start"
                                                   : "exact Hessian eigenvalues"));
  json_object_set_new((json_t *)rec, "sharpness", o);
  return cgd_outfile_commit(&s->csv, err);
}

static int sharp_save(void *u, FILE *fp, cgd_error *err) {
  sharp_obs *s = u;
  if (fflush(s->csv.fp) != 0) return cgd_fail(err, CGD_EIO, "error writing %s", s->csv.tmp_path);
  const long off = ftell(s->csv.fp);
  int bad = fwrite(&off, sizeof off, 1, fp) != 1 || fwrite(&s->have_v0, sizeof s->have_v0, 1, fp) != 1 ||
            fwrite(s->v0, sizeof(double), s->r->dim, fp) != s->r->dim ||
            fwrite(&s->samples, sizeof(size_t), 1, fp) != 1 || fwrite(&s->above_tail, sizeof(size_t), 1, fp) != 1 ||
            fwrite(&s->tail_samples, sizeof(size_t), 1, fp) != 1 || fwrite(&s->tail_sum, sizeof(double), 1, fp) != 1 ||
            fwrite(&s->last, sizeof(double), 1, fp) != 1;
  return bad ? cgd_fail(err, CGD_EIO, "checkpoint: writing the sharpness state") : CGD_OK;
}

static int sharp_load(void *u, FILE *fp, cgd_error *err) {
  sharp_obs *s = u;
  long off;
  int bad = fread(&off, sizeof off, 1, fp) != 1 || fread(&s->have_v0, sizeof s->have_v0, 1, fp) != 1 ||
            fread(s->v0, sizeof(double), s->r->dim, fp) != s->r->dim ||
            fread(&s->samples, sizeof(size_t), 1, fp) != 1 || fread(&s->above_tail, sizeof(size_t), 1, fp) != 1 ||
            fread(&s->tail_samples, sizeof(size_t), 1, fp) != 1 || fread(&s->tail_sum, sizeof(double), 1, fp) != 1 ||
            fread(&s->last, sizeof(double), 1, fp) != 1;
  if (bad) return cgd_fail(err, CGD_EDATA, "checkpoint: the sharpness state does not fit this run");
  cgd_outfile_discard(&s->csv); /* opened at start; the resumed file replaces it */
  return cgd_outfile_reopen(&s->csv, s->r->dir, "sharpness.csv", off, err);
}

static int sharp_start(void *u, const cgd_run_info *info, cgd_error *err) {
  sharp_obs *s = u;
  (void)info;
  if (s->r->resuming) return CGD_OK; /* reopened by load */
  int rc = cgd_outfile_open(&s->csv, s->r->dir, "sharpness.csv", err);
  if (!rc) fprintf(s->csv.fp, "step,top,bottom,two_over_lr,above\n");
  return rc;
}

static void sharp_free(void *u) {
  sharp_obs *s = u;
  cgd_outfile_discard(&s->csv);
  free(s->vec);
  free(s->v0);
  free(s);
}

/* ---------------------------------------------------------------- Li-Yorke, horizon */

/* The Li-Yorke search keeps nothing during the run: its checkpoint is empty. */
static int ly_never(void *u, uint64_t t) { (void)u, (void)t; return 0; }
static int ly_nosave(void *u, FILE *fp, cgd_error *err) { (void)u, (void)fp, (void)err; return CGD_OK; }
static int ly_noload(void *u, FILE *fp, cgd_error *err) { (void)u, (void)fp, (void)err; return CGD_OK; }

/* Thm 8 / Thm 18: a point a with b = φ(a), c = φ²(a), d = φ³(a), d ≤ a < b < c (or the
 * mirror) makes the 1-D GD map φ(x) = x − η f'(x) chaotic in the sense of Li and Yorke. */
static int ly_finish(void *u, const cgd_run_info *info, cgd_record *rec, cgd_error *err) {
  cgd_run_ctx *r = u;
  const cgd_run_config *c = r->cfg;
  cgd_liyorke w;
  (void)info;
  int rc = cgd_liyorke_gd(r->obj, c->lr, c->hist_range[0], c->hist_range[1], 200000, &w, err);
  if (rc) return rc;
  json_t *o = json_object();
  json_object_set_new(o, "found", json_boolean(w.found));
  json_object_set_new(o, "interval", cgd_jarray(c->hist_range, 2));
  json_object_set_new(o, "scanned", json_integer((json_int_t)w.scanned));
  json_object_set_new(o, "candidates", json_integer((json_int_t)w.candidates));
  if (w.found) {
    json_object_set_new(o, "a", json_real(w.a));
    json_object_set_new(o, "b", json_real(w.b));
    json_object_set_new(o, "c", json_real(w.c));
    json_object_set_new(o, "d", json_real(w.d));
    json_object_set_new(o, "order", json_string(w.mirrored ? "d >= a > b > c" : "d <= a < b < c"));
    json_object_set_new(o, "margin", json_real(w.margin));
    json_object_set_new(o, "verified", json_string("b, c, d re-evaluated from a through the "
                                                   "objective's gradient"));
    /* the construction, for the figure: φ on [min, max] of the four points, widened */
    double lo = fmin(fmin(w.a, w.b), fmin(w.c, w.d)), hi = fmax(fmax(w.a, w.b), fmax(w.c, w.d));
    double pad = 0.15 * (hi - lo) + 1e-12;
    cgd_outfile f;
    if ((rc = cgd_outfile_open(&f, r->dir, "liyorke.csv", err))) {
      json_decref(o);
      return rc;
    }
    fprintf(f.fp, "x,phi\n");
    for (int i = 0; i <= 2000 && !rc; i++) {
      double x = lo - pad + (hi - lo + 2 * pad) * i / 2000.0, g;
      if ((rc = r->obj->eval(r->obj->ctx, 1, &x, NULL, &g, NULL, err))) break;
      fprintf(f.fp, "%.17g,%.17g\n", x, x - c->lr * g);
    }
    fprintf(f.fp, "\n\n# witness\n%.17g,%.17g\n%.17g,%.17g\n%.17g,%.17g\n", w.a, w.b, w.b, w.c, w.c, w.d);
    if (rc) cgd_outfile_discard(&f);
    else rc = cgd_outfile_commit(&f, err);
  } else {
    json_object_set_new(o, "note", json_string("no witness in the searched interval (this does "
                                               "not show that none exists elsewhere)"));
  }
  json_object_set_new((json_t *)rec, "li_yorke", o);
  return rc;
}

typedef struct hz_obs {
  cgd_run_ctx *r;
  cgd_ms_spec spec;
  const char *pn[CGD_MAX_PARAMS];
  cgd_horizon_acc *acc;
} hz_obs;

static int hz_start(void *u, const cgd_run_info *info, cgd_error *err) {
  hz_obs *h = u;
  return cgd_horizon_create(cgd_ms_grad_ld, &h->spec, h->r->cfg->lr, info->x[0],
                            (size_t)h->r->cfg->burn_in, &h->acc, err);
}

static int hz_observe(void *u, uint64_t t, size_t n, const double *x, const double *f,
                      const double *g, cgd_error *err) {
  hz_obs *h = u;
  (void)t, (void)n, (void)f, (void)g, (void)err;
  cgd_horizon_push(h->acc, x[0]);
  return CGD_OK;
}

static int hz_finish(void *u, const cgd_run_info *info, cgd_record *rec, cgd_error *err) {
  hz_obs *h = u;
  cgd_run_ctx *r = h->r;
  (void)info, (void)err;
  const lyap_obs *l = r->lyap_state;
  const double lambda = l ? lyap_estimate(l).mean : NAN;
  cgd_horizon z = cgd_horizon_get(h->acc, 0.01, lambda);
  json_t *o = json_object();
  json_object_set_new(o, "reference", json_string("the same orbit in long double (64-bit mantissa)"));
  json_object_set_new(o, "first_difference_step", json_integer((json_int_t)z.first_diff));
  json_object_set_new(o, "first_difference", cgd_jreal(z.delta0));
  json_object_set_new(o, "attractor_size", cgd_jreal(z.size));
  json_object_set_new(o, "horizon_step", z.horizon ? json_integer((json_int_t)z.horizon) : json_null());
  json_object_set_new(o, "threshold", json_string("1% of the attractor size"));
  json_object_set_new(o, "lambda", cgd_jreal(z.lambda));
  json_object_set_new(o, "predicted_ln_1_over_u", cgd_jreal(z.predicted_u));
  json_object_set_new(o, "predicted_from_first_difference", cgd_jreal(z.predicted_d0));
  json_object_set_new((json_t *)rec, "horizon", o);
  return CGD_OK;
}

static void hz_free(void *u) {
  hz_obs *h = u;
  cgd_horizon_free(h->acc);
  free(h);
}

static int attach_orbit_extras(cgd_run_ctx *r, cgd_error *err) {
  cgd_run_config *c = r->cfg;
  int rc;
  if ((c->li_yorke || c->horizon) && (r->dim != 1 || c->map != CGD_MAP_GD))
    return cgd_fail(err, CGD_EUSAGE, "--li-yorke and --horizon need a 1-D objective and --map gd");
  if (c->li_yorke) {
    /* nothing to watch during the run: the search runs at the end, on the map itself */
    cgd_run_observer o = {.name = "li-yorke", .state = r, .wants = ly_never, .finish = ly_finish,
                          .save = ly_nosave, .load = ly_noload};
    if ((rc = cgd_run_attach(r, &o, err))) return rc;
  }
  if (c->horizon) {
    hz_obs *h = calloc(1, sizeof *h);
    if (!h) return cgd_fail(err, CGD_ENOMEM, "out of memory");
    h->r = r;
    h->spec = cgd_ms_spec_of(c, h->pn);
    if (!cgd_ms_grad_ld_supported(&h->spec)) {
      free(h);
      return cgd_fail(err, CGD_EUSAGE, "--horizon needs built-in f0 and f1 (a long-double gradient "
                                       "exists for those only)");
    }
    cgd_run_observer o = {.name = "horizon", .state = h, .start = hz_start, .observe = hz_observe,
                          .finish = hz_finish, .free = hz_free};
    if ((rc = cgd_run_attach(r, &o, err))) return rc;
  }
  return CGD_OK;
}

/* ---------------------------------------------------------------- attaching */

static int lyap_every(void *u, uint64_t t) {
  (void)u, (void)t;
  return 1; /* every step: the exponent is a product over all of them */
}

int cgd_chaos_attach(cgd_run_ctx *r, cgd_error *err) {
  cgd_run_config *c = r->cfg;
  const cgd_kind_id kind = r->kind->id;
  const size_t tail_start = (size_t)floor((1.0 - c->tail_frac) * (double)c->iters);
  int rc;
  /* auto: on where a verdict rests on it (the MLP with GD, single orbits); config.json
   * keeps "auto" */
  const int on = c->lyapunov < 0 ? kind == CGD_KIND_ORBIT || (kind == CGD_KIND_MLP && c->map == CGD_MAP_GD)
                                 : c->lyapunov;
  if (c->lyapunov == 1 && kind == CGD_KIND_MLP && c->map != CGD_MAP_GD)
    return cgd_fail(err, CGD_EUSAGE, "--lyapunov on the MLP supports --map gd only (the momentum "
                                     "maps' tangent needs the Hessian on (theta, v))");
  if (c->lyap_twin_every && !on)
    return cgd_fail(err, CGD_EUSAGE, "--lyap-twin-every needs --lyapunov");
  if (c->lyap_burn_in == UINT64_MAX) c->lyap_burn_in = kind == CGD_KIND_ENSEMBLE ? c->iters / 10 : tail_start;
  if (on) {
    lyap_obs *l = calloc(1, sizeof *l);
    if (!l) return cgd_fail(err, CGD_ENOMEM, "out of memory");
    l->r = r;
    l->burn_in = (size_t)c->lyap_burn_in;
    l->d = r->dim;
    l->momentum = c->map == CGD_MAP_HEAVYBALL || c->map == CGD_MAP_NAGSC;
    l->D = l->momentum ? 2 * r->dim : r->dim;
    l->method = kind == CGD_KIND_MLP ? LY_MLP : kind == CGD_KIND_ENSEMBLE ? LY_ENS
                : l->D == 1 ? LY_1D : LY_QR;
    if (l->method == LY_ENS && l->momentum) {
      free(l);
      return cgd_fail(err, CGD_EUSAGE, "--lyapunov on an ensemble supports gd, stochastic and "
                                       "gaussian (one tangent per particle on x)");
    }
    if (l->method != LY_MLP) {
      l->h = malloc(r->n * r->dim * r->dim * sizeof *l->h);
      l->J = malloc(l->D * l->D * sizeof *l->J);
      if (!l->h || !l->J) {
        lyap_free(l);
        return cgd_fail(err, CGD_ENOMEM, "out of memory for %zu Hessians", r->n);
      }
    }
    cgd_run_observer o = {.name = "lyapunov", .state = l, .start = lyap_start, .wants = lyap_every,
                          .observe = lyap_observe, .finish = lyap_finish, .free = lyap_free,
                          .save = lyap_save, .load = lyap_load};
    if ((rc = cgd_run_attach(r, &o, err))) return rc;
    /* an explicit --lyapunov (not auto) also puts the running estimate into trace.csv; the
     * choice is what config.json records, so a resumed or repeated run writes the same */
    l->trace = c->lyapunov == 1;
    r->lyap_state = l;
  }
  if ((rc = attach_orbit_extras(r, err))) return rc;
  if (kind == CGD_KIND_MLP && (rc = cgd_watch_attach(r, err))) return rc;
  if (c->sharpness_every) {
    sharp_obs *s = calloc(1, sizeof *s);
    if (!s) return cgd_fail(err, CGD_ENOMEM, "out of memory");
    s->r = r;
    s->tail_start = (double)tail_start;
    s->vec = malloc(r->dim * sizeof *s->vec);
    s->v0 = calloc(r->dim, sizeof *s->v0);
    if (!s->vec || !s->v0) {
      sharp_free(s);
      return cgd_fail(err, CGD_ENOMEM, "out of memory");
    }
    cgd_run_observer o = {.name = "sharpness", .state = s, .start = sharp_start, .wants = sharp_wants,
                          .observe = sharp_observe, .finish = sharp_finish, .free = sharp_free,
                          .save = sharp_save, .load = sharp_load};
    if ((rc = cgd_run_attach(r, &o, err))) return rc;
  }
  return CGD_OK;
}

const char *cgd_chaos_trace_header(const cgd_run_ctx *r) {
  const lyap_obs *l = r->lyap_state;
  return l && l->trace ? ",lambda,lambda_stderr" : "";
}

void cgd_chaos_trace_row(const cgd_run_ctx *r, FILE *fp) {
  const lyap_obs *l = r->lyap_state;
  if (l && l->trace) lyap_trace_row(r->lyap_state, fp);
}
