/* The one strict number parser (chaosgd/parse.h): every accepted and rejected spelling
 * the input paths rely on, with the reason code. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "chaosgd/limits.h"
#include "chaosgd/parse.h"

#include "check_main.h"

typedef struct {
  const char *s;
  cgd_parse_code code;
  double v;
} dcase;

START_TEST(test_double) {
  const dcase cs[] = {
      {"0", CGD_PARSE_OK, 0},          {"-0", CGD_PARSE_OK, -0.0},
      {"1", CGD_PARSE_OK, 1},          {"+1", CGD_PARSE_OK, 1},
      {"2.5", CGD_PARSE_OK, 2.5},      {".5", CGD_PARSE_OK, 0.5},
      {"5.", CGD_PARSE_OK, 5},         {"1e-6", CGD_PARSE_OK, 1e-6},
      {"1E+3", CGD_PARSE_OK, 1000},    {"-7.25e2", CGD_PARSE_OK, -725},
      {"1e308", CGD_PARSE_OK, 1e308},  {"1.7976931348623157e308", CGD_PARSE_OK, DBL_MAX},
      /* subnormals are values (defect 8: --eps 1e-320 was "not a finite number") */
      {"1e-320", CGD_PARSE_OK, 1e-320}, {"4.9e-324", CGD_PARSE_OK, 4.9e-324},
      {"-1e-310", CGD_PARSE_OK, -1e-310},
      {"0e-400", CGD_PARSE_OK, 0},     {"0.000e999", CGD_PARSE_OK, 0},
      {"", CGD_PARSE_EMPTY, 0},        {" 1", CGD_PARSE_SPACE, 0},
      {"1 ", CGD_PARSE_SPACE, 0},      {"\t1", CGD_PARSE_SPACE, 0},
      {"1\n", CGD_PARSE_SPACE, 0},     {"0.1x", CGD_PARSE_SYNTAX, 0},
      {"0.1-0.2", CGD_PARSE_SYNTAX, 0}, {"1,5", CGD_PARSE_SYNTAX, 0},
      {"0x10", CGD_PARSE_SYNTAX, 0},   {"0x1p3", CGD_PARSE_SYNTAX, 0},
      {"inf", CGD_PARSE_SYNTAX, 0},    {"-Infinity", CGD_PARSE_SYNTAX, 0},
      {"nan", CGD_PARSE_SYNTAX, 0},    {"NAN(123)", CGD_PARSE_SYNTAX, 0},
      {".", CGD_PARSE_SYNTAX, 0},      {"-", CGD_PARSE_SYNTAX, 0},
      {"+", CGD_PARSE_SYNTAX, 0},      {"e5", CGD_PARSE_SYNTAX, 0},
      {".e5", CGD_PARSE_SYNTAX, 0},    {"1e", CGD_PARSE_SYNTAX, 0},
      {"1e+", CGD_PARSE_SYNTAX, 0},    {"1.5.2", CGD_PARSE_SYNTAX, 0},
      {"--1", CGD_PARSE_SYNTAX, 0},    {"1e309", CGD_PARSE_RANGE, 0},
      {"-1e400", CGD_PARSE_RANGE, 0},  {"1e-400", CGD_PARSE_RANGE, 0},
      {"2e-324", CGD_PARSE_RANGE, 0},  {"1.8e308", CGD_PARSE_RANGE, 0},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    double v = 12345;
    cgd_parse_code c = cgd_parse_double(cs[i].s, &v);
    ck_assert_msg(c == cs[i].code, "'%s': code %d (%s), expected %d", cs[i].s, c,
                  cgd_parse_why(c), cs[i].code);
    if (c == CGD_PARSE_OK) {
      ck_assert_msg(v == cs[i].v && signbit(v) == signbit(cs[i].v), "'%s': %.17g", cs[i].s, v);
    } else {
      ck_assert_msg(v == 12345, "'%s': output written on failure", cs[i].s);
    }
  }
  /* a long mantissa is fine, and rounds correctly */
  char buf[400];
  memset(buf, '1', 350);
  buf[350] = '\0';
  double v;
  ck_assert_int_eq(cgd_parse_double(buf, &v), CGD_PARSE_RANGE); /* 1.1e349 */
  strcpy(buf, "0.");
  memset(buf + 2, '0', 300);
  strcpy(buf + 302, "1");
  ck_assert_int_eq(cgd_parse_double(buf, &v), CGD_PARSE_OK); /* 1e-301 */
  ck_assert_double_eq(v, 1e-301);
}
END_TEST

START_TEST(test_prefix) {
  const char *end;
  double v;
  const char *s = "2.5e3*x";
  ck_assert_int_eq(cgd_parse_double_prefix(s, &v, &end), CGD_PARSE_OK);
  ck_assert_double_eq(v, 2500);
  ck_assert_ptr_eq(end, s + 5);
  s = "1e-x"; /* the exponent is not taken without digits */
  ck_assert_int_eq(cgd_parse_double_prefix(s, &v, &end), CGD_PARSE_OK);
  ck_assert_ptr_eq(end, s + 1);
  s = "0x10"; /* strtod would read hex; the grammar stops after 0 */
  ck_assert_int_eq(cgd_parse_double_prefix(s, &v, &end), CGD_PARSE_OK);
  ck_assert_ptr_eq(end, s + 1);
  ck_assert_int_eq(cgd_parse_double_prefix("x", &v, &end), CGD_PARSE_SYNTAX);
  ck_assert_int_eq(cgd_parse_double_prefix(" 1", &v, &end), CGD_PARSE_SPACE);
  ck_assert_int_eq(cgd_parse_double_prefix("", &v, &end), CGD_PARSE_EMPTY);
  ck_assert_int_eq(cgd_parse_double_prefix("1e999,", &v, &end), CGD_PARSE_RANGE);
}
END_TEST

START_TEST(test_u64) {
  uint64_t v = 7;
  ck_assert_int_eq(cgd_parse_u64("0", &v), CGD_PARSE_OK);
  ck_assert_uint_eq(v, 0);
  ck_assert_int_eq(cgd_parse_u64("18446744073709551615", &v), CGD_PARSE_OK);
  ck_assert_uint_eq(v, UINT64_MAX);
  ck_assert_int_eq(cgd_parse_u64("007", &v), CGD_PARSE_OK);
  ck_assert_uint_eq(v, 7);
  v = 99;
  ck_assert_int_eq(cgd_parse_u64("18446744073709551616", &v), CGD_PARSE_RANGE);
  ck_assert_int_eq(cgd_parse_u64("99999999999999999999999", &v), CGD_PARSE_RANGE);
  ck_assert_int_eq(cgd_parse_u64("-1", &v), CGD_PARSE_NEGATIVE);
  ck_assert_int_eq(cgd_parse_u64(" -1", &v), CGD_PARSE_SPACE); /* defect 5: --seed ' -1' */
  ck_assert_int_eq(cgd_parse_u64("+5", &v), CGD_PARSE_SYNTAX);
  ck_assert_int_eq(cgd_parse_u64("", &v), CGD_PARSE_EMPTY);
  ck_assert_int_eq(cgd_parse_u64("5 ", &v), CGD_PARSE_SPACE);
  ck_assert_int_eq(cgd_parse_u64("1e3", &v), CGD_PARSE_SYNTAX);
  ck_assert_int_eq(cgd_parse_u64("0x10", &v), CGD_PARSE_SYNTAX);
  ck_assert_int_eq(cgd_parse_u64("1.0", &v), CGD_PARSE_SYNTAX);
  ck_assert_uint_eq(v, 99);
  for (int c = CGD_PARSE_OK; c <= CGD_PARSE_NEGATIVE; c++)
    ck_assert_ptr_nonnull(cgd_parse_why((cgd_parse_code)c));
}
END_TEST

START_TEST(test_limits) {
  ck_assert_uint_eq(cgd_mem_mul(UINT64_MAX / 2, 3), UINT64_MAX);
  ck_assert_uint_eq(cgd_mem_add(UINT64_MAX - 1, 2), UINT64_MAX);
  ck_assert_uint_eq(cgd_mem_mul(0, UINT64_MAX), 0);
  uint64_t lim = cgd_default_max_memory();
  ck_assert_uint_ge(lim, (uint64_t)64 << 20);
  /* 5-16-1 on Airfoil: scratch (2·1503·16 + 1503) + 8·113 doubles */
  ck_assert_uint_eq(cgd_mlp_memory_bytes(1503, 5, 16), (2 * 1503 * 16 + 1503 + 8 * 113) * 8);
  /* defect 7: --hidden 1000000 on Airfoil needs ~24 GB, more than any default here;
   * absurd sizes saturate instead of wrapping (defect 1: 2^61 hidden units) */
  ck_assert_uint_gt(cgd_mlp_memory_bytes(1503, 5, 1000000), (uint64_t)24000000000);
  ck_assert_uint_eq(cgd_mlp_memory_bytes(1503, 5, (uint64_t)1 << 61), UINT64_MAX);
  ck_assert_uint_eq(cgd_mlp_run_memory_bytes(1503, 5, 16, 100000),
                    cgd_mlp_memory_bytes(1503, 5, 16) + 2 * 1503 * 6 * 8 + 3 * 100001 * 8);
  ck_assert_uint_eq(cgd_mlp_run_memory_bytes(1503, 5, 16, UINT64_MAX), UINT64_MAX);
  ck_assert_uint_gt(cgd_mlp_run_memory_bytes(1503, 5, 16, (uint64_t)1e15), (uint64_t)2e16);
  char a[32];
  ck_assert_str_eq(cgd_mem_format(800, a, sizeof a), "800 B");
  ck_assert_str_eq(cgd_mem_format((uint64_t)3 << 29, a, sizeof a), "1.5 GiB");
  ck_assert_str_eq(cgd_mem_format(UINT64_MAX, a, sizeof a), "more than 16 EiB");
  cgd_error err = {{0}};
  ck_assert_int_eq(cgd_mem_check(10, 10, CGD_EUSAGE, "x", &err), CGD_OK);
  ck_assert_int_eq(cgd_mem_check(11 << 20, 10 << 20, CGD_EUSAGE, "--hidden 1000000", &err),
                   CGD_EUSAGE);
  ck_assert_msg(strstr(err.msg, "--hidden 1000000 needs 11 MiB") &&
                    strstr(err.msg, "memory limit of 10 MiB"),
                "%s", err.msg);
}
END_TEST

int main(void) {
  Suite *s = suite_create("parse");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, test_double);
  tcase_add_test(tc, test_prefix);
  tcase_add_test(tc, test_u64);
  tcase_add_test(tc, test_limits);
  suite_add_tcase(s, tc);
  return cgd_check_run(s);
}
