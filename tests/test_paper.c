/* The analytic numbers of Kong & Tao (2020) that chaosgd must reproduce, each run at full
 * size through the library's run driver (the same path as `train --f0 ...`). Tolerances
 * are the ones the issue states; the measured values are in the README. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/multiscale.h"
#include "chaosgd/run.h"

#include "check_main.h"

static char g_dir[] = "/tmp/cgd_paper_XXXXXX";

static cgd_run_config base(const char *name, const char *f0, const char *f1, double eps,
                           double lr, uint64_t iters) {
  cgd_run_config c;
  cgd_run_config_defaults(&c);
  snprintf(c.out, sizeof c.out, "%s/%s", g_dir, name);
  snprintf(c.f0, sizeof c.f0, "%s", f0);
  snprintf(c.f1, sizeof c.f1, "%s", f1);
  c.eps = eps;
  c.lr = lr;
  c.iters = iters;
  c.plots = 0;
  c.progress = 0;
  c.quiet = 1;
  return c;
}

/* Runs c and returns its summary.json (caller decrefs). */
static json_t *run(cgd_run_config *c) {
  cgd_run_result r;
  cgd_error err;
  int rc = cgd_run(c, NULL, &r, &err);
  ck_assert_msg(rc == CGD_OK, "%s: %s", c->out, err.msg);
  char path[4200];
  snprintf(path, sizeof path, "%s/summary.json", r.dir);
  json_error_t je;
  json_t *s = json_load_file(path, 0, &je);
  ck_assert_msg(s != NULL, "%s: %s", path, je.text);
  cgd_run_result_clear(&r);
  return s;
}

static double num(json_t *s, const char *a, const char *b) {
  json_t *o = json_object_get(s, a);
  if (b) o = json_object_get(o, b);
  ck_assert_msg(json_is_number(o), "summary lacks %s.%s", a, b ? b : "");
  return json_number_value(o);
}

/* An analysis that fails at the end does not take the summary with it: an extra observer
 * whose finish fails (as the Li-Yorke search did when its scan left the objective's
 * domain) makes the run's status and message, summary.json is still written with what the
 * other analyses reported, and the run returns the failure's code. */
static int failing_finish(void *u, const cgd_run_info *info, cgd_record *sum, cgd_error *err) {
  (void)u, (void)info, (void)sum;
  return cgd_fail(err, CGD_ENOMEM, "test analysis: out of memory");
}

START_TEST(failing_analysis_keeps_summary) {
  cgd_run_config c = base("failing-analysis", "quartic", "sin", 1e-6, 0.1, 200);
  cgd_run_observer o = {.name = "failing", .finish = failing_finish};
  cgd_run_extras ex = {.observers = &o, .nobservers = 1};
  cgd_run_result r;
  cgd_error err;
  ck_assert_int_eq(cgd_run(&c, &ex, &r, &err), CGD_ENOMEM);
  ck_assert_msg(strstr(err.msg, "test analysis") != NULL, "%s", err.msg);
  char path[4200];
  snprintf(path, sizeof path, "%s/summary.json", c.out);
  json_error_t je;
  json_t *s = json_load_file(path, 0, &je);
  ck_assert_msg(s != NULL, "%s: %s", path, je.text);
  ck_assert_str_eq(json_string_value(json_object_get(s, "message")), "test analysis: out of memory");
  ck_assert_int_eq(json_integer_value(json_object_get(s, "steps_completed")), 200);
  ck_assert(json_object_get(s, "verdict") && json_object_get(s, "tail")); /* the kind's end ran */
  json_decref(s);
  cgd_run_result_clear(&r);
}
END_TEST

/* x⁴/4 + ε sin(x/ε), ε = 1e-6, η = 0.1: ensemble of 10⁵ from U[−1,1] after 1000 steps and
 * one orbit of 10⁶ steps after burn-in: TV to the rescaled Gibbs law (σ² = 1/2, 100 bins on
 * [−1.5, 1.5]) below 0.03; the same with quasi (σ² = 3/2). The deterministic and the
 * stochastic map from the same ensemble: TV between them below 0.03. */
START_TEST(quartic_gibbs_ensemble_orbit_and_stochastic_map) {
  const char *f1s[] = {"sin", "quasi"};
  const double s2[] = {0.5, 1.5};
  for (int k = 0; k < 2; k++) {
    char name[64];
    snprintf(name, sizeof name, "ens-%s", f1s[k]);
    cgd_run_config c = base(name, "quartic", f1s[k], 1e-6, 0.1, 1000);
    c.ensemble = 100000;
    c.compare = 1;
    c.compare_map = CGD_MAP_STOCHASTIC;
    json_t *s = run(&c);
    double tv = num(s, "gibbs", "tv");
    ck_assert_msg(tv < 0.03, "%s ensemble: TV to Gibbs %.4f", f1s[k], tv);
    ck_assert_double_eq_tol(json_number_value(json_array_get(
                                json_object_get(json_object_get(s, "gibbs"), "sigma2"), 0)),
                            s2[k], 1e-10);
    json_t *steps = json_object_get(json_object_get(s, "compare"), "steps");
    double tvs = json_number_value(json_object_get(json_array_get(steps, json_array_size(steps) - 1), "tv"));
    ck_assert_msg(tvs < 0.03, "%s: TV(gd, stochastic) %.4f", f1s[k], tvs);
    json_decref(s);

    snprintf(name, sizeof name, "orbit-%s", f1s[k]);
    c = base(name, "quartic", f1s[k], 1e-6, 0.1, 1000000);
    snprintf(c.x0, sizeof c.x0, "0.37");
    s = run(&c);
    tv = num(s, "gibbs", "tv");
    ck_assert_msg(tv < 0.03, "%s orbit: TV to Gibbs %.4f", f1s[k], tv);
    ck_assert_str_eq(json_string_value(json_object_get(s, "verdict")), "chaotic");
    json_decref(s);
  }
}
END_TEST

/* The Gaussian map x ← x − η∇f0 + ησξ (Rmk 16) has the same law: TV to Gibbs < 0.03. */
START_TEST(gaussian_map_gibbs) {
  cgd_run_config c = base("gaussian", "quartic", "sin", 1e-6, 0.1, 1000);
  c.ensemble = 100000;
  c.map = CGD_MAP_GAUSSIAN;
  json_t *s = run(&c);
  double tv = num(s, "gibbs", "tv");
  ck_assert_msg(tv < 0.03, "gaussian map: TV to Gibbs %.4f", tv);
  json_decref(s);
}
END_TEST

/* η ≪ ε (η = 0.2ε): GD converges to a stationary point, every particle stops moving. */
START_TEST(small_rate_converges) {
  cgd_run_config c = base("small", "quartic", "sin", 1e-6, 2e-7, 20000);
  c.ensemble = 10000;
  json_t *s = run(&c);
  ck_assert_str_eq(json_string_value(json_object_get(s, "verdict")), "converged");
  ck_assert_double_eq(num(s, "ensemble", "max_move_last_step"), 0.0);
  json_decref(s);
}
END_TEST

/* Matyas + sincos2d, ε = 1e-7, η = 0.01, 2·10⁴ particles from U[−1,1]², T = 25000 (the slow
 * direction relaxes: η λ_min T = 10): TV to the 2-D rescaled Gibbs law on 20×20 bins over
 * [−1.5,1.5]² below 0.03; a too-short run is warned about and visibly wrong. */
START_TEST(matyas_2d_gibbs_and_relaxation_warning) {
  cgd_run_config c = base("matyas", "matyas", "sincos2d", 1e-7, 0.01, 25000);
  c.ensemble = 20000;
  json_t *s = run(&c);
  double tv = num(s, "gibbs", "tv");
  ck_assert_msg(tv < 0.03, "matyas: TV %.4f", tv);
  ck_assert_ptr_null(json_object_get(s, "warning"));
  json_decref(s);
  c = base("matyas-short", "matyas", "sincos2d", 1e-7, 0.01, 2000);
  c.ensemble = 20000;
  s = run(&c);
  ck_assert_ptr_nonnull(json_object_get(s, "warning"));
  ck_assert_msg(num(s, "gibbs", "tv") > 0.05, "short run unexpectedly close to Gibbs");
  json_decref(s);
}
END_TEST

/* Double well k(x²−1)² + ε sin(x/ε), ε = 1e-4, η = 0.05, 10⁴ particles from U[0.9, 1.1]:
 * k = 0.02 — a large share reaches x < 0 (independent run: 43% at step 5000, 85% crossed at
 * least once; the binomial standard error with 10⁴ particles is 0.5%, so ±5 points);
 * k = 5 — no particle crosses in 2·10⁴ steps; started at 1.5 they overshoot the barrier
 * through the macro map, which is reported apart from noise-driven crossings. */
START_TEST(double_well_barrier) {
  cgd_run_config c = base("dw-low", "doublewell", "sin", 1e-4, 0.05, 5000);
  c.k = 0.02;
  c.ensemble = 10000;
  snprintf(c.x0, sizeof c.x0, "uniform:0.9,1.1");
  c.hist_range[0] = -2.5;
  c.hist_range[1] = 2.5;
  json_t *s = run(&c);
  double neg = num(s, "ensemble", "frac_x_neg_final"), cr = num(s, "ensemble", "frac_crossed");
  ck_assert_msg(fabs(neg - 0.43) < 0.05, "k=0.02: %.3f at x<0", neg);
  ck_assert_msg(fabs(cr - 0.85) < 0.05, "k=0.02: %.3f crossed", cr);
  ck_assert(json_is_true(json_object_get(s, "k_below_critical")));
  json_decref(s);

  c = base("dw-high", "doublewell", "sin", 1e-4, 0.05, 20000);
  c.k = 5;
  c.ensemble = 10000;
  snprintf(c.x0, sizeof c.x0, "uniform:0.9,1.1");
  s = run(&c);
  ck_assert_double_eq(num(s, "ensemble", "frac_crossed"), 0.0);
  ck_assert_double_eq(num(s, "ensemble", "frac_x_neg_final"), 0.0);
  ck_assert_double_eq(num(s, "ensemble", "frac_macro_overshoot"), 0.0);
  ck_assert(json_is_false(json_object_get(s, "k_below_critical")));
  json_decref(s);

  snprintf(c.out, sizeof c.out, "%s/dw-high-walls", g_dir);
  snprintf(c.x0, sizeof c.x0, "uniform:1.45,1.55");
  s = run(&c);
  ck_assert_msg(num(s, "ensemble", "frac_macro_overshoot") > 0.5,
                "particles started high on the wall should overshoot through the macro map");
  json_decref(s);
  ck_assert_double_eq_tol(cgd_doublewell_critical_k(), 3 * sqrt(3.0) / 8, 1e-15);
}
END_TEST

/* Heavy ball and NAG-SC on x²/2 + ε sin(x/ε), η = 0.01, ε = 1e-4: iterates keep fluctuating
 * with a stationary spread (independent run, std over 2·10⁶ steps: heavy ball 0.158, NAG-SC
 * 0.116, GD 0.0497; Gibbs 0.0500). The std of a correlated series of 2·10⁶ steps carries a
 * relative error of a few percent: tolerance 5%. */
START_TEST(momentum_spread) {
  const cgd_map_kind maps[] = {CGD_MAP_GD, CGD_MAP_HEAVYBALL, CGD_MAP_NAGSC};
  const double want[] = {0.0497, 0.158, 0.116};
  for (int k = 0; k < 3; k++) {
    char name[32];
    snprintf(name, sizeof name, "momentum-%d", k);
    cgd_run_config c = base(name, "quadratic", "sin", 1e-4, 0.01, 2000000);
    c.map = maps[k];
    c.burn_in = 0;
    c.log_every = 1000;
    snprintf(c.x0, sizeof c.x0, "0.1");
    json_t *s = run(&c);
    double sd = json_number_value(json_array_get(json_object_get(json_object_get(s, "orbit"), "std"), 0));
    ck_assert_msg(fabs(sd / want[k] - 1) < 0.05, "map %d: std %.4f, expected %.4f", k, sd, want[k]);
    json_decref(s);
  }
}
END_TEST

int main(void) {
  if (!mkdtemp(g_dir)) return 1;
  Suite *s = suite_create("paper");
  TCase *tc = tcase_create("analytic");
  tcase_set_timeout(tc, 900);
  tcase_add_test(tc, failing_analysis_keeps_summary);
  tcase_add_test(tc, quartic_gibbs_ensemble_orbit_and_stochastic_map);
  tcase_add_test(tc, gaussian_map_gibbs);
  tcase_add_test(tc, small_rate_converges);
  tcase_add_test(tc, matyas_2d_gibbs_and_relaxation_warning);
  tcase_add_test(tc, double_well_barrier);
  tcase_add_test(tc, momentum_spread);
  suite_add_tcase(s, tc);
  int rc = cgd_check_run(s);
  cgd_rm_tree(g_dir);
  return rc;
}
