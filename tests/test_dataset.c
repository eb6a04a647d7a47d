/* Data set loading, standardisation, holdout split and SHA-256.
 * Fixture files are written to a fresh mkdtemp directory per test; the Airfoil checks
 * use the fetched file named by CGD_AIRFOIL and fail (never skip) when it is missing. */
#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

START_TEST(standardize_constant_target) {
  cgd_dataset *ds = load_ok("1,3\n2,3\n5,3\n", 0);
  cgd_error err = {{0}};
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
  suite_add_tcase(s, tc);

  TCase *tp = tcase_create("process");
  tcase_add_checked_fixture(tp, setup, teardown);
  tcase_add_test(tp, standardize_small);
  tcase_add_test(tp, standardize_constant_target);
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
