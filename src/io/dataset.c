#include "chaosgd/dataset.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/rng.h"
#include "chaosgd/sha256.h"

/* ------------------------------------------------------------------ helpers */

/* Messages are one line of at most 1024 bytes; a very long path would push the
 * line/column information off the end, so only its tail is shown. */
static const char *short_path(const char *path) {
  size_t n = strlen(path);
  return n > 300 ? path + (n - 300) : path;
}

enum { SHOW_MAX = 40 }; /* characters of an offending field quoted in a message */

/* Quote a field for a message: control bytes and non-ASCII are escaped so that the
 * message stays one printable line whatever the file contains. */
static void show_field(const char *s, size_t len, char *out, size_t outsz) {
  size_t o = 0;
  size_t n = len < SHOW_MAX ? len : SHOW_MAX;
  for (size_t i = 0; i < n && o + 8 < outsz; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c >= 0x20 && c < 0x7f) {
      out[o++] = (char)c;
    } else {
      o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
    }
  }
  if (len > n && o + 4 < outsz) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o] = '\0';
}

typedef enum { TOK_NUMBER, TOK_EMPTY, TOK_TEXT, TOK_NONFINITE, TOK_OVERFLOW } tok_kind;

/* Whole-field strtod: surrounding blanks allowed, anything else left over makes the
 * field text. strtod reads "nan", "inf" and overflows to inf, none of which a
 * regression can use, so they are classified apart to give a precise message.
 * s must be NUL-terminated at s[len] (CSV_APPEND_NULL), so strtod cannot run past the
 * field, and an embedded NUL stops it early and is caught by the end check.
 * strtod follows LC_NUMERIC; the library never calls setlocale, so '.' is the decimal
 * point unless the embedding program changes the locale. */
static tok_kind parse_number(const char *s, size_t len, double *v) {
  size_t a = 0, b = len;
  while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
  if (a == b) return TOK_EMPTY;
  /* strtod would also skip \r, \f, \v and \n; those are damage, not padding. */
  if (isspace((unsigned char)s[a])) return TOK_TEXT;
  char *end;
  errno = 0;
  double x = strtod(s + a, &end);
  if (end != s + b) return TOK_TEXT;
  if (isnan(x)) return TOK_NONFINITE;
  if (isinf(x)) return errno == ERANGE ? TOK_OVERFLOW : TOK_NONFINITE;
  /* Underflow (ERANGE with a tiny or zero result) is accepted: the value is finite and
   * as close as a double gets. */
  *v = x;
  return TOK_NUMBER;
}

/* ------------------------------------------------------------------ parsing state */

typedef struct {
  /* current line */
  size_t nf;           /* fields seen */
  double *vals;        /* numeric values of the current line */
  size_t vcap;
  int any_text;        /* some field is non-empty and not a number (header candidate) */
  tok_kind bad_kind;   /* first field that is not a finite number */
  size_t bad_col;      /* its 1-based column, 0 = none */
  char bad_show[SHOW_MAX * 4 + 8];
  int nomem;
} line_state;

static void on_field(void *s, size_t len, void *data) {
  line_state *L = data;
  L->nf++;
  if (L->nomem) return;
  if (L->nf > L->vcap) {
    size_t cap = L->vcap ? 2 * L->vcap : 16;
    double *v = realloc(L->vals, cap * sizeof *v);
    if (!v) {
      L->nomem = 1;
      return;
    }
    L->vals = v;
    L->vcap = cap;
  }
  const char *str = s ? s : "";
  if (!s) len = 0;
  double x = 0.0;
  tok_kind k = parse_number(str, len, &x);
  L->vals[L->nf - 1] = x;
  if (k == TOK_TEXT) L->any_text = 1;
  if (k != TOK_NUMBER && L->bad_col == 0) {
    L->bad_kind = k;
    L->bad_col = L->nf;
    show_field(str, len, L->bad_show, sizeof L->bad_show);
  }
}

/* Every line is handed to libcsv on its own (see load_body), so nothing inside
 * a line may end a record: a stray CR then stays in its field and is reported. */
static int never_term(unsigned char c) {
  (void)c;
  return 0;
}

static int is_blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t') return 0;
  return 1;
}

/* Whitespace-separated files: runs of blanks become one tab and leading/trailing blanks
 * go, before libcsv sees the line. The alternative (delimiter ' ' and skipping empty
 * fields) would miscount columns in messages and would keep a tab between two numbers
 * inside one field, since libcsv only trims blanks at field ends. out holds n bytes. */
static size_t squeeze_blanks(const char *s, size_t n, char *out) {
  size_t o = 0;
  int pending = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == ' ' || s[i] == '\t') {
      pending = o > 0;
    } else {
      if (pending) out[o++] = '\t';
      pending = 0;
      out[o++] = s[i];
    }
  }
  return o;
}

static int read_all(const char *path, char **buf, size_t *len, cgd_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return cgd_fail(err, CGD_EDATA, "%s: cannot open data file: %s", short_path(path),
                    strerror(errno));
  size_t cap = 1 << 16, n = 0;
  char *b = malloc(cap);
  if (!b) {
    fclose(f);
    return cgd_fail(err, CGD_ENOMEM, "%s: out of memory reading the file", short_path(path));
  }
  for (;;) {
    if (n == cap) {
      if (cap > SIZE_MAX / 2) {
        free(b);
        fclose(f);
        return cgd_fail(err, CGD_EDATA, "%s: file too large", short_path(path));
      }
      char *nb = realloc(b, cap * 2);
      if (!nb) {
        free(b);
        fclose(f);
        return cgd_fail(err, CGD_ENOMEM, "%s: out of memory reading the file",
                        short_path(path));
      }
      b = nb;
      cap *= 2;
    }
    size_t got = fread(b + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  int bad = ferror(f);
  int saved = errno;
  fclose(f);
  if (bad) {
    free(b);
    return cgd_fail(err, CGD_EDATA, "%s: read error: %s", short_path(path), strerror(saved));
  }
  *buf = b;
  *len = n;
  return CGD_OK;
}

/* ------------------------------------------------------------------ load */

static cgd_dataset *dataset_alloc(size_t n, size_t d) {
  cgd_dataset *ds = calloc(1, sizeof *ds);
  if (!ds) return NULL;
  ds->n = n;
  ds->d = d;
  if (n > 0 && d > SIZE_MAX / sizeof(double) / n) {
    free(ds);
    return NULL;
  }
  size_t cells = n * d;
  ds->X = malloc((cells > 0 ? cells : 1) * sizeof *ds->X);
  ds->y = malloc((n ? n : 1) * sizeof *ds->y);
  if (!ds->X || !ds->y) {
    cgd_dataset_free(ds);
    return NULL;
  }
  return ds;
}

typedef struct {
  char *buf;        /* file bytes */
  char *scratch;    /* squeezed copy of a line (whitespace mode) */
  double *cells;    /* nrows × ncols values, row-major */
  size_t ncells_cap;
  line_state L;
  struct csv_parser parser;
  int parser_live;
} load_state;

static void load_state_free(load_state *S) {
  free(S->buf);
  free(S->scratch);
  free(S->cells);
  free(S->L.vals);
  if (S->parser_live) csv_free(&S->parser);
}

static int load_body(const char *path, int target_col, cgd_dataset **out, cgd_error *err,
                     load_state *S) {
  const char *P = short_path(path);
  size_t len = 0;
  int rc = read_all(path, &S->buf, &len, err);
  if (rc != CGD_OK) return rc;
  if (len == 0) return cgd_fail(err, CGD_EDATA, "%s: empty file", P);

  uint8_t digest[32];
  char hex[65];
  /* Hashing the bytes that are parsed (not re-reading the file) ties the recorded
   * fingerprint to exactly the data used. */
  cgd_sha256(S->buf, len, digest);
  cgd_sha256_hex(digest, hex);

  if (csv_init(&S->parser, CSV_APPEND_NULL) != 0)
    return cgd_fail(err, CGD_EINTERNAL, "%s: csv_init failed", P);
  S->parser_live = 1;
  csv_set_term_func(&S->parser, never_term);

  const char *p = S->buf;
  size_t pos = 0;
  /* A UTF-8 byte-order mark (spreadsheet exports) is not part of the first field. */
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) pos = 3;

  char delim = 0;            /* 0 until the first non-blank line; ' ' = runs of blanks */
  size_t ncols = 0, nrows = 0, tcol = 0;
  size_t first_line = 0;     /* line number of the first non-blank line */
  size_t blank_after = 0;    /* first blank line after content, 0 = none pending */
  int has_header = 0;
  size_t lineno = 0;
  line_state *L = &S->L;

  /* Lines are split here and fed to libcsv one at a time (csv_fini ends each record):
   * libcsv drops empty rows silently and ends records on CR as well as LF, so on the
   * whole buffer it could not say which physical line a field came from. Quoted fields
   * spanning lines are therefore not supported, which numeric data never needs. */
  while (pos < len) {
    const char *nl = memchr(p + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - p) : len;
    const char *line = p + pos;
    size_t n = end - pos;
    pos = nl ? end + 1 : len;
    lineno++;
    if (n > 0 && line[n - 1] == '\r') n--;

    if (is_blank(line, n)) {
      if (first_line && !blank_after) blank_after = lineno;
      continue;
    }
    /* Only trailing blank lines are harmless; one inside the data usually means two
     * files were concatenated or a row was lost. */
    if (blank_after)
      return cgd_fail(err, CGD_EDATA,
                      "%s: line %zu: blank line inside the data (only trailing blank lines "
                      "are allowed)",
                      P, blank_after);

    if (!delim) {
      if (memchr(line, '\t', n)) delim = '\t';
      else if (memchr(line, ',', n)) delim = ',';
      else if (memchr(line, ';', n)) delim = ';';
      else delim = ' ';
      csv_set_delim(&S->parser, (unsigned char)(delim == ' ' ? '\t' : delim));
    }
    const char *feed = line;
    size_t nfeed = n;
    if (delim == ' ') {
      char *sc = realloc(S->scratch, n);
      if (!sc) return cgd_fail(err, CGD_ENOMEM, "%s: line %zu: out of memory", P, lineno);
      S->scratch = sc;
      nfeed = squeeze_blanks(line, n, sc);
      feed = sc;
    }

    L->nf = 0;
    L->any_text = 0;
    L->bad_col = 0;
    if (csv_parse(&S->parser, feed, nfeed, on_field, NULL, L) != nfeed ||
        csv_fini(&S->parser, on_field, NULL, L) != 0 || L->nomem)
      return cgd_fail(err, CGD_ENOMEM, "%s: line %zu: out of memory while parsing", P, lineno);

    if (!first_line) {
      first_line = lineno;
      ncols = L->nf;
      if (ncols < 2)
        return cgd_fail(err, CGD_EDATA,
                        "%s: line %zu: 1 column found (delimiter %s); need at least 2 "
                        "(inputs and a target)",
                        P, lineno,
                        delim == '\t'  ? "tab"
                        : delim == ',' ? "comma"
                        : delim == ';' ? "semicolon"
                                       : "blanks");
      if (target_col < 0 || (size_t)target_col > ncols)
        return cgd_fail(err, CGD_EDATA,
                        "%s: line %zu: target column %d out of range (the file has %zu "
                        "columns; 1..%zu, or 0 for the last)",
                        P, lineno, target_col, ncols, ncols);
      tcol = target_col == 0 ? ncols : (size_t)target_col;
      /* A header needs real text: a first line like "1,,3" is a damaged data row and
       * must be reported, not silently dropped as a header. */
      if (L->any_text) {
        has_header = 1;
        continue;
      }
    }

    if (L->nf != ncols) {
      if (L->nf < ncols)
        return cgd_fail(err, CGD_EDATA,
                        "%s: line %zu: %zu fields, expected %zu (as on line %zu); column %zu "
                        "missing",
                        P, lineno, L->nf, ncols, first_line, L->nf + 1);
      return cgd_fail(err, CGD_EDATA,
                      "%s: line %zu: %zu fields, expected %zu (as on line %zu); extra field "
                      "at column %zu",
                      P, lineno, L->nf, ncols, first_line, ncols + 1);
    }
    if (L->bad_col) {
      switch (L->bad_kind) {
      case TOK_EMPTY:
        return cgd_fail(err, CGD_EDATA, "%s: line %zu, column %zu: empty field", P, lineno,
                        L->bad_col);
      case TOK_NONFINITE:
        return cgd_fail(err, CGD_EDATA,
                        "%s: line %zu, column %zu: non-finite value \"%s\" (NaN/Inf are not "
                        "allowed)",
                        P, lineno, L->bad_col, L->bad_show);
      case TOK_OVERFLOW:
        return cgd_fail(err, CGD_EDATA,
                        "%s: line %zu, column %zu: value \"%s\" overflows a double", P,
                        lineno, L->bad_col, L->bad_show);
      default:
        return cgd_fail(err, CGD_EDATA, "%s: line %zu, column %zu: non-numeric field \"%s\"",
                        P, lineno, L->bad_col, L->bad_show);
      }
    }

    if ((nrows + 1) * ncols > S->ncells_cap) {
      size_t cap = S->ncells_cap ? S->ncells_cap : 1024 * ncols;
      while (cap < (nrows + 1) * ncols) {
        if (cap > SIZE_MAX / 2 / sizeof(double))
          return cgd_fail(err, CGD_ENOMEM, "%s: line %zu: too many values", P, lineno);
        cap *= 2;
      }
      double *c = realloc(S->cells, cap * sizeof *c);
      if (!c) return cgd_fail(err, CGD_ENOMEM, "%s: line %zu: out of memory", P, lineno);
      S->cells = c;
      S->ncells_cap = cap;
    }
    memcpy(S->cells + nrows * ncols, L->vals, ncols * sizeof(double));
    nrows++;
  }

  if (!first_line) return cgd_fail(err, CGD_EDATA, "%s: no data (only blank lines)", P);
  if (nrows < 2)
    return cgd_fail(err, CGD_EDATA,
                    "%s: line %zu: %zu data row%s%s, need at least 2", P, lineno, nrows,
                    nrows == 1 ? "" : "s", has_header ? " after the header" : "");

  cgd_dataset *ds = dataset_alloc(nrows, ncols - 1);
  if (!ds) return cgd_fail(err, CGD_ENOMEM, "%s: out of memory for %zu rows", P, nrows);
  for (size_t i = 0; i < nrows; i++) {
    const double *row = S->cells + i * ncols;
    double *x = ds->X + i * ds->d;
    for (size_t j = 0, k = 0; j < ncols; j++) {
      if (j + 1 == tcol) ds->y[i] = row[j];
      else x[k++] = row[j];
    }
  }
  ds->has_header = has_header;
  memcpy(ds->sha256, hex, sizeof ds->sha256);
  snprintf(ds->path, sizeof ds->path, "%s", path);
  *out = ds;
  return CGD_OK;
}

int cgd_dataset_load(const char *path, int target_col, cgd_dataset **out, cgd_error *err) {
  if (!out) return cgd_fail(err, CGD_EUSAGE, "cgd_dataset_load: out is NULL");
  *out = NULL;
  if (!path || !*path) return cgd_fail(err, CGD_EUSAGE, "cgd_dataset_load: no path given");
  if (strlen(path) >= sizeof((cgd_dataset *)0)->path)
    return cgd_fail(err, CGD_EDATA, "%s: path too long", short_path(path));
  load_state S;
  memset(&S, 0, sizeof S);
  int rc = load_body(path, target_col, out, err, &S);
  load_state_free(&S);
  return rc;
}

/* ------------------------------------------------------------------ standardize */

/* Two passes (mean, then squared deviations) rather than a running formula: the
 * columns are in memory and this is the most accurate simple choice. A column whose
 * values are all equal is detected exactly (min == max) so that rounding in the mean
 * cannot produce a tiny non-zero std that would blow the column up. */
static int column_stats(const double *v, size_t n, size_t stride, double *mean, double *sd) {
  double lo = v[0], hi = v[0], s = 0.0;
  for (size_t i = 0; i < n; i++) {
    double x = v[i * stride];
    s += x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (lo == hi) {
    *mean = lo;
    *sd = 0.0;
    return 1;
  }
  double m = s / (double)n, ss = 0.0, c = 0.0;
  for (size_t i = 0; i < n; i++) {
    double dx = v[i * stride] - m;
    ss += dx * dx;
    c += dx;
  }
  /* Corrected two-pass: subtracting (sum of deviations)^2 / n removes the error of the
   * rounded mean (Chan, Golub & LeVeque). */
  double var = (ss - c * c / (double)n) / (double)n;
  *mean = m;
  *sd = var > 0.0 ? sqrt(var) : 0.0;
  return isfinite(m) && isfinite(*sd);
}

int cgd_dataset_standardize(cgd_dataset *ds, cgd_error *err) {
  if (!ds) return cgd_fail(err, CGD_EUSAGE, "cgd_dataset_standardize: data set is NULL");
  if (ds->standardized)
    return cgd_fail(err, CGD_EUSAGE, "%s: data set is already standardized",
                    short_path(ds->path));
  if (ds->n < 1)
    return cgd_fail(err, CGD_EDATA, "%s: no rows to standardize", short_path(ds->path));
  double *mu = malloc((ds->d ? ds->d : 1) * sizeof *mu);
  double *sd = malloc((ds->d ? ds->d : 1) * sizeof *sd);
  if (!mu || !sd) {
    free(mu);
    free(sd);
    return cgd_fail(err, CGD_ENOMEM, "out of memory standardizing %zu columns", ds->d);
  }
  double ym, ys;
  for (size_t j = 0; j < ds->d; j++) {
    if (!column_stats(ds->X + j, ds->n, ds->d, &mu[j], &sd[j])) {
      free(mu);
      free(sd);
      return cgd_fail(err, CGD_EDATA, "%s: input column %zu: values too large to standardize",
                      short_path(ds->path), j + 1);
    }
  }
  if (!column_stats(ds->y, ds->n, 1, &ym, &ys)) {
    free(mu);
    free(sd);
    return cgd_fail(err, CGD_EDATA, "%s: target: values too large to standardize",
                    short_path(ds->path));
  }
  /* Only modify the data once every statistic is known to be valid. */
  for (size_t i = 0; i < ds->n; i++) {
    double *x = ds->X + i * ds->d;
    for (size_t j = 0; j < ds->d; j++) {
      x[j] -= mu[j];
      if (sd[j] > 0.0) x[j] /= sd[j];
    }
    ds->y[i] -= ym;
    if (ys > 0.0) ds->y[i] /= ys;
  }
  free(ds->x_mean);
  free(ds->x_std);
  ds->x_mean = mu;
  ds->x_std = sd;
  ds->y_mean = ym;
  ds->y_std = ys;
  ds->standardized = 1;
  return CGD_OK;
}

/* ------------------------------------------------------------------ split */

static cgd_dataset *subset(const cgd_dataset *ds, const unsigned char *in_test, int want_test,
                           size_t count) {
  cgd_dataset *s = dataset_alloc(count, ds->d);
  if (!s) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < ds->n; i++) {
    if (in_test[i] != want_test) continue;
    memcpy(s->X + k * ds->d, ds->X + i * ds->d, ds->d * sizeof(double));
    s->y[k] = ds->y[i];
    k++;
  }
  s->standardized = ds->standardized;
  s->y_mean = ds->y_mean;
  s->y_std = ds->y_std;
  s->has_header = ds->has_header;
  memcpy(s->sha256, ds->sha256, sizeof s->sha256);
  memcpy(s->path, ds->path, sizeof s->path);
  if (ds->x_mean && ds->x_std) {
    s->x_mean = malloc((ds->d ? ds->d : 1) * sizeof(double));
    s->x_std = malloc((ds->d ? ds->d : 1) * sizeof(double));
    if (!s->x_mean || !s->x_std) {
      cgd_dataset_free(s);
      return NULL;
    }
    memcpy(s->x_mean, ds->x_mean, ds->d * sizeof(double));
    memcpy(s->x_std, ds->x_std, ds->d * sizeof(double));
  }
  return s;
}

int cgd_dataset_split(const cgd_dataset *ds, double frac, uint64_t seed, cgd_dataset **train,
                      cgd_dataset **test, cgd_error *err) {
  if (!train || !test) return cgd_fail(err, CGD_EUSAGE, "cgd_dataset_split: NULL output");
  *train = NULL;
  *test = NULL;
  if (!ds) return cgd_fail(err, CGD_EUSAGE, "cgd_dataset_split: data set is NULL");
  if (!(frac >= 0.0 && frac < 1.0))
    return cgd_fail(err, CGD_EUSAGE, "holdout fraction %g outside [0, 1)", frac);
  unsigned char *in_test = calloc(ds->n ? ds->n : 1, 1);
  if (!in_test) return cgd_fail(err, CGD_ENOMEM, "out of memory splitting %zu rows", ds->n);
  size_t ntest = 0;
  for (size_t i = 0; i < ds->n; i++) {
    in_test[i] = cgd_rng_uniform(seed, CGD_STREAM_HOLDOUT, (uint64_t)i) < frac;
    ntest += in_test[i];
  }
  size_t ntrain = ds->n - ntest;
  if (ntrain < 2 || (frac > 0.0 && ntest < 2)) {
    free(in_test);
    return cgd_fail(err, CGD_EUSAGE,
                    "holdout fraction %g with seed %llu leaves %zu training and %zu holdout "
                    "rows of %zu; each part needs at least 2",
                    frac, (unsigned long long)seed, ntrain, ntest, ds->n);
  }
  cgd_dataset *tr = subset(ds, in_test, 0, ntrain);
  cgd_dataset *te = frac > 0.0 ? subset(ds, in_test, 1, ntest) : NULL;
  free(in_test);
  if (!tr || (frac > 0.0 && !te)) {
    cgd_dataset_free(tr);
    cgd_dataset_free(te);
    return cgd_fail(err, CGD_ENOMEM, "out of memory splitting %zu rows", ds->n);
  }
  *train = tr;
  *test = te;
  return CGD_OK;
}

void cgd_dataset_free(cgd_dataset *ds) {
  if (!ds) return;
  free(ds->X);
  free(ds->y);
  free(ds->x_mean);
  free(ds->x_std);
  free(ds);
}

/* ------------------------------------------------------------------ sha256 of a file */

int cgd_sha256_file(const char *path, char hex[65], cgd_error *err) {
  if (!path || !hex) return cgd_fail(err, CGD_EUSAGE, "cgd_sha256_file: NULL argument");
  FILE *f = fopen(path, "rb");
  if (!f)
    return cgd_fail(err, CGD_EDATA, "%s: cannot open: %s", short_path(path), strerror(errno));
  cgd_sha256_ctx c;
  cgd_sha256_init(&c);
  unsigned char buf[1 << 15];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, f)) > 0) cgd_sha256_update(&c, buf, got);
  int bad = ferror(f);
  int saved = errno;
  fclose(f);
  if (bad)
    return cgd_fail(err, CGD_EDATA, "%s: read error: %s", short_path(path), strerror(saved));
  uint8_t d[32];
  cgd_sha256_final(&c, d);
  cgd_sha256_hex(d, hex);
  return CGD_OK;
}
