/* User-defined functions of x (and y) from an expression, with exact first and second
 * derivatives by forward-mode automatic differentiation (second-order dual numbers).
 *
 * Grammar (whitespace ignored):
 *   expr   := term (('+' | '-') term)*
 *   term   := unary (('*' | '/') unary)*
 *   unary  := ('+' | '-') unary | power
 *   power  := atom ('^' unary)?            right-associative: a^b^c = a^(b^c); -x^2 = -(x^2)
 *   atom   := number | name | name '(' expr ')' | '(' expr ')'
 *   number := decimal literal read by chaosgd/parse.h (1, 2.5, 1e-6, .5, 5.); no hex, no
 *             literal that overflows or underflows to 0 (subnormals are kept); a number
 *             glued to a name ("2x") is an error, not a product
 *   name   := variable (x; y when nvars = 2) | parameter | constant pi
 *   functions: sin cos tan exp log sqrt tanh abs
 * Errors name the 1-based column and what was expected; unknown names are errors.
 *
 * Semantics. Sub-expressions without variables are folded to one double at parse time.
 * u^c with a constant integer c is exact in sign for negative u ((x-1)^2, x^-3; |c| <= 64
 * by repeated squaring, beyond that pow()); u^c with a non-integer c and u < 0 is NaN;
 * a^b with b depending on the variables is exp(b log a) for the derivatives (NaN for
 * a <= 0) and pow(a, b) for the value. abs has derivative 0 at 0. u/c divides (it is not
 * turned into u·(1/c)), so x/eps rounds as written. sin and cos (values, derivatives and
 * folded constants alike, from one call for both) come from the deterministic kernel of
 * chaosgd/vmath.h: at most 0.78 ulp, the same bits at every vector width, on the domain
 * |u| <= CGD_VMATH_MAX_ARG = 2^40 (≈ 1.1e12); an argument beyond it (or ±inf) is an error
 * (CGD_EDOMAIN, below), never a silent NaN, while a NaN argument gives NaN without error.
 * The other elementary functions are the C library's. A value does not depend on whether
 * derivatives were requested, nor on how points are split into batches. Nesting is
 * limited to 200 levels and the tree to 4000 nodes (CGD_EUSAGE beyond), which keeps the
 * parser's recursion bounded on any input. */
#ifndef CHAOSGD_EXPR_H
#define CHAOSGD_EXPR_H

#include <stddef.h>

#include "chaosgd/status.h"

typedef struct cgd_expr cgd_expr;

/* Compile src over nvars variables (1: x; 2: x, y) and nparams named parameters whose
 * values are fixed at compile time. Fails with CGD_EUSAGE and a message like
 * "expression 'x^+' column 4: expected a number, name or '('" (also: "unknown name 'foo'",
 * "unknown function 'foo'", "'y' used in a 1-D expression", "empty expression", "expected
 * an operator ... or the end of the expression"). Parameter names must be identifiers,
 * distinct, finite-valued, and not x, y, pi or a function name. A constant argument of
 * sin or cos beyond 2^40 (folded here) fails with CGD_EDOMAIN and the message of
 * cgd_expr_eval. *out is NULL on failure. */
int cgd_expr_parse(const char *src, int nvars, const char *const *param_names,
                   const double *param_values, size_t nparams, cgd_expr **out, cgd_error *err);

/* Evaluate at n points x[n*nvars] (row-major). Any of f[n], g[n*nvars],
 * h[n*nvars*nvars] (row-major per point, symmetric) may be NULL. Pure: safe from many
 * threads; its scratch (about 70 KB) is on the caller's stack.
 * Returns CGD_OK, CGD_EUSAGE (e NULL, or x NULL with n > 0) or CGD_EDOMAIN when an
 * argument of sin or cos is beyond 2^40 (or ±inf): every point is still evaluated, the
 * results depending on that argument are NaN, and err names the lowest-numbered such
 * point (the first such function in it, so the message does not depend on batching):
 *   expression 'sin(x/1e-13)' at x = 3.2000000000000002: argument of sin at column 1 is
 *   3.2e+13, outside the deterministic kernel's domain |x| <= 2^40 (1.1e+12)
 * A NaN argument is not an error (non-finite states are the caller's divergence check). */
int cgd_expr_eval(const cgd_expr *e, size_t n, const double *x, double *f, double *g,
                  double *h, cgd_error *err);

/* Domain check at points the user chose. Evaluates e (value, and the gradient when
 * derivs is non-zero) at n points x[n*nvars] and fails on the first point where
 * something is not finite, naming the point, the column and the operation:
 *   expression 'log(x)' is not defined at x = -1.5: its value at column 1: log of a
 *   negative number, log(-1.5)
 * Exit-code policy (README "exit codes"): parse errors and this check are CGD_EUSAGE
 * (exit 2): an objective given as an option that is undefined where the user asked to
 * use it (the initial states of --x0, the --hist-range the Gibbs law is computed on) is
 * a bad option value, like a syntax error. A non-finite value at a state the dynamics
 * reached later is divergence (CGD_EDIVERGED, exit 5), as for any objective: that is the
 * loop's verdict, not an expression error. Callers should run this on the initial
 * states and on the histogram range before step 0. A sin/cos argument beyond 2^40 at one
 * of the points fails with cgd_expr_eval's CGD_EDOMAIN and message (exit 2 as well). */
int cgd_expr_check_finite(const cgd_expr *e, size_t n, const double *x, int derivs,
                          cgd_error *err);

/* 1 if the expression mentions variable "y" (so a 1-D expression can be rejected). */
int cgd_expr_uses_y(const cgd_expr *e);

void cgd_expr_free(cgd_expr *e);

#endif
