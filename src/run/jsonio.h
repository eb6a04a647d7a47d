/* JSON documents of a run (config.json, summary.json, comparison.json): built with jansson
 * inside the library, never exposed in a public header. Not installed. */
#ifndef CHAOSGD_JSONIO_H
#define CHAOSGD_JSONIO_H

#include <jansson.h>
#include <stdio.h>

#include "chaosgd/options.h"
#include "chaosgd/status.h"

/* jansson refuses non-finite reals: those become null. */
json_t *cgd_jreal(double v);
/* n doubles as an array (non-finite entries null). */
json_t *cgd_jarray(const double *v, size_t n);

/* Write doc to dir/name atomically (NAME.tmp, then rename), indented by two spaces,
 * members in insertion order, arrays of numbers on one line, every real in its shortest
 * round-trip form (0.9, not 0.90000000000000002). */
int cgd_json_write(const char *dir, const char *name, const json_t *doc, cgd_error *err);
/* The same text to a stream (no atomicity). Returns 0 or -1 on a write error. */
int cgd_json_dump(const json_t *doc, FILE *fp);

/* The options of a run as recorded in config.json: every option of the table that applies
 * to c's kind (and map), after defaults, auto values as resolved in c; plus "kind",
 * "objective", "verdict_rules", "out" and "command_line". The caller adds "software" and
 * what its kind records. */
json_t *cgd_run_config_json(const cgd_run_config *c);

#endif
