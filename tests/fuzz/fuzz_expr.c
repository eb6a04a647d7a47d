/* libFuzzer target: the expression parser and evaluator (chaosgd/expr.h).
 * Input: one byte choosing 1 or 2 variables, then the expression text. Every expression
 * that parses is evaluated (value, gradient, Hessian) at a few points, including hostile
 * ones, and run through the domain check. Any crash, leak or sanitizer report is a
 * finding; non-finite results are not (they are the domain check's business). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 4096) return 0;
  const int nvars = 1 + (data[0] & 1);
  char *src = malloc(size);
  if (!src) return 0;
  memcpy(src, data + 1, size - 1);
  src[size - 1] = '\0'; /* embedded NULs simply end the text early */
  static const char *const names[] = {"eps", "k", "a_1"};
  static const double vals[] = {1e-6, 2.0, -0.5};
  cgd_expr *e = NULL;
  cgd_error err;
  if (cgd_expr_parse(src, nvars, names, vals, 3, &e, &err) == CGD_OK) {
    enum { N = 11 };
    double x[2 * N] = {0.37, -0.2, 0, 0, -1.5, 1.5, 1e-320, -1e-320, 1e300, -1e300,
                       INFINITY, NAN, 3.14159, 2.71828, -7, 7, 0.5, 1e-6, 1e6, -1e6, 42, -42};
    double f[N], g[2 * N], h[4 * N];
    /* the status (CGD_EDOMAIN for a sin/cos argument beyond 2^40) is not a finding */
    (void)cgd_expr_eval(e, N, x, f, g, h, &err);
    (void)cgd_expr_eval(e, N, x, f, NULL, NULL, NULL);
    (void)cgd_expr_eval(e, 3, x + 2 * nvars, NULL, g, NULL, &err);
    (void)cgd_expr_check_finite(e, N, x, 1, &err);
    (void)cgd_expr_uses_y(e);
    cgd_expr_free(e);
  }
  free(src);
  return 0;
}
