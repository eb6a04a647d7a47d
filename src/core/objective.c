#include "chaosgd/objective.h"

#include <stdlib.h>

void cgd_objective_free(cgd_objective *obj) {
  if (!obj) return;
  if (obj->free_ctx) obj->free_ctx(obj->ctx);
  free(obj);
}

int cgd_objective_eval_each(const cgd_objective *obj, size_t n, const double *x, double *f,
                            double *g, double *h, unsigned char *refused, cgd_error *err) {
  for (size_t i = 0; i < n; i++) refused[i] = 0;
  int rc = obj->eval(obj->ctx, n, x, f, g, h, err);
  if (rc != CGD_EDIVERGED) return rc;
  const size_t d = obj->dim;
  for (size_t i = 0; i < n; i++) {
    rc = obj->eval(obj->ctx, 1, x + i * d, f ? f + i : NULL, g ? g + i * d : NULL,
                   h ? h + i * d * d : NULL, err);
    if (rc == CGD_EDIVERGED) refused[i] = 1;
    else if (rc) return rc;
  }
  return CGD_OK;
}
