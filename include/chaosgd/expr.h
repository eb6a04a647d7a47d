/* User-defined functions of x (and y) from an expression, with exact first and second
 * derivatives by forward-mode automatic differentiation (second-order dual numbers).
 *
 * Grammar (whitespace ignored):
 *   expr   := term (('+' | '-') term)*
 *   term   := unary (('*' | '/') unary)*
 *   unary  := ('+' | '-') unary | power
 *   power  := atom ('^' unary)?            right-associative: a^b^c = a^(b^c); -x^2 = -(x^2)
 *   atom   := number | name | name '(' expr ')' | '(' expr ')'
 *   number := C floating literal (1, 2.5, 1e-6, .5)
 *   name   := variable (x; y when nvars = 2) | parameter | constant pi
 *   functions: sin cos tan exp log sqrt tanh abs
 * Errors name the 1-based column and what was expected; unknown names are errors. */
#ifndef CHAOSGD_EXPR_H
#define CHAOSGD_EXPR_H

#include <stddef.h>

#include "chaosgd/status.h"

typedef struct cgd_expr cgd_expr;

/* Compile src over nvars variables (1: x; 2: x, y) and nparams named parameters whose
 * values are fixed at compile time. Fails with CGD_EUSAGE and a message like
 * "expression 'x^+' column 4: expected a number, name or '('". */
int cgd_expr_parse(const char *src, int nvars, const char *const *param_names,
                   const double *param_values, size_t nparams, cgd_expr **out, cgd_error *err);

/* Evaluate at n points x[n*nvars] (row-major). Any of f[n], g[n*nvars],
 * h[n*nvars*nvars] (row-major per point) may be NULL. Pure: safe from many threads. */
void cgd_expr_eval(const cgd_expr *e, size_t n, const double *x, double *f, double *g,
                   double *h);

/* 1 if the expression mentions variable "y" (so a 1-D expression can be rejected). */
int cgd_expr_uses_y(const cgd_expr *e);

void cgd_expr_free(cgd_expr *e);

#endif
