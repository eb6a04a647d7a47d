/* A regression data set: n rows, d input columns and one target, loaded with libcsv.
 *
 *   X : n × d, row-major     y : n
 *
 * Accepted files: tab-, comma-, semicolon- or whitespace-separated numbers. The
 * delimiter is taken from the first non-blank line: tab if it has one, else comma, else
 * semicolon, else runs of spaces/tabs. Optional header: the first non-blank line is a
 * header when at least one of its fields is non-empty text (so a damaged first row such
 * as "1,,3" is reported, not dropped). LF or CRLF line ends, a UTF-8 byte-order mark,
 * leading and trailing blank lines and a missing final line end are accepted; fields may
 * carry surrounding blanks or CSV quotes. Numbers are read by the one strict parser
 * (chaosgd/parse.h): decimal only, so hex, "inf", "nan" and values that overflow or
 * underflow to zero are errors.
 * Rejected (CGD_EDATA, message "PATH: line L, column C: ..."): missing or empty file,
 * a directory, blank line between data rows, ragged rows ("line 7: 5 fields, expected
 * 6"), empty or non-numeric fields (quoted, escaped), NaN/Inf and out-of-range values,
 * fewer than 2 data rows, fewer than 2 columns, target column out of range, a constant
 * target column (nothing to fit: the loss is trivially minimised by the output bias;
 * opts.allow_constant_target keeps it), and a file or data matrix that would need more
 * memory than the limit (checked before allocating; the message gives both amounts).
 * Warnings (kept in the data set, for the caller to print and record): constant input
 * columns (they carry no information; standardising centres them and leaves them 0). */
#ifndef CHAOSGD_DATASET_H
#define CHAOSGD_DATASET_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "chaosgd/status.h"

/* Warnings about a loaded data set that do not stop a run but must not be silent. */
enum { CGD_DATASET_MAX_WARNINGS = 4, CGD_DATASET_WARNING_LEN = 256 };
typedef enum {
  CGD_DATA_WARN_CONSTANT_INPUT = 1u << 0,  /* some input column has one value */
  CGD_DATA_WARN_CONSTANT_TARGET = 1u << 1, /* only with opts.allow_constant_target */
  CGD_DATA_WARN_TINY_SPREAD = 1u << 2      /* a column's std underflows: treated as constant */
} cgd_dataset_warn_flag;

typedef struct cgd_dataset {
  size_t n, d;          /* rows, input columns */
  double *X;            /* n × d row-major, owned */
  double *y;            /* n, owned */
  int standardized;     /* 1 after cgd_dataset_standardize */
  double *x_mean, *x_std; /* d each (population std); owned; NULL until standardized */
  double y_mean, y_std;
  int has_header;       /* the file had a header line */
  size_t target_col;    /* 1-based column of the target in the file */
  char sha256[65];      /* hex sha256 of the file's bytes */
  char path[4096];
  /* Warnings, one line each, without the path (the caller prefixes it): e.g.
   * "input columns 3, 5 are constant (3 = 0.1): they carry no information". */
  unsigned warn_flags;  /* cgd_dataset_warn_flag bits */
  size_t nwarnings;     /* lines in warnings[] */
  char warnings[CGD_DATASET_MAX_WARNINGS][CGD_DATASET_WARNING_LEN];
} cgd_dataset;

/* Options of cgd_dataset_load_opts; a zeroed struct is the default. */
typedef struct cgd_dataset_opts {
  int target_col;            /* 1-based; 0 = the last column */
  uint64_t max_bytes;        /* memory the load may use (file bytes + matrix); 0 = the
                              * default, cgd_default_max_memory(); UINT64_MAX = none */
  int allow_constant_target; /* keep a constant target (with a warning) instead of failing */
} cgd_dataset_opts;

/* Load a file. target_col is 1-based; 0 means the last column. Inputs are all other
 * columns, in file order. On error returns CGD_EDATA with the message naming file, line
 * (1-based, counting the header and blank lines) and column (1-based), and *out is NULL
 * (CGD_ENOMEM if memory runs out, CGD_EUSAGE for NULL arguments).
 * ds->sha256 is the hash of exactly the bytes parsed. */
int cgd_dataset_load(const char *path, int target_col, cgd_dataset **out, cgd_error *err);

/* The same with options (cgd_dataset_load is this with {target_col} and defaults). The
 * memory check comes before any large allocation: a regular file larger than the limit is
 * refused from its size; a non-regular file (pipe, /dev/zero) is read up to the limit and
 * refused if it has not ended ("is not a regular file and did not end within ..."); the
 * matrix (rows bounded by the line count) is checked before it is allocated. */
int cgd_dataset_load_opts(const char *path, const cgd_dataset_opts *opts, cgd_dataset **out,
                          cgd_error *err);

/* Parse len bytes already in memory (need not be NUL-terminated; may contain NUL bytes);
 * name stands for the path in messages and ds->path. For fuzzing and for callers that
 * read the bytes themselves. opts may be NULL (defaults). */
int cgd_dataset_load_mem(const char *name, const char *buf, size_t len,
                         const cgd_dataset_opts *opts, cgd_dataset **out, cgd_error *err);

/* Bytes a data set of n rows and ncols columns (inputs + target) takes in memory:
 * X and y, and as much again for a holdout split (cgd_dataset_split copies the rows). */
uint64_t cgd_dataset_memory_bytes(uint64_t n, uint64_t ncols);

/* Z-score every input column and the target with the population standard deviation
 * (two-pass), recording the constants. A constant column (all values equal) is centred
 * but not scaled and its std is recorded as 0 (the loader has warned). A column whose
 * values are distinct but whose std underflows to 0 is treated the same and gets a
 * warning. CGD_EDATA naming the file and column when the mean or the sum of squared
 * deviations overflows a double ("column 1: values too large to standardize"): the
 * statistics would be wrong (the old behaviour recorded a std of 0 and the run diverged).
 * CGD_EUSAGE if already standardized (the constants would be lost); the data are
 * untouched on any error. */
int cgd_dataset_standardize(cgd_dataset *ds, cgd_error *err);

/* Split off a deterministic holdout: row i goes to the holdout when
 * cgd_rng_uniform(seed, CGD_STREAM_HOLDOUT, i) < frac. Both outputs are new data sets
 * sharing the parent's constants; *test is NULL when frac == 0. Fails (CGD_EUSAGE)
 * if either part would have fewer than 2 rows or frac is outside [0, 1). */
int cgd_dataset_split(const cgd_dataset *ds, double frac, uint64_t seed, cgd_dataset **train,
                      cgd_dataset **test, cgd_error *err);

void cgd_dataset_free(cgd_dataset *ds);

/* Where the default data file is looked for, in this order (the first that is a
 * readable regular file wins):
 *   1. $CHAOSGD_DATA when set: the file itself, or a directory holding NAME. When the
 *      variable is set and names nothing usable, the search stops there with an error
 *      (an explicit choice is never silently replaced by another file).
 *   2. datasets/NAME under the current directory (the README's layout, run from the
 *      source tree; kept first so recorded paths stay as before).
 *   3. ../datasets/NAME and datasets/NAME beside the running program (exe's directory
 *      from /proc/self/exe, or the exe argument): build/train finds <source>/datasets.
 *   4. The source tree the library was built from (compiled in).
 *   5. The installed data directory, CMAKE_INSTALL_FULL_DATADIR/chaosgd/NAME.
 * tried (optional) receives every place looked at, in order, so the caller can list
 * them; the error message lists them too and says how to fix it. */
enum { CGD_DATA_SEARCH_MAX = 8 };
typedef struct cgd_data_search {
  size_t n;
  char tried[CGD_DATA_SEARCH_MAX][1024];
} cgd_data_search;

/* NAME is a file name such as "airfoil_self_noise.dat"; exe is the program's path or
 * NULL for /proc/self/exe. On success out (outsz bytes) holds the path found. On failure
 * CGD_EDATA: "NAME not found; looked in: A, B, ... (run datasets/fetch.sh, or set
 * CHAOSGD_DATA to the file or its folder)". */
int cgd_dataset_find_default(const char *name, const char *exe, char *out, size_t outsz,
                             cgd_data_search *tried, cgd_error *err);

/* fopen(path, "rb") for input files that never blocks in the open: a FIFO without a
 * writer reads as empty instead of hanging. NULL with errno set on failure. Used by the
 * data and parameter-file readers. */
FILE *cgd_open_input(const char *path);

/* sha256 of a whole file as 64 lowercase hex characters plus NUL. */
int cgd_sha256_file(const char *path, char hex[65], cgd_error *err);

#endif
