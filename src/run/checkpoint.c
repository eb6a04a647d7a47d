#include "checkpoint.h"

#include <string.h>

void cgd_ck_put_u64(FILE *fp, uint64_t v) { fwrite(&v, sizeof v, 1, fp); }

void cgd_ck_put(FILE *fp, const void *p, size_t bytes) {
  cgd_ck_put_u64(fp, (uint64_t)bytes);
  if (bytes) fwrite(p, 1, bytes, fp);
}

int cgd_ck_get_u64(FILE *fp, uint64_t *v, const char *what, cgd_error *err) {
  if (fread(v, sizeof *v, 1, fp) != 1)
    return cgd_fail(err, CGD_EDATA, "checkpoint: truncated at %s", what);
  return CGD_OK;
}

int cgd_ck_get(FILE *fp, void *p, size_t bytes, const char *what, cgd_error *err) {
  uint64_t len;
  int rc = cgd_ck_get_u64(fp, &len, what, err);
  if (rc) return rc;
  if (len != bytes)
    return cgd_fail(err, CGD_EDATA, "checkpoint: %s has %llu bytes, this run expects %zu "
                    "(a checkpoint of another run?)", what, (unsigned long long)len, bytes);
  if (bytes && fread(p, 1, bytes, fp) != bytes)
    return cgd_fail(err, CGD_EDATA, "checkpoint: truncated in %s", what);
  return CGD_OK;
}
