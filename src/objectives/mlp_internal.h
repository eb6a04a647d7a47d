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
};

#endif
