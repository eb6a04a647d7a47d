/* Plain-text MLP parameter files (see chaosgd/mlp.h for the format): reading checks
 * every shape against the model and names the file and line of any error. */
#include "chaosgd/mlp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chaosgd/dataset.h"
#include "chaosgd/limits.h"
#include "chaosgd/parse.h"

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

/* Reading. The file is split into lines; '#' after blanks starts a comment to the end of
 * the line, and blank or comment-only lines are skipped. Each record must be on its own
 * line with exactly its number of fields, and every value is one blank-separated token
 * read by the strict parser (chaosgd/parse.h): "0.1-0.2" is one bad token, not two
 * values, and a transposed W1 (d lines of H values under a correct "W1 H d" header) is
 * caught at its first line. A NUL byte anywhere is an error (text after it used to be
 * ignored). Messages: "PATH line L: ...". */
typedef struct {
  const char *path, *p, *end;
  size_t line;         /* line number of the current line (1-based) */
  const char *ls, *le; /* the current line */
} preader;

/* Advances to the next line holding something other than blanks and comments; 0 at the
 * end of the text. */
static int next_line(preader *r) {
  while (r->p < r->end) {
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    const char *le = nl ? nl : r->end;
    r->line++;
    r->ls = r->p;
    r->le = le;
    r->p = nl ? nl + 1 : r->end;
    if (le > r->ls && le[-1] == '\r') le--;
    r->le = le;
    const char *q = r->ls;
    while (q < le && (*q == ' ' || *q == '\t')) q++;
    if (q == le || *q == '#') continue;
    return 1;
  }
  return 0;
}

/* The blank-separated tokens of the current line up to a '#' comment: their number, and
 * the first max of them in tok/len. */
static size_t tokens(const preader *r, const char **tok, size_t *len, size_t max) {
  size_t n = 0;
  const char *q = r->ls;
  while (q < r->le) {
    while (q < r->le && (*q == ' ' || *q == '\t')) q++;
    if (q == r->le || *q == '#') break;
    const char *t = q;
    while (q < r->le && *q != ' ' && *q != '\t') q++;
    if (n < max) tok[n] = t, len[n] = (size_t)(q - t);
    n++;
  }
  return n;
}

static void show(const char *t, size_t len, char *out, size_t outsz) {
  size_t o = 0;
  for (size_t i = 0; i < len && i < 40 && o + 5 < outsz; i++) {
    unsigned char c = (unsigned char)t[i];
    if (c >= 0x20 && c < 0x7f) out[o++] = (char)c;
    else o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
  }
  if (len > 40 && o + 4 < outsz) memcpy(out + o, "...", 3), o += 3;
  out[o] = '\0';
}

/* One token as a double or size; the token is copied so the parser sees exactly it. */
static cgd_parse_code tok_double(const char *t, size_t len, double *v) {
  char buf[128];
  if (len >= sizeof buf) return CGD_PARSE_SYNTAX;
  memcpy(buf, t, len);
  buf[len] = '\0';
  return cgd_parse_double(buf, v);
}

static cgd_parse_code tok_u64(const char *t, size_t len, uint64_t *v) {
  char buf[32];
  if (len >= sizeof buf) return CGD_PARSE_RANGE;
  memcpy(buf, t, len);
  buf[len] = '\0';
  return cgd_parse_u64(buf, v);
}

/* A header line "WORD n1 [n2 ...]" with the sizes this model needs. */
static int read_header(preader *r, const char *word, size_t nsz, const size_t *want,
                       const char *const *what, cgd_error *err) {
  if (!next_line(r))
    return cgd_fail(err, CGD_EDATA, "%s line %zu: expected '%s' but the file ends", r->path,
                    r->line, word);
  const char *tok[8];
  size_t len[8];
  size_t n = tokens(r, tok, len, 8);
  if (strlen(word) != len[0] || strncmp(tok[0], word, len[0]) != 0) {
    char s[200];
    show(tok[0], len[0], s, sizeof s);
    return cgd_fail(err, CGD_EDATA, "%s line %zu: expected '%s', found '%s'", r->path, r->line,
                    word, s);
  }
  if (n != nsz + 1)
    return cgd_fail(err, CGD_EDATA, "%s line %zu: '%s' takes %zu size%s, found %zu", r->path,
                    r->line, word, nsz, nsz == 1 ? "" : "s", n - 1);
  for (size_t k = 0; k < nsz; k++) {
    uint64_t v;
    cgd_parse_code c = tok_u64(tok[k + 1], len[k + 1], &v);
    if (c != CGD_PARSE_OK) {
      char s[200];
      show(tok[k + 1], len[k + 1], s, sizeof s);
      return cgd_fail(err, CGD_EDATA, "%s line %zu: size of %s '%s' is not a whole number",
                      r->path, r->line, what[k], s);
    }
    if (v != want[k])
      return cgd_fail(err, CGD_EDATA,
                      "%s line %zu: %s has size %llu in the file but %zu in this model",
                      r->path, r->line, what[k], (unsigned long long)v, want[k]);
  }
  return CGD_OK;
}

/* One line of exactly len values of what (row: 1-based row number for messages, 0 if the
 * record is a single line). */
static int read_row(preader *r, double *v, size_t len, const char *what, size_t row,
                    size_t nrows, cgd_error *err) {
  char name[96];
  if (row) snprintf(name, sizeof name, "%s row %zu of %zu", what, row, nrows);
  else snprintf(name, sizeof name, "%s", what);
  if (!next_line(r))
    return cgd_fail(err, CGD_EDATA, "%s line %zu: expected %s (%zu value%s) but the file ends",
                    r->path, r->line, name, len, len == 1 ? "" : "s");
  size_t k = 0;
  const char *q = r->ls;
  while (q < r->le) {
    while (q < r->le && (*q == ' ' || *q == '\t')) q++;
    if (q == r->le || *q == '#') break;
    const char *t = q;
    while (q < r->le && *q != ' ' && *q != '\t') q++;
    if (k == len) {
      size_t extra = 1 + tokens(&(preader){.ls = q, .le = r->le}, NULL, NULL, 0);
      return cgd_fail(err, CGD_EDATA, "%s line %zu: %s has %zu values, expected %zu", r->path,
                      r->line, name, len + extra, len);
    }
    double x;
    cgd_parse_code c = tok_double(t, (size_t)(q - t), &x);
    if (c != CGD_PARSE_OK) {
      char s[200];
      show(t, (size_t)(q - t), s, sizeof s);
      return cgd_fail(err, CGD_EDATA, "%s line %zu: value %zu of %s '%s' %s", r->path, r->line,
                      k + 1, name, s,
                      c == CGD_PARSE_RANGE ? "is out of the range of a double"
                                           : "is not a number");
    }
    v[k++] = x;
  }
  if (k < len)
    return cgd_fail(err, CGD_EDATA, "%s line %zu: %s has %zu value%s, expected %zu", r->path,
                    r->line, name, k, k == 1 ? "" : "s", len);
  return CGD_OK;
}

int cgd_mlp_params_parse(const char *name, const char *buf, size_t len, size_t d, size_t H,
                         double *theta, cgd_error *err) {
  if (!name || (!buf && len) || !theta || d < 1 || H < 1)
    return cgd_fail(err, CGD_EUSAGE, "cgd_mlp_params_parse: bad arguments");
  /* A NUL byte means a binary or damaged file; before, everything after it was ignored. */
  const char *nul = len ? memchr(buf, '\0', len) : NULL;
  if (nul) {
    size_t line = 1;
    for (const char *q = buf; q < nul; q++) line += *q == '\n';
    return cgd_fail(err, CGD_EDATA, "%s line %zu: NUL byte (not a text parameter file)", name,
                    line);
  }
  if (H > (SIZE_MAX / sizeof(double) - 2) / (d + 2))
    return cgd_fail(err, CGD_EUSAGE, "%s: a %zu-%zu-1 model is too large", name, d, H);
  const size_t P = H * d + 2 * H + 1;
  double *tmp = malloc(P * sizeof *tmp);
  if (!tmp) return cgd_fail(err, CGD_ENOMEM, "%s: out of memory for %zu parameters", name, P);
  double *W1 = tmp, *b1 = W1 + H * d, *W2 = b1 + H, *b2 = W2 + H;
  preader r = {.path = name, .p = buf ? buf : "", .end = (buf ? buf : "") + len};
  static const char *const what_layers[] = {"the input layer", "the hidden layer",
                                            "the output layer"};
  static const char *const what_w1[] = {"W1 (rows)", "W1 (columns)"};
  static const char *const what_b1[] = {"b1"};
  static const char *const what_w2[] = {"W2 (rows)", "W2 (columns)"};
  static const char *const what_b2[] = {"b2"};
  int rc = read_header(&r, "layers", 3, (const size_t[]){d, H, 1}, what_layers, err);
  if (!rc) rc = read_header(&r, "W1", 2, (const size_t[]){H, d}, what_w1, err);
  for (size_t j = 0; j < H && !rc; j++) rc = read_row(&r, W1 + j * d, d, "W1", j + 1, H, err);
  if (!rc) rc = read_header(&r, "b1", 1, (const size_t[]){H}, what_b1, err);
  if (!rc) rc = read_row(&r, b1, H, "b1", 0, 0, err);
  if (!rc) rc = read_header(&r, "W2", 2, (const size_t[]){1, H}, what_w2, err);
  if (!rc) rc = read_row(&r, W2, H, "W2", 0, 0, err);
  if (!rc) rc = read_header(&r, "b2", 1, (const size_t[]){1}, what_b2, err);
  if (!rc) rc = read_row(&r, b2, 1, "b2", 0, 0, err);
  if (!rc && next_line(&r))
    rc = cgd_fail(err, CGD_EDATA, "%s line %zu: unexpected text after b2", name, r.line);
  if (!rc) memcpy(theta, tmp, P * sizeof *tmp);
  free(tmp);
  return rc;
}

/* Largest file worth reading for a d-H-1 model: 40 bytes per value (%.17g with sign and
 * exponent is at most 24) plus 1 MiB for headers and comments. Anything longer, or a
 * device that never ends (/dev/zero), is refused without reading it all. */
static uint64_t params_file_cap(size_t d, size_t H) {
  uint64_t P = cgd_mem_add(cgd_mem_mul(H, d), cgd_mem_add(cgd_mem_mul(2, H), 1));
  return cgd_mem_add(cgd_mem_mul(P, 40), (uint64_t)1 << 20);
}

int cgd_mlp_params_read(const char *path, size_t d, size_t H, double *theta, cgd_error *err) {
  if (!path || !theta) return cgd_fail(err, CGD_EUSAGE, "cgd_mlp_params_read: NULL argument");
  FILE *fp = cgd_open_input(path); /* never blocks on a FIFO without a writer */
  if (!fp) return cgd_fail(err, CGD_EDATA, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
    fclose(fp);
    return cgd_fail(err, CGD_EDATA, "%s: is a directory, not a parameter file", path);
  }
  const uint64_t cap = params_file_cap(d, H);
  const uint64_t cap1 = cap == UINT64_MAX ? cap : cap + 1; /* read one byte past the cap */
  char *buf = NULL;
  size_t size = 0, len = 0;
  for (;;) {
    if (len == size) {
      if ((uint64_t)len > cap) break;
      size_t ns = size ? 2 * size : 65536;
      if ((uint64_t)ns > cap1) ns = (size_t)cap1;
      char *nb = realloc(buf, ns);
      if (!nb) {
        free(buf);
        fclose(fp);
        return cgd_fail(err, CGD_ENOMEM, "%s: out of memory", path);
      }
      buf = nb;
      size = ns;
    }
    size_t got = fread(buf + len, 1, size - len, fp);
    /* A NUL byte is an error wherever it is: stop reading there (/dev/zero). */
    const int has_nul = got && memchr(buf + len, '\0', got) != NULL;
    len += got;
    if (got == 0 || has_nul) break;
  }
  int rd_err = ferror(fp);
  int e = errno;
  fclose(fp);
  if (rd_err) {
    free(buf);
    return cgd_fail(err, CGD_EDATA, "%s: read error: %s", path, strerror(e));
  }
  if ((uint64_t)len > cap && !memchr(buf, '\0', len)) {
    free(buf);
    return cgd_fail(err, CGD_EDATA,
                    "%s: longer than any parameter file of a %zu-%zu-1 model (more than %llu "
                    "bytes)",
                    path, d, H, (unsigned long long)cap);
  }
  int rc = cgd_mlp_params_parse(path, buf, len, d, H, theta, err);
  free(buf);
  return rc;
}
