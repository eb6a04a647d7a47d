/* The objective interface: everything a map, the loop and the diagnostics need from a
 * loss, for a *batch* of states per call (GSL multimin style: callbacks + dimension +
 * opaque parameters).
 *
 *   states   x : n × dim, row-major (state i is x[i*dim .. i*dim+dim-1])
 *   values   f : n            f[i] = f(x_i)
 *   gradient g : n × dim      g[i*dim + a] = ∂f/∂x_a (x_i)
 *   Hessian  h : n × dim×dim  h[i*dim*dim + a*dim + b] = ∂²f/∂x_a∂x_b (x_i)
 *
 * The MLP is one objective with dim = number of parameters (its batch is usually one θ
 * over the whole data matrix); an analytic objective is dim 1 or 2 and its batch is n
 * particles, so the inner loops vectorise. */
#ifndef CHAOSGD_OBJECTIVE_H
#define CHAOSGD_OBJECTIVE_H

#include <stddef.h>
#include <stdint.h>

#include "chaosgd/status.h"

/* A named slice of the state vector (e.g. the MLP's W1, b1, W2, b2). */
typedef struct cgd_view {
  const char *name;
  size_t offset, len;
} cgd_view;

/* A part of a multiscale objective (f0 or f1,ε): value, gradient, Hessian in batches.
 * Any of f, g, h may be NULL (not wanted). */
typedef int (*cgd_eval_fn)(void *ctx, size_t n, const double *x, double *f, double *g,
                           double *h, cgd_error *err);

typedef struct cgd_objective cgd_objective;

struct cgd_objective {
  char name[128];   /* human-readable, e.g. "mlp 5-16-1" or "quartic + sin" */
  size_t dim;       /* dimension of one state */
  void *ctx;        /* owned by the objective; released by free_ctx */
  cgd_eval_fn eval; /* f, ∇f (and ∇²f where hess_ok) of the whole objective */
  int hess_ok;      /* eval accepts h != NULL */

  /* Multiscale split (NULL for the MLP): f = f0 + f1,ε. eval_f0 is the macro part alone
   * (used by the stochastic and Gaussian maps). noise draws ζ = −∇f1,ε(u) at uniformly
   * random phases u: out[i*dim + a] for i < n, from draws keyed by (seed, stream, index0+i)
   * so that every particle and step is reproducible on its own. */
  cgd_eval_fn eval_f0;
  cgd_eval_fn eval_f1;
  int (*noise)(void *ctx, size_t n, uint64_t seed, uint64_t index0, double *out);
  double eps;       /* ε of the multiscale part (0 if none) */

  size_t n_views;   /* named slices for histograms (0: only "all") */
  cgd_view views[8];

  void (*free_ctx)(void *ctx);

  /* Who may call what concurrently. With reentrant != 0, eval, eval_f0, eval_f1 and noise
   * may run at the same time on several threads for disjoint state ranges (the analytic
   * objectives: every scratch lives on the caller's stack). With reentrant == 0 (the
   * default of a zeroed struct, and the MLP, whose Z/A/residual scratch lives in the model)
   * the objective is called by one thread at a time: the loop then steps its blocks one
   * after another. Either way results do not depend on the thread count. */
  int reentrant;

  /* Hessian-vector product at one state: hv = ∇²f(x) v (dim values each). NULL when the
   * objective gives Hessians through eval instead (see cgd_objective_hvp, sharpness.h). */
  int (*hvp)(void *ctx, const double *x, const double *v, double *hv, cgd_error *err);
};

/* Release an objective made by any cgd_*_objective_create; NULL is a no-op. */
void cgd_objective_free(cgd_objective *obj);

/* obj->eval of a batch whose states are independent orbits (rates of an orbit diagram,
 * points of a scan): an objective refuses a whole batch as run away (CGD_EDIVERGED) without
 * naming the state, so when it does, the states are evaluated one by one and
 * refused[i] = 1 marks those it refuses (their outputs are not written); the others get
 * the values the batch would have given (objectives evaluate states independently).
 * refused[i] = 0 otherwise. Any other error is returned as eval's. */
int cgd_objective_eval_each(const cgd_objective *obj, size_t n, const double *x, double *f,
                            double *g, double *h, unsigned char *refused, cgd_error *err);

#endif
