#include "chaosgd/objective.h"

#include <stdlib.h>

void cgd_objective_free(cgd_objective *obj) {
  if (!obj) return;
  if (obj->free_ctx) obj->free_ctx(obj->ctx);
  free(obj);
}

int cgd_objective_eval(const cgd_objective *obj, size_t n, const double *x, double *f,
                       double *g, cgd_error *err) {
  return obj->eval(obj->ctx, n, x, f, g, NULL, err);
}
