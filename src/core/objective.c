#include "chaosgd/objective.h"

#include <stdlib.h>

void cgd_objective_free(cgd_objective *obj) {
  if (!obj) return;
  if (obj->free_ctx) obj->free_ctx(obj->ctx);
  free(obj);
}
