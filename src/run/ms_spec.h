/* The analytic objective a config describes, as a cgd_ms_spec: one place that maps the
 * options (f0, f1, eps, k, --param) to it, for the kinds, orbit diagrams, the horizon
 * observer and --critical-k. names must hold CGD_MAX_PARAMS pointers and outlive spec.
 * Not installed. */
#ifndef CHAOSGD_MS_SPEC_H
#define CHAOSGD_MS_SPEC_H

#include "chaosgd/multiscale.h"
#include "chaosgd/options.h"

static inline cgd_ms_spec cgd_ms_spec_of(const cgd_run_config *c, const char **names) {
  for (size_t i = 0; i < c->nparams; i++) names[i] = c->param_names[i];
  return (cgd_ms_spec){.f0 = c->f0, .f1 = c->f1, .eps = c->eps, .k = c->k, .nparams = c->nparams,
                       .param_names = names, .param_values = c->param_values};
}

#endif
