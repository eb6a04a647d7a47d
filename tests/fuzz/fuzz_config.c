/* libFuzzer target: the strict config.json reader (cgd_run_config_load_string,
 * chaosgd/options.h). Any input either loads or is refused with a message; one that loads
 * and passes the option checks must write a config.json that loads back to the same text
 * (the writer and the reader agree on every key, type and range). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chaosgd/options.h"

json_t *cgd_run_config_json(const cgd_run_config *c); /* the library's writer (jsonio.h) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cgd_run_config *a = cgd_run_config_create(), *b = cgd_run_config_create();
  cgd_error err;
  if (!a || !b) abort();
  if (cgd_run_config_load_string((const char *)data, size, "fuzz.json", a, &err) == CGD_OK &&
      cgd_run_config_check(a, &err) == CGD_OK) {
    json_t *j = cgd_run_config_json(a);
    char *t1 = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!t1) abort();
    if (cgd_run_config_load_string(t1, strlen(t1), "again.json", b, &err) != CGD_OK) abort();
    json_t *j2 = cgd_run_config_json(b);
    json_object_set_new(j2, "command_line", json_string(a->command_line));
    char *t2 = json_dumps(j2, JSON_COMPACT);
    json_decref(j2);
    if (!t2 || strcmp(t1, t2) != 0) abort(); /* a round trip changed the options */
    free(t1);
    free(t2);
  }
  cgd_run_config_free(a);
  cgd_run_config_free(b);
  return 0;
}
