/* Lists and grids of values written as text: the one place that reads "0.1,0.2",
 * "10,100,1000" and the sweep grids "A:B:N" (linear) and "A:B:log:N" (logarithmic).
 * Every element goes through the strict number parser (chaosgd/parse.h): empty elements
 * ("0.1,", ",", ""), white space and trailing junk are errors. */
#ifndef CHAOSGD_GRID_H
#define CHAOSGD_GRID_H

#include <stddef.h>
#include <stdint.h>

#include "chaosgd/status.h"

/* Values of s into v[0..cap): a comma list "a,b,c", or a grid "A:B:N" (N points from A to
 * B inclusive, N >= 2) or "A:B:log:N" (N points geometrically spaced, 0 < A, 0 < B).
 * *n receives the count. CGD_EUSAGE naming `what` (e.g. "--lr") on any malformed element
 * or more than cap values. Values are in the order given (grids: from A to B). */
int cgd_grid_parse(const char *what, const char *s, double *v, size_t cap, size_t *n,
                   cgd_error *err);

/* Steps "10,100,1000": whole numbers >= 0, sorted and de-duplicated, those above iters
 * dropped, iters itself appended (a histogram is always taken at the last step).
 * "" gives just {iters}. *out is malloc'ed (free it). CGD_EUSAGE naming `what`. */
int cgd_steps_parse(const char *what, const char *s, uint64_t iters, uint64_t **out,
                    size_t *n, cgd_error *err);

#endif
