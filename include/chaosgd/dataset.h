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
 * carry surrounding blanks or CSV quotes.
 * Rejected (CGD_EDATA, message "PATH: line L, column C: ..."): missing or empty file,
 * blank line between data rows, ragged rows ("line 7: 5 fields, expected 6"), empty or
 * non-numeric fields (quoted, escaped), NaN/Inf and overflowing values, fewer than 2
 * data rows, fewer than 2 columns, target column out of range. */
#ifndef CHAOSGD_DATASET_H
#define CHAOSGD_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "chaosgd/status.h"

typedef struct cgd_dataset {
  size_t n, d;          /* rows, input columns */
  double *X;            /* n × d row-major, owned */
  double *y;            /* n, owned */
  int standardized;     /* 1 after cgd_dataset_standardize */
  double *x_mean, *x_std; /* d each (population std); owned; NULL until standardized */
  double y_mean, y_std;
  int has_header;       /* the file had a header line */
  char sha256[65];      /* hex sha256 of the file's bytes */
  char path[4096];
} cgd_dataset;

/* Load a file. target_col is 1-based; 0 means the last column. Inputs are all other
 * columns, in file order. On error returns CGD_EDATA with the message naming file, line
 * (1-based, counting the header and blank lines) and column (1-based), and *out is NULL
 * (CGD_ENOMEM if memory runs out, CGD_EUSAGE for NULL arguments).
 * ds->sha256 is the hash of exactly the bytes parsed. */
int cgd_dataset_load(const char *path, int target_col, cgd_dataset **out, cgd_error *err);

/* Z-score every input column and the target with the population standard deviation
 * (two-pass), recording the constants. A constant column (all values equal) is centred
 * but not scaled and its std is recorded as 0 (caller may warn). CGD_EUSAGE if already
 * standardized (the constants would be lost); the data are untouched on any error. */
int cgd_dataset_standardize(cgd_dataset *ds, cgd_error *err);

/* Split off a deterministic holdout: row i goes to the holdout when
 * cgd_rng_uniform(seed, CGD_STREAM_HOLDOUT, i) < frac. Both outputs are new data sets
 * sharing the parent's constants; *test is NULL when frac == 0. Fails (CGD_EUSAGE)
 * if either part would have fewer than 2 rows or frac is outside [0, 1). */
int cgd_dataset_split(const cgd_dataset *ds, double frac, uint64_t seed, cgd_dataset **train,
                      cgd_dataset **test, cgd_error *err);

void cgd_dataset_free(cgd_dataset *ds);

/* sha256 of a whole file as 64 lowercase hex characters plus NUL. */
int cgd_sha256_file(const char *path, char hex[65], cgd_error *err);

#endif
