/* The loop and the maps on a quadratic f(x) = a/2 |x|², where every iterate is known in
 * closed form: GD x_t = (1 − ηa)^t x_0. */
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/loop.h"
#include "chaosgd/map.h"
#include "chaosgd/mlp.h"
#include "chaosgd/multiscale.h"
#include "chaosgd/objective.h"

#include "check_main.h"

typedef struct { double a; int nan_at_eval; int evals; } quad_ctx;

static int quad_eval(void *ctx, size_t n, const double *x, double *f, double *g, double *h,
                     cgd_error *err) {
  quad_ctx *q = ctx;
  (void)err;
  (void)h;
  for (size_t i = 0; i < n; i++) {
    if (f) f[i] = 0.5 * q->a * x[i] * x[i];
    if (g) g[i] = q->a * x[i];
  }
  if (f && q->nan_at_eval && ++q->evals == q->nan_at_eval) f[0] = NAN;
  return CGD_OK;
}

static cgd_objective quad(quad_ctx *q) {
  cgd_objective o;
  memset(&o, 0, sizeof o);
  strcpy(o.name, "quadratic");
  o.dim = 1;
  o.ctx = q;
  o.eval = quad_eval;
  o.reentrant = 1; /* no scratch: blocks may run on threads (the counter only moves with
                      nan_at_eval, in single-state tests) */
  return o;
}

typedef struct { uint64_t seen; uint64_t last; uint64_t stop_at; volatile sig_atomic_t *flag; } obs_state;

static int count_obs(void *user, uint64_t t, size_t n, const double *x, const double *f,
                     const double *g, cgd_error *err) {
  obs_state *s = user;
  (void)n; (void)x; (void)f; (void)g; (void)err;
  s->seen++;
  s->last = t;
  if (s->flag && t == s->stop_at) *s->flag = 1;
  return CGD_OK;
}

static int every_third(void *user, uint64_t t) { (void)user; return t % 3 == 0; }

START_TEST(gd_matches_closed_form) {
  quad_ctx q = {.a = 1.0};
  cgd_objective o = quad(&q);
  cgd_map *m;
  cgd_error err;
  cgd_map_opts mo = {.kind = CGD_MAP_GD, .lr = 0.5};
  ck_assert_int_eq(cgd_map_create(&mo, &o, 1, &m, &err), CGD_OK);
  double x = 1.0;
  obs_state s = {0};
  cgd_observer ob = {.user = &s, .wants = every_third, .observe = count_obs};
  cgd_loop_opts lo = {.iters = 40, .loss_limit = 1e12};
  cgd_loop_result r;
  ck_assert_int_eq(cgd_loop_run(&lo, &o, m, 1, &x, &ob, &r, &err), CGD_OK);
  ck_assert_double_eq(x, ldexp(1.0, -40)); /* (1 − 0.5)^40, exact in binary */
  ck_assert_uint_eq(r.steps, 40);
  ck_assert_uint_eq(s.seen, 15); /* t = 0, 3, ..., 39 (14 steps) and the final t = 40 */
  ck_assert_uint_eq(s.last, 40);
  cgd_map_free(m);
}
END_TEST

START_TEST(divergence_is_detected_and_observed) {
  quad_ctx q = {.a = 1.0};
  cgd_objective o = quad(&q);
  cgd_map *m;
  cgd_error err;
  cgd_map_opts mo = {.kind = CGD_MAP_GD, .lr = 3.0}; /* x_t = (−2)^t: f = 2^(2t−1) */
  ck_assert_int_eq(cgd_map_create(&mo, &o, 1, &m, &err), CGD_OK);
  double x = 1.0;
  obs_state s = {0};
  cgd_observer ob = {.user = &s, .observe = count_obs};
  cgd_loop_opts lo = {.iters = 1000, .loss_limit = 1e12};
  cgd_loop_result r;
  ck_assert_int_eq(cgd_loop_run(&lo, &o, m, 1, &x, &ob, &r, &err), CGD_EDIVERGED);
  /* 2^(2t−1) > 1e12 first at t = 21; observe never sees that step ... */
  ck_assert_int_eq(r.bad_step, 21);
  ck_assert_uint_eq(s.last, 20);
  ck_assert_uint_eq(s.seen, 21);
  ck_assert_ptr_nonnull(strstr(err.msg, "step 21"));
  /* ... observe_failing does, once, and the divergence is still what the loop reports */
  obs_state sf = {0};
  ob.observe_failing = count_obs;
  ob.user = &sf;
  x = 1.0;
  ck_assert_int_eq(cgd_loop_run(&lo, &o, m, 1, &x, &ob, &r, &err), CGD_EDIVERGED);
  ck_assert_int_eq(r.bad_step, 21);
  ck_assert_uint_eq(sf.last, 21);
  ck_assert_uint_eq(sf.seen, 22);
  ck_assert_ptr_nonnull(strstr(err.msg, "step 21"));
  ob.observe_failing = NULL;
  /* a NaN loss is divergence too */
  quad_ctx qn = {.a = 1.0, .nan_at_eval = 5};
  cgd_objective on = quad(&qn);
  cgd_map_free(m);
  mo.lr = 0.1;
  ck_assert_int_eq(cgd_map_create(&mo, &on, 1, &m, &err), CGD_OK);
  x = 1.0;
  ck_assert_int_eq(cgd_loop_run(&lo, &on, m, 1, &x, &ob, &r, &err), CGD_EDIVERGED);
  ck_assert_int_eq(r.bad_step, 4);
  cgd_map_free(m);
}
END_TEST

START_TEST(interrupt_stops_cleanly) {
  quad_ctx q = {.a = 1.0};
  cgd_objective o = quad(&q);
  cgd_map *m;
  cgd_error err;
  cgd_map_opts mo = {.kind = CGD_MAP_GD, .lr = 0.1};
  ck_assert_int_eq(cgd_map_create(&mo, &o, 1, &m, &err), CGD_OK);
  volatile sig_atomic_t flag = 0;
  obs_state s = {.stop_at = 7, .flag = &flag};
  cgd_observer ob = {.user = &s, .observe = count_obs};
  cgd_loop_opts lo = {.iters = 1000, .loss_limit = 1e12, .stop = &flag};
  cgd_loop_result r;
  double x = 1.0;
  ck_assert_int_eq(cgd_loop_run(&lo, &o, m, 1, &x, &ob, &r, &err), CGD_EINTERRUPTED);
  ck_assert_uint_eq(r.steps, 8); /* step 7 was observed and applied, then the flag is seen */
  double xr = 1.0;
  for (int t = 0; t < 8; t++) xr -= 0.1 * xr;
  ck_assert_double_eq(x, xr);
  cgd_map_free(m);
}
END_TEST

/* Many particles: the block split and the thread count must not change a single bit. */
static void run_ensemble(size_t n, size_t block, int threads, cgd_map_kind kind, double *x) {
  quad_ctx q = {.a = 1.3};
  cgd_objective o = quad(&q);
  cgd_map *m;
  cgd_error err;
  cgd_map_opts mo = {.kind = kind, .lr = 0.7, .gamma = 0.5, .mu = 0.2};
  ck_assert_int_eq(cgd_map_create(&mo, &o, n, &m, &err), CGD_OK);
  for (size_t i = 0; i < n; i++) x[i] = sin((double)i);
  omp_set_num_threads(threads);
  cgd_loop_opts lo = {.iters = 50, .loss_limit = 1e12, .block = block};
  cgd_observer ob = {.wants = every_third};
  cgd_loop_result r;
  ck_assert_int_eq(cgd_loop_run(&lo, &o, m, n, x, &ob, &r, &err), CGD_OK);
  cgd_map_free(m);
}

START_TEST(ensemble_independent_of_blocks_and_threads) {
  const size_t n = 10007;
  double *a = malloc(3 * n * sizeof *a), *b = a + n, *c = b + n;
  cgd_map_kind kinds[] = {CGD_MAP_GD, CGD_MAP_HEAVYBALL, CGD_MAP_NAGSC};
  for (int k = 0; k < 3; k++) {
    run_ensemble(n, 0, 1, kinds[k], a);
    run_ensemble(n, 1000, 2, kinds[k], b);
    run_ensemble(n, 20000, 2, kinds[k], c);
    ck_assert_mem_eq(a, b, n * sizeof *a);
    ck_assert_mem_eq(a, c, n * sizeof *a);
  }
  free(a);
}
END_TEST

/* The hooks around a step: block_done sees each block's states before and after every
 * step (the loop alternates two buffers instead of copying: the "before" of step t must
 * be the "after" of step t − 1, bit for bit), and at an observed step observe_chunk sees
 * every chunk once, before observe, as views into the arrays observe then gets. */
typedef struct {
  double *prev;          /* per state: the last "after" seen (initial states at first) */
  size_t n, chunks;      /* states; chunks seen at the current observed step */
  double lr, a;
  int bad;               /* first failed check (0: none) */
  const double *cf[8];   /* the f pointers of the chunks (n <= 8 chunks here) */
  size_t ci0[8], cm[8];
  uint64_t chunk_step;
} hook_state;

static void hook_block(void *u, size_t slot, uint64_t t, size_t i0, size_t nb,
                       const double *xo, const double *xn) {
  hook_state *h = u;
  (void)slot, (void)t;
  for (size_t k = 0; k < nb; k++) {
    if (memcmp(&xo[k], &h->prev[i0 + k], sizeof xo[k]) != 0) h->bad = 1;
    if (xn[k] != xo[k] - h->lr * (h->a * xo[k])) h->bad = 2; /* GD on a·x²/2, as the map */
    h->prev[i0 + k] = xn[k];
  }
}

static void hook_chunk(void *u, uint64_t t, size_t c, size_t i0, size_t m, const double *x,
                       const double *f, const double *g) {
  hook_state *h = u;
  (void)x, (void)g;
  if (c >= 8 || i0 != c * CGD_LOOP_OBS_CHUNK) {
    h->bad = 3;
    return;
  }
#pragma omp critical
  {
    h->chunks++;
    h->chunk_step = t;
  }
  h->cf[c] = f, h->ci0[c] = i0, h->cm[c] = m;
}

static int hook_observe(void *u, uint64_t t, size_t n, const double *x, const double *f,
                        const double *g, cgd_error *err) {
  hook_state *h = u;
  (void)x, (void)g, (void)err;
  const size_t nch = (n + CGD_LOOP_OBS_CHUNK - 1) / CGD_LOOP_OBS_CHUNK;
  if (h->chunks != nch || h->chunk_step != t) h->bad = 4;
  for (size_t c = 0; c < nch && c < 8; c++)
    if (h->cf[c] != f + h->ci0[c] ||
        h->cm[c] != (c + 1 < nch ? CGD_LOOP_OBS_CHUNK : n - c * CGD_LOOP_OBS_CHUNK))
      h->bad = 5;
  h->chunks = 0;
  return CGD_OK;
}

START_TEST(hooks_see_before_after_and_chunks) {
  const size_t n = 10007; /* three chunks, the last partial; blocks of 1000 */
  for (int threads = 1; threads <= 2; threads++) {
    quad_ctx q = {.a = 1.3};
    cgd_objective o = quad(&q);
    cgd_map *m;
    cgd_error err;
    cgd_map_opts mo = {.kind = CGD_MAP_GD, .lr = 0.7};
    ck_assert_int_eq(cgd_map_create(&mo, &o, n, &m, &err), CGD_OK);
    double *x = malloc(2 * n * sizeof *x), *ref = malloc(n * sizeof *ref);
    for (size_t i = 0; i < n; i++) x[i] = sin((double)i);
    hook_state h = {.prev = x + n, .n = n, .lr = 0.7, .a = 1.3};
    memcpy(h.prev, x, n * sizeof *x);
    omp_set_num_threads(threads);
    cgd_observer ob = {.user = &h, .wants = every_third, .observe = hook_observe,
                       .observe_chunk = hook_chunk, .block_done = hook_block};
    cgd_loop_opts lo = {.iters = 40, .loss_limit = 1e12, .block = 1000};
    cgd_loop_result r;
    ck_assert_int_eq(cgd_loop_run(&lo, &o, m, n, x, &ob, &r, &err), CGD_OK);
    ck_assert_int_eq(h.bad, 0);
    /* the states the loop hands back are the last "after" of every block */
    ck_assert_mem_eq(x, h.prev, n * sizeof *x);
    /* and the same as without hooks (no double buffer: in place) */
    for (size_t i = 0; i < n; i++) ref[i] = sin((double)i);
    cgd_map_free(m);
    ck_assert_int_eq(cgd_map_create(&mo, &o, n, &m, &err), CGD_OK);
    cgd_observer plain = {.wants = every_third};
    ck_assert_int_eq(cgd_loop_run(&lo, &o, m, n, ref, &plain, &r, &err), CGD_OK);
    ck_assert_mem_eq(x, ref, n * sizeof *x);
    cgd_map_free(m);
    free(x);
    free(ref);
  }
}
END_TEST

/* A map that fails inside its own evaluation (NAG-SC evaluates f at its look-ahead y) has
 * not advanced its states, even when that failure is CGD_EDIVERGED (a multiscale state
 * that ran away) and the block's second buffer still holds non-finite states that the
 * previous block of the same slot left there when it diverged. Objective: ∇f = x, except
 * +∞ at x = 7; CGD_EDIVERGED for any |x| > 10⁶. */
static int runaway_eval(void *ctx, size_t n, const double *x, double *f, double *g, double *h,
                        cgd_error *err) {
  (void)ctx, (void)h;
  for (size_t i = 0; i < n; i++)
    if (fabs(x[i]) > 1e6)
      return cgd_fail(err, CGD_EDIVERGED, "state %zu ran away", i);
  for (size_t i = 0; i < n; i++) {
    if (f) f[i] = 0.5 * x[i] * x[i];
    if (g) g[i] = x[i] == 7.0 ? INFINITY : x[i];
  }
  return CGD_OK;
}

typedef struct { size_t i0; int calls; int nonfinite; } stale_state;

static void stale_block(void *u, size_t slot, uint64_t t, size_t i0, size_t nb,
                        const double *xo, const double *xn) {
  stale_state *s = u;
  (void)slot, (void)t, (void)xo;
  if (i0 != s->i0) return; /* only the block whose map failed in its evaluation */
  s->calls++;
  for (size_t k = 0; k < nb; k++) s->nonfinite |= !isfinite(xn[k]);
}

/* runaway_eval as an objective: f = x²/2 (∇f = +∞ at x = 7), CGD_EDIVERGED beyond |x| = 1e6 */
static cgd_objective runaway(void) {
  cgd_objective o;
  memset(&o, 0, sizeof o);
  strcpy(o.name, "runaway");
  o.dim = 1;
  o.eval = runaway_eval;
  o.reentrant = 1;
  return o;
}

static int never(void *user, uint64_t t) { (void)user, (void)t; return 0; }

START_TEST(failed_map_evaluation_is_not_a_step) {
  /* blocks of 4: 65 blocks on 64 slots, so slot 0 runs block 0, then block 64 */
  const size_t B = 4, n = 65 * B, i64 = 64 * B;
  for (int threads = 1; threads <= 2; threads++) {
    cgd_objective o = runaway();
    cgd_map *m;
    cgd_error err;
    cgd_map_opts mo = {.kind = CGD_MAP_NAGSC, .lr = 0.1, .mu = 1};
    ck_assert_int_eq(cgd_map_create(&mo, &o, n, &m, &err), CGD_OK);
    double *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = 0.5;
    x[0] = 7.0;   /* block 0: its step 0 -> 1 makes state 0 −∞ (the map's own check) */
    x[i64] = 1e7; /* block 64: the map's evaluation at y fails before it writes anything */
    stale_state s = {.i0 = i64};
    omp_set_num_threads(threads);
    /* step 0 is not observed: the blocks meet their failures inside the map */
    cgd_observer ob = {.user = &s, .wants = never, .block_done = stale_block};
    cgd_loop_opts lo = {.iters = 10, .loss_limit = 1e12, .block = B};
    cgd_loop_result r;
    ck_assert_int_eq(cgd_loop_run(&lo, &o, m, n, x, &ob, &r, &err), CGD_EDIVERGED);
    /* the first failure in step order, then block order: block 0's non-finite state */
    ck_assert_int_eq(r.bad_step, 1);
    ck_assert_msg(strstr(err.msg, "non-finite (states 0..3)"), "%s", err.msg);
    ck_assert(isinf(x[0]));
    /* block 64 did not step: no block_done, and its states are those of step 0 */
    ck_assert_int_eq(s.calls, 0);
    ck_assert_int_eq(s.nonfinite, 0);
    ck_assert_double_eq(x[i64], 1e7);
    for (size_t k = 1; k < B; k++) ck_assert_double_eq(x[i64 + k], 0.5);
    cgd_map_free(m);
    free(x);
  }
}
END_TEST

/* The objective's own divergence (CGD_EDIVERGED from its evaluation: a multiscale state
 * that ran away) has a step too, whether the loop meets it at an observed step or inside a
 * run of unobserved ones. GD with lr 3 on ∇f = x: x_t = (−2)^t, beyond 10⁶ from t = 20. */
START_TEST(objective_divergence_has_a_step) {
  cgd_objective o = runaway();
  cgd_error err;
  cgd_map_opts mo = {.kind = CGD_MAP_GD, .lr = 3.0};
  for (int observed = 0; observed <= 1; observed++) {
    cgd_map *m;
    ck_assert_int_eq(cgd_map_create(&mo, &o, 1, &m, &err), CGD_OK);
    double x = 1.0;
    obs_state s = {0};
    /* every step observed, or only t = 0, 3, 6, ... (20 is not: met in a block's run) */
    cgd_observer ob = {.user = &s, .observe = count_obs, .wants = observed ? NULL : every_third};
    cgd_loop_opts lo = {.iters = 100, .loss_limit = 1e300};
    cgd_loop_result r;
    ck_assert_int_eq(cgd_loop_run(&lo, &o, m, 1, &x, &ob, &r, &err), CGD_EDIVERGED);
    ck_assert_msg(strstr(err.msg, "ran away"), "%s", err.msg);
    ck_assert_msg(r.bad_step >= 20 && r.bad_step <= 21, "observed %d: bad step %lld", observed,
                  (long long)r.bad_step);
    cgd_map_free(m);
  }
}
END_TEST

/* The objective contract (objective.h): 4096 identical states stepped with two threads must
 * stay identical, and equal to one state stepped alone. The MLP keeps its scratch in the
 * model, so it declares itself non-reentrant and the loop steps its blocks one at a time;
 * the analytic objectives are reentrant and run on both threads. */
static void identical_states(cgd_objective *o, const double *x0, double lr, uint64_t iters) {
  const size_t n = 4096, P = o->dim;
  double *x = malloc(n * P * sizeof *x), *one = malloc(P * sizeof *one);
  for (size_t i = 0; i < n; i++) memcpy(x + i * P, x0, P * sizeof *x);
  memcpy(one, x0, P * sizeof *one);
  cgd_error err;
  cgd_map_opts mo = {.kind = CGD_MAP_GD, .lr = lr};
  cgd_loop_opts lo = {.iters = iters, .loss_limit = 1e300, .block = 512};
  cgd_observer ob = {.wants = every_third};
  cgd_loop_result r;
  for (int pass = 0; pass < 2; pass++) {
    cgd_map *m;
    size_t nn = pass ? 1 : n;
    ck_assert_int_eq(cgd_map_create(&mo, o, nn, &m, &err), CGD_OK);
    omp_set_num_threads(pass ? 1 : 2);
    ck_assert_msg(cgd_loop_run(&lo, o, m, nn, pass ? one : x, &ob, &r, &err) == CGD_OK, "%s", err.msg);
    cgd_map_free(m);
  }
  for (size_t i = 0; i < n; i++) ck_assert_mem_eq(x + i * P, one, P * sizeof *x);
  free(x);
  free(one);
}

START_TEST(identical_states_stay_identical) {
  /* the MLP on synthetic data: 64 rows, 3 inputs, 8 hidden units */
  const size_t rows = 64, d = 3, H = 8;
  double X[64 * 3], y[64];
  for (size_t i = 0; i < rows; i++) {
    for (size_t j = 0; j < d; j++) X[i * d + j] = sin(1.0 + (double)(i * d + j));
    y[i] = cos((double)i);
  }
  cgd_mlp *mlp;
  cgd_objective *o;
  cgd_error err;
  ck_assert_int_eq(cgd_mlp_create(rows, d, H, 0.01, X, y, &mlp, &err), CGD_OK);
  ck_assert_int_eq(cgd_mlp_objective_create(mlp, &o, &err), CGD_OK);
  ck_assert_int_eq(o->reentrant, 0);
  double *theta = malloc(o->dim * sizeof *theta);
  cgd_mlp_init(mlp, 3, theta);
  identical_states(o, theta, 0.05, 30);
  free(theta);
  cgd_objective_free(o);
  /* an analytic objective, reentrant: both threads at work */
  cgd_ms_spec spec = {.f0 = "quartic", .f1 = "sin", .eps = 1e-4, .k = 1};
  ck_assert_int_eq(cgd_multiscale_create(&spec, &o, &err), CGD_OK);
  ck_assert_int_eq(o->reentrant, 1);
  double x0 = 0.37;
  identical_states(o, &x0, 0.01, 300);
  cgd_objective_free(o);
}
END_TEST

/* Heavy ball and NAG-SC against their recursions written out by hand (App. D.4). */
START_TEST(momentum_maps_match_recursions) {
  quad_ctx q = {.a = 2.0};
  cgd_objective o = quad(&q);
  cgd_error err;
  const double lr = 0.1, gm = 0.9, mu = 0.5;
  cgd_map *m;
  cgd_map_opts mo = {.kind = CGD_MAP_HEAVYBALL, .lr = lr, .gamma = gm};
  ck_assert_int_eq(cgd_map_create(&mo, &o, 1, &m, &err), CGD_OK);
  double x = 1.0, xr = 1.0, v = 0.0;
  cgd_loop_opts lo = {.iters = 30, .loss_limit = 1e12};
  cgd_loop_result r;
  ck_assert_int_eq(cgd_loop_run(&lo, &o, m, 1, &x, NULL, &r, &err), CGD_OK);
  for (int t = 0; t < 30; t++) {
    v = gm * v - lr * 2.0 * xr;
    xr += v;
  }
  ck_assert_double_eq(x, xr);
  cgd_map_free(m);

  mo = (cgd_map_opts){.kind = CGD_MAP_NAGSC, .lr = lr, .mu = mu};
  ck_assert_int_eq(cgd_map_create(&mo, &o, 1, &m, &err), CGD_OK);
  x = 1.0;
  ck_assert_int_eq(cgd_loop_run(&lo, &o, m, 1, &x, NULL, &r, &err), CGD_OK);
  double c = (1 - sqrt(mu * lr)) / (1 + sqrt(mu * lr)), y = 1.0;
  xr = 1.0;
  for (int t = 0; t < 30; t++) {
    double xn = y - lr * 2.0 * y;
    y = xn + c * (xn - xr);
    xr = xn;
  }
  ck_assert_double_eq(x, xr);
  cgd_map_free(m);
}
END_TEST

START_TEST(maps_reject_bad_settings) {
  quad_ctx q = {.a = 1.0};
  cgd_objective o = quad(&q);
  cgd_map *m;
  cgd_error err;
  cgd_map_opts mo = {.kind = CGD_MAP_GD, .lr = -1};
  ck_assert_int_eq(cgd_map_create(&mo, &o, 1, &m, &err), CGD_EUSAGE);
  mo = (cgd_map_opts){.kind = CGD_MAP_STOCHASTIC, .lr = 0.1};
  ck_assert_int_eq(cgd_map_create(&mo, &o, 1, &m, &err), CGD_EUSAGE); /* no f0/f1 split */
  ck_assert_ptr_nonnull(strstr(err.msg, "multiscale"));
  mo = (cgd_map_opts){.kind = CGD_MAP_HEAVYBALL, .lr = 0.1, .gamma = 1.0};
  ck_assert_int_eq(cgd_map_create(&mo, &o, 1, &m, &err), CGD_EUSAGE);
  mo = (cgd_map_opts){.kind = CGD_MAP_NAGSC, .lr = 0.1, .mu = 20};
  ck_assert_int_eq(cgd_map_create(&mo, &o, 1, &m, &err), CGD_EUSAGE);
  cgd_map_kind k;
  ck_assert_int_eq(cgd_map_kind_parse("nag-sc", &k), CGD_OK);
  ck_assert_int_eq(k, CGD_MAP_NAGSC);
  ck_assert_int_ne(cgd_map_kind_parse("adam", &k), CGD_OK);
}
END_TEST

int main(void) {
  Suite *s = suite_create("loop");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, gd_matches_closed_form);
  tcase_add_test(tc, divergence_is_detected_and_observed);
  tcase_add_test(tc, interrupt_stops_cleanly);
  tcase_add_test(tc, ensemble_independent_of_blocks_and_threads);
  tcase_add_test(tc, hooks_see_before_after_and_chunks);
  tcase_add_test(tc, failed_map_evaluation_is_not_a_step);
  tcase_add_test(tc, objective_divergence_has_a_step);
  tcase_add_test(tc, identical_states_stay_identical);
  tcase_add_test(tc, momentum_maps_match_recursions);
  tcase_add_test(tc, maps_reject_bad_settings);
  suite_add_tcase(s, tc);
  return cgd_check_run(s);
}
