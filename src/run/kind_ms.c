/* The analytic kinds: f = f0 + f1,ε in 1-D or 2-D, as a single orbit (its series is f(x_t),
 * its time histogram after burn-in is compared with the rescaled Gibbs law) or as an
 * ensemble of particles (histograms at chosen steps against the Gibbs law, crossings of
 * x = 0 in 1-D, optionally a second map from the same initial ensemble). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chaosgd/grid.h"
#include "chaosgd/landscape.h"
#include "chaosgd/limits.h"
#include "chaosgd/loop.h"
#include "chaosgd/multiscale.h"
#include "chaosgd/sampling.h"
#include "checkpoint.h"
#include "clones.h"
#include "simd.h"
#include "ms_spec.h"
#include "run_internal.h"

/* Histograms of one map's ensemble at the histogram steps (the run's own, or the second
 * map's), with their distances to the Gibbs law; written to a CSV as they are taken. */
typedef struct ens_hists {
  const struct ms_state *ms;
  FILE *fp;                    /* hist.csv or compare_hist.csv (NULL: not written) */
  const char *fpath;
  size_t next_h;
  double *probs;               /* nh × ncell */
  struct cgd_distances *dist;  /* nh */
  uint64_t *inrange;           /* nh: particles inside --hist-range */
} ens_hists;

/* Partial moments of one chunk of an ensemble at a logged step (trace_chunk), combined in
 * chunk order by the trace row. */
typedef struct ens_part {
  uint64_t step;       /* the step they belong to (UINT64_MAX: none yet) */
  uint64_t m, neg;     /* particles, how many with x < 0 */
  double sf, sx[2];    /* Σ f, Σ x_a */
  double m2[2];        /* Σ (x_a − chunk mean)² */
} ens_part;

typedef struct ms_state {
  const cgd_run_config *cfg;
  const cgd_objective *obj;
  size_t dim, n, nbins, ncell; /* ncell: nbins (1-D) or nbins² (2-D) */
  double sigma2[2];
  uint64_t *hsteps;
  size_t nh;
  double *gibbs;               /* ncell Gibbs bin probabilities (NULL if unavailable) */
  const char *gibbs_note;      /* why there is none */
  cgd_quad_model qm;
  int have_min;
  double lmin, t_relax;
  cgd_outfile hist;
  ens_hists eh;
  /* single orbit: time histogram after burn-in */
  cgd_hist *orbit1;
  cgd_hist2d *orbit2;
  double orbit_sum[2], orbit_sq[2];
  uint64_t orbit_n;
  int64_t last_good_step;   /* a diverged ensemble's last_good rows in hist.csv (-1: none) */
  double last_good_inrange; /* and the share of its particles inside --hist-range */
  double orbit_pending[2]; /* the newest state, counted once the run has gone past it */
  uint64_t orbit_has_pending;
  /* ensembles in 1-D: crossings of x = 0 per particle (bit 0: by the ε-scale dynamics,
   * bit 1: by overshoot of the macro map x − η f0'(x)) */
  unsigned char *crossed;
  /* per slot: the crossers' scratch, and the slot's first error (block_done cannot return
   * one: it is reported at the end, the lowest slot's first, so the same for any thread
   * count; per slot, so concurrent blocks never write the same field) */
  struct {
    double *x;
    size_t *idx;
    uint64_t *words;
    int status;
    cgd_error err;
  } cross[CGD_LOOP_SLOTS];
  double max_move[CGD_LOOP_SLOTS]; /* largest |Δx| of the last step, per slot */
  ens_part *part;              /* per chunk of CGD_LOOP_OBS_CHUNK particles (ensembles) */
  size_t nparts;
  struct cgd_distances final;  /* distances to Gibbs reported in the summary */
  double in_range;             /* share of the histogrammed mass inside --hist-range */
  char gsource[160];
} ms_state;

/* ---------------------------------------------------------------- histograms */

static int ensemble_probs(const ms_state *s, const double *x, double *p, uint64_t *inrange,
                          cgd_error *err) {
  int rc;
  const double *R = s->cfg->hist_range;
  if (s->dim == 1) {
    cgd_hist *h;
    if ((rc = cgd_hist_create(R[0], R[1], s->nbins, &h, err))) return rc;
    cgd_hist_count(h, x, s->n, 1);
    *inrange = cgd_hist_prob(h, p);
    cgd_hist_free(h);
  } else {
    cgd_hist2d *h;
    if ((rc = cgd_hist2d_create(R[0], R[1], s->nbins, R[0], R[1], s->nbins, &h, err))) return rc;
    cgd_hist2d_add(h, x, s->n);
    *inrange = cgd_hist2d_prob(h, p);
    cgd_hist2d_free(h);
  }
  return CGD_OK;
}

static void distances(const ms_state *s, const double *p, const double *q,
                      struct cgd_distances *d) {
  cgd_error e;
  double w = (s->cfg->hist_range[1] - s->cfg->hist_range[0]) / (double)s->nbins;
  int rc = s->dim == 1 ? cgd_distances_1d(p, q, s->ncell, w, d, &e)
                       : cgd_distances(p, q, s->ncell, d, &e);
  if (rc) d->tv = d->hellinger = d->kl = d->w1 = d->ks = NAN; /* empty histogram */
}

/* Rows of one histogram: 1-D step,kind,bin,x_lo,x_hi,count,prob,gibbs_prob,distances;
 * 2-D also the y bin. Distances to Gibbs repeated on every row of the step. */
static void write_hist_rows(const ms_state *s, FILE *fp, uint64_t t, const char *kind,
                            const double *p, uint64_t total, const struct cgd_distances *d) {
  const double lo = s->cfg->hist_range[0];
  const double w = (s->cfg->hist_range[1] - lo) / (double)s->nbins;
  for (size_t cell = 0; cell < s->ncell; cell++) {
    size_t i = s->dim == 1 ? cell : cell / s->nbins, j = cell % s->nbins;
    fprintf(fp, "%llu,%s,%zu,%.17g,%.17g,", (unsigned long long)t, kind, i, lo + (double)i * w,
            lo + (double)(i + 1) * w);
    if (s->dim == 2) fprintf(fp, "%zu,%.17g,%.17g,", j, lo + (double)j * w, lo + (double)(j + 1) * w);
    fprintf(fp, "%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", p[cell] * (double)total,
            p[cell], s->gibbs ? s->gibbs[cell] : NAN, d->tv, d->hellinger, d->kl, d->w1, d->ks);
  }
}

static const char *hist_header(size_t dim) {
  return dim == 1 ? "step,kind,bin,x_lo,x_hi,count,prob,gibbs_prob,tv,hellinger,kl,w1,ks\n"
                  : "step,kind,xbin,x_lo,x_hi,ybin,y_lo,y_hi,count,prob,gibbs_prob,tv,"
                    "hellinger,kl,w1,ks\n";
}

static int eh_wants(void *u, uint64_t t) {
  ens_hists *h = u;
  return h->next_h < h->ms->nh && h->ms->hsteps[h->next_h] == t;
}

static int eh_observe(void *u, uint64_t t, size_t n, const double *x, const double *f,
                      const double *g, cgd_error *err) {
  ens_hists *h = u;
  const ms_state *s = h->ms;
  (void)n, (void)f, (void)g;
  if (!eh_wants(u, t)) return CGD_OK;
  double *p = h->probs + h->next_h * s->ncell;
  uint64_t total;
  int rc = ensemble_probs(s, x, p, &total, err);
  if (rc) return rc;
  struct cgd_distances d = {NAN, NAN, NAN, NAN, NAN};
  if (s->gibbs && total) distances(s, p, s->gibbs, &d);
  h->dist[h->next_h] = d;
  h->inrange[h->next_h] = total;
  if (h->fp) {
    write_hist_rows(s, h->fp, t, "ensemble", p, total, &d);
    if (ferror(h->fp)) return cgd_fail(err, CGD_EIO, "error writing %s: %s", h->fpath, strerror(errno));
  }
  h->next_h++;
  return CGD_OK;
}

static int eh_init(ens_hists *h, const ms_state *s, FILE *fp, const char *fpath, cgd_error *err) {
  memset(h, 0, sizeof *h);
  h->ms = s;
  h->fp = fp;
  h->fpath = fpath;
  h->probs = calloc(s->nh * s->ncell, sizeof *h->probs);
  h->dist = calloc(s->nh, sizeof *h->dist);
  h->inrange = calloc(s->nh, sizeof *h->inrange);
  if (!h->probs || !h->dist || !h->inrange) return cgd_fail(err, CGD_ENOMEM, "out of memory for histograms");
  return CGD_OK;
}

static void eh_free(ens_hists *h) {
  free(h->probs);
  free(h->dist);
  free(h->inrange);
}

/* ---------------------------------------------------------------- per-step bookkeeping */

/* Single orbit: time histogram and moments after burn-in. A new state is counted one step
 * late: block_done sees it before the loop has checked it, and the state where the run
 * stops diverged (a non-finite state, one the objective refuses, f undefined) must not be
 * in the statistics; orbit_end counts the last one unless the run stopped on it. */
static void orbit_count(ms_state *s, const double *x) {
  if (s->orbit1) cgd_hist_add(s->orbit1, x, 1, 1);
  if (s->orbit2) cgd_hist2d_add(s->orbit2, x, 1);
  for (size_t a = 0; a < s->dim; a++) {
    s->orbit_sum[a] += x[a];
    s->orbit_sq[a] += x[a] * x[a];
  }
  s->orbit_n++;
}

static void orbit_block(void *u, size_t slot, uint64_t t, size_t i0, size_t nb,
                        const double *x_old, const double *x_new) {
  ms_state *s = u;
  (void)slot, (void)i0, (void)nb, (void)x_old;
  if (t + 1 < s->cfg->burn_in) return;
  if (s->orbit_has_pending) orbit_count(s, s->orbit_pending);
  memcpy(s->orbit_pending, x_new, s->dim * sizeof *x_new);
  s->orbit_has_pending = 1;
}

/* Crossings of x = 0 in a block as bits: word w, bit k = [particle 64w + k changed side]
 * (x < 0 before vs after). With AVX2 four particles per compare and one movemask, else
 * one by one; the same bits either way. Each returns how many crossed. */

/* The word of particles i0 .. min(i0 + 64, nb) − 1, one by one. */
static uint64_t crossing_word(const double *x_old, const double *x_new, size_t i0, size_t nb) {
  uint64_t bits = 0;
  for (size_t k = 0, i = i0; k < 64 && i < nb; k++, i++)
    bits |= (uint64_t)((x_old[i] < 0.0) != (x_new[i] < 0.0)) << k;
  return bits;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static size_t crossing_words_avx2(const double *x_old,
                                                                  const double *x_new, size_t nb,
                                                                  uint64_t *words) {
  const __m256d zero = _mm256_setzero_pd();
  size_t count = 0, w = 0;
  for (; 64 * w + 64 <= nb; w++) {
    uint64_t bits = 0;
    for (unsigned k = 0; k < 64; k += 4) {
      const size_t i = 64 * w + k;
      const __m256d a = _mm256_cmp_pd(_mm256_loadu_pd(x_old + i), zero, _CMP_LT_OQ);
      const __m256d b = _mm256_cmp_pd(_mm256_loadu_pd(x_new + i), zero, _CMP_LT_OQ);
      bits |= (uint64_t)(unsigned)_mm256_movemask_pd(_mm256_xor_pd(a, b)) << k;
    }
    words[w] = bits;
    count += (size_t)__builtin_popcountll(bits);
  }
  if (64 * w < nb) { /* the last, partial word */
    words[w] = crossing_word(x_old, x_new, 64 * w, nb);
    count += (size_t)__builtin_popcountll(words[w]);
  }
  return count;
}
#endif

static size_t crossing_words(const double *x_old, const double *x_new, size_t nb, uint64_t *words) {
#if defined(__x86_64__)
  if (cgd_simd_level() >= CGD_SIMD_AVX2) return crossing_words_avx2(x_old, x_new, nb, words);
#endif
  size_t count = 0;
  for (size_t w = 0; 64 * w < nb; w++) {
    words[w] = crossing_word(x_old, x_new, 64 * w, nb);
    count += (size_t)__builtin_popcountll(words[w]);
  }
  return count;
}

/* Ensembles: largest move of the last step; in 1-D, crossings of x = 0. */
static void ens_block(void *u, size_t slot, uint64_t t, size_t i0, size_t nb,
                      const double *x_old, const double *x_new) {
  ms_state *s = u;
  const size_t dim = s->dim;
  if (t + 1 == s->cfg->iters) {
    double mv = 0;
    for (size_t k = 0; k < nb * dim; k++) {
      const double d = fabs(x_new[k] - x_old[k]);
      mv = d > mv ? d : mv; /* as fmax: a NaN move is skipped */
    }
    s->max_move[slot] = mv > s->max_move[slot] ? mv : s->max_move[slot];
  }
  if (dim != 1 || !s->crossed) return;
  /* a crossing is the macro map's overshoot when x − η f0'(x) alone would already land on
   * the other side (e.g. a particle started high on a steep wall). Only the particles that
   * crossed are gathered and evaluated, in one batch. */
  if (!s->cross[slot].x) {
    s->cross[slot].x = malloc(2 * nb * sizeof(double));
    s->cross[slot].idx = malloc(nb * sizeof(size_t));
    s->cross[slot].words = malloc((nb + 63) / 64 * sizeof(uint64_t));
    if (!s->cross[slot].x || !s->cross[slot].idx || !s->cross[slot].words) {
      s->cross[slot].status = cgd_fail(&s->cross[slot].err, CGD_ENOMEM,
                                       "out of memory tracking crossings");
      return;
    }
  }
  double *xs = s->cross[slot].x, *g0 = xs + nb;
  size_t *idx = s->cross[slot].idx;
  /* A vectorised pass marks the particles that crossed, 64 to a word; only those are
   * gathered and evaluated, in one batch (a scalar pass over every particle cost as much
   * as the gradient step itself: near x = 0 some cross on almost every step). */
  uint64_t *words = s->cross[slot].words;
  if (!crossing_words(x_old, x_new, nb, words)) return;
  size_t nc = 0;
  for (size_t w = 0; w * 64 < nb; w++)
    for (uint64_t bits = words[w]; bits; bits &= bits - 1) {
      const size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
      xs[nc] = x_old[i];
      idx[nc++] = i;
    }
  cgd_error e;
  const int rc = s->obj->eval_f0(s->obj->ctx, nc, xs, NULL, g0, NULL, &e);
  if (rc) {
    if (!s->cross[slot].status)
      s->cross[slot].status = cgd_fail(&s->cross[slot].err, rc,
                                       "crossings at step %llu: f0' of a crosser: %s",
                                       (unsigned long long)(t + 1), e.msg);
    return;
  }
  const double lr = s->cfg->lr;
  for (size_t k = 0; k < nc; k++) {
    const double macro = xs[k] - lr * g0[k];
    s->crossed[i0 + idx[k]] |= (macro < 0) != (xs[k] < 0) ? 2 : 1;
  }
}

/* ---------------------------------------------------------------- setup */

/* The rescaled Gibbs law (or Rmk 15's Gaussian form) on the histogram grid. */
static int gibbs_setup(ms_state *s, cgd_error *err) {
  const cgd_run_config *c = s->cfg;
  const double *R = c->hist_range;
  const size_t nb = s->nbins;
  if (s->dim == 2 && fabs(s->sigma2[1] - s->sigma2[0]) > 1e-3 * fmax(s->sigma2[0], s->sigma2[1]))
    s->gibbs_note = "no Gibbs law: the two coordinates have different noise variances";
  else if (!(s->sigma2[0] > 0))
    s->gibbs_note = "no Gibbs law: f1 has no noise (sigma2 = 0)";
  else if (c->gibbs_gaussian && !(s->lmin > 0))
    s->gibbs_note = "no Gaussian form: the Hessian of f0 at its minimum is not positive definite";
  if (s->gibbs_note) return CGD_OK;
  s->gibbs = malloc(s->ncell * sizeof *s->gibbs);
  if (!s->gibbs) return cgd_fail(err, CGD_ENOMEM, "out of memory");
  cgd_eval_fn fn = c->gibbs_gaussian ? cgd_quad_model_eval : s->obj->eval_f0;
  void *fctx = c->gibbs_gaussian ? (void *)&s->qm : s->obj->ctx;
  return s->dim == 1 ? cgd_gibbs_bins_1d(fn, fctx, c->lr, s->sigma2[0], R[0], R[1], nb, s->gibbs, err)
                     : cgd_gibbs_bins_2d(fn, fctx, c->lr, s->sigma2[0], R[0], R[1], nb, R[0],
                                         R[1], nb, s->gibbs, err);
}

static int build_objective(cgd_run_ctx *r, cgd_error *err) {
  const cgd_run_config *c = r->cfg;
  const char *pn[CGD_MAX_PARAMS];
  cgd_ms_spec spec = cgd_ms_spec_of(c, pn);
  return cgd_multiscale_create(&spec, &r->obj, err);
}

static const char *short_name(const char *s) {
  return strlen(s) < 20 && !strpbrk(s, "()*/^+ ") ? s : "expr";
}

/* f and ∇f must be defined where the user starts the run (--x0): otherwise the objective
 * is the mistake (exit 2), not a divergence of the dynamics. Evaluated in cache-sized
 * chunks (these kinds have dim ≤ 2): arrays for the whole ensemble were 16 bytes a
 * particle of fresh pages, a cost of the order of a step of the map. The verdict is that
 * of one evaluation of every state: an error of the objective in any chunk comes before
 * the first state whose f or ∇f is not finite, so every chunk is evaluated first. */
static int check_initial(cgd_run_ctx *r, cgd_error *err) {
  enum { CHUNK = 1024 };
  const size_t n = r->n, dim = r->dim;
  double f[CHUNK], g[2 * CHUNK];
  size_t bad = n; /* the first state not defined */
  double bad_f = 0;
  for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
    const size_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
    const double *x = r->x + i0 * dim;
    int rc = r->obj->eval(r->obj->ctx, m, x, f, g, NULL, err);
    /* a state so far out that the objective calls it run away (CGD_EDIVERGED) is, before
     * any step, a point the user chose: a usage error like any other here (exit 2), not a
     * divergence of the dynamics (exit 5, which promises a run directory) */
    if (rc == CGD_EDIVERGED) {
      char why[sizeof err->msg];
      snprintf(why, sizeof why, "%s", err->msg);
      return cgd_fail(err, CGD_EUSAGE, "--x0 %s: f cannot be evaluated at the initial states: %s",
                      r->cfg->x0, why);
    }
    if (rc) return rc;
    for (size_t j = 0; j < m && bad == n; j++) {
      int ok = isfinite(f[j]);
      for (size_t a = 0; a < dim; a++) ok &= isfinite(g[j * dim + a]);
      if (!ok) bad = i0 + j, bad_f = f[j];
    }
  }
  if (bad == n) return CGD_OK;
  const double *x = r->x + bad * dim;
  char at[96];
  if (dim == 1) snprintf(at, sizeof at, "x = %.17g", x[0]);
  else snprintf(at, sizeof at, "(x, y) = (%.17g, %.17g)", x[0], x[1]);
  return cgd_fail(err, CGD_EUSAGE, "f = %s + %s is not defined at the initial state %s "
                  "(particle %zu of --x0 %s): f = %g", r->cfg->f0, r->cfg->f1, at, bad,
                  r->cfg->x0, bad_f);
}

static int ms_setup(cgd_run_ctx *r, cgd_error *err) {
  cgd_run_config *c = r->cfg;
  ms_state *s = calloc(1, sizeof *s);
  if (!s) return cgd_fail(err, CGD_ENOMEM, "out of memory");
  r->ks = s;
  s->cfg = c;
  s->last_good_step = -1;
  /* an ensemble row costs a full evaluation of every particle: keep them to ~1000 */
  if (!c->log_every) c->log_every = c->ensemble > 1 ? (c->iters / 1000 > 10 ? c->iters / 1000 : 10) : 1;
  int rc = build_objective(r, err);
  if (rc) return rc;
  s->obj = r->obj;
  s->dim = r->dim = r->obj->dim;
  s->n = r->n = (size_t)c->ensemble;
  if (!c->hist_bins) c->hist_bins = s->dim == 1 ? 100 : 20;
  if (s->dim == 2 && c->hist_bins > 2000)
    return cgd_fail(err, CGD_EUSAGE, "--hist-bins: at most 2000 per axis in 2-D");
  if (c->burn_in == UINT64_MAX) c->burn_in = c->iters / 10;
  s->nbins = (size_t)c->hist_bins;
  s->ncell = s->dim == 1 ? s->nbins : s->nbins * s->nbins;
  if ((rc = cgd_multiscale_sigma2(r->obj, s->sigma2, err))) return rc;
  cgd_law law;
  uint64_t limit;
  if ((rc = cgd_parse_memory(c->max_memory, &limit, err))) return rc;
  /* states, initial copy, values, gradients, map state and scratch (~8 per coordinate),
   * crossings, and a single orbit's per-step series */
  uint64_t need = cgd_mem_add(cgd_mem_mul(cgd_mem_mul(s->n, s->dim), 8 * sizeof(double) + 1),
                              s->n == 1 ? cgd_mem_mul(c->iters + 1, sizeof(double)) : 0);
  if ((rc = cgd_mem_check(need, limit, CGD_EUSAGE, "this run (--ensemble, --iters)", err))) return rc;
  r->x = malloc(s->n * s->dim * sizeof *r->x);
  if (!r->x) return cgd_fail(err, CGD_ENOMEM, "out of memory for %zu particles", s->n);
  if ((rc = cgd_law_parse(c->x0, &law, err)) ||
      (rc = cgd_law_sample(&law, s->dim, s->n, c->seed, r->x, err)))
    return rc;
  if ((rc = cgd_steps_parse("--hist-at", s->n > 1 ? c->hist_at : "", c->iters, &s->hsteps, &s->nh, err)))
    return rc;
  /* relaxation time of the slow direction of f0 */
  cgd_error e2;
  s->qm.dim = s->dim;
  s->have_min = cgd_f0_minimum(r->obj, c->hist_range[0], c->hist_range[1], s->qm.xs, s->qm.H, &e2) == CGD_OK;
  s->lmin = s->have_min ? cgd_sym_lambda_min(s->qm.H, s->dim) : NAN;
  s->t_relax = s->lmin > 0 ? 10.0 / (c->lr * s->lmin) : NAN;
  if ((rc = gibbs_setup(s, err)) || (rc = check_initial(r, err))) return rc;
  if (isfinite(s->t_relax) && (double)c->iters < s->t_relax)
    snprintf(r->res->warning, sizeof r->res->warning,
             "%llu steps is short of the relaxation time of f0's slow direction: "
             "10/(lr*lambda_min) = %.0f steps (lambda_min = %g); histograms will still "
             "remember the initial law",
             (unsigned long long)c->iters, s->t_relax, s->lmin);
  if (r->res->warning[0] && !c->quiet) fprintf(stderr, "train: warning: %s\n", r->res->warning);
  r->mo = (cgd_map_opts){.kind = c->map, .lr = c->lr, .gamma = c->gamma, .mu = c->mu,
                         .seed = c->seed, .sigma2 = {s->sigma2[0], s->sigma2[1]}};
  char eps[32];
  if (snprintf(r->what, sizeof r->what, "%s-%s-%s-lr%g-eps%s-n%zu-seed%llu", short_name(c->f0),
               short_name(c->f1), cgd_map_kind_name(c->map), c->lr,
               cgd_fmt_double(c->eps, eps, sizeof eps), s->n, (unsigned long long)c->seed) >=
      (int)sizeof r->what)
    r->what[sizeof r->what - 1] = '\0';
  return CGD_OK;
}

static int orbit_setup(cgd_run_ctx *r, cgd_error *err) {
  int rc = ms_setup(r, err);
  if (rc) return rc;
  ms_state *s = r->ks;
  const double *R = r->cfg->hist_range;
  rc = s->dim == 1 ? cgd_hist_create(R[0], R[1], s->nbins, &s->orbit1, err)
                   : cgd_hist2d_create(R[0], R[1], s->nbins, R[0], R[1], s->nbins, &s->orbit2, err);
  if (rc) return rc;
  cgd_run_observer o = {.name = "orbit-histogram", .state = s, .block_done = orbit_block};
  o.wants = NULL; /* the series already observes every step; nothing more is asked */
  return cgd_run_attach(r, &o, err);
}

static int ens_wants_none(void *u, uint64_t t) {
  (void)u, (void)t;
  return 0;
}

static int ensemble_setup(cgd_run_ctx *r, cgd_error *err) {
  int rc = ms_setup(r, err);
  if (rc) return rc;
  ms_state *s = r->ks;
  if (s->dim == 1 && !(s->crossed = calloc(s->n, 1)))
    return cgd_fail(err, CGD_ENOMEM, "out of memory for %zu particles", s->n);
  s->nparts = (s->n + CGD_LOOP_OBS_CHUNK - 1) / CGD_LOOP_OBS_CHUNK;
  if (!(s->part = malloc(s->nparts * sizeof *s->part)))
    return cgd_fail(err, CGD_ENOMEM, "out of memory for %zu particles", s->n);
  for (size_t c = 0; c < s->nparts; c++) s->part[c].step = UINT64_MAX;
  cgd_run_observer b = {.name = "moves-and-crossings", .state = s, .wants = ens_wants_none,
                        .block_done = ens_block};
  if ((rc = cgd_run_attach(r, &b, err))) return rc;
  if ((rc = eh_init(&s->eh, s, NULL, NULL, err))) return rc;
  cgd_run_observer h = {.name = "histograms", .state = &s->eh, .wants = eh_wants,
                        .observe = eh_observe};
  return cgd_run_attach(r, &h, err);
}

/* ---------------------------------------------------------------- config, trace, files */

static void ms_describe(cgd_run_ctx *r, json_t *conf) {
  ms_state *s = r->ks;
  json_t *oj = json_object();
  json_object_set_new(oj, "name", json_string(r->obj->name));
  json_object_set_new(oj, "dim", json_integer((json_int_t)s->dim));
  json_object_set_new(oj, "sigma2", cgd_jarray(s->sigma2, s->dim));
  json_object_set_new(oj, "noise_law", json_string(cgd_multiscale_noise_law(r->obj)));
  json_object_set_new(oj, "lambda_min_f0", cgd_jreal(s->lmin));
  json_object_set_new(oj, "relaxation_steps", cgd_jreal(s->t_relax));
  if (!strcmp(r->cfg->f0, "doublewell"))
    json_object_set_new(oj, "critical_k", json_real(cgd_doublewell_critical_k()));
  json_object_set_new(conf, "objective_info", oj);
}

static const char *ms_trace_header(cgd_run_ctx *r) {
  ms_state *s = r->ks;
  if (s->n == 1) return s->dim == 1 ? "step,x,f,grad_x" : "step,x,y,f,grad_x,grad_y";
  return s->dim == 1 ? "step,f_mean,x_mean,x_std,frac_x_neg"
                     : "step,f_mean,x_mean,x_std,y_mean,y_std,frac_x_neg";
}

/* Sums over a chunk in eight interleaved partial sums (element j into sum j mod 8), folded
 * as ((0+4)+(2+6)) + ((1+5)+(3+7)), then the m mod 8 last in order: a fixed order, so the
 * same bits at every vector width, and eight chains at the adder's throughput. */
static double fold8(const double *a) {
  return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

/* how many of v[j·stride] are < 0 (integer lanes, so any order gives the same count) */
CGD_CLONES static uint64_t count_neg(size_t m, const double *v, size_t stride) {
  uint64_t n = 0;
  if (stride == 1)
    for (size_t j = 0; j < m; j++) n += v[j] < 0;
  else
    for (size_t j = 0; j < m; j++) n += v[j * stride] < 0;
  return n;
}

/* Σ TERM over u = v[j·stride], j < m, in the lanes of fold8; the stride-1 loop spelled
 * out so that it vectorises. */
#define LANE_SUM(TERM)                                                                     \
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                               \
  const size_t m8 = m & ~(size_t)7;                                                       \
  if (stride == 1)                                                                        \
    for (size_t j = 0; j < m8; j += 8)                                                    \
      for (size_t k = 0; k < 8; k++) {                                                    \
        const double u = v[j + k];                                                        \
        acc[k] += (TERM);                                                                 \
      }                                                                                   \
  else                                                                                    \
    for (size_t j = 0; j < m8; j += 8)                                                    \
      for (size_t k = 0; k < 8; k++) {                                                    \
        const double u = v[(j + k) * stride];                                             \
        acc[k] += (TERM);                                                                 \
      }                                                                                   \
  double t = fold8(acc);                                                                  \
  for (size_t j = m8; j < m; j++) {                                                       \
    const double u = v[j * stride];                                                       \
    t += (TERM);                                                                          \
  }                                                                                       \
  return t

CGD_CLONES static double lane_sum(size_t m, const double *v, size_t stride) {
  LANE_SUM(u);
}

/* Σ (v[j·stride] − c)² */
CGD_CLONES static double lane_sq_dev(size_t m, const double *v, size_t stride, double c) {
  LANE_SUM((u - c) * (u - c));
}
#undef LANE_SUM

/* The trace row's moments of chunk c, while it is in cache: two passes over the chunk
 * (its mean, then the squared deviations from it) cost no pass over memory. */
static void ms_trace_chunk(cgd_run_ctx *r, uint64_t t, size_t c, size_t i0, size_t m,
                           const double *x, const double *f, const double *g) {
  ms_state *s = r->ks;
  const size_t dim = r->dim;
  (void)i0, (void)g;
  if (!s->part || c >= s->nparts || r->n == 1) return;
  ens_part *p = &s->part[c];
  p->m = m;
  p->sf = lane_sum(m, f, 1);
  p->neg = count_neg(m, x, dim);
  for (size_t a = 0; a < dim; a++) {
    p->sx[a] = lane_sum(m, x + a, dim);
    p->m2[a] = lane_sq_dev(m, x + a, dim, p->sx[a] / (double)m);
  }
  p->step = t;
}

/* Ensemble moments from the chunks' partials, in chunk order: Σf and Σx added up, the
 * variance by the parallel-axis rule M2 = Σ_c [M2_c + m_c (mean_c − mean)²] (each chunk's
 * deviations were taken from its own mean, so nothing cancels). 1 if every chunk has its
 * partials for step t. */
static int moments_from_parts(const ms_state *s, uint64_t t, size_t n, size_t dim, double *fm,
                              double *m, double *v, size_t *neg) {
  if (!s->part || s->nparts != (n + CGD_LOOP_OBS_CHUNK - 1) / CGD_LOOP_OBS_CHUNK) return 0;
  double sf = 0, sx[2] = {0, 0}, m2[2] = {0, 0};
  uint64_t ng = 0;
  for (size_t c = 0; c < s->nparts; c++) {
    const ens_part *p = &s->part[c];
    if (p->step != t) return 0;
    sf += p->sf;
    ng += p->neg;
    for (size_t a = 0; a < dim; a++) sx[a] += p->sx[a];
  }
  for (size_t a = 0; a < dim; a++) {
    m[a] = sx[a] / (double)n;
    for (size_t c = 0; c < s->nparts; c++) {
      const ens_part *p = &s->part[c];
      const double d = p->sx[a] / (double)p->m - m[a];
      m2[a] += p->m2[a] + (double)p->m * (d * d);
    }
    v[a] = m2[a] / (double)n;
  }
  *fm = sf;
  *neg = (size_t)ng;
  return 1;
}

static void ms_trace_row(cgd_run_ctx *r, FILE *fp, uint64_t t, size_t n, const double *x,
                         const double *f, const double *g) {
  const size_t dim = r->dim;
  if (n == 1) {
    fprintf(fp, "%llu,%.17g", (unsigned long long)t, x[0]);
    if (dim == 2) fprintf(fp, ",%.17g", x[1]);
    fprintf(fp, ",%.17g,%.17g", f[0], g[0]);
    if (dim == 2) fprintf(fp, ",%.17g", g[1]);
    return;
  }
  /* ensemble moments in a fixed order, from per-chunk partials: the loop hands the chunks
   * over while they are in cache (ms_trace_chunk); a row reached otherwise computes them
   * here, by the same function, so both give the same bits */
  double fm = 0, m[2] = {0, 0}, v[2] = {0, 0};
  size_t neg = 0;
  if (!moments_from_parts(r->ks, t, n, dim, &fm, m, v, &neg)) {
    for (size_t i0 = 0, c = 0; i0 < n; i0 += CGD_LOOP_OBS_CHUNK, c++)
      ms_trace_chunk(r, t, c, i0, n - i0 < CGD_LOOP_OBS_CHUNK ? n - i0 : CGD_LOOP_OBS_CHUNK,
                     x + i0 * dim, f + i0, g + i0 * dim);
    if (!moments_from_parts(r->ks, t, n, dim, &fm, m, v, &neg)) /* cannot happen: say so */
      fm = m[0] = m[1] = v[0] = v[1] = NAN;
  }
  fprintf(fp, "%llu,%.17g,%.17g,%.17g", (unsigned long long)t, fm / (double)n, m[0], sqrt(v[0]));
  if (dim == 2) fprintf(fp, ",%.17g,%.17g", m[1], sqrt(v[1]));
  fprintf(fp, ",%.17g", (double)neg / (double)n);
}

static int ms_begin(cgd_run_ctx *r, cgd_error *err) {
  ms_state *s = r->ks;
  int rc = cgd_outfile_open(&s->hist, r->dir, "hist.csv", err);
  if (rc) return rc;
  fputs(hist_header(s->dim), s->hist.fp);
  s->eh.fp = s->hist.fp;
  s->eh.fpath = s->hist.tmp_path;
  return CGD_OK;
}

static json_t *dist_json(json_t *o, const struct cgd_distances *d) {
  json_object_set_new(o, "tv", cgd_jreal(d->tv));
  json_object_set_new(o, "hellinger", cgd_jreal(d->hellinger));
  json_object_set_new(o, "kl", cgd_jreal(d->kl));
  json_object_set_new(o, "w1", cgd_jreal(d->w1));
  json_object_set_new(o, "ks", cgd_jreal(d->ks));
  return o;
}

static void gibbs_summary(cgd_run_ctx *r, ms_state *s, json_t *sum) {
  const cgd_run_config *c = r->cfg;
  json_t *gj = json_object();
  json_object_set_new(gj, "form", json_string(c->gibbs_gaussian ? "gaussian" : "exact"));
  if (s->have_min) json_object_set_new(gj, "f0_minimum", cgd_jarray(s->qm.xs, s->dim));
  json_object_set_new(gj, "sigma2", cgd_jarray(s->sigma2, s->dim));
  json_object_set_new(gj, "source", json_string(s->gibbs ? s->gsource : s->gibbs_note));
  json_object_set_new(gj, "in_range_fraction", cgd_jreal(s->in_range));
  dist_json(gj, &s->final);
  /* a histogram and its distance describe the in-range part only: say when that is not
   * nearly everything */
  if (s->in_range < 0.99) {
    char w[300];
    snprintf(w, sizeof w, "%.1f%% of the %s lies outside --hist-range %g,%g: the histogram "
             "and its Gibbs distances describe the in-range part only", 100 * (1 - s->in_range),
             s->n > 1 ? "ensemble" : "orbit", c->hist_range[0], c->hist_range[1]);
    size_t len = strlen(r->res->warning);
    snprintf(r->res->warning + len, sizeof r->res->warning - len, "%s%s", len ? "; " : "", w);
    if (!c->quiet) fprintf(stderr, "train: warning: %s\n", w);
  }
  json_object_set_new(gj, "bins", json_integer((json_int_t)s->nbins));
  json_object_set_new(gj, "range", cgd_jarray(c->hist_range, 2));
  json_object_set_new(sum, "gibbs", gj);
  const double *d = &s->final.tv;
  for (int i = 0; i < 5; i++) r->res->gibbs[i] = d[i];
  if (!strcmp(c->f0, "doublewell")) {
    double kc = cgd_doublewell_critical_k();
    json_object_set_new(sum, "critical_k", json_real(kc));
    json_object_set_new(sum, "k_below_critical", json_boolean(c->k < kc));
  }
}

static int orbit_end(cgd_run_ctx *r, json_t *sum, cgd_error *err) {
  ms_state *s = r->ks;
  const cgd_run_config *c = r->cfg;
  json_object_set_new(sum, "particles", json_integer(1));
  /* as the MLP's final_loss: what a comparison's table reads back on --resume */
  json_object_set_new(sum, "first_increase_step",
                      r->res->first_increase >= 0 ? json_integer(r->res->first_increase) : json_null());
  json_object_set_new(sum, "final_f", cgd_jreal(r->res->final_value));
  s->final = (struct cgd_distances){NAN, NAN, NAN, NAN, NAN};
  s->in_range = NAN;
  /* the newest state is the one the run stopped on unless it completed or was interrupted
   * (then that state had passed the map's check; f there is not needed) */
  if (s->orbit_has_pending && (r->run_rc == CGD_OK || r->run_rc == CGD_EINTERRUPTED))
    orbit_count(s, s->orbit_pending);
  s->orbit_has_pending = 0;
  if (s->orbit_n) {
    double *p = malloc(s->ncell * sizeof *p);
    if (!p) return cgd_fail(err, CGD_ENOMEM, "out of memory");
    uint64_t tot = s->dim == 1 ? cgd_hist_prob(s->orbit1, p) : cgd_hist2d_prob(s->orbit2, p);
    if (s->gibbs && tot) distances(s, p, s->gibbs, &s->final);
    write_hist_rows(s, s->hist.fp, r->lr.steps, "orbit", p, tot, &s->final);
    free(p);
    snprintf(s->gsource, sizeof s->gsource, "orbit, steps %llu..%llu",
             (unsigned long long)c->burn_in, (unsigned long long)r->lr.steps);
    json_t *oj = json_object(), *mean = json_array(), *sd = json_array();
    json_object_set_new(oj, "burn_in", json_integer((json_int_t)c->burn_in));
    json_object_set_new(oj, "samples", json_integer((json_int_t)s->orbit_n));
    for (size_t a = 0; a < s->dim; a++) {
      double m = s->orbit_sum[a] / (double)s->orbit_n;
      json_array_append_new(mean, cgd_jreal(m));
      json_array_append_new(sd, cgd_jreal(sqrt(fmax(s->orbit_sq[a] / (double)s->orbit_n - m * m, 0))));
    }
    json_object_set_new(oj, "mean", mean);
    json_object_set_new(oj, "std", sd);
    s->in_range = (double)tot / (double)s->orbit_n;
    json_object_set_new(oj, "in_range_fraction", json_real(s->in_range));
    json_object_set_new(sum, "orbit", oj);
  }
  gibbs_summary(r, s, sum);
  return cgd_outfile_commit(&s->hist, err);
}

/* ---------------------------------------------------------------- ensembles: second map */

/* The same initial ensemble through --compare-map: its histograms (compare_hist.csv) and
 * the distances between the two maps' laws at every histogram step (compare.csv). */
static int compare_run(cgd_run_ctx *r, ms_state *s, json_t *sum, cgd_error *err) {
  const cgd_run_config *c = r->cfg;
  cgd_map_opts mo = r->mo;
  mo.kind = c->compare_map;
  cgd_map *map = NULL;
  ens_hists h2;
  cgd_outfile hf = {0}, cf = {0};
  double *x2 = malloc(s->n * s->dim * sizeof *x2);
  int rc = x2 ? eh_init(&h2, s, NULL, NULL, err) : cgd_fail(err, CGD_ENOMEM, "out of memory");
  if (rc || (rc = cgd_map_create(&mo, r->obj, s->n, &map, err))) goto out;
  if ((rc = cgd_outfile_open(&hf, r->dir, "compare_hist.csv", err))) goto out;
  fputs(hist_header(s->dim), hf.fp);
  h2.fp = hf.fp;
  h2.fpath = hf.tmp_path;
  memcpy(x2, r->x0, s->n * s->dim * sizeof *x2);
  cgd_observer ob = {.user = &h2, .wants = eh_wants, .observe = eh_observe};
  cgd_loop_opts lo = {.iters = c->iters, .loss_limit = INFINITY, .stop = c->stop};
  cgd_loop_result lr2;
  cgd_error cerr;
  const int crc = cgd_loop_run(&lo, r->obj, map, s->n, x2, &ob, &lr2, &cerr);
  if (crc && crc != CGD_EINTERRUPTED && crc != CGD_EDIVERGED) {
    rc = cgd_fail(err, crc, "compare map %s: %s", cgd_map_kind_name(c->compare_map), cerr.msg);
    goto out;
  }
  /* What the second map reached is kept however it ended: its histograms and the distances
   * at the histogram steps both maps reached. A divergence or an interruption of the second
   * map is the run's outcome (exit code, status), its message naming that map; the first
   * map's results stand, so diverged_step and steps_completed at the top level stay its own
   * and the "compare" section carries the second map's. */
  if ((rc = cgd_outfile_commit(&hf, err))) goto out;
  if ((rc = cgd_outfile_open(&cf, r->dir, "compare.csv", err))) goto out;
  fprintf(cf.fp, "step,tv,hellinger,kl,w1,ks,%s_tv_gibbs,%s_tv_gibbs\n", cgd_map_kind_name(c->map),
          cgd_map_kind_name(c->compare_map));
  json_t *ca = json_array();
  for (size_t k = 0; k < h2.next_h && k < s->eh.next_h; k++) {
    struct cgd_distances d = {NAN, NAN, NAN, NAN, NAN};
    distances(s, s->eh.probs + k * s->ncell, h2.probs + k * s->ncell, &d);
    fprintf(cf.fp, "%llu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n",
            (unsigned long long)s->hsteps[k], d.tv, d.hellinger, d.kl, d.w1, d.ks,
            s->eh.dist[k].tv, h2.dist[k].tv);
    json_t *o = dist_json(json_pack("{s:I}", "step", (json_int_t)s->hsteps[k]), &d);
    json_object_set_new(o, "tv_to_gibbs_compare_map", cgd_jreal(h2.dist[k].tv));
    json_array_append_new(ca, o);
  }
  json_t *cj = json_pack("{s:s, s:s, s:s, s:o, s:I, s:o}", "map", cgd_map_kind_name(c->compare_map),
                         "status", cgd_status_name(crc), "message", crc ? cerr.msg : "",
                         "diverged_step", lr2.bad_step >= 0 ? json_integer(lr2.bad_step) : json_null(),
                         "steps_completed", (json_int_t)lr2.steps, "steps", ca);
  json_object_set_new(sum, "compare", cj);
  if (crc) {
    r->run_rc = crc;
    cgd_fail(&r->run_err, crc, "compare map %s: %s", cgd_map_kind_name(c->compare_map), cerr.msg);
  }
  rc = cgd_outfile_commit(&cf, err);
out:
  cgd_outfile_discard(&hf);
  cgd_outfile_discard(&cf);
  cgd_map_free(map);
  if (x2) eh_free(&h2);
  free(x2);
  return rc;
}

static void crossings_summary(ms_state *s, const double *x, json_t *ej) {
  size_t neg = 0, cn = 0, co = 0;
  for (size_t i = 0; i < s->n; i++) {
    neg += x[i] < 0;
    cn += (s->crossed[i] & 1) != 0;
    co += (s->crossed[i] & 2) != 0;
  }
  json_object_set_new(ej, "frac_x_neg_final", json_real((double)neg / (double)s->n));
  json_object_set_new(ej, "frac_crossed", json_real((double)cn / (double)s->n));
  json_object_set_new(ej, "frac_macro_overshoot", json_real((double)co / (double)s->n));
  if (co)
    json_object_set_new(ej, "note",
                        json_string("some particles crossed x = 0 because the macro map "
                                    "x - lr*f0'(x) alone overshoots the barrier (a transient "
                                    "of the large-scale map, e.g. particles started high on a "
                                    "steep wall), not through the eps-scale dynamics; they are "
                                    "counted in frac_macro_overshoot, not in frac_crossed"));
}

/* An ensemble that diverged after its last histogram step (often before its first: the
 * default is the last step) would leave no law of the states before they ran away. The
 * loop keeps no earlier states, and after a divergence between observed steps its blocks
 * stand at different steps, so the law at the last good step (bad_step − 1: every state
 * finite) is recomputed: the same map from the same initial states up to that step, the
 * same bits as the run had there (chaosgd/loop.h). Only on this failure path; it costs at
 * most the run's time again. Rows of kind last_good in hist.csv. */
static int last_good_hist(cgd_run_ctx *r, ms_state *s, json_t *sum, cgd_error *err) {
  const uint64_t bad = (uint64_t)r->lr.bad_step;
  const int64_t last_hist = s->eh.next_h ? (int64_t)s->hsteps[s->eh.next_h - 1] : -1;
  uint64_t good = bad - 1;
  cgd_map *map = NULL;
  double *x2 = malloc(s->n * s->dim * sizeof *x2), *p = malloc(s->ncell * sizeof *p);
  int rc = x2 && p ? CGD_OK : cgd_fail(err, CGD_ENOMEM, "out of memory for the last good histogram");
  int lrc = CGD_OK;
  cgd_error e2;
  /* Step bad − 1 passed every check the map makes at each step, but a map that evaluates
   * only ∇f0 (stochastic, Gaussian) meets f1's range only at observed steps: if bad − 1
   * fails when observed, the last observed step before bad, which the run did check, is
   * (unless hist.csv already has that law). */
  for (int attempt = 0; !rc && attempt < 2; attempt++) {
    if (attempt) {
      const int64_t checked = r->lr.last_checked;
      if (!(lrc == CGD_EDIVERGED || lrc == CGD_EDOMAIN) || checked < 0 || (uint64_t)checked >= good)
        break;
      if (checked <= last_hist) {
        snprintf(e2.msg, sizeof e2.msg, "step %llu is out of range where observed; the last step "
                 "checked before it, %lld, has its law in hist.csv already",
                 (unsigned long long)good, (long long)checked);
        break;
      }
      good = (uint64_t)checked;
    }
    cgd_map_free(map);
    map = NULL;
    if ((rc = cgd_map_create(&r->mo, r->obj, s->n, &map, err))) break;
    memcpy(x2, r->x0, s->n * s->dim * sizeof *x2);
    cgd_observer ob = {.wants = ens_wants_none};
    cgd_loop_opts lo = {.iters = good, .loss_limit = INFINITY, .stop = r->cfg->stop};
    cgd_loop_result lr2;
    if (!(lrc = cgd_loop_run(&lo, r->obj, map, s->n, x2, &ob, &lr2, &e2))) break;
  }
  if (!rc) {
    uint64_t total = 0;
    /* interrupted meanwhile (or no step before bad passes when observed): the run's own
     * outcome stands, without these rows */
    if (lrc)
      json_object_set_new(sum, "last_good_hist", json_pack("{s:I, s:s}", "step", (json_int_t)good,
                                                             "not_written", e2.msg));
    else if (!(rc = ensemble_probs(s, x2, p, &total, err))) {
      struct cgd_distances d = {NAN, NAN, NAN, NAN, NAN};
      if (s->gibbs && total) distances(s, p, s->gibbs, &d);
      write_hist_rows(s, s->hist.fp, good, "last_good", p, total, &d);
      s->last_good_step = (int64_t)good;
      s->last_good_inrange = (double)total / (double)s->n;
      json_object_set_new(sum, "last_good_hist",
                          dist_json(json_pack("{s:I, s:f}", "step", (json_int_t)good, "in_range_fraction",
                                              (double)total / (double)s->n), &d));
    }
  }
  cgd_map_free(map);
  free(x2);
  free(p);
  return rc;
}

static int ensemble_end(cgd_run_ctx *r, json_t *sum, cgd_error *err) {
  ms_state *s = r->ks;
  const cgd_run_config *c = r->cfg;
  int rc = CGD_OK;
  if (r->run_rc == CGD_EDIVERGED && r->lr.bad_step >= 1 &&
      (s->eh.next_h == 0 || s->hsteps[s->eh.next_h - 1] + 1 < (uint64_t)r->lr.bad_step))
    rc = last_good_hist(r, s, sum, err);
  if (rc) { /* hist.csv still keeps what it had */
    cgd_error e;
    cgd_outfile_commit(&s->hist, &e);
    return rc;
  }
  if ((rc = cgd_outfile_commit(&s->hist, err))) return rc;
  for (size_t k = 0; k < CGD_LOOP_SLOTS; k++)
    if (s->cross[k].status) {
      *err = s->cross[k].err;
      return s->cross[k].status;
    }
  json_object_set_new(sum, "particles", json_integer((json_int_t)s->n));
  double max_move = 0;
  for (size_t k = 0; k < CGD_LOOP_SLOTS; k++) max_move = fmax(max_move, s->max_move[k]);
  /* every particle stopped: the last step moved none by more than 1e-12 */
  snprintf(r->verdict, sizeof r->verdict, "%s",
           r->lr.steps == c->iters && max_move <= 1e-12 ? "converged" : "fluctuating");
  json_t *ej = json_object();
  json_object_set_new(ej, "max_move_last_step", cgd_jreal(max_move));
  if (s->crossed) crossings_summary(s, r->x, ej);
  json_object_set_new(sum, "ensemble", ej);
  s->final = (struct cgd_distances){NAN, NAN, NAN, NAN, NAN};
  s->in_range = NAN;
  if (s->eh.next_h > 0) {
    s->final = s->eh.dist[s->eh.next_h - 1];
    s->in_range = (double)s->eh.inrange[s->eh.next_h - 1] / (double)s->n;
    snprintf(s->gsource, sizeof s->gsource, "ensemble of %zu at step %llu", s->n,
             (unsigned long long)s->hsteps[s->eh.next_h - 1]);
  }
  gibbs_summary(r, s, sum);
  if (c->compare && r->run_rc == CGD_OK && (rc = compare_run(r, s, sum, err))) return rc;
  return CGD_OK;
}

/* ---------------------------------------------------------------- plots */

static void plot_trace(cgd_run_ctx *r, FILE *gp) {
  const cgd_run_config *c = r->cfg;
  fprintf(gp,
          "# gnuplot script that drew trace.png and hist.png from this directory's files\n"
          "set terminal pngcairo size 1000,600 font ',10'\n"
          "set datafile separator ','\n"
          "set output 'trace.png'\n"
          "set title \"%s, %s, lr = %g%s\"\n"
          "set xlabel 'step'; set grid; set rmargin 4\n",
          r->obj->name, cgd_map_kind_name(c->map), c->lr,
          r->run_rc == CGD_EDIVERGED ? " (diverged)" : r->run_rc == CGD_EINTERRUPTED ? " (interrupted)" : "");
  const uint64_t rows = c->iters / c->log_every + 1;
  if (r->n == 1) /* dots for long orbits, small points when thinned */
    fprintf(gp, "set ylabel 'x'\nplot 'trace.csv' every ::1 using 1:($2 < 1e300 && $2 > -1e300 ? $2 : NaN) with %s notitle\n",
            rows > 100000 ? "dots" : "points pt 7 ps 0.3");
  else
    fprintf(gp, "set ylabel 'ensemble'\nplot 'trace.csv' every ::1 using 1:3 with linespoints "
                "pt 7 ps 0.2 title 'mean x', '' every ::1 using 1:4 with linespoints pt 7 ps 0.2 title 'std x'\n");
}

static int ms_plot(cgd_run_ctx *r, FILE *gp, char *pngs, size_t len, char *why, size_t wlen) {
  ms_state *s = r->ks;
  const cgd_run_config *c = r->cfg;
  const char *kind = s->n == 1 ? "orbit" : "ensemble";
  if (!r->any_obs) {
    snprintf(why, wlen, "no step was observed");
    return -1;
  }
  plot_trace(r, gp);
  snprintf(pngs, len, "trace.png");
  char lyp[4200];
  snprintf(lyp, sizeof lyp, "%s/liyorke.csv", r->dir);
  if (access(lyp, R_OK) == 0) { /* Fig. 8: the witness a -> b -> c -> d as a cobweb on φ */
    fprintf(gp, "set output 'liyorke.png'\nset title \"Li-Yorke witness of the GD map phi(x) = x - lr f'(x)\"\n"
                "set xlabel 'x'; set ylabel 'phi(x)'; set key top left; set size ratio -1\n"
                "plot 'liyorke.csv' index 0 every ::1 using 1:2 with lines lw 1 title 'phi', x with lines dt 2 lc rgb 'gray' title 'y = x', "
                "'' index 1 using 1:1:(0):($2-$1) with vectors lw 2 lc rgb 'red' title 'a -> b -> c -> d', "
                "'' index 1 using 1:2:($2-$1):(0) with vectors lw 2 lc rgb 'red' notitle, "
                "'' index 1 using 1:2 with points pt 7 lc rgb 'black' notitle\n"
                "set size noratio\n");
    snprintf(pngs, len, "trace.png liyorke.png");
  }
  const int have_hist = s->n == 1 ? s->orbit_n > 0 : s->eh.next_h > 0 || s->last_good_step >= 0;
  if (!have_hist) return 0; /* e.g. a run that stopped before its first histogram */
  /* the filled histogram: the last one, which for a diverged ensemble is its last good law
   * (later than every histogram step by construction) */
  const int lg = s->n > 1 && s->last_good_step >= 0;
  const uint64_t last = s->n == 1 ? r->lr.steps : lg ? (uint64_t)s->last_good_step : s->hsteps[s->eh.next_h - 1];
  const char *fkind = lg ? "last_good" : kind;
  char note[96] = "";
  if (lg)
    snprintf(note, sizeof note, " (last good: diverged after; %.3g%% of the particles in range)",
             100 * s->last_good_inrange);
  const double lo = c->hist_range[0], hi = c->hist_range[1], w = (hi - lo) / (double)s->nbins;
  strncat(pngs, " hist.png", len - strlen(pngs) - 1);
  fprintf(gp, "set output 'hist.png'\nset key default; set xlabel 'x'\n");
  if (s->dim == 1) {
    /* every histogram step as a step line (the relaxation over time), the last one filled,
     * and the Gibbs law's bin densities as a step line too */
    fprintf(gp,
            "set title \"%s histograms vs the %s Gibbs law (density per bin)\"\n"
            "set xlabel 'x'; set ylabel 'density'; set style fill solid 0.3\n"
            "plot 'hist.csv' every ::1 using ((column(1)==%llu && strcol(2) eq '%s') ? "
            "($4+$5)/2 : NaN):($7/%.17g):($5-$4) with boxes lc rgb '#9ab' title 'step %llu%s'",
            kind, c->gibbs_gaussian ? "Gaussian-form" : "rescaled", (unsigned long long)last,
            fkind, w, (unsigned long long)last, note);
    for (size_t h = 0; s->n > 1 && h + (lg ? 0 : 1) < s->eh.next_h; h++)
      fprintf(gp,
              ", '' every ::1 using ((column(1)==%llu && strcol(2) eq '%s') ? ($4+$5)/2 : "
              "NaN):($7/%.17g) with histeps lw 1.5 title 'step %llu'",
              (unsigned long long)s->hsteps[h], kind, w, (unsigned long long)s->hsteps[h]);
    if (s->gibbs)
      fprintf(gp,
              ", '' every ::1 using ((column(1)==%llu && strcol(2) eq '%s') ? ($4+$5)/2 : NaN):"
              "($8/%.17g) with histeps lw 2.5 lc rgb 'black' title 'Gibbs law'",
              (unsigned long long)last, fkind, w);
    fputc('\n', gp);
    return 0;
  }
  fprintf(gp,
          "set terminal pngcairo size 1200,550 font ',10'\nset output 'hist.png'\n"
          "set multiplot layout 1,2\nset size ratio -1; set cblabel 'probability'\n"
          "set xrange [%.17g:%.17g]; set yrange [%.17g:%.17g]\n"
          "set xlabel 'x'; set ylabel 'y'\n"
          "set title \"%s at step %llu%s\"\n"
          "plot 'hist.csv' every ::1 using ((column(1)==%llu && strcol(2) eq '%s') ? "
          "($4+$5)/2 : NaN):(($7+$8)/2):(($5-$4)/2):(($8-$7)/2):10 with boxxyerror "
          "fs solid noborder lc palette notitle\n",
          lo, hi, lo, hi, kind, (unsigned long long)last, note,
          (unsigned long long)last, fkind);
  if (s->gibbs)
    fprintf(gp,
            "set title 'rescaled Gibbs law'\n"
            "plot 'hist.csv' every ::1 using ((column(1)==%llu && strcol(2) eq '%s') ? "
            "($4+$5)/2 : NaN):(($7+$8)/2):(($5-$4)/2):(($8-$7)/2):11 with boxxyerror "
            "fs solid noborder lc palette notitle\n",
            (unsigned long long)last, fkind);
  fprintf(gp, "unset multiplot\n");
  return 0;
}

/* ---------------------------------------------------------------- checkpoints */

static int ms_save(cgd_run_ctx *r, FILE *fp, cgd_error *err) {
  ms_state *s = r->ks;
  if (fflush(s->hist.fp) != 0)
    return cgd_fail(err, CGD_EIO, "error writing %s: %s", s->hist.tmp_path, strerror(errno));
  cgd_ck_put_u64(fp, (uint64_t)ftell(s->hist.fp));
  if (s->orbit1) {
    const cgd_hist *h = s->orbit1;
    cgd_ck_put(fp, h->count, h->nbins * sizeof *h->count);
    const uint64_t u[] = {h->under, h->over, h->nonfinite, h->n};
    const double d[] = {h->min, h->max, h->mean, h->m2};
    cgd_ck_put(fp, u, sizeof u);
    cgd_ck_put(fp, d, sizeof d);
  }
  if (s->orbit2) {
    const cgd_hist2d *h = s->orbit2;
    const uint64_t u[] = {h->outside, h->nonfinite};
    cgd_ck_put(fp, h->count, h->nx * h->ny * sizeof *h->count);
    cgd_ck_put(fp, u, sizeof u);
  }
  cgd_ck_put(fp, s->orbit_sum, sizeof s->orbit_sum);
  cgd_ck_put(fp, s->orbit_sq, sizeof s->orbit_sq);
  cgd_ck_put_u64(fp, s->orbit_n);
  cgd_ck_put(fp, s->orbit_pending, sizeof s->orbit_pending);
  cgd_ck_put_u64(fp, s->orbit_has_pending);
  cgd_ck_put(fp, s->crossed, s->crossed ? s->n : 0);
  cgd_ck_put(fp, s->max_move, sizeof s->max_move);
  cgd_ck_put_u64(fp, s->eh.next_h);
  cgd_ck_put(fp, s->eh.probs, s->eh.probs ? s->nh * s->ncell * sizeof *s->eh.probs : 0);
  cgd_ck_put(fp, s->eh.dist, s->eh.dist ? s->nh * sizeof *s->eh.dist : 0);
  cgd_ck_put(fp, s->eh.inrange, s->eh.inrange ? s->nh * sizeof *s->eh.inrange : 0);
  return CGD_OK;
}

static int ms_load(cgd_run_ctx *r, FILE *fp, cgd_error *err) {
  ms_state *s = r->ks;
  uint64_t off, nh;
  int rc = cgd_ck_get_u64(fp, &off, "hist offset", err);
  if (!rc && s->orbit1) {
    cgd_hist *h = s->orbit1;
    uint64_t u[4];
    double d[4];
    if (!(rc = cgd_ck_get(fp, h->count, h->nbins * sizeof *h->count, "orbit histogram", err)) &&
        !(rc = cgd_ck_get(fp, u, sizeof u, "orbit counts", err)) &&
        !(rc = cgd_ck_get(fp, d, sizeof d, "orbit moments", err))) {
      h->under = u[0], h->over = u[1], h->nonfinite = u[2], h->n = u[3];
      h->min = d[0], h->max = d[1], h->mean = d[2], h->m2 = d[3];
    }
  }
  if (!rc && s->orbit2) {
    cgd_hist2d *h = s->orbit2;
    uint64_t u[2];
    if (!(rc = cgd_ck_get(fp, h->count, h->nx * h->ny * sizeof *h->count, "orbit histogram", err)) &&
        !(rc = cgd_ck_get(fp, u, sizeof u, "orbit counts", err)))
      h->outside = u[0], h->nonfinite = u[1];
  }
  if (!rc) rc = cgd_ck_get(fp, s->orbit_sum, sizeof s->orbit_sum, "orbit sums", err);
  if (!rc) rc = cgd_ck_get(fp, s->orbit_sq, sizeof s->orbit_sq, "orbit squares", err);
  if (!rc) rc = cgd_ck_get_u64(fp, &s->orbit_n, "orbit samples", err);
  if (!rc) rc = cgd_ck_get(fp, s->orbit_pending, sizeof s->orbit_pending, "orbit state", err);
  if (!rc) rc = cgd_ck_get_u64(fp, &s->orbit_has_pending, "orbit state", err);
  if (!rc) rc = cgd_ck_get(fp, s->crossed, s->crossed ? s->n : 0, "crossings", err);
  if (!rc) rc = cgd_ck_get(fp, s->max_move, sizeof s->max_move, "moves", err);
  if (!rc) rc = cgd_ck_get_u64(fp, &nh, "histogram step", err);
  if (!rc && nh > s->nh) rc = cgd_fail(err, CGD_EDATA, "checkpoint: histogram step out of range");
  if (rc) return rc;
  s->eh.next_h = (size_t)nh;
  if ((rc = cgd_ck_get(fp, s->eh.probs, s->eh.probs ? s->nh * s->ncell * sizeof *s->eh.probs : 0, "histograms", err)) ||
      (rc = cgd_ck_get(fp, s->eh.dist, s->eh.dist ? s->nh * sizeof *s->eh.dist : 0, "distances", err)) ||
      (rc = cgd_ck_get(fp, s->eh.inrange, s->eh.inrange ? s->nh * sizeof *s->eh.inrange : 0, "in-range counts", err)))
    return rc;
  if ((rc = cgd_outfile_reopen(&s->hist, r->dir, "hist.csv", (long)off, err))) return rc;
  s->eh.fp = s->hist.fp;
  s->eh.fpath = s->hist.tmp_path;
  return CGD_OK;
}

static void ms_free(cgd_run_ctx *r) {
  ms_state *s = r->ks;
  if (!s) return;
  cgd_outfile_discard(&s->hist);
  eh_free(&s->eh);
  free(s->gibbs);
  free(s->hsteps);
  free(s->crossed);
  free(s->part);
  for (size_t k = 0; k < CGD_LOOP_SLOTS; k++) {
    free(s->cross[k].x);
    free(s->cross[k].idx);
    free(s->cross[k].words);
  }
  cgd_hist_free(s->orbit1);
  cgd_hist2d_free(s->orbit2);
  free(s);
}

const cgd_kind cgd_kind_orbit = {
    .id = CGD_KIND_ORBIT,
    .series = "f",
    .setup = orbit_setup,
    .describe = ms_describe,
    .trace_header = ms_trace_header,
    .begin = ms_begin,
    .trace_row = ms_trace_row,
    .end = orbit_end,
    .plot = ms_plot,
    .save = ms_save,
    .load = ms_load,
    .free = ms_free,
};

const cgd_kind cgd_kind_ensemble = {
    .id = CGD_KIND_ENSEMBLE,
    .series = NULL,
    .setup = ensemble_setup,
    .describe = ms_describe,
    .trace_header = ms_trace_header,
    .begin = ms_begin,
    .trace_row = ms_trace_row,
    .trace_chunk = ms_trace_chunk,
    .end = ensemble_end,
    .plot = ms_plot,
    .save = ms_save,
    .load = ms_load,
    .free = ms_free,
};
