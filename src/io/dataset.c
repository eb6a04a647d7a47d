#include "chaosgd/dataset.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chaosgd/limits.h"
#include "chaosgd/parse.h"
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

typedef enum {
  TOK_NUMBER, TOK_EMPTY, TOK_TEXT, TOK_NONFINITE, TOK_OVERFLOW, TOK_UNDERFLOW
} tok_kind;

/* "nan", "inf", "infinity" in any case with an optional sign: spelled-out non-finite
 * values get their own message (they are a common export artefact). */
static int spells_nonfinite(const char *s, size_t len) {
  if (len && (*s == '+' || *s == '-')) s++, len--;
  static const char *const words[] = {"nan", "inf", "infinity"};
  for (size_t w = 0; w < 3; w++)
    if (strlen(words[w]) == len && strncasecmp(s, words[w], len) == 0) return 1;
  return 0;
}

/* A whole field as a number through the one strict parser (chaosgd/parse.h), after
 * removing surrounding blanks (padding that spreadsheets and fixed-width exports add).
 * s is NUL-terminated at s[len] (CSV_APPEND_NULL) and the parser must consume exactly the
 * trimmed field: an embedded NUL, trailing text ("6x", "0.1-0.2") or hex makes it text.
 * Decimal point '.' always: the strict parser checks its own grammar, so a locale with ','
 * makes numbers fail loudly rather than read differently. */
static tok_kind parse_number(const char *s, size_t len, double *v) {
  size_t a = 0, b = len;
  while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
  if (a == b) return TOK_EMPTY;
  const char *end;
  double x;
  cgd_parse_code c = cgd_parse_double_prefix(s + a, &x, &end);
  if (c == CGD_PARSE_OK && end == s + b) {
    *v = x;
    return TOK_NUMBER;
  }
  if (c == CGD_PARSE_RANGE) {
    /* A range error is only reported as such when the field is nothing but a decimal
     * number (else it is text); strtod then tells overflow (inf) from underflow (0). */
    if (strspn(s + a, "0123456789+-.eE") < b - a) return TOK_TEXT;
    return isinf(strtod(s + a, NULL)) ? TOK_OVERFLOW : TOK_UNDERFLOW;
  }
  if (spells_nonfinite(s + a, b - a)) return TOK_NONFINITE;
  return TOK_TEXT;
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
  size_t max_store;    /* fields stored per line once the column count is known (0: all) */
} line_state;

static void on_field(void *s, size_t len, void *data) {
  line_state *L = data;
  L->nf++;
  /* A ragged line is an error whatever its extra fields hold; not storing them keeps a
   * hostile line of millions of fields from growing the buffer. */
  if (L->nomem || (L->max_store && L->nf > L->max_store)) return;
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

/* Read a whole file, never more than limit bytes: a regular file larger than that is
 * refused from its size before anything is allocated; anything else (a pipe, a device
 * such as /dev/zero) is read until it ends or passes the limit. */
static int read_all(const char *path, uint64_t limit, char **buf, size_t *len,
                    cgd_error *err) {
  const char *P = short_path(path);
  FILE *f = cgd_open_input(path);
  if (!f) return cgd_fail(err, CGD_EDATA, "%s: cannot open data file: %s", P, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0) {
    int e = errno;
    fclose(f);
    return cgd_fail(err, CGD_EDATA, "%s: cannot stat data file: %s", P, strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    fclose(f);
    return cgd_fail(err, CGD_EDATA, "%s: is a directory, not a data file", P);
  }
  const int regular = S_ISREG(st.st_mode);
  char what[400];
  if (regular && (uint64_t)st.st_size > limit) {
    fclose(f);
    snprintf(what, sizeof what, "%s: reading the data file", P);
    return cgd_mem_check((uint64_t)st.st_size, limit, CGD_EDATA, what, err);
  }
  /* Regular files: one allocation of the right size (+1 to see the end). Reading stops
   * one byte past the limit (lim1), which is how an endless input is recognised. */
  const uint64_t lim1 = limit == UINT64_MAX ? UINT64_MAX : limit + 1;
  size_t cap = regular ? (size_t)st.st_size + 1 : (size_t)1 << 16, n = 0;
  if (cap > lim1) cap = (size_t)lim1;
  if (cap < 64) cap = 64;
  char *b = malloc(cap);
  if (!b) {
    fclose(f);
    return cgd_fail(err, CGD_ENOMEM, "%s: out of memory reading the file", P);
  }
  for (;;) {
    if (n == cap) {
      if ((uint64_t)n > limit) break; /* read one byte past the limit: refused below */
      size_t ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
      if ((uint64_t)ncap > lim1) ncap = (size_t)lim1;
      char *nb = realloc(b, ncap);
      if (!nb) {
        free(b);
        fclose(f);
        return cgd_fail(err, CGD_ENOMEM, "%s: out of memory reading the file", P);
      }
      b = nb;
      cap = ncap;
    }
    size_t got = fread(b + n, 1, cap - n, f);
    /* A NUL byte makes the file an error (not text) wherever it is, so reading stops
     * there: /dev/zero or a binary file is refused at once, not after the limit. */
    const int has_nul = got && memchr(b + n, '\0', got) != NULL;
    n += got;
    if (got == 0 || has_nul) break;
  }
  int bad = ferror(f);
  int saved = errno;
  fclose(f);
  if (bad) {
    free(b);
    return cgd_fail(err, CGD_EDATA, "%s: read error: %s", P, strerror(saved));
  }
  if ((uint64_t)n > limit && !memchr(b, '\0', n)) {
    free(b);
    char a[32];
    if (!regular)
      return cgd_fail(err, CGD_EDATA,
                      "%s: is not a regular file and did not end within the memory limit of "
                      "%s (raise it with --max-memory, or copy the data to a file)",
                      P, cgd_mem_format(limit, a, sizeof a));
    return cgd_fail(err, CGD_EDATA,
                    "%s: grew past the memory limit of %s while being read", P,
                    cgd_mem_format(limit, a, sizeof a));
  }
  *buf = b;
  *len = n;
  return CGD_OK;
}

/* ------------------------------------------------------------------ load */

uint64_t cgd_dataset_memory_bytes(uint64_t n, uint64_t ncols) {
  return cgd_mem_mul(cgd_mem_mul(cgd_mem_mul(n, ncols), sizeof(double)), 2);
}

static void add_warning(cgd_dataset *ds, unsigned flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_warning(cgd_dataset *ds, unsigned flag, const char *fmt, ...) {
  ds->warn_flags |= flag;
  if (ds->nwarnings == CGD_DATASET_MAX_WARNINGS) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ds->warnings[ds->nwarnings++], CGD_DATASET_WARNING_LEN, fmt, ap);
  va_end(ap);
}

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
  char *scratch;    /* squeezed copy of a line (whitespace mode) */
  cgd_dataset *ds;  /* allocated for an upper bound of rows at the first data row */
  line_state L;
  struct csv_parser parser;
  int parser_live;
} load_state;

static void load_state_free(load_state *S) {
  free(S->scratch);
  free(S->L.vals);
  cgd_dataset_free(S->ds);
  if (S->parser_live) csv_free(&S->parser);
}

static size_t count_byte(const char *p, size_t n, char c) {
  size_t k = 0;
  for (const char *q = p, *e = p + n; (q = memchr(q, c, (size_t)(e - q))) != NULL; q++) k++;
  return k;
}

/* Upper bound of the fields on a line, for the memory check before it is parsed. */
static size_t max_fields(const char *line, size_t n, char delim) {
  if (delim != ' ') return count_byte(line, n, delim) + 1;
  return n / 2 + 1; /* at least one blank between two fields */
}

/* A NUL byte is never part of a text data file (before, text after it could be read or
 * ignored depending on the field). Reported with its line and column, the column counted
 * with the delimiter rule of the file's first non-blank line. */
static int nul_error(const char *P, const char *p, size_t start, const char *nul, size_t len,
                     cgd_error *err) {
  size_t line = 1, ls = 0;
  for (size_t i = 0; i < (size_t)(nul - p); i++)
    if (p[i] == '\n') line++, ls = i + 1;
  if (ls < start) ls = start;
  /* the delimiter, from the first non-blank line (same rule as the loader) */
  char delim = ' ';
  for (size_t q = start; q < len;) {
    const char *e = memchr(p + q, '\n', len - q);
    size_t n = (e ? (size_t)(e - p) : len) - q;
    if (!is_blank(p + q, n)) {
      if (memchr(p + q, '\t', n)) delim = '\t';
      else if (memchr(p + q, ',', n)) delim = ',';
      else if (memchr(p + q, ';', n)) delim = ';';
      break;
    }
    q += n + 1;
  }
  const size_t at = (size_t)(nul - p);
  size_t col = 1, fs = ls;
  if (delim == ' ') { /* fields are runs of non-blanks */
    int seen = 0, prev_blank = 0;
    for (size_t i = ls; i < at; i++) {
      const int blank = p[i] == ' ' || p[i] == '\t';
      if (!blank) {
        if (!seen) fs = i;
        else if (prev_blank) col++, fs = i;
        seen = 1;
      }
      prev_blank = blank;
    }
    if (!seen) fs = at;
    else if (prev_blank) col++, fs = at;
  } else {
    for (size_t i = ls; i < at; i++)
      if (p[i] == delim) col++, fs = i + 1;
  }
  size_t fe = fs;
  while (fe < len && p[fe] != '\n' && p[fe] != '\r' && p[fe] != (delim == ' ' ? '\t' : delim) &&
         !(delim == ' ' && p[fe] == ' '))
    fe++;
  char show[SHOW_MAX * 4 + 8];
  show_field(p + fs, fe - fs, show, sizeof show);
  return cgd_fail(err, CGD_EDATA,
                  "%s: line %zu, column %zu: NUL byte in field \"%s\" (not a text data file)",
                  P, line, col, show);
}

/* After loading: a constant target is an error (or a warning when allowed), constant
 * inputs are warnings. Columns are named by their number in the file. */
static int check_constant_columns(cgd_dataset *ds, const char *P, size_t tcol,
                                  int allow_constant_target, cgd_error *err) {
  int yconst = 1;
  for (size_t i = 1; i < ds->n && yconst; i++) yconst = ds->y[i] == ds->y[0];
  if (yconst) {
    if (!allow_constant_target)
      return cgd_fail(err, CGD_EDATA,
                      "%s: target column %zu is constant (every row is %.17g): there is "
                      "nothing to fit",
                      P, tcol, ds->y[0]);
    add_warning(ds, CGD_DATA_WARN_CONSTANT_TARGET,
                "target column %zu is constant (every row is %.17g): there is nothing to fit",
                tcol, ds->y[0]);
  }
  char list[160];
  size_t nconst = 0, o = 0, first = 0;
  double first_val = 0;
  list[0] = '\0';
  for (size_t j = 0; j < ds->d; j++) {
    int c = 1;
    for (size_t i = 1; i < ds->n && c; i++) c = ds->X[i * ds->d + j] == ds->X[j];
    if (!c) continue;
    size_t fc = j + 1 < tcol ? j + 1 : j + 2; /* column number in the file */
    if (!nconst++) first = fc, first_val = ds->X[j];
    if (o + 24 < sizeof list) o += (size_t)snprintf(list + o, sizeof list - o, "%s%zu", o ? ", " : "", fc);
    else if (o + 5 < sizeof list && list[o - 1] != '.') o += (size_t)snprintf(list + o, sizeof list - o, ", ...");
  }
  if (nconst == 1)
    add_warning(ds, CGD_DATA_WARN_CONSTANT_INPUT,
                "input column %zu is constant (every row is %.17g): it carries no information",
                first, first_val);
  else if (nconst > 1)
    add_warning(ds, CGD_DATA_WARN_CONSTANT_INPUT,
                "%zu input columns are constant (%s): they carry no information", nconst, list);
  return CGD_OK;
}

/* Parse len bytes (p need not be NUL-terminated). budget: memory this may allocate. */
/* Where the line scan stands: the layout found on the first non-blank line and the rows
 * read so far. */
typedef struct scan {
  const char *P;             /* the path as messages show it */
  char delim;                /* 0 until the first non-blank line; ' ' = runs of blanks */
  size_t ncols, nrows, tcol, rows_cap;
  size_t first_line;         /* line number of the first non-blank line */
  size_t blank_after;        /* first blank line after content, 0 = none pending */
  int has_header;
  size_t lineno;
} scan;

/* The message for the first bad field of a line (libcsv's callback recorded it). */
static int field_error(const scan *c, const line_state *L, cgd_error *err) {
  switch (L->bad_kind) {
  case TOK_EMPTY:
    return cgd_fail(err, CGD_EDATA, "%s: line %zu, column %zu: empty field", c->P, c->lineno,
                    L->bad_col);
  case TOK_NONFINITE:
    return cgd_fail(err, CGD_EDATA,
                    "%s: line %zu, column %zu: non-finite value \"%s\" (NaN/Inf are not "
                    "allowed)",
                    c->P, c->lineno, L->bad_col, L->bad_show);
  case TOK_OVERFLOW:
    return cgd_fail(err, CGD_EDATA, "%s: line %zu, column %zu: value \"%s\" overflows a double",
                    c->P, c->lineno, L->bad_col, L->bad_show);
  case TOK_UNDERFLOW:
    return cgd_fail(err, CGD_EDATA,
                    "%s: line %zu, column %zu: value \"%s\" underflows a double (it would "
                    "read as 0)",
                    c->P, c->lineno, L->bad_col, L->bad_show);
  default:
    return cgd_fail(err, CGD_EDATA, "%s: line %zu, column %zu: non-numeric field \"%s\"", c->P,
                    c->lineno, L->bad_col, L->bad_show);
  }
}

/* The delimiter, from the first non-blank line: tab, else comma, else semicolon, else runs
 * of blanks; and a memory check for that line's values, held before the column count is
 * known. */
static int choose_delim(scan *c, load_state *S, const char *line, size_t n, uint64_t budget,
                        cgd_error *err) {
  if (memchr(line, '\t', n)) c->delim = '\t';
  else if (memchr(line, ',', n)) c->delim = ',';
  else if (memchr(line, ';', n)) c->delim = ';';
  else c->delim = ' ';
  csv_set_delim(&S->parser, (unsigned char)(c->delim == ' ' ? '\t' : c->delim));
  char what[400];
  snprintf(what, sizeof what, "%s: line %zu (up to %zu fields)", c->P, c->lineno,
           max_fields(line, n, c->delim));
  return cgd_mem_check(cgd_mem_add(cgd_mem_mul(max_fields(line, n, c->delim), 8),
                                   c->delim == ' ' ? n : 0),
                       budget, CGD_EDATA, what, err);
}

/* The first non-blank line fixes the column count and the target; it is a header when
 * it holds real text (a first line like "1,,3" is a damaged row and is reported, not
 * dropped as a header). */
static int first_line(scan *c, line_state *L, int target_col, cgd_error *err) {
  c->first_line = c->lineno;
  c->ncols = L->nf;
  L->max_store = c->ncols;
  if (c->ncols < 2)
    return cgd_fail(err, CGD_EDATA,
                    "%s: line %zu: 1 column found (delimiter %s); need at least 2 (inputs and "
                    "a target)",
                    c->P, c->lineno,
                    c->delim == '\t'  ? "tab"
                    : c->delim == ',' ? "comma"
                    : c->delim == ';' ? "semicolon"
                                      : "blanks");
  if (target_col < 0 || (size_t)target_col > c->ncols)
    return cgd_fail(err, CGD_EDATA,
                    "%s: line %zu: target column %d out of range (the file has %zu columns; "
                    "1..%zu, or 0 for the last)",
                    c->P, c->lineno, target_col, c->ncols, c->ncols);
  c->tcol = target_col == 0 ? c->ncols : (size_t)target_col;
  c->has_header = L->any_text;
  return CGD_OK;
}

/* Every remaining line could be a row: that bounds the matrix, which is checked against
 * the memory limit and allocated once (no doubling, no copy). */
static int alloc_matrix(scan *c, load_state *S, const char *rest, size_t nrest, uint64_t budget,
                        cgd_error *err) {
  c->rows_cap = 1;
  if (nrest) c->rows_cap += count_byte(rest, nrest, '\n') + (rest[nrest - 1] != '\n');
  char what[400];
  snprintf(what, sizeof what, "%s: a matrix of up to %zu rows x %zu columns", c->P, c->rows_cap,
           c->ncols);
  int rc = cgd_mem_check(cgd_mem_mul(cgd_mem_mul(c->rows_cap, c->ncols), sizeof(double)), budget,
                         CGD_EDATA, what, err);
  if (rc) return rc;
  S->ds = dataset_alloc(c->rows_cap, c->ncols - 1);
  if (!S->ds)
    return cgd_fail(err, CGD_ENOMEM, "%s: out of memory for %zu rows x %zu columns", c->P,
                    c->rows_cap, c->ncols);
  return CGD_OK;
}

/* One non-blank line: its fields through libcsv, checked, stored as a row. */
static int take_line(scan *c, load_state *S, const char *line, size_t n, const char *rest,
                     size_t nrest, uint64_t budget, int target_col, cgd_error *err) {
  line_state *L = &S->L;
  int rc;
  if (!c->delim && (rc = choose_delim(c, S, line, n, budget, err))) return rc;
  const char *feed = line;
  size_t nfeed = n;
  if (c->delim == ' ') {
    char *sc = realloc(S->scratch, n);
    if (!sc) return cgd_fail(err, CGD_ENOMEM, "%s: line %zu: out of memory", c->P, c->lineno);
    S->scratch = sc;
    nfeed = squeeze_blanks(line, n, sc);
    feed = sc;
  }
  L->nf = 0;
  L->any_text = 0;
  L->bad_col = 0;
  if (csv_parse(&S->parser, feed, nfeed, on_field, NULL, L) != nfeed ||
      csv_fini(&S->parser, on_field, NULL, L) != 0 || L->nomem)
    return cgd_fail(err, CGD_ENOMEM, "%s: line %zu: out of memory while parsing", c->P, c->lineno);
  if (!c->first_line) {
    if ((rc = first_line(c, L, target_col, err))) return rc;
    if (c->has_header) return CGD_OK;
  }
  if (L->nf < c->ncols)
    return cgd_fail(err, CGD_EDATA,
                    "%s: line %zu: %zu fields, expected %zu (as on line %zu); column %zu missing",
                    c->P, c->lineno, L->nf, c->ncols, c->first_line, L->nf + 1);
  if (L->nf > c->ncols)
    return cgd_fail(err, CGD_EDATA,
                    "%s: line %zu: %zu fields, expected %zu (as on line %zu); extra field at "
                    "column %zu",
                    c->P, c->lineno, L->nf, c->ncols, c->first_line, c->ncols + 1);
  if (L->bad_col) return field_error(c, L, err);
  if (!S->ds && (rc = alloc_matrix(c, S, rest, nrest, budget, err))) return rc;
  double *x = S->ds->X + c->nrows * (c->ncols - 1);
  for (size_t j = 0, k = 0; j < c->ncols; j++) {
    if (j + 1 == c->tcol) S->ds->y[c->nrows] = L->vals[j];
    else x[k++] = L->vals[j];
  }
  c->nrows++;
  return CGD_OK;
}

static int load_body(const char *path, const char *p, size_t len, uint64_t budget,
                     const cgd_dataset_opts *o, cgd_dataset **out, cgd_error *err,
                     load_state *S) {
  scan c = {.P = short_path(path)};
  if (len == 0) return cgd_fail(err, CGD_EDATA, "%s: empty file", c.P);
  uint8_t digest[32];
  char hex[65];
  /* Hashing the bytes that are parsed (not re-reading the file) ties the recorded
   * fingerprint to exactly the data used. */
  cgd_sha256(p, len, digest);
  cgd_sha256_hex(digest, hex);
  if (csv_init(&S->parser, CSV_APPEND_NULL) != 0)
    return cgd_fail(err, CGD_EINTERNAL, "%s: csv_init failed", c.P);
  S->parser_live = 1;
  csv_set_term_func(&S->parser, never_term);
  size_t pos = 0;
  /* A UTF-8 byte-order mark (spreadsheet exports) is not part of the first field. */
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) pos = 3;
  const char *nul = memchr(p, '\0', len);
  if (nul) return nul_error(c.P, p, pos, nul, len, err);

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
    c.lineno++;
    if (n > 0 && line[n - 1] == '\r') n--;
    if (is_blank(line, n)) {
      if (c.first_line && !c.blank_after) c.blank_after = c.lineno;
      continue;
    }
    /* Only trailing blank lines are harmless; one inside the data usually means two
     * files were concatenated or a row was lost. */
    if (c.blank_after)
      return cgd_fail(err, CGD_EDATA,
                      "%s: line %zu: blank line inside the data (only trailing blank lines "
                      "are allowed)",
                      c.P, c.blank_after);
    int rc = take_line(&c, S, line, n, p + pos, len - pos, budget, o->target_col, err);
    if (rc) return rc;
  }

  if (!c.first_line) return cgd_fail(err, CGD_EDATA, "%s: no data (only blank lines)", c.P);
  if (c.nrows < 2)
    return cgd_fail(err, CGD_EDATA, "%s: line %zu: %zu data row%s%s, need at least 2", c.P,
                    c.lineno, c.nrows, c.nrows == 1 ? "" : "s",
                    c.has_header ? " after the header" : "");
  cgd_dataset *ds = S->ds;
  ds->n = c.nrows;
  if (c.nrows < c.rows_cap) { /* give back the rows reserved for header and blank lines */
    double *X = realloc(ds->X, c.nrows * ds->d * sizeof *X);
    if (X) ds->X = X;
    double *y = realloc(ds->y, c.nrows * sizeof *y);
    if (y) ds->y = y;
  }
  ds->has_header = c.has_header;
  ds->target_col = c.tcol;
  memcpy(ds->sha256, hex, sizeof ds->sha256);
  snprintf(ds->path, sizeof ds->path, "%s", path);
  int rc = check_constant_columns(ds, c.P, c.tcol, o->allow_constant_target, err);
  if (rc) return rc;
  S->ds = NULL;
  *out = ds;
  return CGD_OK;
}

static int load_common(const char *path, const char *buf, size_t len, int from_file,
                       const cgd_dataset_opts *opts, cgd_dataset **out, cgd_error *err) {
  if (!out) return cgd_fail(err, CGD_EUSAGE, "cgd_dataset_load: out is NULL");
  *out = NULL;
  if (!path || !*path) return cgd_fail(err, CGD_EUSAGE, "cgd_dataset_load: no path given");
  if (strlen(path) >= sizeof((cgd_dataset *)0)->path)
    return cgd_fail(err, CGD_EDATA, "%s: path too long", short_path(path));
  cgd_dataset_opts o = {0};
  if (opts) o = *opts;
  uint64_t limit = o.max_bytes ? o.max_bytes : cgd_default_max_memory();
  char *owned = NULL;
  if (from_file) {
    int rc = read_all(path, limit, &owned, &len, err);
    if (rc) return rc;
    buf = owned;
  } else if (!buf && len) {
    return cgd_fail(err, CGD_EUSAGE, "cgd_dataset_load_mem: NULL buffer");
  }
  /* The file's bytes stay in memory while the matrix is built: both count. */
  uint64_t budget = !from_file ? limit : len < limit ? limit - len : 0;
  load_state S;
  memset(&S, 0, sizeof S);
  int rc = load_body(path, buf ? buf : "", len, budget, &o, out, err, &S);
  load_state_free(&S);
  free(owned);
  return rc;
}

int cgd_dataset_load_opts(const char *path, const cgd_dataset_opts *opts, cgd_dataset **out,
                          cgd_error *err) {
  return load_common(path, NULL, 0, 1, opts, out, err);
}

int cgd_dataset_load_mem(const char *name, const char *buf, size_t len,
                         const cgd_dataset_opts *opts, cgd_dataset **out, cgd_error *err) {
  return load_common(name, buf, len, 0, opts, out, err);
}

int cgd_dataset_load(const char *path, int target_col, cgd_dataset **out, cgd_error *err) {
  cgd_dataset_opts o = {.target_col = target_col};
  return cgd_dataset_load_opts(path, &o, out, err);
}

/* ------------------------------------------------------------------ standardize */

/* Two passes (mean, then squared deviations) rather than a running formula: the
 * columns are in memory and this is the most accurate simple choice. A column whose
 * values are all equal is detected exactly (min == max) so that rounding in the mean
 * cannot produce a tiny non-zero std that would blow the column up.
 * Returns COL_OK, COL_CONSTANT (min == max, or a spread whose std underflows: sd = 0) or
 * COL_OVERFLOW (the sum, or the sum of squared deviations, is not finite: the statistics
 * would be meaningless; before this check a NaN variance silently became std 0). */
enum { COL_OK, COL_CONSTANT, COL_TINY, COL_OVERFLOW };

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
    return COL_CONSTANT;
  }
  double m = s / (double)n, ss = 0.0, c = 0.0;
  if (!isfinite(m)) return COL_OVERFLOW;
  for (size_t i = 0; i < n; i++) {
    double dx = v[i * stride] - m;
    ss += dx * dx;
    c += dx;
  }
  if (!isfinite(ss) || !isfinite(c * c)) return COL_OVERFLOW;
  /* Corrected two-pass: subtracting (sum of deviations)^2 / n removes the error of the
   * rounded mean (Chan, Golub & LeVeque). */
  double var = (ss - c * c / (double)n) / (double)n;
  *mean = m;
  *sd = var > 0.0 ? sqrt(var) : 0.0;
  /* Dividing by a subnormal std would overflow; such a column is constant for any
   * practical purpose and is treated as one (with a warning). */
  if (!(*sd >= DBL_MIN)) {
    *sd = 0.0;
    return COL_TINY;
  }
  return COL_OK;
}

/* Column number in the file of input j (0-based), for messages. */
static size_t file_column(const cgd_dataset *ds, size_t j) {
  return ds->target_col && j + 1 >= ds->target_col ? j + 2 : j + 1;
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
  size_t ntiny = 0, tiny_first = 0;
  for (size_t j = 0; j < ds->d; j++) {
    int st = column_stats(ds->X + j, ds->n, ds->d, &mu[j], &sd[j]);
    if (st == COL_OVERFLOW) {
      free(mu);
      free(sd);
      return cgd_fail(err, CGD_EDATA,
                      "%s: column %zu: values too large to standardize (their mean or sum of "
                      "squared deviations overflows a double; rescale the column)",
                      short_path(ds->path), file_column(ds, j));
    }
    if (st == COL_TINY && !ntiny++) tiny_first = file_column(ds, j);
  }
  int yst = column_stats(ds->y, ds->n, 1, &ym, &ys);
  if (yst == COL_OVERFLOW) {
    free(mu);
    free(sd);
    return cgd_fail(err, CGD_EDATA,
                    "%s: column %zu (the target): values too large to standardize (their "
                    "mean or sum of squared deviations overflows a double; rescale the "
                    "column)",
                    short_path(ds->path), ds->target_col);
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
  if (ntiny)
    add_warning(ds, CGD_DATA_WARN_TINY_SPREAD,
                "%zu input column%s (the first is column %zu) var%s by less than a standard "
                "deviation of %g: centred but not scaled, like a constant column",
                ntiny, ntiny == 1 ? "" : "s", tiny_first, ntiny == 1 ? "ies" : "y", DBL_MIN);
  if (yst == COL_TINY)
    add_warning(ds, CGD_DATA_WARN_TINY_SPREAD,
                "the target varies by less than a standard deviation of %g: centred but not "
                "scaled",
                DBL_MIN);
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
  s->target_col = ds->target_col;
  s->warn_flags = ds->warn_flags;
  s->nwarnings = ds->nwarnings;
  memcpy(s->warnings, ds->warnings, sizeof s->warnings);
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

/* ------------------------------------------------------------------ default data file */

/* Records a candidate and says whether it is a readable regular file. */
static int try_candidate(cgd_data_search *t, const char *path) {
  if (t->n < CGD_DATA_SEARCH_MAX) snprintf(t->tried[t->n++], sizeof t->tried[0], "%.1000s", path);
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* Joins dir and name; 0 if the result would be cut (never look at a truncated path). */
static int join(char *buf, size_t sz, const char *dir, const char *mid, const char *name) {
  int w = snprintf(buf, sz, "%s%s%s", dir, mid, name);
  return w >= 0 && (size_t)w < sz;
}

static int found(const char *path, char *out, size_t outsz, cgd_error *err) {
  if ((size_t)snprintf(out, outsz, "%s", path) >= outsz)
    return cgd_fail(err, CGD_EDATA, "%s: path too long", short_path(path));
  return CGD_OK;
}

int cgd_dataset_find_default(const char *name, const char *exe, char *out, size_t outsz,
                             cgd_data_search *tried, cgd_error *err) {
  cgd_data_search local;
  cgd_data_search *t = tried ? tried : &local;
  t->n = 0;
  if (!name || !*name || strchr(name, '/') || !out || !outsz)
    return cgd_fail(err, CGD_EUSAGE, "cgd_dataset_find_default: bad arguments");
  char cand[4096];
  const char *env = getenv("CHAOSGD_DATA");
  if (env && *env) {
    struct stat st;
    if (stat(env, &st) == 0 && S_ISDIR(st.st_mode)) {
      if (join(cand, sizeof cand, env, "/", name) && try_candidate(t, cand)) return found(cand, out, outsz, err);
    } else if (try_candidate(t, env)) {
      return found(env, out, outsz, err);
    }
    /* An explicit choice that does not work is an error, not a reason to pick another
     * file the user did not ask for. */
    return cgd_fail(err, CGD_EDATA,
                    "CHAOSGD_DATA=%.300s: no readable data file there (looked for %.300s)", env,
                    t->n ? t->tried[0] : env);
  }
  if (join(cand, sizeof cand, "datasets/", "", name) && try_candidate(t, cand)) return found(cand, out, outsz, err);

  char self[4096];
  ssize_t k = -1;
  if (exe && *exe) {
    k = (ssize_t)snprintf(self, sizeof self, "%s", exe);
    if ((size_t)k >= sizeof self) k = -1;
  } else {
    k = readlink("/proc/self/exe", self, sizeof self - 1);
    if (k >= 0) self[k] = '\0';
  }
  if (k > 0) {
    char *slash = strrchr(self, '/');
    if (slash) {
      *slash = '\0';
      const char *dir = *self ? self : "/";
      if (join(cand, sizeof cand, dir, "/../datasets/", name) && try_candidate(t, cand))
        return found(cand, out, outsz, err);
      if (join(cand, sizeof cand, dir, "/datasets/", name) && try_candidate(t, cand)) return found(cand, out, outsz, err);
    }
  }
#ifdef CGD_SOURCE_DATADIR
  if (join(cand, sizeof cand, CGD_SOURCE_DATADIR, "/", name) && try_candidate(t, cand)) return found(cand, out, outsz, err);
#endif
#ifdef CGD_INSTALL_DATADIR
  if (join(cand, sizeof cand, CGD_INSTALL_DATADIR, "/", name) && try_candidate(t, cand)) return found(cand, out, outsz, err);
#endif
  char list[900];
  size_t o = 0;
  list[0] = '\0';
  for (size_t i = 0; i < t->n && o + 4 < sizeof list; i++) {
    int w = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", t->tried[i]);
    if (w < 0) break;
    o += (size_t)w;
  }
  return cgd_fail(err, CGD_EDATA,
                  "%s not found; looked in: %s (run datasets/fetch.sh, or set CHAOSGD_DATA "
                  "to the file or its folder)",
                  name, list);
}
