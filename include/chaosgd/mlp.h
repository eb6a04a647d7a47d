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

#include "chaosgd/objective.h"
#include "chaosgd/status.h"

typedef struct cgd_mlp cgd_mlp;

/* The model borrows X (n×d) and y (n): they must outlive it. */
int cgd_mlp_create(size_t n, size_t d, size_t H, double leak, const double *X, const double *y,
                   cgd_mlp **out, cgd_error *err);
void cgd_mlp_free(cgd_mlp *m);
size_t cgd_mlp_nparams(const cgd_mlp *m);

/* Loss at θ and, if grad is not NULL, its gradient: the BLAS path used by training. */
double cgd_mlp_loss_grad(cgd_mlp *m, const double *theta, double *grad);
/* The same mathematics with plain loops, kept as the reference the BLAS path is tested
 * against (and benchmarked next to). Uses no scratch of m: safe alongside the fast path. */
double cgd_mlp_loss_grad_ref(const cgd_mlp *m, const double *theta, double *grad);

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

#endif
