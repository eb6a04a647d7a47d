/* Plain-text MLP parameter files (see chaosgd/mlp.h for the format): reading checks
 * every shape against the model and names the file and line of any error. */
#include "chaosgd/mlp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- parameter files */

static int write_row(FILE *fp, const double *v, size_t len) {
  for (size_t k = 0; k < len; k++)
    if (fprintf(fp, k ? " %.17g" : "%.17g", v[k]) < 0) return -1;
  return fputc('\n', fp) == EOF ? -1 : 0;
}

int cgd_mlp_params_write(FILE *fp, size_t d, size_t H, const double *theta, cgd_error *err) {
  const double *W1 = theta, *b1 = W1 + H * d, *W2 = b1 + H, *b2 = W2 + H;
  int bad = fprintf(fp, "# chaosgd mlp parameters v1\nlayers %zu %zu 1\nW1 %zu %zu\n", d, H,
                    H, d) < 0;
  for (size_t j = 0; j < H && !bad; j++) bad = write_row(fp, W1 + j * d, d) != 0;
  bad = bad || fprintf(fp, "b1 %zu\n", H) < 0 || write_row(fp, b1, H) != 0;
  bad = bad || fprintf(fp, "W2 1 %zu\n", H) < 0 || write_row(fp, W2, H) != 0;
  bad = bad || fprintf(fp, "b2 1\n") < 0 || write_row(fp, b2, 1) != 0;
  if (bad) return cgd_fail(err, CGD_EIO, "writing parameters: %s", strerror(errno));
  return CGD_OK;
}

/* A tiny tokenizer over the whole file that tracks line numbers for messages. */
typedef struct {
  const char *path, *p;
  size_t line;
} ptok;

static void skip_space(ptok *t) {
  for (;;) {
    while (*t->p == ' ' || *t->p == '\t' || *t->p == '\r' || *t->p == '\n') {
      if (*t->p == '\n') t->line++;
      t->p++;
    }
    if (*t->p != '#') return;
    while (*t->p && *t->p != '\n') t->p++;
  }
}

static int expect_word(ptok *t, const char *w, cgd_error *err) {
  skip_space(t);
  size_t len = strlen(w);
  if (strncmp(t->p, w, len) != 0 || (t->p[len] && !strchr(" \t\r\n", t->p[len])))
    return cgd_fail(err, CGD_EDATA, "%s line %zu: expected '%s'", t->path, t->line, w);
  t->p += len;
  return CGD_OK;
}

static int read_size(ptok *t, size_t want, const char *what, cgd_error *err) {
  skip_space(t);
  char *end;
  errno = 0;
  unsigned long long v = strtoull(t->p, &end, 10);
  if (end == t->p || errno)
    return cgd_fail(err, CGD_EDATA, "%s line %zu: expected the size of %s", t->path, t->line,
                    what);
  if (v != want)
    return cgd_fail(err, CGD_EDATA,
                    "%s line %zu: %s has size %llu in the file but %zu in this model", t->path,
                    t->line, what, v, want);
  t->p = end;
  return CGD_OK;
}

static int read_values(ptok *t, double *v, size_t len, const char *what, cgd_error *err) {
  for (size_t k = 0; k < len; k++) {
    skip_space(t);
    char *end;
    v[k] = strtod(t->p, &end);
    if (end == t->p)
      return cgd_fail(err, CGD_EDATA, "%s line %zu: expected value %zu of %zu of %s", t->path,
                      t->line, k + 1, len, what);
    if (!isfinite(v[k]))
      return cgd_fail(err, CGD_EDATA, "%s line %zu: non-finite value in %s", t->path, t->line,
                      what);
    t->p = end;
  }
  return CGD_OK;
}

int cgd_mlp_params_read(const char *path, size_t d, size_t H, double *theta, cgd_error *err) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return cgd_fail(err, CGD_EDATA, "%s: cannot open: %s", path, strerror(errno));
  char *buf = NULL;
  size_t cap = 0, len = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      cap = cap ? 2 * cap : 65536;
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(fp);
        return cgd_fail(err, CGD_ENOMEM, "%s: out of memory", path);
      }
      buf = nb;
    }
    size_t got = fread(buf + len, 1, 4096, fp);
    len += got;
    if (got < 4096) break;
  }
  int rd_err = ferror(fp);
  fclose(fp);
  if (rd_err) {
    free(buf);
    return cgd_fail(err, CGD_EDATA, "%s: read error", path);
  }
  buf[len] = '\0';
  ptok t = {path, buf, 1};
  double *W1 = theta, *b1 = W1 + H * d, *W2 = b1 + H, *b2 = W2 + H;
  int rc;
  if ((rc = expect_word(&t, "layers", err)) || (rc = read_size(&t, d, "the input layer", err)) ||
      (rc = read_size(&t, H, "the hidden layer", err)) ||
      (rc = read_size(&t, 1, "the output layer", err)) || (rc = expect_word(&t, "W1", err)) ||
      (rc = read_size(&t, H, "W1 (rows)", err)) || (rc = read_size(&t, d, "W1 (columns)", err)) ||
      (rc = read_values(&t, W1, H * d, "W1", err)) || (rc = expect_word(&t, "b1", err)) ||
      (rc = read_size(&t, H, "b1", err)) || (rc = read_values(&t, b1, H, "b1", err)) ||
      (rc = expect_word(&t, "W2", err)) || (rc = read_size(&t, 1, "W2 (rows)", err)) ||
      (rc = read_size(&t, H, "W2 (columns)", err)) || (rc = read_values(&t, W2, H, "W2", err)) ||
      (rc = expect_word(&t, "b2", err)) || (rc = read_size(&t, 1, "b2", err)) ||
      (rc = read_values(&t, b2, 1, "b2", err))) {
    free(buf);
    return rc;
  }
  skip_space(&t);
  if (*t.p) rc = cgd_fail(err, CGD_EDATA, "%s line %zu: unexpected text after b2", path, t.line);
  free(buf);
  return rc;
}
