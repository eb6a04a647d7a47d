/* Update rules ("maps") that advance a batch of states by one step on an objective.
 *
 *   gd          x ← x − η ∇f(x)
 *   stochastic  x ← x − η ∇f0(x) + η ζ,   ζ ~ law of −∇f1,ε at a uniform phase (Cond. 1)
 *   gaussian    x ← x − η ∇f0(x) + η σ ξ, ξ ~ N(0, I), σ² = Var ζ per coordinate (Rmk 16)
 *   heavyball   v ← γ v − η ∇f(x),  x ← x + v                       (App. D.4.1, v0 = 0)
 *   nag-sc      x' ← y − η ∇f(y),  y ← x' + c (x' − x),  x ← x'      (App. D.4.2, y0 = x0)
 *               c = (1 − √(μη)) / (1 + √(μη))
 * A map owns its extra state (velocity, look-ahead point) and its random stream; it
 * knows nothing about files. Random draws are keyed by (seed, step·n + particle, coord),
 * so results do not depend on thread count or block split. */
#ifndef CHAOSGD_MAP_H
#define CHAOSGD_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "chaosgd/objective.h"
#include "chaosgd/status.h"

typedef enum {
  CGD_MAP_GD = 0,
  CGD_MAP_STOCHASTIC,
  CGD_MAP_GAUSSIAN,
  CGD_MAP_HEAVYBALL,
  CGD_MAP_NAGSC
} cgd_map_kind;

typedef struct cgd_map_opts {
  cgd_map_kind kind;
  double lr;          /* η > 0 */
  double gamma;       /* heavy ball momentum, default 0.9 */
  double mu;          /* nag-sc strong-convexity constant μ (μη < 1) */
  uint64_t seed;      /* random maps */
  double sigma2[2];   /* gaussian: Var ζ per coordinate (from cgd_multiscale_sigma2) */
} cgd_map_opts;

typedef struct cgd_map cgd_map;

/* n states of obj->dim each. Fails (CGD_EUSAGE) when the map needs a multiscale split
 * the objective does not have, or a parameter is out of range. */
int cgd_map_create(const cgd_map_opts *o, const cgd_objective *obj, size_t n, cgd_map **out,
                   cgd_error *err);
void cgd_map_free(cgd_map *m);

int cgd_map_kind_parse(const char *s, cgd_map_kind *k);
const char *cgd_map_kind_name(cgd_map_kind k);
/* 1 if the map's step uses ∇f at the current state (gd, heavyball), so the loop can hand
 * over a gradient it already computed. */
int cgd_map_uses_gradient(const cgd_map *m);
/* Scratch doubles per state that cgd_map_step needs. */
size_t cgd_map_scratch(const cgd_map *m);

/* The map's own state (heavy ball: the velocity v; NAG-SC: the look-ahead y), n × dim
 * values, for checkpoints; NULL and 0 for maps without state. */
double *cgd_map_state(cgd_map *m, size_t *len);

/* Advance states [i0, i0+nb) by the step from `step` to `step+1`: x points at state i0
 * before the step, x_new receives it after (x_new may be x: in place; otherwise the two
 * must not overlap). g is ∇f at x when cgd_map_uses_gradient (else ignored and may be
 * NULL). scratch holds nb·cgd_map_scratch doubles. Blocks may run concurrently on
 * distinct state ranges.
 *
 * Fails with CGD_EDIVERGED ("diverged at step step+1: a state became non-finite ...")
 * when a new state is ±∞ or NaN; x_new holds the new states all the same, so a caller can
 * still look at the step that diverged. The test is folded into the update pass.
 * *stepped (may be NULL) says whether x_new holds the states after the step: 1 on success
 * and on that failure, 0 when the step failed before writing them (an error of the
 * objective evaluated inside the map, which may itself be CGD_EDIVERGED: a state that ran
 * away). */
int cgd_map_step(cgd_map *m, const cgd_objective *obj, uint64_t step, size_t i0, size_t nb,
                 const double *x, double *x_new, const double *g, double *scratch,
                 int *stepped, cgd_error *err);

#endif
