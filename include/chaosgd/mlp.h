/* A d-H-1 multilayer perceptron with a leaky-ReLU hidden layer, linear output and mean
 * squared error, evaluated full-batch over a data matrix with BLAS.
 *
 *   Z = X W1ᵀ + 1 b1ᵀ         X: n×d, W1: H×d, Z: n×H
 *   A = leaky(Z)              leaky(z) = z if z > 0 else leak·z
 *   ŷ = A W2ᵀ + b2            W2: 1×H, ŷ: n
 *   L = (1/n) Σ (ŷ − y)²
 *
 * θ is one flat vector, P = H·d + H + H + 1 values, laid out as the views
 *   W1 [0, H·d) row-major · b1 [H·d, H·d+H) · W2 [H·d+H, H·d+2H) · b2 [H·d+2H]
 * and the gradient has the same layout, so an update is one axpy. */
#ifndef CHAOSGD_MLP_H
#define CHAOSGD_MLP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "chaosgd/lyapunov.h"
#include "chaosgd/objective.h"
#include "chaosgd/status.h"

typedef struct cgd_mlp cgd_mlp;

/* The model borrows X (n×d) and y (n): they must outlive it. */
int cgd_mlp_create(size_t n, size_t d, size_t H, double leak, const double *X, const double *y,
                   cgd_mlp **out, cgd_error *err);
void cgd_mlp_free(cgd_mlp *m);
size_t cgd_mlp_nparams(const cgd_mlp *m);

/* Loss at θ and, if grad is not NULL, its gradient, by the model's kernel (BLAS unless
 * cgd_mlp_set_kernel chose another); uses the model's scratch, so one call at a time per
 * model. */
double cgd_mlp_loss_grad(cgd_mlp *m, const double *theta, double *grad);
/* The same mathematics with plain loops, kept as the reference the BLAS path is tested
 * against (and benchmarked next to). Uses no scratch of m: safe alongside the fast path. */
double cgd_mlp_loss_grad_ref(const cgd_mlp *m, const double *theta, double *grad);

/* Kernels of cgd_mlp_loss_grad.
 *   CGD_MLP_KERNEL_BLAS   the specified BLAS path: Z = X W1ᵀ, A, ŷ, backward by
 *                         dgemm/dgemv (default, the reference)
 *   CGD_MLP_KERNEL_FUSED  one fused forward/backward pass that never forms Z or A
 *                         (mlp_fused.c): X in blocks of 8 rows, 1-bit sign masks, only
 *                         masked sums in the backward; AVX-512, AVX2 or portable C, all
 *                         giving the same bits. It agrees with BLAS to rounding (tested:
 *                         1e-12 relative over 2000 GD steps on Airfoil); it is not
 *                         bit-equal to it (other summation order). */
typedef enum { CGD_MLP_KERNEL_BLAS = 0, CGD_MLP_KERNEL_FUSED = 1 } cgd_mlp_kernel;
int cgd_mlp_set_kernel(cgd_mlp *m, cgd_mlp_kernel k, cgd_error *err);
cgd_mlp_kernel cgd_mlp_get_kernel(const cgd_mlp *m);
/* "blas", "fused" (for config.json); NULL for an unknown value. */
const char *cgd_mlp_kernel_name(cgd_mlp_kernel k);
/* Parses "blas" or "fused"; CGD_EUSAGE with a message listing both otherwise. */
int cgd_mlp_kernel_parse(const char *s, cgd_mlp_kernel *out, cgd_error *err);

/* The fused kernel as a reentrant function: any number of threads may call it at once on
 * one model (it only reads m, and the blocked copy of X and y taken at cgd_mlp_create:
 * X and y must not change after creation), each with its own scratch of
 * cgd_mlp_fused_scratch_size(m) bytes (any alignment). Returns NaN if an argument is NULL
 * or an allocation for d > 64 fails. */
size_t cgd_mlp_fused_scratch_size(const cgd_mlp *m);
double cgd_mlp_loss_grad_fused(const cgd_mlp *m, const double *theta, double *grad,
                               void *scratch);
/* The same at a forced vector level (1 portable C, 2 AVX2, 3 AVX-512; 0 or a level the
 * CPU lacks: the best it has), for tests and benchmarks. Every level gives the same bits. */
double cgd_mlp_loss_grad_fused_at(const cgd_mlp *m, int level, const double *theta,
                                  double *grad, void *scratch);

/* Time split of the last cgd_mlp_loss_grad calls (nanoseconds accumulated), for the
 * benchmark: BLAS calls vs element-wise loops. Counters are per model, reset by passing
 * reset = 1. */
typedef struct cgd_mlp_timing {
  double ns_gemm_fwd;    /* Z <- X W1ᵀ          (n×d)·(d×H) */
  double ns_gemv_fwd;    /* ŷ <- A W2ᵀ          (n×H)·(H) */
  double ns_gemv_bwd;    /* gW2 <- s Aᵀ r        (H×n)·(n) */
  double ns_gemm_bwd;    /* gW1 <- s dZᵀ X       (H×n)·(n×d) */
  double ns_blas;        /* the four above */
  double ns_elementwise; /* bias, leaky ReLU, residual, mask, bias gradients */
  uint64_t calls;
} cgd_mlp_timing;
void cgd_mlp_set_timing(cgd_mlp *m, int on);
cgd_mlp_timing cgd_mlp_get_timing(cgd_mlp *m, int reset);

/* PyTorch nn.Linear default initialisation: every weight and bias of a layer uniform in
 * ±1/√fan_in (fan_in d for layer 1, H for layer 2), from cgd_rng_uniform(seed,
 * CGD_STREAM_INIT, parameter index). */
void cgd_mlp_init(const cgd_mlp *m, uint64_t seed, double *theta);

/* The MLP as a cgd_objective (dim = P, views W1 b1 W2 b2). The objective owns m. */
int cgd_mlp_objective_create(cgd_mlp *m, cgd_objective **out, cgd_error *err);

/* Plain-text parameter files (round-trip exact):
 *   # chaosgd mlp parameters v1
 *   layers <d> <H> 1
 *   W1 <H> <d>      then H lines of d values (row-major)
 *   b1 <H>          then one line of H values
 *   W2 1 <H>        then one line of H values
 *   b2 1            then one value
 * Values printed with %.17g; '#' starts a comment line. */
int cgd_mlp_params_write(FILE *fp, size_t d, size_t H, const double *theta, cgd_error *err);
/* Reads a file and checks its shapes against (d, H); errors (CGD_EDATA) name the file and
 * line. Strict: each record on its own line with exactly its values (H lines of d for
 * W1), every value one token read by chaosgd/parse.h ("0.1-0.2" is an error, not two
 * values), '#' comments and blank lines allowed, no NUL byte, nothing after b2, and no
 * file longer than 40 bytes per parameter + 1 MiB (an endless device is refused after
 * that, /dev/zero at its first NUL byte). theta (P values) is written only on success. */
int cgd_mlp_params_read(const char *path, size_t d, size_t H, double *theta, cgd_error *err);
/* The same over len bytes in memory (need not be NUL-terminated); name stands for the
 * path in messages. For fuzzing and callers that read the bytes themselves. */
int cgd_mlp_params_parse(const char *name, const char *buf, size_t len, size_t d, size_t H,
                         double *theta, cgd_error *err);

/* ------------------------------------------------ Hessian-vector products (mlp_hvp.c) */

/* Doubles of caller scratch for cgd_mlp_loss_grad_hvp: 4nH + 2n + 4Hd + P. */
size_t cgd_mlp_hvp_scratch_len(const cgd_mlp *m);

/* One fused pass at θ: loss (may be NULL), gradient (may be NULL) and, if hv is not NULL,
 * the exact Hessian-vector product hv = ∇²L(θ) v (R-operator; leaky'' = 0 a.e.). scratch
 * holds cgd_mlp_hvp_scratch_len(m) doubles, or is NULL to allocate per call. Uses no
 * scratch of m, so it is reentrant (one scratch per thread) and can run beside the
 * training path. With hv == NULL it is a reentrant loss-and-gradient. */
int cgd_mlp_loss_grad_hvp(const cgd_mlp *m, const double *theta, const double *v, double *loss,
                          double *grad, double *hv, double *scratch, cgd_error *err);
int cgd_mlp_hvp(const cgd_mlp *m, const double *theta, const double *v, double *hv,
                double *scratch, cgd_error *err);
/* The objective's hvp callback (ctx is the cgd_mlp; allocates its scratch per call). */
int cgd_mlp_hvp_cb(void *ctx, const double *x, const double *v, double *hv, cgd_error *err);

/* Largest Lyapunov exponent of GD θ ← θ − η∇L(θ) on the MLP, two ways side by side:
 *   tangent  v ← (v − η∇²L(θ_t) v)/‖·‖, λ = mean ln‖v − η∇²L v‖ (the exponent of the
 *            piecewise-smooth map; blind to the jumps of the gradient where a unit's
 *            pre-activation changes sign on a data row)
 *   twin     θ'_0 = θ_0 + δ v_0; every K steps (the `twin` argument of create: 0 = no twin,
 *            1 = every step) the twin is put back at distance δ from θ_t along θ'_t − θ_t;
 *            between renormalisations it runs the same GD freely. λ_twin = mean over
 *            windows of ln(‖θ'_t − θ_t‖/δ)/K. A finite separation: it does see the jumps of
 *            the gradient where a pre-activation changes sign (twin_jumps counts the windows
 *            whose twin growth beat the tangent's by more than a factor 2). With K = 1 a
 *            twin pushed across a kink tends to stay across it (it is put back along the
 *            jump), so λ_twin then measures the discontinuity, not an exponent.
 * Observer form: cgd_mlp_lyap_push(L, θ_t, η, err) with the state BEFORE each update (one
 * extra fused gradient+HVP pass, plus one gradient for the twin). Driver form:
 * cgd_mlp_lyap_step does the GD step itself with the fused kernel (the tangent costs one
 * widened pass instead of a second one). */
typedef struct cgd_mlp_lyap cgd_mlp_lyap;
typedef struct cgd_mlp_lyap_result {
  cgd_estimate tangent, twin; /* means with batch-means standard errors (chaosgd/lyapunov.h) */
  size_t twin_jumps, steps;
  /* log growth of the latest step (tangent: ln‖v − ηHv‖; twin: ln(sep/δ) measured at the
   * latest renormalisation, NaN on other steps): a trace column for the observer */
  double last_tangent, last_twin;
  /* the step (push) the twin ended at because its separation was 0 (it fell onto the orbit
   * in floating point) or not finite, with that separation; −1 and NaN while it runs. Its
   * estimate is over the windows before; the run and the tangent go on. */
  int64_t twin_end_step;
  double twin_end_separation;
} cgd_mlp_lyap_result;
int cgd_mlp_lyap_create(const cgd_mlp *m, const double *theta0, double delta, uint64_t seed,
                        size_t burn_in, int twin, cgd_mlp_lyap **out, cgd_error *err);
void cgd_mlp_lyap_free(cgd_mlp_lyap *L);
int cgd_mlp_lyap_push(cgd_mlp_lyap *L, const double *theta, double eta, cgd_error *err);
/* θ ← θ − η∇L(θ) in place, with the tangent (and twin) advanced; loss, grad may be NULL */
int cgd_mlp_lyap_step(cgd_mlp_lyap *L, double *theta, double eta, double *loss, double *grad,
                      cgd_error *err);
cgd_mlp_lyap_result cgd_mlp_lyap_result_get(const cgd_mlp_lyap *L);
const double *cgd_mlp_lyap_tangent(const cgd_mlp_lyap *L);
/* Checkpoints: raw image of the tangent, twin and accumulators (same build); -1 on a
 * write error, a short read or another model's image. */
int cgd_mlp_lyap_save(const cgd_mlp_lyap *L, FILE *fp);
int cgd_mlp_lyap_load(cgd_mlp_lyap *L, FILE *fp);

#endif
