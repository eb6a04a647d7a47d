/* The MLP's private layout, shared by the files that implement it (BLAS path, reference
 * path, and any further kernels or derivative passes). Not installed. */
#ifndef CHAOSGD_MLP_INTERNAL_H
#define CHAOSGD_MLP_INTERNAL_H

#include "chaosgd/mlp.h"

struct cgd_mlp {
  size_t n, d, H;
  double leak;
  const double *X, *y; /* borrowed */
  /* scratch, one allocation: Z (n×H, pre-activations incl. bias), A (n×H), r (n) */
  double *scratch;
  double *Z, *A, *r;
  int timing;
  cgd_mlp_timing t;
  /* Fused kernel (mlp_fused.c): X and y copied at creation in blocks of 8 rows, one
   * 8-lane vector per feature (Xb[(b·d + j)·8 + l] = X[8b + l, j]), 64-byte aligned;
   * padding rows have x = y = 0 and an all-zero lane mask in wb (all-ones otherwise). */
  size_t nb;
  double *Xb, *yb, *wb;
  int kernel;     /* cgd_mlp_kernel used by cgd_mlp_loss_grad */
  void *fscratch; /* the fused kernel's scratch when called through cgd_mlp_loss_grad */
};

#endif
