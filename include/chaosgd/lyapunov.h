/* Lyapunov exponents of the maps chaosgd iterates, measured step by step.
 *
 * Every estimator is incremental (create / push one step / estimate), so it can be
 * attached to the loop as an observer, and has a one-call convenience form.
 *
 *   1-D GD, eq. (4) of Kong & Tao:  λ = lim (1/n) Σ ln|1 − η f''(x_i)|
 *   d-D, two different quantities:
 *     norm_average  (1/n) Σ ln‖J(x_i)‖₂, J = I − η∇²f  (eq. (4) read literally). Since
 *                   ‖J_n⋯J_1‖ ≤ Π‖J_i‖, it bounds the largest exponent from ABOVE.
 *     tangent/QR    the true exponents of the product J_n⋯J_1 (Benettin): Q ← J Q, Q R = Q,
 *                   λ_k = (1/n) Σ ln|R_kk|. k = 1 is the largest exponent (one tangent
 *                   vector, renormalised); k = d the full spectrum.
 *
 * Standard errors are by batch means: the per-step log growths are summed in batches whose
 * length doubles whenever 64 batches are full (so 32–64 batches at any time, constant
 * memory), and stderr = sd(batch means)/√(batches). Under the usual mixing assumptions it
 * is consistent once the batch length exceeds the correlation time; it is reported as NaN
 * with fewer than 8 batches.
 *
 * Which map? GD x ← x − η∇f(x) has J = I − η∇²f(x). For the other maps the exponent is
 * defined on their full state and their Jacobian is built by the helpers below:
 *   heavy ball  state (x, v):  v' = γv − η∇f(x), x' = x + v'
 *               J = [[I − ηH, γI], [−ηH, γI]]  (rows x', v'; columns x, v)
 *   NAG-SC      state (x, y):  x' = y − η∇f(y), y' = x' + c(x' − x)
 *               J = [[0, I − ηH(y)], [−cI, (1 + c)(I − ηH(y))]]
 *   stochastic  x' = x − η∇f0(x) + ηζ: the noise is additive, so the exponent of this
 *               random map is that of J = I − η∇²f0(x) (pass the Hessian of f0 alone).
 *   gaussian    same as stochastic.
 */
#ifndef CHAOSGD_LYAPUNOV_H
#define CHAOSGD_LYAPUNOV_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>

#include "chaosgd/objective.h"
#include "chaosgd/status.h"

/* ------------------------------------------------------------ running mean with batch means */

#define CGD_BM_MAX 64

/* A running mean of per-step values with a batch-means standard error. Plain struct: no
 * allocation; zero-initialise with cgd_bm_init. */
typedef struct cgd_batch_means {
  size_t burn_in;     /* the first burn_in pushed values are discarded */
  size_t seen;        /* values pushed, including burn-in */
  size_t n;           /* values accumulated */
  double sum;         /* Σ of accumulated values */
  size_t blen;        /* current batch length (starts at min_batch, doubles) */
  size_t nb;          /* completed batches */
  double bsum[CGD_BM_MAX];
  double cur;         /* sum of the batch in progress */
  size_t cur_n;
} cgd_batch_means;

typedef struct cgd_estimate {
  double mean;   /* (1/n) Σ values (NaN if n = 0) */
  double se;     /* batch-means standard error (NaN if fewer than 8 batches) */
  size_t n;      /* values in the mean (after burn-in) */
  size_t batches;
  size_t batch_len;
} cgd_estimate;

void cgd_bm_init(cgd_batch_means *bm, size_t burn_in, size_t min_batch);
void cgd_bm_push(cgd_batch_means *bm, double v);
cgd_estimate cgd_bm_estimate(const cgd_batch_means *bm);

/* ------------------------------------------------------------------------------ 1-D */

/* Observer for one 1-D orbit of GD: needs f''(x_t) and η each step.
 *   cgd_lyap1d_push(&acc, eta, f2)   adds ln|1 − η f''(x_t)|
 * A zero multiplier (a superstable point) adds −inf; the estimate is then −inf. */
typedef struct cgd_lyap1d {
  cgd_batch_means bm;
} cgd_lyap1d;

void cgd_lyap1d_init(cgd_lyap1d *a, size_t burn_in);
static inline void cgd_lyap1d_push_mult(cgd_lyap1d *a, double multiplier);
void cgd_lyap1d_push(cgd_lyap1d *a, double eta, double f2);
cgd_estimate cgd_lyap1d_estimate(const cgd_lyap1d *a);

/* One call: λ of GD x ← x − η f'(x) on a 1-D objective from x0 over burn_in + steps
 * steps (f'' from obj->eval with h). x_end (may be NULL) gets the last state. Returns
 * CGD_EDIVERGED if the orbit leaves the finite numbers. */
int cgd_lyapunov_1d(const cgd_objective *obj, double eta, double x0, size_t burn_in, size_t steps,
                    cgd_estimate *out, double *x_end, cgd_error *err);

/* --------------------------------------------------------------------- ensembles */

/* Per-particle exponents of n independent orbits of a map on dimension dim, one tangent
 * vector per particle (largest exponent). Observer: each step, after burn-in, pass the
 * n Jacobians J (n × dim×dim, row-major per particle) or, for GD, the n Hessians and η.
 * In 1-D the tangent is the scalar multiplier and the update vectorises like the state. */
typedef struct cgd_lyap_ens cgd_lyap_ens;

int cgd_lyap_ens_create(size_t n, size_t dim, size_t burn_in, cgd_lyap_ens **out, cgd_error *err);
void cgd_lyap_ens_free(cgd_lyap_ens *e);
/* GD: J_i = I − η h_i */
void cgd_lyap_ens_push_hess(cgd_lyap_ens *e, double eta, const double *h);
/* Any map: its Jacobians */
void cgd_lyap_ens_push_jac(cgd_lyap_ens *e, const double *J);
/* λ of particle i (NaN before any step past burn-in) */
double cgd_lyap_ens_particle(const cgd_lyap_ens *e, size_t i);

typedef struct cgd_lyap_summary {
  size_t particles, steps;
  double mean, std, min, max; /* over particles (population std) */
  double frac_positive;       /* share of particles with λ_i > 0 */
  double stderr_mean;         /* std/√particles: the orbits are independent */
} cgd_lyap_summary;
cgd_lyap_summary cgd_lyap_ens_summary(const cgd_lyap_ens *e);

/* ------------------------------------------------------------------- d-D tangent / QR */

/* Benettin: k tangent vectors of dimension d (1 ≤ k ≤ d), re-orthonormalised by
 * modified Gram–Schmidt every step; exponent j accumulates ln R_jj. Also accumulates
 * norm_average = ln‖J‖₂ (computed from the eigenvalues of JᵀJ, or of J when symmetric).
 * Observer: each step the Jacobian J (d×d row-major) of the map at the current state, or
 * for GD the Hessian and η. */
typedef struct cgd_lyap_qr cgd_lyap_qr;

int cgd_lyap_qr_create(size_t d, size_t k, size_t burn_in, cgd_lyap_qr **out, cgd_error *err);
void cgd_lyap_qr_free(cgd_lyap_qr *q);
void cgd_lyap_qr_push_jac(cgd_lyap_qr *q, const double *J, int symmetric);
void cgd_lyap_qr_push_hess(cgd_lyap_qr *q, double eta, const double *h);
/* exponent j (0 = largest) */
cgd_estimate cgd_lyap_qr_exponent(const cgd_lyap_qr *q, size_t j);
cgd_estimate cgd_lyap_qr_norm_average(const cgd_lyap_qr *q);
size_t cgd_lyap_qr_k(const cgd_lyap_qr *q);

/* One call for GD on an analytic objective of any dimension d (Hessians from obj->eval):
 * the full spectrum (spectrum[d], NULL to skip), its standard errors, and norm_average. */
int cgd_lyapunov_spectrum(const cgd_objective *obj, double eta, const double *x0, size_t burn_in,
                          size_t steps, cgd_estimate *spectrum, cgd_estimate *norm_average,
                          cgd_error *err);

/* Jacobians of the momentum maps on their full state (2d × 2d, row-major), from the
 * Hessian h (d×d) at the point where the gradient is taken. */
void cgd_jacobian_heavyball(size_t d, double eta, double gamma, const double *h, double *J);
void cgd_jacobian_nag_sc(size_t d, double eta, double c, const double *h, double *J);

/* ------------------------------------------------------------------------- theory */

/* m of Cond. 2: m = E ln‖ε ∇²f1,ε(u)‖₂ over the phase law of f1, and λ_theory = m + ln(η/ε).
 * f1 names the part as in cgd_ms_spec:
 *   sin, negcos   ε f1'' = −sin θ / cos θ: m = mean of ln|sin θ| over one period (exactly
 *                 −ln 2; computed by the midpoint rule on 2²⁰ nodes, error ≈ ln2/2²⁰)
 *   quasi         ε f1'' = −(sin θ1 + 2 sin θ2), θ1, θ2 independent uniform (the torus the
 *                 orbit equidistributes on): the inner mean is closed form
 *                 E_θ ln|a + b sin θ| = ln((|a| + √(a² − b²))/2) if |a| ≥ |b| else ln(|b|/2),
 *                 the outer one midpoint rule in θ2 (4096 nodes)
 *   madeup        ε f1'' = −(3/25) sin²(s) cos(1 + cos(s)/ε) + O(ε), s = √3x/5: to leading
 *                 order the fast phase is independent of s, so m = ln(3/25) + 2E ln|sin s| +
 *                 E ln|cos φ| = ln(3/25) − 3 ln 2 (ε → 0 limit; documented as such)
 *   sincos2d      ε∇²f1 = diag(−sin θx, −cos θy): m = E ln max(|sin θx|, |cos θy|) over the
 *                 torus, midpoint rule 2048² nodes
 *   expression    (obj given, obj->eval_f1 with Hessians, 1-D or 2-D): a numeric average of
 *                 ln‖ε∇²f1‖₂ over a window [−1000πε, 1000πε) per coordinate (2²⁰ points in
 *                 1-D on the midpoint grid; 2-D: 1024² grid); method "window"
 *   none          not available (CGD_EUSAGE)
 * method (may be NULL) gets a short static string naming the rule used. */
int cgd_lyap_m_theory(const char *f1, double eps, const cgd_objective *obj, double *m,
                      const char **method, cgd_error *err);

/* ‖A‖₂ of a d×d matrix (largest singular value), by Jacobi on AᵀA (or on A if symmetric). */
double cgd_matrix_norm2(size_t d, const double *A, int symmetric);

/* Eigenvalues of a symmetric d×d matrix (cyclic Jacobi, ascending in w[d]). a is
 * overwritten. For small d (a few hundred at most). */
int cgd_sym_eigen(size_t d, double *a, double *w, double *vecs, cgd_error *err);


/* ------------------------------------------------------------------------ verdicts */

/* The measured verdict of a run, the same rule for every run kind. Inputs are what the
 * existing rules already decide on the tail (converged, periodic with its period,
 * descending) plus the largest exponent with its batch-means standard error:
 *   converged, periodic, descending   as before, in this order (a still-descending run
 *                                     stays "descending" however long it runs and whatever
 *                                     small exponent slow motion along negative curvature
 *                                     produces)
 *   chaotic          λ − z·se > 0      (bounded, non-monotone, aperiodic and an exponent
 *                                     whose confidence interval lies above 0)
 *   quasiperiodic    λ + z·se < 0      (bounded, non-monotone, aperiodic, yet nearby orbits
 *                                     converge: quasi-periodic motion, a long period, or the
 *                                     attractor of a piecewise-contracting map such as the
 *                                     leaky-ReLU MLP at the edge of stability)
 *   undecided        otherwise, or fewer than 8 batches (the run is too short to decide)
 * z = 3 (a one-sided 3-sigma interval: the batch-means se is itself estimated). */
typedef enum {
  CGD_MVERDICT_CONVERGED = 0,
  CGD_MVERDICT_PERIODIC,
  CGD_MVERDICT_DESCENDING,
  CGD_MVERDICT_CHAOTIC,
  CGD_MVERDICT_QUASIPERIODIC,
  CGD_MVERDICT_UNDECIDED
} cgd_mverdict;

cgd_mverdict cgd_mverdict_measured(int converged, int periodic, int descending, cgd_estimate lambda);
const char *cgd_mverdict_name(cgd_mverdict v);

/* ------------------------------------------------------------------ checkpoints */

/* Save / restore an accumulator mid-run (train --checkpoint-every, --resume): a raw image
 * for the same build; load checks the shape and returns -1 on a mismatch or short read. */
int cgd_lyap_qr_save(const cgd_lyap_qr *q, FILE *fp);
int cgd_lyap_qr_load(cgd_lyap_qr *q, FILE *fp);
int cgd_lyap_ens_save(const cgd_lyap_ens *e, FILE *fp);
int cgd_lyap_ens_load(cgd_lyap_ens *e, FILE *fp);

/* ------------------------------------------------------------------ inline bodies */
static inline void cgd_lyap1d_push_mult(cgd_lyap1d *a, double multiplier) {
  cgd_bm_push(&a->bm, log(fabs(multiplier)));
}

#endif
