/* Expression language: values and exact first/second derivatives against hand-derived
 * closed forms, parse errors with their columns, batch-vs-pointwise bit equality. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/expr.h"
#include "chaosgd/vmath.h"

#include "check_main.h"

/* Closed forms and the AD evaluate the same functions with different operation orders,
 * so agreement is to a few ulps; 1e-13 relative leaves room for ~500 ulps. */
#define RTOL 1e-13

static int close_to(double a, double b, double scale) {
  if (isnan(b)) return isnan(a);
  double s = fabs(b) > scale ? fabs(b) : scale;
  return fabs(a - b) <= RTOL * s;
}

/* cgd_expr_eval that must succeed. */
#define eval_ok(e, n, x, f, g, h)                                                            \
  do {                                                                                       \
    cgd_error eval_err_ = {{0}};                                                             \
    const int eval_rc_ = cgd_expr_eval(e, n, x, f, g, h, &eval_err_);                       \
    ck_assert_msg(eval_rc_ == CGD_OK, "eval failed (%d): %s", eval_rc_, eval_err_.msg);     \
  } while (0)

static cgd_expr *parse_ok(const char *src, int nvars) {
  static const char *const names[] = {"eps", "k", "a_1"};
  static const double vals[] = {1e-3, 0.7, -2.5};
  cgd_expr *e = NULL;
  cgd_error err = {{0}};
  int rc = cgd_expr_parse(src, nvars, names, vals, 3, &e, &err);
  ck_assert_msg(rc == 0, "parse '%s' failed: %s", src, err.msg);
  ck_assert_ptr_nonnull(e);
  return e;
}

typedef struct {
  const char *src;
  double x;
  double f, d1, d2;
  double scale; /* absolute floor of the comparison (for results near 0) */
} case1;

static void check1(const case1 *c) {
  cgd_expr *e = parse_ok(c->src, 1);
  double f, g, h;
  eval_ok(e, 1, &c->x, &f, &g, &h);
  ck_assert_msg(close_to(f, c->f, c->scale), "%s at %g: f = %.17g, want %.17g", c->src, c->x, f,
                c->f);
  ck_assert_msg(close_to(g, c->d1, c->scale), "%s at %g: f' = %.17g, want %.17g", c->src, c->x, g,
                c->d1);
  ck_assert_msg(close_to(h, c->d2, c->scale), "%s at %g: f'' = %.17g, want %.17g", c->src, c->x,
                h, c->d2);
  /* The value does not depend on which derivatives were asked for. */
  double f0, f1, g1;
  eval_ok(e, 1, &c->x, &f0, NULL, NULL);
  eval_ok(e, 1, &c->x, &f1, &g1, NULL);
  ck_assert(memcmp(&f0, &f, sizeof f) == 0 && memcmp(&f1, &f, sizeof f) == 0);
  ck_assert(memcmp(&g1, &g, sizeof g) == 0);
  cgd_expr_free(e);
}

START_TEST(test_functions) {
  const double x = 0.7, xn = -1.3;
  const case1 cs[] = {
      {"sin(x)", x, sin(x), cos(x), -sin(x), 0},
      {"cos(x)", x, cos(x), -sin(x), -cos(x), 0},
      {"tan(x)", x, tan(x), 1 / (cos(x) * cos(x)), 2 * tan(x) / (cos(x) * cos(x)), 0},
      {"exp(x)", x, exp(x), exp(x), exp(x), 0},
      {"log(x)", x, log(x), 1 / x, -1 / (x * x), 0},
      {"sqrt(x)", x, sqrt(x), 0.5 / sqrt(x), -0.25 / (x * sqrt(x)), 0},
      {"tanh(x)", x, tanh(x), 1 / (cosh(x) * cosh(x)),
       -2 * tanh(x) / (cosh(x) * cosh(x)), 0},
      {"abs(x)", xn, 1.3, -1, 0, 0},
      {"abs(x)", x, x, 1, 0, 0},
      {"abs(x^3)", xn, 1.3 * 1.3 * 1.3, -3 * 1.69, 6 * 1.3, 0}, /* -x^3 for x < 0 */
      {"sin(2*x)", x, sin(2 * x), 2 * cos(2 * x), -4 * sin(2 * x), 0},
      {"exp(-x^2/2)", x, exp(-x * x / 2), -x * exp(-x * x / 2), (x * x - 1) * exp(-x * x / 2), 0},
      {"log(cos(x))", x, log(cos(x)), -tan(x), -1 / (cos(x) * cos(x)), 0},
      {"sqrt(1 + x^2)", xn, sqrt(1 + xn * xn), xn / sqrt(1 + xn * xn),
       1 / pow(1 + xn * xn, 1.5), 0},
      {"tanh(sin(x))", x, tanh(sin(x)),
       cos(x) * (1 - tanh(sin(x)) * tanh(sin(x))),
       (1 - tanh(sin(x)) * tanh(sin(x))) *
           (-sin(x) - 2 * tanh(sin(x)) * cos(x) * cos(x)), 0},
      /* sin² + cos² = 1: derivatives vanish up to rounding, compared on the scale 1 */
      {"sin(x)^2 + cos(x)^2", x, 1, 0, 0, 1},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) check1(&cs[i]);
}
END_TEST

START_TEST(test_arith_and_powers) {
  const double x = 0.7, xn = -1.3;
  const case1 cs[] = {
      /* unary minus binds looser than ^ */
      {"-x^2", 3, -9, -6, -2, 0},
      {"(-x)^2", 3, 9, 6, 2, 0},
      {"2^-1*x", x, 0.5 * x, 0.5, 0, 0},
      {"x^2^0.5", x, pow(x, sqrt(2)), sqrt(2) * pow(x, sqrt(2) - 1),
       sqrt(2) * (sqrt(2) - 1) * pow(x, sqrt(2) - 2), 0}, /* right associative */
      {"--x", x, x, 1, 0, 0},
      {"+x", x, x, 1, 0, 0},
      /* integer exponents, negative bases */
      {"x^4", xn, pow(xn, 4), 4 * pow(xn, 3), 12 * xn * xn, 0},
      {"x^3", xn, xn * xn * xn, 3 * xn * xn, 6 * xn, 0},
      {"(x-1)^2", 0.25, 0.5625, -1.5, 2, 0},
      {"(x-1)^2", xn, (xn - 1) * (xn - 1), 2 * (xn - 1), 2, 0},
      {"x^-2", xn, 1 / (xn * xn), -2 / (xn * xn * xn), 6 / (xn * xn * xn * xn), 0},
      {"x^-1", xn, 1 / xn, -1 / (xn * xn), 2 / (xn * xn * xn), 0},
      {"x^1", xn, xn, 1, 0, 0},
      {"x^0", xn, 1, 0, 0, 0},
      {"x^7", xn, pow(xn, 7), 7 * pow(xn, 6), 42 * pow(xn, 5), 0},
      {"x^100", 1.01, pow(1.01, 100), 100 * pow(1.01, 99), 9900 * pow(1.01, 98), 0},
      /* fractional and variable exponents */
      {"x^1.5", x, pow(x, 1.5), 1.5 * sqrt(x), 0.75 / sqrt(x), 0},
      {"x^-0.5", x, 1 / sqrt(x), -0.5 * pow(x, -1.5), 0.75 * pow(x, -2.5), 0},
      {"x^x", x, pow(x, x), pow(x, x) * (log(x) + 1),
       pow(x, x) * ((log(x) + 1) * (log(x) + 1) + 1 / x), 0},
      {"2^x", x, pow(2, x), pow(2, x) * log(2.0), pow(2, x) * log(2.0) * log(2.0), 0},
      {"x^(2*x)", 1.7, pow(1.7, 3.4), pow(1.7, 3.4) * 2 * (log(1.7) + 1),
       pow(1.7, 3.4) * (4 * (log(1.7) + 1) * (log(1.7) + 1) + 2 / 1.7), 0},
      {"(x^2)^0.5", xn, 1.3, -1, 0, 1},
      /* products and quotients */
      {"x*sin(x)", x, x * sin(x), sin(x) + x * cos(x), 2 * cos(x) - x * sin(x), 0},
      {"sin(x)/x", x, sin(x) / x, (x * cos(x) - sin(x)) / (x * x),
       (-x * x * sin(x) - 2 * x * cos(x) + 2 * sin(x)) / (x * x * x), 0},
      {"1/x", xn, 1 / xn, -1 / (xn * xn), 2 / (xn * xn * xn), 0},
      {"3 - x", x, 3 - x, -1, 0, 0},
      {"x - 3", x, x - 3, 1, 0, 0},
      {"x/4", x, x / 4, 0.25, 0, 0},
      {"(x+1)*(x-2)", x, (x + 1) * (x - 2), 2 * x - 1, 2, 0},
      {"x/(x+1)", x, x / (x + 1), 1 / ((x + 1) * (x + 1)), -2 / pow(x + 1, 3), 0},
      {"exp(x)/exp(x)", x, 1, 0, 0, 1},
      /* parameters and constants */
      {"k*(x^2-1)^2", x, 0.7 * (x * x - 1) * (x * x - 1), 0.7 * 4 * x * (x * x - 1),
       0.7 * (12 * x * x - 4), 0},
      {"eps*sin(x/eps)", x, 1e-3 * sin(x / 1e-3), cos(x / 1e-3), -sin(x / 1e-3) / 1e-3, 0},
      {"a_1*x + pi", x, -2.5 * x + M_PI, -2.5, 0, 0},
      {"1.5e-1 * x + .5", x, 0.15 * x + 0.5, 0.15, 0, 0},
      {"  x\t*  2 ", x, 2 * x, 2, 0, 0},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) check1(&cs[i]);
}
END_TEST

START_TEST(test_constant_folding) {
  /* A constant expression is one number with zero derivatives. */
  cgd_expr *e = parse_ok("2*3+4 - sqrt(16)/2 + sin(pi/2)", 1);
  double x = 5, f, g, h;
  eval_ok(e, 1, &x, &f, &g, &h);
  ck_assert(f == 9.0 && g == 0.0 && h == 0.0);
  cgd_expr_free(e);
  /* Folded constants are exact doubles: (1+2)^2 is 9 and sqrt(2) is the rounded root. */
  e = parse_ok("(1+2)^2*x + sqrt(2)*x", 1);
  x = 1.0;
  eval_ok(e, 1, &x, &f, &g, &h);
  ck_assert(g == 9.0 + sqrt(2.0) && h == 0.0);
  cgd_expr_free(e);
  /* x/(2*eps) divides by the folded 2e-3, exactly as written. */
  e = parse_ok("x/(2*eps)", 1);
  x = 0.3;
  eval_ok(e, 1, &x, &f, &g, NULL);
  ck_assert(f == 0.3 / 2e-3 && g == 1.0 / 2e-3);
  cgd_expr_free(e);
  /* y^0 is 1 even for y = 0 (pow semantics), and its derivatives are 0. */
  e = parse_ok("x*y^0", 2);
  double p[2] = {2, 0}, g2[2], h2[4];
  eval_ok(e, 1, p, &f, g2, h2);
  ck_assert(f == 2 && g2[0] == 1 && g2[1] == 0 && h2[0] == 0 && h2[1] == 0 && h2[3] == 0);
  cgd_expr_free(e);
}
END_TEST

typedef struct {
  const char *src;
  double x, y;
  double f, gx, gy, hxx, hxy, hyy;
} case2;

START_TEST(test_two_d) {
  const double x = 0.8, y = -1.1, r2 = x * x + y * y, r = sqrt(r2);
  const case2 cs[] = {
      {"x*y", x, y, x * y, y, x, 0, 1, 0},
      {"x^2*y^3", x, y, x * x * y * y * y, 2 * x * y * y * y, 3 * x * x * y * y, 2 * y * y * y,
       6 * x * y * y, 6 * x * x * y},
      {"sin(x*y)", x, y, sin(x * y), y * cos(x * y), x * cos(x * y), -y * y * sin(x * y),
       cos(x * y) - x * y * sin(x * y), -x * x * sin(x * y)},
      {"exp(x+2*y)", x, y, exp(x + 2 * y), exp(x + 2 * y), 2 * exp(x + 2 * y), exp(x + 2 * y),
       2 * exp(x + 2 * y), 4 * exp(x + 2 * y)},
      {"x/y", x, y, x / y, 1 / y, -x / (y * y), 0, -1 / (y * y), 2 * x / (y * y * y)},
      {"log(x^2+y^2)", x, y, log(r2), 2 * x / r2, 2 * y / r2, 2 * (y * y - x * x) / (r2 * r2),
       -4 * x * y / (r2 * r2), 2 * (x * x - y * y) / (r2 * r2)},
      {"sqrt(x^2+y^2)", x, y, r, x / r, y / r, y * y / (r * r2), -x * y / (r * r2),
       x * x / (r * r2)},
      {"0.26*(x^2+y^2) + 0.48*x*y", x, y, 0.26 * r2 + 0.48 * x * y, 0.52 * x + 0.48 * y,
       0.52 * y + 0.48 * x, 0.52, 0.48, 0.52},
      /* variable base and exponent: d/dx x^y = y x^(y-1), d/dy = x^y log x */
      {"x^y", 1.6, 0.9, pow(1.6, 0.9), 0.9 * pow(1.6, -0.1), pow(1.6, 0.9) * log(1.6),
       0.9 * -0.1 * pow(1.6, -1.1), pow(1.6, -0.1) * (1 + 0.9 * log(1.6)),
       pow(1.6, 0.9) * log(1.6) * log(1.6)},
      {"eps*sin(x/eps) + eps*cos(y/eps)", x, y, 1e-3 * sin(x / 1e-3) + 1e-3 * cos(y / 1e-3),
       cos(x / 1e-3), -sin(y / 1e-3), -sin(x / 1e-3) / 1e-3, 0, -cos(y / 1e-3) / 1e-3},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    const case2 *c = &cs[i];
    cgd_expr *e = parse_ok(c->src, 2);
    double p[2] = {c->x, c->y}, f, g[2], h[4];
    eval_ok(e, 1, p, &f, g, h);
    const double want[6] = {c->f, c->gx, c->gy, c->hxx, c->hxy, c->hyy};
    const double got[6] = {f, g[0], g[1], h[0], h[1], h[3]};
    const char *what[6] = {"f", "fx", "fy", "fxx", "fxy", "fyy"};
    for (int k = 0; k < 6; k++)
      ck_assert_msg(close_to(got[k], want[k], 0), "%s: %s = %.17g, want %.17g", c->src, what[k],
                    got[k], want[k]);
    ck_assert_msg(h[1] == h[2], "%s: Hessian not symmetric", c->src);
    cgd_expr_free(e);
  }
}
END_TEST

typedef struct {
  const char *src;
  int nvars;
  const char *need1, *need2;
} bad_case;

START_TEST(test_parse_errors) {
  const bad_case cs[] = {
      {"", 1, "column 1:", "empty expression"},
      {"   ", 1, "column 4:", "empty expression"},
      {"x+", 1, "column 3:", "expected a number, name or '('"},
      {"x^+", 1, "column 4:", "expected a number, name or '('"},
      {"x*/2", 1, "column 3:", "expected a number, name or '('"},
      {"(x", 1, "column 3:", "expected ')'"},
      {"sin(x", 1, "column 6:", "expected ')'"},
      {"sin x", 1, "column 5:", "expected '(' after function 'sin'"},
      {"x)", 1, "column 2:", "expected an operator"},
      {"2x", 1, "column 2:", "expected an operator"},
      {"x $ 2", 1, "column 3:", "expected an operator"},
      {"foo(x)", 1, "column 1:", "unknown function 'foo'"},
      {"x + bar(2)", 1, "column 5:", "unknown function 'bar'"},
      {"foo", 1, "column 1:", "unknown name 'foo'"},
      {"2*epsilon", 1, "column 3:", "unknown name 'epsilon'"},
      {"x + y", 1, "column 5:", "'y' used in a 1-D expression"},
      {"x + z", 2, "column 5:", "unknown name 'z'"},
      {"1e999*x", 1, "column 1:", "number out of range"},
      {".", 1, "column 1:", "expected a number"},
      {")", 1, "column 1:", "expected a number, name or '('"},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    cgd_expr *e = (cgd_expr *)&e; /* must be reset to NULL */
    cgd_error err = {{0}};
    int rc = cgd_expr_parse(cs[i].src, cs[i].nvars, NULL, NULL, 0, &e, &err);
    ck_assert_msg(rc == CGD_EUSAGE, "'%s': rc %d", cs[i].src, rc);
    ck_assert_ptr_null(e);
    char head[128];
    snprintf(head, sizeof head, "expression '%s' ", cs[i].src);
    ck_assert_msg(strncmp(err.msg, head, strlen(head)) == 0, "'%s': message '%s'", cs[i].src,
                  err.msg);
    ck_assert_msg(strstr(err.msg, cs[i].need1) && strstr(err.msg, cs[i].need2),
                  "'%s': message '%s' lacks '%s' / '%s'", cs[i].src, err.msg, cs[i].need1,
                  cs[i].need2);
  }
}
END_TEST

START_TEST(test_hostile_input) {
  /* Deep nesting fails cleanly instead of exhausting the stack. */
  const int depth = 100000;
  char *s = malloc(2 * (size_t)depth + 2);
  for (int i = 0; i < depth; i++) s[i] = '(';
  s[depth] = 'x';
  for (int i = 0; i < depth; i++) s[depth + 1 + i] = ')';
  s[2 * depth + 1] = 0;
  cgd_expr *e = NULL;
  cgd_error err;
  ck_assert_int_eq(cgd_expr_parse(s, 1, NULL, NULL, 0, &e, &err), CGD_EUSAGE);
  ck_assert_ptr_null(e);
  ck_assert_ptr_nonnull(strstr(err.msg, "nested too deeply"));
  memset(s, '-', (size_t)depth);
  s[depth] = 'x';
  s[depth + 1] = 0;
  ck_assert_int_eq(cgd_expr_parse(s, 1, NULL, NULL, 0, &e, &err), CGD_EUSAGE);
  /* A very long flat sum is refused as too long, not crashed on. */
  for (int i = 0; i < depth; i++) s[2 * i] = 'x', s[2 * i + 1] = '+';
  s[2 * depth - 1] = 0;
  ck_assert_int_eq(cgd_expr_parse(s, 1, NULL, NULL, 0, &e, &err), CGD_EUSAGE);
  ck_assert_ptr_nonnull(strstr(err.msg, "too long"));
  free(s);
  /* A long but reasonable sum works and needs few registers. */
  char buf[4000] = "0";
  for (int i = 0; i < 300; i++) strcat(buf, "+x*x");
  e = NULL;
  ck_assert_int_eq(cgd_expr_parse(buf, 1, NULL, NULL, 0, &e, &err), 0);
  double x = 0.5, f, g, h;
  eval_ok(e, 1, &x, &f, &g, &h);
  ck_assert(fabs(f - 75.0) < 1e-12 && fabs(g - 300.0) < 1e-12 && fabs(h - 600.0) < 1e-12);
  cgd_expr_free(e);
}
END_TEST

START_TEST(test_bad_arguments) {
  cgd_expr *e = NULL;
  cgd_error err;
  const char *n1[] = {"x"}, *n2[] = {"a", "a"}, *n3[] = {"2a"}, *n4[] = {"sin"};
  const double v1[] = {1}, v2[] = {1, 2}, vinf[] = {INFINITY};
  ck_assert_int_eq(cgd_expr_parse("x", 3, NULL, NULL, 0, &e, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_expr_parse(NULL, 1, NULL, NULL, 0, &e, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_expr_parse("x", 1, NULL, NULL, 0, NULL, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_expr_parse("x", 1, n1, v1, 1, &e, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_expr_parse("x", 1, n2, v2, 2, &e, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_expr_parse("x", 1, n3, v1, 1, &e, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_expr_parse("x", 1, n4, v1, 1, &e, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_expr_parse("x", 1, n2, vinf, 1, &e, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_expr_parse("x", 1, NULL, NULL, 1, &e, &err), CGD_EUSAGE);
  ck_assert_ptr_null(e);
  /* Errors with a NULL cgd_error still return the code. */
  ck_assert_int_eq(cgd_expr_parse("x+", 1, NULL, NULL, 0, &e, NULL), CGD_EUSAGE);
}
END_TEST

START_TEST(test_uses_y) {
  cgd_expr *e = parse_ok("x^2 + 0*y", 2);
  ck_assert_int_eq(cgd_expr_uses_y(e), 1);
  cgd_expr_free(e);
  e = parse_ok("x^2", 2);
  ck_assert_int_eq(cgd_expr_uses_y(e), 0);
  cgd_expr_free(e);
  ck_assert_int_eq(cgd_expr_uses_y(NULL), 0);
  cgd_expr_free(NULL);
}
END_TEST

/* Every operator and function over 1000 points in one batch against one point at a time. */
static const char *const BATCH_SRC =
    "sin(x*y) + cos(x)^3 - tan(y/4) + exp(-x^2)*log(2+y^2) + sqrt(1+x^2)/(2+y) "
    "+ tanh(x-y) + abs(x*y) + (abs(x)+0.1)^(y^2) + (1.5+sin(x))^(1+cos(y)) + 2^x + x^-2 + pi*k";

static void batch_points(size_t n, double *p) {
  for (size_t i = 0; i < n; i++) {
    p[2 * i] = -2.0 + 4.0 * (double)i / (double)n + 0.01;
    p[2 * i + 1] = 1.5 * sin(0.37 * (double)i);
  }
}

START_TEST(test_batch_equals_pointwise) {
  enum { N = 1000 };
  cgd_expr *e = parse_ok(BATCH_SRC, 2);
  double *p = malloc(2 * N * sizeof *p);
  double *f = malloc(N * sizeof *f), *g = malloc(2 * N * sizeof *g), *h = malloc(4 * N * sizeof *h);
  batch_points(N, p);
  eval_ok(e, N, p, f, g, h);
  for (size_t i = 0; i < N; i++) {
    double f1, g1[2], h1[4];
    eval_ok(e, 1, p + 2 * i, &f1, g1, h1);
    ck_assert_msg(memcmp(&f1, f + i, sizeof f1) == 0, "f differs at %zu", i);
    ck_assert_msg(memcmp(g1, g + 2 * i, sizeof g1) == 0, "g differs at %zu", i);
    ck_assert_msg(memcmp(h1, h + 4 * i, sizeof h1) == 0, "h differs at %zu", i);
  }
  /* Uneven splits and value-only calls give the same bits. */
  double *f2 = malloc(N * sizeof *f2), *g2 = malloc(2 * N * sizeof *g2);
  eval_ok(e, 3, p, f2, g2, NULL);
  eval_ok(e, 517, p + 6, f2 + 3, g2 + 6, NULL);
  eval_ok(e, N - 520, p + 2 * 520, f2 + 520, g2 + 2 * 520, NULL);
  ck_assert(memcmp(f2, f, N * sizeof *f) == 0);
  ck_assert(memcmp(g2, g, 2 * N * sizeof *g) == 0);
  eval_ok(e, N, p, f2, NULL, NULL);
  ck_assert(memcmp(f2, f, N * sizeof *f) == 0);
  /* The 1-D form of the same rules, including negative bases with integer exponents. */
  cgd_expr *e1 = parse_ok("(x-1)^2 + x^4 - x^3 + sin(x)/(2+cos(x))", 1);
  double f3[N], g3[N], h3[N];
  double x1[N];
  for (size_t i = 0; i < N; i++) x1[i] = p[2 * i];
  eval_ok(e1, N, x1, f3, g3, h3);
  for (size_t i = 0; i < N; i++) {
    double a, b, c;
    eval_ok(e1, 1, x1 + i, &a, &b, &c);
    ck_assert(memcmp(&a, f3 + i, 8) == 0 && memcmp(&b, g3 + i, 8) == 0 &&
              memcmp(&c, h3 + i, 8) == 0);
    const double xv = x1[i];
    ck_assert(close_to(a, (xv - 1) * (xv - 1) + pow(xv, 4) - pow(xv, 3) + sin(xv) / (2 + cos(xv)),
                       1));
  }
  cgd_expr_free(e1);
  cgd_expr_free(e);
  free(p), free(f), free(g), free(h), free(f2), free(g2);
}
END_TEST

typedef struct {
  const cgd_expr *e;
  const double *p;
  double *f, *g, *h;
  size_t n;
  int rc;
} job;

static void *run_job(void *arg) {
  job *j = arg;
  for (int r = 0; r < 20; r++) j->rc |= cgd_expr_eval(j->e, j->n, j->p, j->f, j->g, j->h, NULL);
  return NULL;
}

START_TEST(test_threads) {
  enum { N = 2000, T = 4 };
  cgd_expr *e = parse_ok(BATCH_SRC, 2);
  double *p = malloc(2 * N * sizeof *p);
  batch_points(N, p);
  double *ref = malloc(7 * N * sizeof *ref);
  eval_ok(e, N, p, ref, ref + N, ref + 3 * N);
  double *out[T];
  pthread_t th[T];
  job jobs[T];
  for (int t = 0; t < T; t++) {
    out[t] = malloc(7 * N * sizeof *out[t]);
    jobs[t] = (job){e, p, out[t], out[t] + N, out[t] + 3 * N, N, 0};
    ck_assert_int_eq(pthread_create(&th[t], NULL, run_job, &jobs[t]), 0);
  }
  for (int t = 0; t < T; t++) {
    pthread_join(th[t], NULL);
    ck_assert_int_eq(jobs[t].rc, CGD_OK);
    ck_assert(memcmp(out[t], ref, 7 * N * sizeof *ref) == 0);
    free(out[t]);
  }
  free(ref);
  free(p);
  cgd_expr_free(e);
}
END_TEST


/* Numbers go through the one strict parser: decimal only, in range, subnormals kept. */
START_TEST(test_strict_numbers) {
  const bad_case cs[] = {
      {"0x1p3", 1, "column 2:", "expected an operator between the number '0' and 'x'"},
      {"1e", 1, "column 2:", "expected an operator between the number '1' and 'e'"},
      {"1.5.2", 1, "column 4:", "expected an operator"},
      {"1e-400*x", 1, "column 1:", "number out of range"},
      {"x+1e400", 1, "column 3:", "number out of range"},
      {"2eps", 2, "column 2:", "expected an operator"},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    cgd_expr *e = NULL;
    cgd_error err = {{0}};
    ck_assert_msg(cgd_expr_parse(cs[i].src, cs[i].nvars, NULL, NULL, 0, &e, &err) == CGD_EUSAGE,
                  "'%s' accepted", cs[i].src);
    ck_assert_msg(strstr(err.msg, cs[i].need1) && strstr(err.msg, cs[i].need2),
                  "'%s': message '%s' lacks '%s' / '%s'", cs[i].src, err.msg, cs[i].need1,
                  cs[i].need2);
  }
  const char *good[] = {"1e-320*x", "5.*x", ".5*x", "1E+2*x", "0.0*x"};
  const double want[] = {1e-320, 5.0, 0.5, 100.0, 0.0};
  for (size_t i = 0; i < 5; i++) {
    cgd_expr *e = NULL;
    cgd_error err = {{0}};
    ck_assert_msg(cgd_expr_parse(good[i], 1, NULL, NULL, 0, &e, &err) == CGD_OK, "%s: %s",
                  good[i], err.msg);
    double x = 1.0, f;
    eval_ok(e, 1, &x, &f, NULL, NULL);
    ck_assert_double_eq(f, want[i]);
    cgd_expr_free(e);
  }
}
END_TEST

typedef struct {
  const char *src;
  int nvars;
  double x[2];
  int derivs;
  const char *need1, *need2;
} domain_case;

/* Defect 8: domain errors are usage errors that say where and why. */
START_TEST(test_domain_check) {
  const domain_case cs[] = {
      {"log(x)", 1, {-1.5, 0}, 0, "at x = -1.5", "column 1: log of a negative number"},
      {"log(x)", 1, {0, 0}, 0, "at x = 0", "log(0) is -inf"},
      {"1/(x-x)", 1, {0.25, 0}, 0, "at x = 0.5", "column 2: division by zero (1/0)"},
      {"x^2 + sqrt(x)", 1, {0, 0}, 1, "its derivative at column 7", "infinite derivative"},
      {"x^2 + sqrt(x)", 1, {-1, 0}, 0, "its value at column 7", "sqrt of a negative number"},
      {"x^0.5", 1, {-4, 0}, 0, "column 2", "negative base to a non-integer power"},
      {"x^-1", 1, {0, 0}, 0, "column 2", "zero to a negative power"},
      {"exp(1000*x)", 1, {1, 0}, 0, "at x = 0.75", "column 1: exp(750) overflows"},
      {"2^x", 1, {2000, 0}, 0, "column 2", "overflows"},
      {"x*y/(y-1)", 2, {3, 1}, 0, "(x, y) = (3, 1)", "column 4: division by zero"},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    cgd_expr *e = NULL;
    cgd_error err = {{0}};
    ck_assert_msg(cgd_expr_parse(cs[i].src, cs[i].nvars, NULL, NULL, 0, &e, &err) == CGD_OK,
                  "%s: %s", cs[i].src, err.msg);
    double pts[6] = {0.5, 0.5, 0.75, 0.75, cs[i].x[0], cs[i].x[1]};
    double *pt = pts;
    if (cs[i].nvars == 1) pts[0] = 0.5, pts[1] = 0.75, pts[2] = cs[i].x[0];
    ck_assert_int_eq(cgd_expr_check_finite(e, 3, pt, cs[i].derivs, &err), CGD_EUSAGE);
    ck_assert_msg(strstr(err.msg, "is not defined") && strstr(err.msg, cs[i].need1) &&
                      strstr(err.msg, cs[i].need2),
                  "'%s': message '%s' lacks '%s' / '%s'", cs[i].src, err.msg, cs[i].need1,
                  cs[i].need2);
    cgd_expr_free(e);
  }
  /* Outside log's domain the gradient is not finite either (1/x alone is -1 at x = -1), so
   * a map that evaluates only the gradient stops where f is undefined; inside, the bits of
   * 1/x are kept. */
  {
    cgd_expr *el = parse_ok("log(x) + x^2", 1);
    const double xs[3] = {-1.0, 0.0, 0.3};
    double g[3];
    eval_ok(el, 3, xs, NULL, g, NULL);
    ck_assert_msg(!isfinite(g[0]) && !isfinite(g[1]), "log's gradient at -1, 0: %g %g", g[0], g[1]);
    const double want = 1.0 / 0.3 + 2 * 0.3;
    ck_assert(memcmp(&g[2], &want, sizeof want) == 0);
    cgd_expr_free(el);
  }
  /* defined everywhere asked: OK, also over many points (chunking) */
  cgd_expr *e = NULL;
  cgd_error err = {{0}};
  ck_assert_int_eq(cgd_expr_parse("log(x) + sqrt(x)", 1, NULL, NULL, 0, &e, &err), CGD_OK);
  double xs[1000];
  for (int i = 0; i < 1000; i++) xs[i] = 0.001 + i;
  ck_assert_msg(cgd_expr_check_finite(e, 1000, xs, 1, &err) == CGD_OK, "%s", err.msg);
  xs[777] = -1;
  ck_assert_int_eq(cgd_expr_check_finite(e, 1000, xs, 1, &err), CGD_EUSAGE);
  ck_assert_msg(strstr(err.msg, "x = -1") != NULL, "%s", err.msg);
  cgd_expr_free(e);
}
END_TEST

/* sin and cos are the deterministic kernel's (chaosgd/vmath.h): values and derivatives
 * carry its bits exactly, in a block and one point at a time, and folded constants too. */
START_TEST(test_sincos_kernel_bits) {
  enum { N = 1000 };
  static double x[N], s[N], c[N];
  for (size_t i = 0; i < N; i++) {
    const double u = (double)i / N;
    x[i] = i % 4 == 0 ? (u - 0.5) * 20 : i % 4 == 1 ? ldexp(1.0 + u, (int)(i % 80) - 40)
         : i % 4 == 2 ? -(double)i * M_PI_2 : (u - 0.5) * 2e12;
  }
  x[1] = 0;
  x[2] = -0.0;
  x[3] = CGD_VMATH_MAX_ARG;
  cgd_error err = {{0}};
  ck_assert_int_eq(cgd_vsincos_at(CGD_VMATH_SCALAR, N, x, s, c, &err), CGD_OK);
  const char *src[2] = {"sin(x)", "cos(x)"};
  for (int k = 0; k < 2; k++) {
    cgd_expr *e = parse_ok(src[k], 1);
    static double f[N], g[N], h[N];
    eval_ok(e, N, x, f, g, h);
    for (size_t i = 0; i < N; i++) {
      /* sin: (s, c, -s); cos: (c, -s, -c); the second derivative through the chain rule
       * φ''·1·1 + φ'·0, which turns -0 into +0 */
      const double d1 = k ? -s[i] : c[i], d2 = k ? -c[i] : -s[i];
      const double want[3] = {k ? c[i] : s[i], d1, d2 * 1.0 * 1.0 + d1 * 0.0};
      const double got[3] = {f[i], g[i], h[i]};
      ck_assert_msg(memcmp(got, want, sizeof got) == 0, "%s at %.17g: (%.17g, %.17g, %.17g)",
                    src[k], x[i], f[i], g[i], h[i]);
      double f1, g1, h1;
      eval_ok(e, 1, x + i, &f1, &g1, &h1);
      ck_assert(memcmp(&f1, f + i, 8) == 0 && memcmp(&g1, g + i, 8) == 0 &&
                memcmp(&h1, h + i, 8) == 0);
    }
    cgd_expr_free(e);
  }
  /* A folded constant is the kernel's value of the same argument. */
  const char *folded[2] = {"sin(123456.789)*x", "cos(-1e12)*x"};
  const double arg[2] = {123456.789, -1e12};
  for (int k = 0; k < 2; k++) {
    cgd_expr *e = parse_ok(folded[k], 1);
    double one = 1.0, f, sv, cv;
    eval_ok(e, 1, &one, &f, NULL, NULL);
    ck_assert_int_eq(cgd_vsincos(1, &arg[k], &sv, &cv, &err), CGD_OK);
    ck_assert(memcmp(&f, k ? &cv : &sv, 8) == 0);
    cgd_expr_free(e);
  }
}
END_TEST

/* An argument beyond 2^40 is CGD_EDOMAIN naming the expression, function, column, argument
 * and point; NaN passes through without error. */
START_TEST(test_sincos_domain) {
  cgd_expr *e = parse_ok("x^2 + cos(x*1e9) + eps*sin(x/1e-13)", 1);
  enum { N = 600 };
  static double x[N], f[N], g[N], h[N];
  for (size_t i = 0; i < N; i++) x[i] = 1e-2 * (double)i / N; /* x/1e-13 < 1e11 */
  /* In one block: sin fails at point 20 while cos (executed first) fails at point 30; the
   * lowest point is reported. */
  x[20] = 0.5;
  x[30] = 2e3;
  x[400] = NAN;
  x[500] = INFINITY;
  cgd_error err = {{0}};
  ck_assert_int_eq(cgd_expr_eval(e, N, x, f, g, h, &err), CGD_EDOMAIN);
  const char *need[] = {"expression 'x^2 + cos(x*1e9) + eps*sin(x/1e-13)' at x = 0.5",
                        "argument of sin at column 24 is 5e+12", "|x| <= 2^40"};
  for (size_t k = 0; k < 3; k++)
    ck_assert_msg(strstr(err.msg, need[k]), "message '%s' lacks '%s'", err.msg, need[k]);
  /* only the points whose argument is out of the domain (or NaN) are NaN */
  for (size_t i = 0; i < N; i++) {
    const int nan_pt = i == 20 || i == 30 || i == 400 || i == 500;
    ck_assert_msg(isnan(f[i]) == nan_pt && isnan(g[i]) == nan_pt && isnan(h[i]) == nan_pt,
                  "point %zu: f = %g, g = %g, h = %g", i, f[i], g[i], h[i]);
  }
  /* the same message in any split, and with or without derivatives */
  cgd_error err2 = {{0}};
  ck_assert_int_eq(cgd_expr_eval(e, 25, x + 10, f, NULL, NULL, &err2), CGD_EDOMAIN);
  ck_assert_str_eq(err2.msg, err.msg);
  ck_assert_int_eq(cgd_expr_eval(e, 10, x + 25, f, g, NULL, &err2), CGD_EDOMAIN);
  ck_assert_msg(strstr(err2.msg, "at x = 2000: argument of cos at column 7 is 2e+12"), "%s",
                err2.msg);
  /* ±inf is outside the domain; NaN is not an error */
  ck_assert_int_eq(cgd_expr_eval(e, 1, x + 500, f, g, h, &err2), CGD_EDOMAIN);
  ck_assert_msg(strstr(err2.msg, "is inf"), "%s", err2.msg);
  ck_assert_int_eq(cgd_expr_eval(e, 1, x + 400, f, g, h, &err2), CGD_OK);
  ck_assert(isnan(f[0]) && isnan(g[0]) && isnan(h[0]));
  ck_assert_int_eq(cgd_expr_eval(e, 400, x + 31, f, g, h, &err2), CGD_OK);
  /* the domain check reports it as such, not as "not defined" */
  ck_assert_int_eq(cgd_expr_check_finite(e, 25, x, 1, &err2), CGD_EDOMAIN);
  ck_assert_str_eq(err2.msg, err.msg);
  /* 2-D points are named as such */
  cgd_expr *e2 = parse_ok("sin(x) + cos(y/1e-13)", 2);
  const double p[4] = {0.1, 0.2, 0.3, 0.4};
  ck_assert_int_eq(cgd_expr_eval(e2, 2, p, f, g, NULL, &err2), CGD_EDOMAIN);
  ck_assert_msg(strstr(err2.msg, "at (x, y) = (0.10000000000000001, 0.20000000000000001): "
                                 "argument of cos at column 10 is 2e+12"), "%s", err2.msg);
  cgd_expr_free(e2);
  cgd_expr_free(e);
  /* A constant argument beyond the domain fails the parse. */
  e = (cgd_expr *)&e;
  ck_assert_int_eq(cgd_expr_parse("x + 2*cos(1e13)", 1, NULL, NULL, 0, &e, &err), CGD_EDOMAIN);
  ck_assert_ptr_null(e);
  ck_assert_msg(strstr(err.msg, "expression 'x + 2*cos(1e13)': argument of cos at column 7 is "
                                "1e+13") && strstr(err.msg, "2^40"), "%s", err.msg);
  /* Bad arguments. */
  ck_assert_int_eq(cgd_expr_eval(NULL, 1, x, f, NULL, NULL, &err), CGD_EUSAGE);
}
END_TEST

int main(void) {
  Suite *s = suite_create("expr");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_functions);
  tcase_add_test(tc, test_arith_and_powers);
  tcase_add_test(tc, test_constant_folding);
  tcase_add_test(tc, test_two_d);
  tcase_add_test(tc, test_parse_errors);
  tcase_add_test(tc, test_strict_numbers);
  tcase_add_test(tc, test_domain_check);
  tcase_add_test(tc, test_hostile_input);
  tcase_add_test(tc, test_bad_arguments);
  tcase_add_test(tc, test_uses_y);
  tcase_add_test(tc, test_batch_equals_pointwise);
  tcase_add_test(tc, test_threads);
  tcase_add_test(tc, test_sincos_kernel_bits);
  tcase_add_test(tc, test_sincos_domain);
  suite_add_tcase(s, tc);
  return cgd_check_run(s);
}
