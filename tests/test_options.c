/* The option table: one validation path for the command line and config.json, strict
 * reading, kind checks, round trips, and the numerics that used to hide inside the
 * analytic driver (step lists and grids, initial laws, the minimum and Hessian of f0). */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/grid.h"
#include "chaosgd/landscape.h"
#include "chaosgd/multiscale.h"
#include "chaosgd/options.h"
#include "chaosgd/sampling.h"

#include "check_main.h"

/* cgd_run_config_json lives in the library's private jsonio.h: declared here for the test */
json_t *cgd_run_config_json(const cgd_run_config *c);

static int argv_parse(cgd_run_config *c, const char *const *args, cgd_error *err) {
  char *argv[64];
  int argc = 0;
  argv[argc++] = "train";
  for (; *args; args++) argv[argc++] = (char *)*args;
  cgd_run_config_defaults(c);
  FILE *devnull = fopen("/dev/null", "w");
  int rc = cgd_run_config_parse_argv(c, argc, argv, devnull, err);
  fclose(devnull);
  return rc;
}

#define EXPECT_USAGE(words, ...)                                                        \
  do {                                                                                  \
    const char *a_[] = {__VA_ARGS__, NULL};                                             \
    int rc_ = argv_parse(c, a_, &err);                                                  \
    ck_assert_msg(rc_ == CGD_EUSAGE, "%s: rc %d (%s)", a_[0], rc_, err.msg);            \
    ck_assert_msg(strstr(err.msg, words), "%s: message '%s' lacks '%s'", a_[0], err.msg, \
                  words);                                                               \
  } while (0)

#define EXPECT_OK(...)                                                           \
  do {                                                                           \
    const char *a_[] = {__VA_ARGS__, NULL};                                      \
    int rc_ = argv_parse(c, a_, &err);                                           \
    ck_assert_msg(rc_ == CGD_OK, "%s: rc %d (%s)", a_[0], rc_, err.msg);         \
  } while (0)

START_TEST(command_line_values) {
  cgd_run_config *c = cgd_run_config_create();
  cgd_error err;
  EXPECT_OK("--lr", "0.1", "--iters", "5", "--hidden", "8");
  ck_assert(c->lr == 0.1 && c->iters == 5 && c->hidden == 8 && c->nlr == 1);
  EXPECT_OK("--lr", "0.001:0.1:log:3");
  ck_assert_uint_eq(c->nlr, 3);
  ck_assert(fabs(c->lrs[1] - 0.01) < 1e-15 && c->lrs[0] == 0.001 && c->lrs[2] == 0.1);
  EXPECT_OK("--lr", "0.1", "--lr", "0.2,0.3");
  ck_assert_uint_eq(c->nlr, 3);
  ck_assert(c->lrs[0] == 0.1 && c->lrs[2] == 0.3);
  EXPECT_OK("--f0", "quartic", "--eps", "1e-300", "--iters", "1");
  EXPECT_USAGE("empty", "--lr", "");
  EXPECT_USAGE("empty element", "--lr", ",");
  EXPECT_USAGE("given twice", "--lr", "0.1,0.1");
  EXPECT_USAGE("given twice", "--lr", "0.1", "--lr", "0.1");
  EXPECT_USAGE("not a number", "--lr", "0.1x");
  EXPECT_USAGE("must be >", "--lr", "-0.1");
  EXPECT_USAGE("empty", "--f0", "");
  EXPECT_USAGE("empty", "--f1", "");
  EXPECT_USAGE("white space", "--seed", " -1");
  EXPECT_USAGE("must not be negative", "--seed", "-1");
  EXPECT_USAGE("white space", "--f0", "quartic", "--ensemble", "10", "--hist-at", "10, -5");
  EXPECT_USAGE("must not be negative", "--f0", "quartic", "--ensemble", "10", "--hist-at", "-5");
  EXPECT_USAGE("between 1 and", "--hidden", "0");
  EXPECT_USAGE("between 1 and", "--hidden", "2305843009213693952");
  EXPECT_USAGE("between 0 and", "--iters", "1000000000000000");
  EXPECT_USAGE("must be >= 1e-300", "--f0", "quartic", "--eps", "1e-320");
  EXPECT_USAGE("needs a value", "--iters");
  EXPECT_USAGE("unknown option", "--bogus");
  EXPECT_USAGE("in [0, 1)", "--holdout", "1");
  EXPECT_USAGE("finite LO < HI", "--f0", "quartic", "--hist-range", "1,0");
  cgd_run_config_free(c);
}
END_TEST

/* An option given for a kind (or map) it does not apply to is an error, never ignored. */
START_TEST(kind_checks) {
  cgd_run_config *c = cgd_run_config_create();
  cgd_error err;
  EXPECT_USAGE("--map heavyball only", "--gamma", "0.5");
  EXPECT_USAGE("--map nag-sc only", "--mu", "0.5", "--map", "heavyball");
  EXPECT_OK("--gamma", "0.5", "--map", "heavyball");
  EXPECT_USAGE("MLP runs", "--f0", "quartic", "--hidden", "4");
  EXPECT_USAGE("MLP runs", "--f0", "quartic", "--data", "x.dat");
  EXPECT_USAGE("analytic runs", "--eps", "1e-4");
  EXPECT_USAGE("ensembles", "--f0", "quartic", "--hist-at", "10");
  EXPECT_USAGE("ensembles", "--f0", "quartic", "--compare-map", "stochastic");
  EXPECT_USAGE("single orbits", "--f0", "quartic", "--ensemble", "5", "--burn-in", "3");
  EXPECT_USAGE("MLP runs and single orbits", "--f0", "quartic", "--ensemble", "5", "--tail", "0.3");
  EXPECT_USAGE("needs an analytic objective", "--map", "stochastic");
  EXPECT_USAGE("--x0", "--f0", "quartic", "--x0", "uniform:1");
  EXPECT_OK("--f0", "quartic", "--ensemble", "5", "--hist-at", "3", "--compare-map", "gaussian");
  cgd_run_config_free(c);
}
END_TEST

static int load(cgd_run_config *c, const char *text, cgd_error *err) {
  cgd_run_config_defaults(c);
  return cgd_run_config_load_string(text, strlen(text), "c.json", c, err);
}

/* config.json is untrusted input: the same checks as the command line, CGD_EDATA. */
START_TEST(config_json_is_strict) {
  cgd_run_config *c = cgd_run_config_create();
  cgd_error err;
  const struct { const char *json, *words; } bad[] = {
      {"{\"objective\":\"mlp\",\"hidden\":2305843009213693952,\"iters\":5}", "\"hidden\": must be between"},
      {"{\"objective\":\"multiscale\",\"f0\":\"quartic\",\"ensemble\":1000000000000}", "\"ensemble\": must be between"},
      {"{\"objective\":\"multiscale\",\"f0\":\"quartic\",\"iters\":1000000000000000}", "\"iters\": must be between"},
      {"{\"hist_bins\":1099511627776}", "\"hist_bins\": must be between"},
      {"{\"target_col\":4294967297}", "\"target_col\": must be between"},
      {"{\"lr\":\"fast\"}", "\"lr\" should be a number"},
      {"{\"lr\":-1}", "\"lr\": must be >"},
      {"{\"bogus\":1}", "unknown key \"bogus\""},
      {"{\"seed\":\"-1\"}", "\"seed\": '-1' must not be negative"},
      {"{\"plots\":1}", "\"plots\" should be true or false"},
      {"{\"hist_range\":[1]}", "\"hist_range\" should be [lo, hi]"},
      {"{\"verdict_rules\":{\"max_period\":0}}", "max_period"},
      {"{\"objective\":\"mlp\",\"f0\":\"quartic\"}", "\"objective\" is \"mlp\""},
      {"{\"lr\":0.1,\"lr\":0.2}", "duplicate"},
      {"[1,2]", "not a JSON object"},
      {"{", "line 1"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int rc = load(c, bad[i].json, &err);
    ck_assert_msg(rc == CGD_EDATA, "%s: rc %d (%s)", bad[i].json, rc, err.msg);
    ck_assert_msg(strstr(err.msg, bad[i].words), "%s: '%s' lacks '%s'", bad[i].json, err.msg,
                  bad[i].words);
  }
  /* a config.json that passes the reader still meets the kind checks */
  ck_assert_int_eq(load(c, "{\"objective\":\"multiscale\",\"f0\":\"quartic\",\"hidden\":4}", &err), CGD_OK);
  ck_assert_int_eq(cgd_run_config_check(c, &err), CGD_EUSAGE);
  ck_assert_msg(strstr(err.msg, "c.json: \"hidden\" applies to MLP runs"), "%s", err.msg);
  cgd_run_config_free(c);
}
END_TEST

/* What a run records reads back to the same options, for every kind. */
START_TEST(config_round_trip) {
  const char *const cases[][12] = {
      {"--lr", "0.013", "--hidden", "7", "--seed", "18446744073709551615", "--holdout", "0.1", "--no-standardize", NULL},
      {"--f0", "x^4/4", "--f1", "eps*sin(x/eps)+a*x", "--param", "a=0.01", "--x0", "0.37", "--burn-in", "7", NULL},
      {"--f0", "quartic", "--ensemble", "50", "--hist-at", "3,9", "--compare-map", "heavyball", "--gamma", "0.7", NULL},
      {"--map", "nag-sc", "--mu", "0.3", "--iters", "9", "--log-every", "3", "--hist-bins", "11", NULL},
  };
  cgd_run_config *a = cgd_run_config_create(), *b = cgd_run_config_create();
  cgd_error err;
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    int rc = argv_parse(a, cases[k], &err);
    ck_assert_msg(rc == CGD_OK, "case %zu: %s", k, err.msg);
    json_t *j = cgd_run_config_json(a);
    char *text = json_dumps(j, 0);
    json_decref(j);
    ck_assert_int_eq(load(b, text, &err), CGD_OK);
    ck_assert_int_eq(cgd_run_config_check(b, &err), CGD_OK);
    json_t *j2 = cgd_run_config_json(b);
    json_object_set_new(j2, "command_line", json_string(a->command_line));
    char *text2 = json_dumps(j2, 0);
    json_decref(j2);
    ck_assert_str_eq(text, text2);
    ck_assert(a->seed == b->seed && a->lr == b->lr && a->iters == b->iters);
    free(text);
    free(text2);
  }
  cgd_run_config_free(a);
  cgd_run_config_free(b);
}
END_TEST

START_TEST(shortest_round_trip) {
  char b[32];
  ck_assert_str_eq(cgd_fmt_double(0.9, b, sizeof b), "0.9");
  ck_assert_str_eq(cgd_fmt_double(0.1 + 0.2, b, sizeof b), "0.30000000000000004");
  ck_assert_str_eq(cgd_fmt_double(0.10000000001, b, sizeof b), "0.10000000001");
  ck_assert_str_eq(cgd_fmt_double(1e-300, b, sizeof b), "1e-300");
  for (int i = 0; i < 1000; i++) {
    double v = exp(0.37 * i - 150) * (1 + 1e-15 * i);
    ck_assert(strtod(cgd_fmt_double(v, b, sizeof b), NULL) == v);
  }
}
END_TEST

START_TEST(grids_and_steps) {
  double v[8];
  size_t n;
  cgd_error err;
  ck_assert_int_eq(cgd_grid_parse("x", "1:2:5", v, 8, &n, &err), CGD_OK);
  ck_assert(n == 5 && v[0] == 1 && v[2] == 1.5 && v[4] == 2);
  ck_assert_int_eq(cgd_grid_parse("x", "1e-4:1e-2:log:3", v, 8, &n, &err), CGD_OK);
  ck_assert(n == 3 && v[0] == 1e-4 && fabs(v[1] / 1e-3 - 1) < 1e-14 && v[2] == 1e-2);
  ck_assert_int_eq(cgd_grid_parse("x", "1:2:1", v, 8, &n, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_grid_parse("x", "0:2:log:3", v, 8, &n, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_grid_parse("x", "1:2:9", v, 8, &n, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_grid_parse("x", "1,,2", v, 8, &n, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_grid_parse("x", "1, 2", v, 8, &n, &err), CGD_EUSAGE);
  uint64_t *s;
  ck_assert_int_eq(cgd_steps_parse("h", "100,10,10,5000", 1000, &s, &n, &err), CGD_OK);
  ck_assert(n == 3 && s[0] == 10 && s[1] == 100 && s[2] == 1000);
  free(s);
  ck_assert_int_eq(cgd_steps_parse("h", "", 7, &s, &n, &err), CGD_OK);
  ck_assert(n == 1 && s[0] == 7);
  free(s);
  ck_assert_int_eq(cgd_steps_parse("h", "10,", 7, &s, &n, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_steps_parse("h", "1e3", 7, &s, &n, &err), CGD_EUSAGE);
}
END_TEST

START_TEST(initial_laws) {
  cgd_law law;
  cgd_error err;
  double x[4000];
  ck_assert_int_eq(cgd_law_parse("0.3,-0.2", &law, &err), CGD_OK);
  ck_assert_int_eq(cgd_law_sample(&law, 2, 3, 0, x, &err), CGD_OK);
  ck_assert(x[0] == 0.3 && x[1] == -0.2 && x[4] == 0.3 && x[5] == -0.2);
  ck_assert_int_eq(cgd_law_sample(&law, 1, 3, 0, x, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_law_parse("uniform:2,3", &law, &err), CGD_OK);
  ck_assert_int_eq(cgd_law_sample(&law, 1, 4000, 9, x, &err), CGD_OK);
  double m = 0;
  for (int i = 0; i < 4000; i++) {
    ck_assert(x[i] >= 2 && x[i] < 3);
    m += x[i] / 4000;
  }
  /* mean of U[2,3]: 2.5 ± 5 standard errors (σ = 1/√12, n = 4000) */
  ck_assert_msg(fabs(m - 2.5) < 5 * sqrt(1.0 / 12 / 4000), "mean %g", m);
  /* particle i draws the same whatever the ensemble size */
  double y[10];
  ck_assert_int_eq(cgd_law_sample(&law, 1, 10, 9, y, &err), CGD_OK);
  ck_assert_mem_eq(x, y, sizeof y);
  const char *bad[] = {"uniform:3,2", "normal:0,-1", "uniform:1", "1,2,3", "abc", "0.1x", ""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_msg(cgd_law_parse(bad[i], &law, &err) == CGD_EUSAGE, "'%s' accepted", bad[i]);
}
END_TEST

/* The minimum and Hessian of f0 against closed forms. */
START_TEST(f0_minimum_and_hessian) {
  cgd_error err;
  cgd_objective *o;
  double xs[2], H[4];
  /* doublewell k(x²−1)²: minima at ±1 with f0'' = 8k; the grid finds −1 first */
  cgd_ms_spec dw = {.f0 = "doublewell", .f1 = "sin", .eps = 1e-4, .k = 2};
  ck_assert_int_eq(cgd_multiscale_create(&dw, &o, &err), CGD_OK);
  ck_assert_int_eq(cgd_f0_minimum(o, -1.5, 1.5, xs, H, &err), CGD_OK);
  ck_assert_msg(fabs(xs[0] + 1) < 1e-12 && fabs(H[0] - 16) < 1e-9, "x* %g H %g", xs[0], H[0]);
  cgd_objective_free(o);
  /* tilted (x²−1)²/4 + x/8: the deeper well, x³ − x + 1/8 = 0 near −1.0574 */
  cgd_ms_spec ti = {.f0 = "tilted", .f1 = "sin", .eps = 1e-4, .k = 1};
  ck_assert_int_eq(cgd_multiscale_create(&ti, &o, &err), CGD_OK);
  ck_assert_int_eq(cgd_f0_minimum(o, -1.5, 1.5, xs, H, &err), CGD_OK);
  ck_assert_msg(fabs(xs[0] * xs[0] * xs[0] - xs[0] + 0.125) < 1e-13, "x* %.17g", xs[0]);
  ck_assert(fabs(H[0] - (3 * xs[0] * xs[0] - 1)) < 1e-12);
  cgd_objective_free(o);
  /* matyas 0.26(x²+y²) + 0.48xy: minimum 0, Hessian [[.52,.48],[.48,.52]], λ_min 0.04 */
  cgd_ms_spec ma = {.f0 = "matyas", .f1 = "sincos2d", .eps = 1e-4, .k = 1};
  ck_assert_int_eq(cgd_multiscale_create(&ma, &o, &err), CGD_OK);
  ck_assert_int_eq(cgd_f0_minimum(o, -1.5, 1.5, xs, H, &err), CGD_OK);
  ck_assert(fabs(xs[0]) < 1e-12 && fabs(xs[1]) < 1e-12);
  ck_assert(fabs(H[0] - 0.52) < 1e-12 && fabs(H[1] - 0.48) < 1e-12 && fabs(H[3] - 0.52) < 1e-12);
  ck_assert(fabs(cgd_sym_lambda_min(H, 2) - 0.04) < 1e-12);
  cgd_quad_model q = {.dim = 2, .xs = {0, 0}, .H = {H[0], H[1], H[2], H[3]}};
  double pt[2] = {0.3, -0.1}, f;
  ck_assert_int_eq(cgd_quad_model_eval(&q, 1, pt, &f, NULL, NULL, &err), CGD_OK);
  ck_assert(fabs(f - (0.26 * 0.1 + 0.48 * -0.03)) < 1e-15);
  cgd_objective_free(o);
  /* quartic x⁴/4: minimum 0 with a singular Hessian (no Gaussian form) */
  cgd_ms_spec qu = {.f0 = "quartic", .f1 = "sin", .eps = 1e-4, .k = 1};
  ck_assert_int_eq(cgd_multiscale_create(&qu, &o, &err), CGD_OK);
  ck_assert_int_eq(cgd_f0_minimum(o, -1.5, 1.5, xs, H, &err), CGD_OK);
  ck_assert(fabs(xs[0]) < 1e-12 && fabs(H[0]) < 1e-20);
  cgd_objective_free(o);
}
END_TEST

int main(void) {
  Suite *s = suite_create("options");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, command_line_values);
  tcase_add_test(tc, kind_checks);
  tcase_add_test(tc, config_json_is_strict);
  tcase_add_test(tc, config_round_trip);
  tcase_add_test(tc, shortest_round_trip);
  tcase_add_test(tc, grids_and_steps);
  tcase_add_test(tc, initial_laws);
  tcase_add_test(tc, f0_minimum_and_hessian);
  suite_add_tcase(s, tc);
  return cgd_check_run(s);
}
