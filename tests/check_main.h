/* Shared by the Check suites: run one suite and turn its result into ctest's exit status
 * (non-zero on any failure), and remove a test's temporary directory tree. */
#ifndef CHAOSGD_TESTS_CHECK_MAIN_H
#define CHAOSGD_TESTS_CHECK_MAIN_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>

static inline int cgd_check_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int nf = srunner_ntests_failed(sr);
  srunner_free(sr);
  return nf == 0 ? 0 : 1;
}

static inline int cgd_rm_entry(const char *path, const struct stat *st, int flag,
                               struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* Leftover files are not a test failure, so the result is not checked. */
static inline void cgd_rm_tree(const char *dir) {
  nftw(dir, cgd_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
