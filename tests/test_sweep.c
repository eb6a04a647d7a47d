/* Sweeps (chaosgd/sweep.h) as a library: the definition (lists, grids, whole numbers,
 * separators, errors), point order and names, point configs, the completeness check that
 * makes resuming safe, failure records, sweep.json identity, sweep.csv of pending and run
 * points, and the table flattening. End-to-end (workers, MPI, kill and resume) is in
 * tests/sweep.sh. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chaosgd/run.h"
#include "chaosgd/sweep.h"

#include "check_main.h"

static cgd_sweep *make(const char *const *kv, cgd_error *err, int *rc) {
  cgd_sweep *s;
  ck_assert_int_eq(cgd_sweep_create(&s, err), CGD_OK);
  *rc = CGD_OK;
  for (; kv[0] && !*rc; kv += 2) *rc = cgd_sweep_add(s, kv[0], kv[1], err);
  if (!*rc) *rc = cgd_sweep_finish(s, "sweep (test)", err);
  return s;
}

static char *slurp(const char *path) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, fp);
  buf[n] = '\0';
  fclose(fp);
  return buf;
}

START_TEST(grids_and_order) {
  cgd_error err;
  int rc;
  const char *kv[] = {"f0", "quartic", "lr", "1e-4:1e-2:log:3", "seed", "0:4:5", "iters", "10",
                      "x0", "0.3;uniform:-1,1", NULL, NULL};
  cgd_sweep *s = make(kv, &err, &rc);
  ck_assert_msg(rc == CGD_OK, "%s", err.msg);
  ck_assert_uint_eq(cgd_sweep_npoints(s), 3 * 5 * 2);
  ck_assert_uint_eq(cgd_sweep_naxes(s), 3);
  ck_assert_str_eq(cgd_sweep_axis_name(s, 0), "lr");
  ck_assert_str_eq(cgd_sweep_axis_name(s, 2), "x0");
  ck_assert(cgd_sweep_axis_log(s, 0) && !cgd_sweep_axis_log(s, 1));
  char name[512];
  cgd_sweep_point_name(s, 0, name, sizeof name);
  ck_assert_str_eq(name, "p0000-lr0.0001-seed0-x00.3");
  /* row-major: the last option fastest */
  cgd_sweep_point_name(s, 13, name, sizeof name);
  ck_assert_str_eq(name, "p0013-lr0.001-seed1-x0uniform_-1_1");
  cgd_run_config *c = cgd_run_config_create();
  ck_assert_int_eq(cgd_sweep_point_config(s, 13, "/tmp/d", c, &err), CGD_OK);
  ck_assert(fabs(c->lr - 1e-3) < 1e-18 && c->nlr == 1);
  ck_assert_uint_eq(c->seed, 1);
  ck_assert_str_eq(c->x0, "uniform:-1,1");
  ck_assert_str_eq(c->out, "/tmp/d/p0013-lr0.001-seed1-x0uniform_-1_1");
  ck_assert(c->force && c->quiet && !c->progress);
  cgd_run_config_free(c);
  cgd_sweep_free(s);
}
END_TEST

START_TEST(definition_errors) {
  cgd_error err;
  int rc;
  cgd_sweep *s;
#define BAD(words, ...)                                                               \
  do {                                                                                \
    const char *kv_[] = {__VA_ARGS__, NULL, NULL};                                    \
    s = make(kv_, &err, &rc);                                                         \
    ck_assert_msg(rc == CGD_EUSAGE, "rc %d for %s", rc, kv_[1]);                      \
    ck_assert_msg(strstr(err.msg, words), "'%s' lacks '%s'", err.msg, words);         \
    cgd_sweep_free(s);                                                                \
  } while (0)
  BAD("not a whole number", "hidden", "1:2:3");       /* 1.5 */
  BAD("given twice", "lr", "0.1,0.1");
  BAD("empty element", "lr", "0.1,");
  BAD("is not a number", "lr", "0.1x,0.2");
  BAD("must be", "lr", "0:0.1:3");                    /* lr > 0 */
  BAD("unknown option", "nosuch", "1");
  BAD("cannot vary", "out", "a,b");
  BAD("applies to", "f0", "quartic", "hidden", "8,16"); /* every point fails the check */
  /* the same option twice */
  ck_assert_int_eq(cgd_sweep_create(&s, &err), CGD_OK);
  ck_assert_int_eq(cgd_sweep_add(s, "lr", "0.1", &err), CGD_OK);
  ck_assert_int_eq(cgd_sweep_add(s, "lr", "0.2", &err), CGD_EUSAGE);
  ck_assert_int_eq(cgd_sweep_add(s, "no-plots", "x", &err), CGD_EUSAGE);
  cgd_sweep_free(s);
  /* a log grid over a whole-number option lands on whole numbers */
  const char *kv[] = {"hidden", "16:256:log:5", NULL, NULL};
  s = make(kv, &err, &rc);
  ck_assert_msg(rc == CGD_OK, "%s", err.msg);
  char name[256];
  cgd_sweep_point_name(s, 1, name, sizeof name);
  ck_assert_str_eq(name, "p0001-hidden32");
  cgd_sweep_free(s);
  /* 64-bit seeds stay exact in a list */
  const char *kv2[] = {"seed", "18446744073709551615,0", NULL, NULL};
  s = make(kv2, &err, &rc);
  cgd_run_config *c = cgd_run_config_create();
  ck_assert_int_eq(cgd_sweep_point_config(s, 0, "/tmp/d", c, &err), CGD_OK);
  ck_assert(c->seed == UINT64_MAX);
  cgd_run_config_free(c);
  cgd_sweep_free(s);
}
END_TEST

START_TEST(complete_resume_and_csv) {
  char dir[] = "/tmp/cgd_sweep_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  cgd_error err;
  int rc;
  const char *kv[] = {"f0", "quartic", "eps", "1e-3", "lr", "0.001,0.01", "map", "gd,nag-sc",
                      "mu", "50", "iters", "200", "x0", "0.37", "no-plots", NULL, NULL, NULL};
  cgd_sweep *s = make(kv, &err, &rc);
  ck_assert_msg(rc == CGD_OK, "%s", err.msg);
  ck_assert_uint_eq(cgd_sweep_npoints(s), 4);
  ck_assert_int_eq(cgd_sweep_prepare_dir(s, dir, 0, &err), CGD_OK);
  /* --mu with --map gd fails the option check: that point's row, not the sweep's */
  cgd_run_config *c = cgd_run_config_create();
  ck_assert_int_eq(cgd_sweep_point_config(s, 0, dir, c, &err), CGD_EUSAGE);
  /* nothing run yet: every row pending */
  cgd_sweep_counts n;
  ck_assert_int_eq(cgd_sweep_write_csv(s, dir, &n, &err), CGD_OK);
  ck_assert_uint_eq(n.pending, 4);
  for (size_t i = 0; i < 4; i++) ck_assert(!cgd_sweep_point_complete(s, i, dir));
  /* run point 1 (nag-sc, lr 0.001: mu*lr = 0.05) and point 3 (mu*lr = 0.5) in process */
  for (size_t i = 1; i < 4; i += 2) {
    ck_assert_int_eq(cgd_sweep_point_config(s, i, dir, c, &err), CGD_OK);
    cgd_run_result res;
    rc = cgd_run(c, NULL, &res, &err);
    ck_assert_msg(rc == CGD_OK, "%s", err.msg);
    cgd_run_result_clear(&res);
    ck_assert(cgd_sweep_point_complete(s, i, dir));
  }
  /* a failure record is never complete */
  char pd[4600], name[256];
  cgd_sweep_point_name(s, 0, name, sizeof name);
  snprintf(pd, sizeof pd, "%s/%s", dir, name);
  ck_assert_int_eq(cgd_sweep_point_fail(pd, CGD_EUSAGE, "no, \"quoted\"", 1, &err), CGD_OK);
  ck_assert(!cgd_sweep_point_complete(s, 0, dir));
  ck_assert_int_eq(cgd_sweep_write_csv(s, dir, &n, &err), CGD_OK);
  ck_assert_uint_eq(n.ok, 2);
  ck_assert_uint_eq(n.failed, 1);
  ck_assert_uint_eq(n.pending, 1);
  char path[4700];
  snprintf(path, sizeof path, "%s/sweep.csv", dir);
  const char *csv = slurp(path);
  ck_assert_ptr_nonnull(csv);
  ck_assert_msg(!strncmp(csv, "lr,map,status,verdict,period,steps,", 35), "%s", csv);
  ck_assert_msg(strstr(csv, "0.001,gd,usage,none,") && strstr(csv, "\"no, \"\"quoted\"\"\"\n"), "%s", csv);
  ck_assert_msg(strstr(csv, "0.01,gd,pending,"), "%s", csv);
  /* lambda and sharpness, when a summary has them, are read generically */
  cgd_sweep_point_name(s, 1, name, sizeof name);
  snprintf(path, sizeof path, "%s/%s/summary.json", dir, name);
  json_t *lj = json_load_file(path, 0, NULL);
  json_object_set_new(lj, "lyapunov", json_pack("{s:f,s:f}", "lambda", 0.25, "stderr", 0.125));
  json_object_set_new(lj, "sharpness", json_pack("{s:f,s:{s:i}}", "max_eig", 3.5, "power", "iters", 7));
  json_dump_file(lj, path, 0);
  json_decref(lj);
  ck_assert_int_eq(cgd_sweep_write_csv(s, dir, &n, &err), CGD_OK);
  snprintf(path, sizeof path, "%s/sweep.csv", dir);
  csv = slurp(path);
  ck_assert_msg(strstr(csv, ",gibbs_tv,lyapunov.lambda,lyapunov.stderr,sharpness.max_eig,"
                            "sharpness.power.iters,run_dir,message\n"), "%s", csv);
  ck_assert_msg(strstr(csv, ",0.25,0.125,3.5,7,p0001-"), "%s", csv);
  ck_assert_msg(strstr(csv, ",,,,,p0002-"), "%s", csv); /* empty where absent */
  /* a config.json that records other options is not this point's run */
  cgd_sweep_point_name(s, 1, name, sizeof name);
  snprintf(path, sizeof path, "%s/%s/config.json", dir, name);
  json_t *cj = json_load_file(path, 0, NULL);
  json_object_set_new(cj, "iters", json_integer(201));
  json_dump_file(cj, path, 0);
  json_decref(cj);
  ck_assert(!cgd_sweep_point_complete(s, 1, dir));
  /* an interrupted run is redone */
  cgd_sweep_point_name(s, 3, name, sizeof name);
  snprintf(path, sizeof path, "%s/%s/summary.json", dir, name);
  json_t *sj = json_load_file(path, 0, NULL);
  json_object_set_new(sj, "status", json_string("interrupted"));
  json_dump_file(sj, path, 0);
  json_decref(sj);
  ck_assert(!cgd_sweep_point_complete(s, 3, dir));
  /* the same definition resumes; another is refused, then replaced with force */
  ck_assert_int_eq(cgd_sweep_prepare_dir(s, dir, 0, &err), CGD_OK);
  const char *kv2[] = {"f0", "quartic", "lr", "0.001,0.02", "iters", "200", NULL, NULL};
  cgd_sweep *s2 = make(kv2, &err, &rc);
  ck_assert_int_eq(cgd_sweep_prepare_dir(s2, dir, 0, &err), CGD_EIO);
  ck_assert_msg(strstr(err.msg, "different sweep"), "%s", err.msg);
  ck_assert_int_eq(cgd_sweep_prepare_dir(s2, dir, 1, &err), CGD_OK);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  ck_assert_int_ne(access(path, F_OK), 0); /* the other sweep's point is gone */
  /* table: a sweep directory stands for its points; a directory without runs is refused */
  ck_assert_int_eq(cgd_sweep_point_config(s2, 0, dir, c, &err), CGD_OK);
  cgd_run_result res;
  c->plots = 0;
  ck_assert_int_eq(cgd_run(c, NULL, &res, &err), CGD_OK);
  cgd_run_result_clear(&res);
  char *tbuf;
  size_t tlen;
  FILE *mem = open_memstream(&tbuf, &tlen);
  const char *paths[] = {dir};
  ck_assert_int_eq(cgd_table_write(paths, 1, mem, &err), CGD_OK);
  fclose(mem);
  ck_assert_msg(!strncmp(tbuf, "run_dir,kind,lr,seed,", 21), "%s", tbuf);
  ck_assert_msg(strstr(tbuf, ",orbit,0.001,0,") && strstr(tbuf, "tail.f_mean"), "%s", tbuf);
  free(tbuf);
  const char *none[] = {"/"};
  mem = open_memstream(&tbuf, &tlen);
  ck_assert_int_eq(cgd_table_write(none, 1, mem, &err), CGD_EDATA);
  fclose(mem);
  free(tbuf);
  cgd_run_config_free(c);
  cgd_sweep_free(s);
  cgd_sweep_free(s2);
  cgd_rm_tree(dir);
}
END_TEST

int main(void) {
  Suite *su = suite_create("sweep");
  TCase *tc = tcase_create("sweep");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, grids_and_order);
  tcase_add_test(tc, definition_errors);
  tcase_add_test(tc, complete_resume_and_csv);
  suite_add_tcase(su, tc);
  return cgd_check_run(su);
}
