/* Pieces shared by the run drivers (MLP: run.c, analytic objectives: run_ms.c). */
#ifndef CHAOSGD_RUN_INTERNAL_H
#define CHAOSGD_RUN_INTERNAL_H

#include <jansson.h>

#include "chaosgd/run.h"

int cgd_run_ms(const cgd_run_config *cfg, cgd_run_result *res, cgd_error *err);

double cgd_now_s(void);
/* jansson refuses non-finite reals: those become null. */
json_t *cgd_jreal(double v);
/* The software block of config.json: version, git revision, BLAS, threads. */
json_t *cgd_software_json(void);
/* runs/<what>-<timestamp>-<pid> */
void cgd_default_run_dir(const char *what, char *dir, size_t len);

#endif
