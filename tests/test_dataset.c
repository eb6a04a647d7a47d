/* Data set loading, standardisation, holdout split and SHA-256.
 * Fixture files are written to a fresh mkdtemp directory per test; the Airfoil checks
 * use the fetched file named by CGD_AIRFOIL and fail (never skip) when it is missing. */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chaosgd/dataset.h"
#include "chaosgd/rng.h"
#include "chaosgd/sha256.h"
#include "chaosgd/status.h"

#include "check_main.h"

/* Check fixtures can only talk to tests through file-scope state; each test runs in
 * its own forked process, so this is per test. */
static char tmpdir[1024];

static void setup(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/cgd_test_dataset_XXXXXX", base && *base ? base : "/tmp");
  ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp failed for %s", tmpdir);
}

static void teardown(void) {
  if (tmpdir[0]) cgd_rm_tree(tmpdir);
}

/* Write len bytes (len < 0: strlen) to tmpdir/name; path receives the full name. */
static void write_fixture(const char *name, const char *content, long len, char path[4096]) {
  snprintf(path, 4096, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "wb");
  ck_assert_msg(f != NULL, "cannot create fixture %s", path);
  size_t n = len < 0 ? strlen(content) : (size_t)len;
  ck_assert_uint_eq(fwrite(content, 1, n, f), n);
  ck_assert_int_eq(fclose(f), 0);
}

static cgd_dataset *load_ok(const char *content, int target_col) {
  char path[4096];
  write_fixture("ok.dat", content, -1, path);
  cgd_dataset *ds = NULL;
  cgd_error err = {{0}};
  int rc = cgd_dataset_load(path, target_col, &ds, &err);
  ck_assert_msg(rc == CGD_OK, "load failed (%d): %s\n--- content ---\n%s", rc, err.msg,
                content);
  ck_assert_ptr_nonnull(ds);
  return ds;
}

/* Expect CGD_EDATA, no data set, and every NULL-terminated fragment in the message
 * (plus the file's path, which every message must name). */
static void expect_reject(const char *content, long len, int target_col, ...) {
  char path[4096];
  write_fixture("bad.dat", content, len, path);
  cgd_dataset *ds = (cgd_dataset *)&ds; /* must be reset to NULL on failure */
  cgd_error err = {{0}};
  int rc = cgd_dataset_load(path, target_col, &ds, &err);
  ck_assert_msg(rc == CGD_EDATA, "expected CGD_EDATA, got %d (%s) for:\n%s", rc, err.msg,
                content);
  ck_assert_ptr_null(ds);
  ck_assert_msg(strstr(err.msg, path) != NULL, "message does not name the file: %s", err.msg);
  va_list ap;
  va_start(ap, target_col);
  for (const char *frag; (frag = va_arg(ap, const char *)) != NULL;)
    ck_assert_msg(strstr(err.msg, frag) != NULL, "message \"%s\" lacks \"%s\"", err.msg, frag);
  va_end(ap);
}

static void assert_values(const cgd_dataset *ds, size_t n, size_t d, const double *X,
                          const double *y) {
  ck_assert_uint_eq(ds->n, n);
  ck_assert_uint_eq(ds->d, d);
  for (size_t i = 0; i < n * d; i++) ck_assert_double_eq(ds->X[i], X[i]);
  for (size_t i = 0; i < n; i++) ck_assert_double_eq(ds->y[i], y[i]);
}

/* ------------------------------------------------------------------ rejections */

START_TEST(reject_missing_file) {
  char path[4096];
  snprintf(path, sizeof path, "%s/does_not_exist.dat", tmpdir);
  cgd_dataset *ds = NULL;
  cgd_error err = {{0}};
  ck_assert_int_eq(cgd_dataset_load(path, 0, &ds, &err), CGD_EDATA);
  ck_assert_ptr_null(ds);
  ck_assert_ptr_nonnull(strstr(err.msg, path));
  ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));
}
END_TEST

START_TEST(reject_empty_file) {
  expect_reject("", -1, 0, "empty file", NULL);
  expect_reject("\n  \n\t\r\n", -1, 0, "no data", NULL);
}
END_TEST

START_TEST(reject_ragged_rows) {
  const char *short_row = "1\t2\t3\t4\t5\t6\n"
                          "1\t2\t3\t4\t5\t6\n"
                          "1\t2\t3\t4\t5\t6\n"
                          "1\t2\t3\t4\t5\t6\n"
                          "1\t2\t3\t4\t5\t6\n"
                          "1\t2\t3\t4\t5\t6\n"
                          "1\t2\t3\t4\t5\n"
                          "1\t2\t3\t4\t5\t6\n";
  expect_reject(short_row, -1, 0, "line 7: 5 fields, expected 6", "column 6", NULL);
  expect_reject("a,b,c\n1,2,3\n1,2,3,4\n", -1, 0, "line 3: 4 fields, expected 3",
                "column 4", NULL);
}
END_TEST

START_TEST(reject_non_numeric) {
  expect_reject("1,2,3\n4,abc,6\n7,8,9\n", -1, 0, "line 2, column 2", "\"abc\"", NULL);
  /* Text inside an otherwise numeric field must not be half-parsed. */
  expect_reject("1 2 3\n4 5 6x\n", -1, 0, "line 2, column 3", "\"6x\"", NULL);
  expect_reject("x;y\n1;2\n3;1,5\n", -1, 0, "line 3, column 2", "\"1,5\"", NULL);
  /* A header is only recognised on the first non-blank line. */
  expect_reject("1,2\n3,4\nx,y\n", -1, 0, "line 3, column 1", "\"x\"", NULL);
  /* A stray CR inside a line stays in its field and is shown escaped. */
  expect_reject("1,2\n3\r4,5\n", -1, 0, "line 2, column 1", "\\x0d", NULL);
}
END_TEST

START_TEST(reject_empty_field) {
  expect_reject("1,2,3\n4,5,6\n7,,9\n", -1, 0, "line 3, column 2", "empty field", NULL);
  /* A damaged first row is not mistaken for a header. */
  expect_reject("1,,3\n4,5,6\n7,8,9\n", -1, 0, "line 1, column 2", "empty field", NULL);
  expect_reject("1,2,3\n4,5,6,\n", -1, 0, "line 2", "column 4", NULL);
}
END_TEST

START_TEST(reject_nonfinite) {
  expect_reject("1\t2\n3\tnan\n", -1, 0, "line 2, column 2", "\"nan\"", "non-finite", NULL);
  expect_reject("1\t2\nNaN\t4\n5\t6\n", -1, 0, "line 2, column 1", "non-finite", NULL);
  expect_reject("1\t2\n3\t4\n-inf\t6\n", -1, 0, "line 3, column 1", "\"-inf\"", NULL);
  expect_reject("1\t2\n3\tInfinity\n", -1, 0, "line 2, column 2", "non-finite", NULL);
  expect_reject("1\t2\n3\t1e999\n", -1, 0, "line 2, column 2", "\"1e999\"", "overflow",
                NULL);
  /* A NaN on the first line is data, not a header, and is rejected there. */
  expect_reject("nan,1\n2,3\n4,5\n", -1, 0, "line 1, column 1", "non-finite", NULL);
}
END_TEST

START_TEST(reject_too_few_rows) {
  expect_reject("1,2,3\n", -1, 0, "1 data row", "need at least 2", NULL);
  expect_reject("a,b,c\n1,2,3\n\n\n", -1, 0, "1 data row", "header", NULL);
  expect_reject("a,b,c\n", -1, 0, "0 data rows", NULL);
}
END_TEST

START_TEST(reject_too_few_columns) {
  expect_reject("1\n2\n3\n", -1, 0, "line 1", "need at least 2", NULL);
  expect_reject("\n\n1\n2\n3\n", -1, 0, "line 3", "need at least 2", NULL);
}
END_TEST

START_TEST(reject_target_out_of_range) {
  const char *f = "1,2,3\n4,5,6\n7,8,9\n";
  expect_reject(f, -1, 4, "target column 4", "3 columns", NULL);
  expect_reject(f, -1, -1, "target column -1", NULL);
}
END_TEST

START_TEST(reject_blank_line_inside) {
  expect_reject("1,2\n3,4\n\n5,6\n", -1, 0, "line 3", "blank line", NULL);
}
END_TEST

START_TEST(reject_embedded_nul) {
  expect_reject("1,2\n3,4\0x\n5,6\n", 12, 0, "line 2, column 2", "\\x00", NULL);
  expect_reject("1 2\n3  4\0x 5\n", 13, 0, "line 2, column 2", "\"4\\x00x\"", "NUL byte", NULL);
  expect_reject("a;b\n1;2\n3;4\n\0", 13, 0, "line 4, column 1", "NUL byte", NULL);
}
END_TEST

/* ------------------------------------------------------------------ accepted formats */

START_TEST(accept_header_tab) {
  cgd_dataset *ds = load_ok("freq\tangle\tnoise\n800\t0\t126.201\n1000\t1.5\t125.201\n", 0);
  const double X[] = {800, 0, 1000, 1.5}, y[] = {126.201, 125.201};
  assert_values(ds, 2, 2, X, y);
  ck_assert_int_eq(ds->has_header, 1);
  ck_assert_int_eq(ds->standardized, 0);
  ck_assert_ptr_null(ds->x_mean);
  cgd_dataset_free(ds);
  /* Header fields may be quoted and mix in numbers, as long as one is text. */
  ds = load_ok("\"x 1\",2019,y\n1,2,3\n4,5,6\n", 0);
  ck_assert_int_eq(ds->has_header, 1);
  ck_assert_uint_eq(ds->n, 2);
  cgd_dataset_free(ds);
}
END_TEST

START_TEST(accept_crlf_comma_trailing_blank) {
  cgd_dataset *ds = load_ok("1,2,3\r\n4,5,6\r\n-7.5e-1,+8,9\r\n\r\n\n  \n", 0);
  const double X[] = {1, 2, 4, 5, -0.75, 8}, y[] = {3, 6, 9};
  assert_values(ds, 3, 2, X, y);
  ck_assert_int_eq(ds->has_header, 0);
  cgd_dataset_free(ds);
}
END_TEST

START_TEST(accept_semicolon_no_final_newline) {
  cgd_dataset *ds = load_ok("a;b\n1.5;2\n3;4e-1", 0);
  const double X[] = {1.5, 3}, y[] = {2, 0.4};
  assert_values(ds, 2, 1, X, y);
  ck_assert_int_eq(ds->has_header, 1);
  cgd_dataset_free(ds);
}
END_TEST

START_TEST(accept_spaces_around_fields) {
  cgd_dataset *ds = load_ok(" 1 , 2 ,3 \n\"4\", 5,6\n", 0);
  const double X[] = {1, 2, 4, 5}, y[] = {3, 6};
  assert_values(ds, 2, 2, X, y);
  cgd_dataset_free(ds);
}
END_TEST

/* The layout of the UCI yacht file: single or multiple spaces, a leading space on some
 * rows, a stray tab, and no line end after the last row. */
START_TEST(accept_whitespace_yacht_like) {
  cgd_dataset *ds = load_ok("-2.3 0.568 4.78 3.99 3.17 0.125 0.11\n"
                            " -2.3  0.568 4.78 3.99 3.17 0.150   0.27\n"
                            "-2.3 0.600\t4.34 4.23 2.73 0.450 46.66",
                            0);
  ck_assert_uint_eq(ds->n, 3);
  ck_assert_uint_eq(ds->d, 6);
  ck_assert_double_eq(ds->X[0], -2.3);
  ck_assert_double_eq(ds->X[6 + 5], 0.150);
  ck_assert_double_eq(ds->X[12 + 1], 0.600);
  ck_assert_double_eq(ds->X[12 + 2], 4.34);
  ck_assert_double_eq(ds->y[0], 0.11);
  ck_assert_double_eq(ds->y[1], 0.27);
  ck_assert_double_eq(ds->y[2], 46.66);
  ck_assert_int_eq(ds->has_header, 0);
  cgd_dataset_free(ds);
}
END_TEST

START_TEST(accept_bom_and_leading_blank_lines) {
  cgd_dataset *ds = load_ok("\xEF\xBB\xBF\n\nx,y\n1,2\n3,4\n", 0);
  const double X[] = {1, 3}, y[] = {2, 4};
  assert_values(ds, 2, 1, X, y);
  ck_assert_int_eq(ds->has_header, 1);
  cgd_dataset_free(ds);
}
END_TEST

START_TEST(target_column_selection) {
  const char *f = "11,12,13,14\n21,22,23,24\n31,32,33,34\n";
  cgd_dataset *ds = load_ok(f, 2);
  const double X2[] = {11, 13, 14, 21, 23, 24, 31, 33, 34}, y2[] = {12, 22, 32};
  assert_values(ds, 3, 3, X2, y2);
  cgd_dataset_free(ds);
  ds = load_ok(f, 1);
  const double X1[] = {12, 13, 14, 22, 23, 24, 32, 33, 34}, y1[] = {11, 21, 31};
  assert_values(ds, 3, 3, X1, y1);
  cgd_dataset_free(ds);
  ds = load_ok(f, 4);
  const double X4[] = {11, 12, 13, 21, 22, 23, 31, 32, 33}, y4[] = {14, 24, 34};
  assert_values(ds, 3, 3, X4, y4);
  cgd_dataset_free(ds);
  ds = load_ok(f, 0);
  assert_values(ds, 3, 3, X4, y4);
  cgd_dataset_free(ds);
}
END_TEST

START_TEST(load_records_path_and_hash) {
  const char *content = "1,2\n3,4\n";
  cgd_dataset *ds = load_ok(content, 0);
  uint8_t d[32];
  char hex[65];
  cgd_sha256(content, strlen(content), d);
  cgd_sha256_hex(d, hex);
  ck_assert_str_eq(ds->sha256, hex);
  char path[4096];
  snprintf(path, sizeof path, "%s/ok.dat", tmpdir);
  ck_assert_str_eq(ds->path, path);
  cgd_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------------------------ standardize */

static void check_standardized(const cgd_dataset *ds, const cgd_dataset *raw) {
  ck_assert_int_eq(ds->standardized, 1);
  ck_assert_ptr_nonnull(ds->x_mean);
  ck_assert_ptr_nonnull(ds->x_std);
  for (size_t j = 0; j <= ds->d; j++) {
    const double *v = j < ds->d ? ds->X + j : ds->y;
    const double *r = j < ds->d ? raw->X + j : raw->y;
    size_t stride = j < ds->d ? ds->d : 1;
    double mu = j < ds->d ? ds->x_mean[j] : ds->y_mean;
    double sd = j < ds->d ? ds->x_std[j] : ds->y_std;
    double m = 0.0, s2 = 0.0;
    for (size_t i = 0; i < ds->n; i++) m += v[i * stride];
    m /= (double)ds->n;
    for (size_t i = 0; i < ds->n; i++) s2 += (v[i * stride] - m) * (v[i * stride] - m);
    double sdz = sqrt(s2 / (double)ds->n);
    ck_assert_msg(fabs(m) < 1e-12, "column %zu: mean %g after standardizing", j + 1, m);
    if (sd > 0.0)
      ck_assert_msg(fabs(sdz - 1.0) < 1e-12, "column %zu: std %.17g after standardizing",
                    j + 1, sdz);
    else
      ck_assert_msg(sdz == 0.0, "constant column %zu not centred exactly", j + 1);
    /* The recorded constants undo the transform. */
    for (size_t i = 0; i < ds->n; i++) {
      double back = v[i * stride] * (sd > 0.0 ? sd : 1.0) + mu;
      ck_assert_double_eq_tol(back, r[i * stride], 1e-12 * (1.0 + fabs(r[i * stride])));
    }
  }
}

START_TEST(standardize_small) {
  /* Column 3 is constant (0.1 does not average exactly in binary); column 2 has a large
   * offset that a one-pass formula would lose. */
  const char *content = "1\t1000000000\t0.1\t5\n"
                        "2\t1000000001\t0.1\t7\n"
                        "4\t1000000003\t0.1\t8\n"
                        "8\t1000000004\t0.1\t-1\n"
                        "16\t1000000007\t0.1\t2.5\n";
  cgd_dataset *raw = load_ok(content, 0);
  cgd_dataset *ds = load_ok(content, 0);
  cgd_error err = {{0}};
  ck_assert_int_eq(cgd_dataset_standardize(ds, &err), CGD_OK);
  check_standardized(ds, raw);
  ck_assert_double_eq(ds->x_mean[0], 31.0 / 5.0);
  ck_assert_double_eq_tol(ds->x_std[0], sqrt((1 + 4 + 16 + 64 + 256) / 5.0 - 6.2 * 6.2),
                          1e-12);
  ck_assert_double_eq(ds->x_std[2], 0.0);
  ck_assert_double_eq(ds->x_mean[2], 0.1);
  for (size_t i = 0; i < ds->n; i++) ck_assert_double_eq(ds->X[i * ds->d + 2], 0.0);
  /* A second call would overwrite the constants with (0, 1). */
  ck_assert_int_eq(cgd_dataset_standardize(ds, &err), CGD_EUSAGE);
  cgd_dataset_free(ds);
  cgd_dataset_free(raw);
}
END_TEST

/* A constant target is refused by default (test reject_constant_target); loaded with
 * allow_constant_target, standardising must still centre it exactly and record std 0. */
START_TEST(standardize_constant_target) {
  char path[4096];
  write_fixture("const.dat", "1,3\n2,3\n5,3\n", -1, path);
  cgd_dataset *ds = NULL;
  cgd_error err = {{0}};
  cgd_dataset_opts o = {.allow_constant_target = 1};
  ck_assert_msg(cgd_dataset_load_opts(path, &o, &ds, &err) == CGD_OK, "%s", err.msg);
  ck_assert(ds->warn_flags & CGD_DATA_WARN_CONSTANT_TARGET);
  ck_assert_int_eq(cgd_dataset_standardize(ds, &err), CGD_OK);
  ck_assert_double_eq(ds->y_std, 0.0);
  ck_assert_double_eq(ds->y_mean, 3.0);
  for (size_t i = 0; i < ds->n; i++) ck_assert_double_eq(ds->y[i], 0.0);
  cgd_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------------------------ split */

static cgd_dataset *indexed_dataset(size_t n) {
  size_t cap = n * 40 + 1;
  char *buf = malloc(cap);
  ck_assert_ptr_nonnull(buf);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) o += (size_t)snprintf(buf + o, cap - o, "%zu,%zu\n", i, 3 * i);
  cgd_dataset *ds = load_ok(buf, 0);
  free(buf);
  return ds;
}

START_TEST(split_deterministic_partition) {
  const size_t n = 500;
  cgd_dataset *ds = indexed_dataset(n);
  cgd_error err = {{0}};
  ck_assert_int_eq(cgd_dataset_standardize(ds, &err), CGD_OK);
  cgd_dataset *tr = NULL, *te = NULL, *tr2 = NULL, *te2 = NULL;
  ck_assert_int_eq(cgd_dataset_split(ds, 0.2, 42, &tr, &te, &err), CGD_OK);
  ck_assert_int_eq(cgd_dataset_split(ds, 0.2, 42, &tr2, &te2, &err), CGD_OK);
  ck_assert_uint_eq(tr->n + te->n, n);
  ck_assert_uint_eq(tr->n, tr2->n);
  ck_assert_mem_eq(tr->X, tr2->X, tr->n * sizeof(double));
  ck_assert_mem_eq(te->y, te2->y, te->n * sizeof(double));
  /* About frac of the rows, and each row where the documented rule puts it. */
  ck_assert(te->n > 60 && te->n < 140);
  unsigned char *seen = calloc(n, 1);
  size_t a = 0, b = 0;
  for (size_t i = 0; i < n; i++) {
    int in_test = cgd_rng_uniform(42, CGD_STREAM_HOLDOUT, i) < 0.2;
    const cgd_dataset *part = in_test ? te : tr;
    size_t k = in_test ? b++ : a++;
    double idx = part->X[k] * ds->x_std[0] + ds->x_mean[0];
    ck_assert_double_eq_tol(idx, (double)i, 1e-9);
    seen[i]++;
  }
  ck_assert_uint_eq(a, tr->n);
  ck_assert_uint_eq(b, te->n);
  for (size_t i = 0; i < n; i++) ck_assert_int_eq(seen[i], 1);
  free(seen);
  /* Parts share the parent's constants. */
  ck_assert_int_eq(te->standardized, 1);
  ck_assert_double_eq(te->x_mean[0], ds->x_mean[0]);
  ck_assert_double_eq(tr->y_std, ds->y_std);
  ck_assert_str_eq(te->sha256, ds->sha256);
  cgd_dataset_free(tr2);
  cgd_dataset_free(te2);
  /* Another seed gives another split. */
  ck_assert_int_eq(cgd_dataset_split(ds, 0.2, 43, &tr2, &te2, &err), CGD_OK);
  ck_assert(te2->n != te->n || memcmp(te2->y, te->y, te->n * sizeof(double)) != 0);
  cgd_dataset_free(tr2);
  cgd_dataset_free(te2);
  cgd_dataset_free(tr);
  cgd_dataset_free(te);
  cgd_dataset_free(ds);
}
END_TEST

START_TEST(split_edge_cases) {
  cgd_dataset *ds = indexed_dataset(10);
  cgd_error err = {{0}};
  cgd_dataset *tr = NULL, *te = NULL;
  ck_assert_int_eq(cgd_dataset_split(ds, 0.0, 1, &tr, &te, &err), CGD_OK);
  ck_assert_ptr_null(te);
  ck_assert_uint_eq(tr->n, 10);
  ck_assert_mem_eq(tr->X, ds->X, 10 * sizeof(double));
  ck_assert_ptr_null(tr->x_mean);
  cgd_dataset_free(tr);
  ck_assert_int_eq(cgd_dataset_split(ds, 1.0, 1, &tr, &te, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_dataset_split(ds, -0.1, 1, &tr, &te, &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_dataset_split(ds, NAN, 1, &tr, &te, &err), CGD_EUSAGE);
  ck_assert_ptr_null(tr);
  ck_assert_ptr_null(te);
  /* 1e-6 of 10 rows leaves the holdout empty. */
  ck_assert_int_eq(cgd_dataset_split(ds, 1e-6, 1, &tr, &te, &err), CGD_EUSAGE);
  ck_assert_ptr_nonnull(strstr(err.msg, "at least 2"));
  ck_assert_ptr_null(tr);
  cgd_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------------------------ sha256 */

static void hex_of(const void *data, size_t len, char hex[65]) {
  uint8_t d[32];
  cgd_sha256(data, len, d);
  cgd_sha256_hex(d, hex);
}

START_TEST(sha256_vectors) {
  char hex[65];
  /* FIPS 180-4 / NIST CSRC examples. */
  hex_of("abc", 3, hex);
  ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  hex_of("", 0, hex);
  ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  hex_of(m2, strlen(m2), hex);
  ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* One million 'a', fed in uneven pieces to exercise the block buffering. */
  static char a[1000000];
  memset(a, 'a', sizeof a);
  cgd_sha256_ctx c;
  cgd_sha256_init(&c);
  size_t off = 0, step = 1;
  while (off < sizeof a) {
    size_t take = step < sizeof a - off ? step : sizeof a - off;
    cgd_sha256_update(&c, a + off, take);
    off += take;
    step = step * 7 % 191 + 1;
  }
  uint8_t d[32];
  cgd_sha256_final(&c, d);
  cgd_sha256_hex(d, hex);
  ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  /* Lengths around the padding boundary agree between one-shot and byte-wise. */
  for (size_t len = 50; len <= 130; len++) {
    char h1[65], h2[65];
    hex_of(a, len, h1);
    cgd_sha256_init(&c);
    for (size_t i = 0; i < len; i++) cgd_sha256_update(&c, a + i, 1);
    cgd_sha256_final(&c, d);
    cgd_sha256_hex(d, h2);
    ck_assert_str_eq(h1, h2);
  }
}
END_TEST

START_TEST(sha256_file) {
  char path[4096], hex[65];
  cgd_error err = {{0}};
  write_fixture("abc.txt", "abc", -1, path);
  ck_assert_int_eq(cgd_sha256_file(path, hex, &err), CGD_OK);
  ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  write_fixture("empty.txt", "", -1, path);
  ck_assert_int_eq(cgd_sha256_file(path, hex, &err), CGD_OK);
  ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  snprintf(path, sizeof path, "%s/missing", tmpdir);
  ck_assert_int_eq(cgd_sha256_file(path, hex, &err), CGD_EDATA);
  ck_assert_ptr_nonnull(strstr(err.msg, path));
}
END_TEST

/* ------------------------------------------------------------------ Airfoil */

static const char *airfoil_path(void) {
  const char *p = getenv("CGD_AIRFOIL");
  if (p && *p) {
    ck_assert_msg(access(p, R_OK) == 0,
                  "Airfoil data not found at CGD_AIRFOIL=%s: run datasets/fetch.sh "
                  "(e.g. datasets/fetch.sh --from /work/shared/datasets)",
                  p);
    return p;
  }
  ck_abort_msg("CGD_AIRFOIL is not set: run the tests through ctest, after datasets/fetch.sh");
  return NULL;
}


START_TEST(airfoil_content) {
  const char *p = airfoil_path();
  cgd_dataset *ds = NULL;
  cgd_error err = {{0}};
  ck_assert_msg(cgd_dataset_load(p, 0, &ds, &err) == CGD_OK, "%s", err.msg);
  ck_assert_uint_eq(ds->n, 1503);
  ck_assert_uint_eq(ds->d, 5);
  ck_assert_int_eq(ds->has_header, 0);
  char hex[65];
  ck_assert_int_eq(cgd_sha256_file(p, hex, &err), CGD_OK);
  ck_assert_str_eq(ds->sha256, hex);
  /* datasets/MANIFEST.md, content check table. */
  static const double sum[6] = {4338230, 10193.8, 205.232, 76443.7, 16.74324, 187628.422};
  static const double lo[6] = {200, 0, 0.0254, 31.7, 0.000400682, 103.38};
  static const double hi[6] = {20000, 22.2, 0.3048, 71.3, 0.0584113, 140.987};
  for (size_t j = 0; j < 6; j++) {
    double s = 0.0, mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < ds->n; i++) {
      double v = j < 5 ? ds->X[i * 5 + j] : ds->y[i];
      s += v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    ck_assert_msg(fabs(s - sum[j]) <= 1e-6 * fabs(sum[j]), "column %zu: sum %.10g, expected %.10g",
                  j + 1, s, sum[j]);
    ck_assert_msg(mn == lo[j], "column %zu: min %.17g, expected %.17g", j + 1, mn, lo[j]);
    ck_assert_msg(mx == hi[j], "column %zu: max %.17g, expected %.17g", j + 1, mx, hi[j]);
  }
  /* Real data through standardisation: moments to 1e-12. */
  cgd_dataset *raw = NULL;
  ck_assert_int_eq(cgd_dataset_load(p, 0, &raw, &err), CGD_OK);
  ck_assert_int_eq(cgd_dataset_standardize(ds, &err), CGD_OK);
  check_standardized(ds, raw);
  cgd_dataset_free(raw);
  cgd_dataset_free(ds);
}
END_TEST

/* ------------------------------------------------------------------ suite */


/* ------------------------------------------------------------------ hardening */

/* Defect 5: a constant target trained silently to 0. Now an error naming file and
 * column by default, a warning when explicitly allowed. */
START_TEST(reject_constant_target) {
  expect_reject("1,3\n2,3\n5,3\n", -1, 0, "target column 2 is constant", "nothing to fit",
                NULL);
  expect_reject("a,b,c\n4,1,7\n4,2,7\n", -1, 1, "target column 1 is constant", NULL);
}
END_TEST

/* Constant inputs are legal (they carry no information) but reported. */
START_TEST(warn_constant_inputs) {
  cgd_dataset *ds = load_ok("1,0.1,5,7\n2,0.1,5,8\n3,0.1,5,9\n", 0);
  ck_assert(ds->warn_flags & CGD_DATA_WARN_CONSTANT_INPUT);
  ck_assert_uint_eq(ds->nwarnings, 1);
  ck_assert_msg(strstr(ds->warnings[0], "2 input columns are constant (2, 3)") != NULL, "%s",
                ds->warnings[0]);
  cgd_dataset_free(ds);
  ds = load_ok("9,1,7\n9,2,8\n9,3,9\n", 2); /* target in the middle: column numbers in the file */
  ck_assert_uint_eq(ds->nwarnings, 1);
  ck_assert_msg(strstr(ds->warnings[0], "input column 1 is constant (every row is 9)") != NULL,
                "%s", ds->warnings[0]);
  cgd_dataset_free(ds);
  ds = load_ok("1,2\n3,4\n", 0);
  ck_assert_uint_eq(ds->nwarnings, 0);
  ck_assert_uint_eq(ds->warn_flags, 0);
  cgd_dataset_free(ds);
}
END_TEST

/* Defect 6: values whose std overflows were standardised with std 0 and the run
 * "diverged at step 0". Now a data error naming the file and the column. */
START_TEST(standardize_overflow_is_data_error) {
  cgd_dataset *ds = load_ok("1e308,2\n-1e308,3\n1e308,4\n", 0);
  cgd_error err = {{0}};
  ck_assert_int_eq(cgd_dataset_standardize(ds, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "column 1") && strstr(err.msg, "too large to standardize") &&
                    strstr(err.msg, ds->path),
                "%s", err.msg);
  ck_assert_int_eq(ds->standardized, 0);
  ck_assert_double_eq(ds->X[0], 1e308); /* untouched */
  cgd_dataset_free(ds);
  /* the mean itself overflows; the target is named by its column in the file */
  ds = load_ok("1,1.5e308\n2,1.5e308\n3,1e308\n", 0);
  ck_assert_int_eq(cgd_dataset_standardize(ds, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "column 2 (the target)") != NULL, "%s", err.msg);
  cgd_dataset_free(ds);
  /* large but fine */
  ds = load_ok("1e150,2\n-1e150,3\n1e150,4\n", 0);
  ck_assert_int_eq(cgd_dataset_standardize(ds, &err), CGD_OK);
  ck_assert(ds->x_std[0] > 0);
  cgd_dataset_free(ds);
  /* a spread whose std underflows is treated like a constant, with a warning */
  ds = load_ok("1e-320,2\n2e-320,3\n1e-320,4\n", 0);
  ck_assert_int_eq(cgd_dataset_standardize(ds, &err), CGD_OK);
  ck_assert_double_eq(ds->x_std[0], 0.0);
  ck_assert(ds->warn_flags & CGD_DATA_WARN_TINY_SPREAD);
  cgd_dataset_free(ds);
}
END_TEST

/* Every number goes through the strict parser: no hex, no half-read fields, range
 * errors are errors; subnormals are values. */
START_TEST(strict_numbers) {
  expect_reject("1,2\n0x10,3\n", -1, 0, "line 2, column 1", "non-numeric", "\"0x10\"", NULL);
  expect_reject("1,2\n0.1-0.2,3\n", -1, 0, "line 2, column 1", "non-numeric", NULL);
  expect_reject("1,2\n1e-400,3\n", -1, 0, "line 2, column 1", "underflows", NULL);
  expect_reject("1,2\n3,1e999x\n", -1, 0, "line 2, column 2", "non-numeric", NULL);
  expect_reject("1,2\n3,1.5e\n", -1, 0, "line 2, column 2", "non-numeric", NULL);
  expect_reject("1,2\n3,\v4\n", -1, 0, "line 2, column 2", NULL);
  cgd_dataset *ds = load_ok("1e-320,2\n.5,3.\n", 0);
  ck_assert_double_eq(ds->X[0], 1e-320);
  ck_assert_double_eq(ds->X[1], 0.5);
  ck_assert_double_eq(ds->y[1], 3.0);
  cgd_dataset_free(ds);
}
END_TEST

static int load_limited(const char *path, uint64_t max_bytes, cgd_error *err) {
  cgd_dataset *ds = (cgd_dataset *)&ds;
  cgd_dataset_opts o = {.max_bytes = max_bytes};
  int rc = cgd_dataset_load_opts(path, &o, &ds, err);
  if (rc) ck_assert_ptr_null(ds);
  cgd_dataset_free(rc ? NULL : ds);
  return rc;
}

/* Defect 7: refuse before allocating, with the memory needed, against the limit. */
START_TEST(memory_limit) {
  char path[4096];
  cgd_error err = {{0}};
  /* a regular file larger than the limit: refused from its size */
  size_t big = 200000;
  char *buf = malloc(big + 1);
  ck_assert_ptr_nonnull(buf);
  for (size_t i = 0; i < big; i += 4) memcpy(buf + i, i % 8 ? "1,2\n" : "3,4\n", 4);
  buf[big] = '\0';
  write_fixture("big.dat", buf, (long)big, path);
  ck_assert_int_eq(load_limited(path, 100000, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "memory limit") && strstr(err.msg, path) &&
                    strstr(err.msg, "195 KiB"),
                "%s", err.msg);
  /* the matrix: 50000 rows x 2 columns = 800 kB of doubles */
  ck_assert_int_eq(load_limited(path, 500000, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "50000 rows x 2 columns") && strstr(err.msg, "memory limit"),
                "%s", err.msg);
  ck_assert_msg(load_limited(path, 2000000, &err) == CGD_OK, "%s", err.msg);
  ck_assert_msg(load_limited(path, UINT64_MAX, &err) == CGD_OK, "%s", err.msg); /* no limit */
  ck_assert_msg(load_limited(path, 0, &err) == CGD_OK, "%s", err.msg); /* the default */
  /* one wide line (2.5 M columns, 5 MB): no allocation proportional to columns x 1024
   * rows; it fails for what it is (one data row), within a 64 MB limit */
  size_t cols = 2500000, len = 2 * cols;
  char *wide = realloc(buf, len + 1);
  ck_assert_ptr_nonnull(wide);
  for (size_t i = 0; i < cols; i++) wide[2 * i] = '1', wide[2 * i + 1] = ',';
  wide[len - 1] = '\n';
  write_fixture("wide.dat", wide, (long)len, path);
  ck_assert_int_eq(load_limited(path, 64u << 20, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "1 data row") != NULL, "%s", err.msg);
  /* with a small limit the same line is refused for its fields */
  ck_assert_int_eq(load_limited(path, 8u << 20, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "up to 2500000 fields") && strstr(err.msg, "memory limit"),
                "%s", err.msg);
  free(wide);
  /* a device without end: /dev/zero is refused at its first NUL byte, without reading
   * up to the limit; an endless text pipe is read up to the limit and refused */
  ck_assert_int_eq(load_limited("/dev/zero", 0, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "/dev/zero: line 1, column 1: NUL byte") != NULL, "%s", err.msg);
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    static const char row[] = "1,2\n3,4\n";
    while (write(fds[1], row, sizeof row - 1) > 0) {}
    _exit(0);
  }
  close(fds[1]);
  char dev[64];
  snprintf(dev, sizeof dev, "/dev/fd/%d", fds[0]);
  ck_assert_int_eq(load_limited(dev, 1u << 20, &err), CGD_EDATA);
  close(fds[0]);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  ck_assert_msg(strstr(err.msg, "not a regular file") && strstr(err.msg, "1 MiB"), "%s",
                err.msg);
  /* a FIFO without a writer: no hang in open, it reads as empty */
  snprintf(path, sizeof path, "%s/fifo", tmpdir);
  ck_assert_int_eq(mkfifo(path, 0600), 0);
  ck_assert_int_eq(load_limited(path, 0, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "empty file") != NULL, "%s", err.msg);
  /* a directory */
  ck_assert_int_eq(load_limited(tmpdir, 0, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "is a directory") != NULL, "%s", err.msg);
}
END_TEST

/* The in-memory entry point (used by the fuzzer) parses exactly len bytes. */
START_TEST(load_from_memory) {
  cgd_dataset *ds = NULL;
  cgd_error err = {{0}};
  const char bytes[] = "1,2\n3,4\n5,6"; /* no NUL needed at the end */
  ck_assert_int_eq(cgd_dataset_load_mem("mem", bytes, sizeof bytes - 1, NULL, &ds, &err),
                   CGD_OK);
  ck_assert_uint_eq(ds->n, 3);
  ck_assert_double_eq(ds->y[2], 6);
  ck_assert_str_eq(ds->path, "mem");
  cgd_dataset_free(ds);
  ck_assert_int_eq(cgd_dataset_load_mem("mem", bytes, 6, NULL, &ds, &err), CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "mem: line 2, column 2: empty field") != NULL, "%s",
                err.msg); /* "3," */
  const char nul[] = "1,2\n3,4\0\n5,6\n";
  ck_assert_int_eq(cgd_dataset_load_mem("mem", nul, sizeof nul - 1, NULL, &ds, &err),
                   CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "\\x00") != NULL, "%s", err.msg);
  ck_assert_int_eq(cgd_dataset_load_mem("mem", NULL, 0, NULL, &ds, &err), CGD_EDATA);
}
END_TEST

/* Defect 10: the default data file is found the way a user expects, and when it is not,
 * the message lists where it looked. */
START_TEST(find_default_data) {
  char dir[2048], path[4096], out[4096], exe[4096];
  cgd_error err = {{0}};
  cgd_data_search tried;
  /* layout <tmp>/build/train and <tmp>/datasets/f.dat, run from elsewhere */
  snprintf(dir, sizeof dir, "%s/build", tmpdir);
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  snprintf(dir, sizeof dir, "%s/datasets", tmpdir);
  ck_assert_int_eq(mkdir(dir, 0700), 0);
  snprintf(path, sizeof path, "%s/f.dat", dir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  fputs("1,2\n3,4\n", f);
  fclose(f);
  snprintf(exe, sizeof exe, "%s/build/train", tmpdir);
  ck_assert_int_eq(chdir("/"), 0);
  unsetenv("CHAOSGD_DATA");
  ck_assert_msg(cgd_dataset_find_default("f.dat", exe, out, sizeof out, &tried, &err) == CGD_OK,
                "%s", err.msg);
  char want[4096];
  snprintf(want, sizeof want, "%s/build/../datasets/f.dat", tmpdir);
  ck_assert_str_eq(out, want);
  ck_assert_uint_eq(tried.n, 2);
  ck_assert_str_eq(tried.tried[0], "datasets/f.dat");
  /* the environment variable: a file, or the folder holding it */
  setenv("CHAOSGD_DATA", path, 1);
  ck_assert_int_eq(cgd_dataset_find_default("f.dat", exe, out, sizeof out, NULL, &err), CGD_OK);
  ck_assert_str_eq(out, path);
  setenv("CHAOSGD_DATA", dir, 1);
  ck_assert_int_eq(cgd_dataset_find_default("f.dat", exe, out, sizeof out, NULL, &err), CGD_OK);
  snprintf(want, sizeof want, "%s/f.dat", dir);
  ck_assert_str_eq(out, want);
  /* set but wrong: an error, not a fall back to another file */
  setenv("CHAOSGD_DATA", "/nonexistent/x.dat", 1);
  ck_assert_int_eq(cgd_dataset_find_default("f.dat", exe, out, sizeof out, NULL, &err),
                   CGD_EDATA);
  ck_assert_msg(strstr(err.msg, "CHAOSGD_DATA=/nonexistent/x.dat") != NULL, "%s", err.msg);
  unsetenv("CHAOSGD_DATA");
  /* not found anywhere: every place is listed */
  ck_assert_int_eq(cgd_dataset_find_default("nothere.dat", exe, out, sizeof out, &tried, &err),
                   CGD_EDATA);
  ck_assert_uint_ge(tried.n, 3);
  for (size_t i = 0; i < tried.n; i++)
    ck_assert_msg(strstr(err.msg, tried.tried[i]) != NULL, "%s lacks %s", err.msg,
                  tried.tried[i]);
  ck_assert_msg(strstr(err.msg, "CHAOSGD_DATA") && strstr(err.msg, "fetch.sh"), "%s", err.msg);
}
END_TEST

static Suite *dataset_suite(void) {
  Suite *s = suite_create("dataset");
  TCase *tc = tcase_create("load");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, reject_missing_file);
  tcase_add_test(tc, reject_empty_file);
  tcase_add_test(tc, reject_ragged_rows);
  tcase_add_test(tc, reject_non_numeric);
  tcase_add_test(tc, reject_empty_field);
  tcase_add_test(tc, reject_nonfinite);
  tcase_add_test(tc, reject_too_few_rows);
  tcase_add_test(tc, reject_too_few_columns);
  tcase_add_test(tc, reject_target_out_of_range);
  tcase_add_test(tc, reject_blank_line_inside);
  tcase_add_test(tc, reject_embedded_nul);
  tcase_add_test(tc, accept_header_tab);
  tcase_add_test(tc, accept_crlf_comma_trailing_blank);
  tcase_add_test(tc, accept_semicolon_no_final_newline);
  tcase_add_test(tc, accept_spaces_around_fields);
  tcase_add_test(tc, accept_whitespace_yacht_like);
  tcase_add_test(tc, accept_bom_and_leading_blank_lines);
  tcase_add_test(tc, target_column_selection);
  tcase_add_test(tc, load_records_path_and_hash);
  tcase_add_test(tc, reject_constant_target);
  tcase_add_test(tc, warn_constant_inputs);
  tcase_add_test(tc, strict_numbers);
  tcase_add_test(tc, memory_limit);
  tcase_add_test(tc, load_from_memory);
  tcase_add_test(tc, find_default_data);
  suite_add_tcase(s, tc);

  TCase *tp = tcase_create("process");
  tcase_add_checked_fixture(tp, setup, teardown);
  tcase_add_test(tp, standardize_small);
  tcase_add_test(tp, standardize_constant_target);
  tcase_add_test(tp, standardize_overflow_is_data_error);
  tcase_add_test(tp, split_deterministic_partition);
  tcase_add_test(tp, split_edge_cases);
  suite_add_tcase(s, tp);

  TCase *th = tcase_create("sha256");
  tcase_add_checked_fixture(th, setup, teardown);
  tcase_add_test(th, sha256_vectors);
  tcase_add_test(th, sha256_file);
  suite_add_tcase(s, th);

  TCase *ta = tcase_create("airfoil");
  tcase_add_test(ta, airfoil_content);
  suite_add_tcase(s, ta);
  return s;
}

int main(void) {
  return cgd_check_run(dataset_suite());
}
