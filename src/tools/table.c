/* table: the summary.json (and the options that differ, from config.json) of any run
 * directories as one CSV — runs, comparison directories (their lr-* runs) and sweep
 * directories (their points), side by side. The flattening is the library's
 * (cgd_table_write); here only the arguments and the output file. */
#include <stdio.h>
#include <string.h>

#include "chaosgd/runlog.h"
#include "chaosgd/sweep.h"
#include "chaosgd_version.h"

static void usage(FILE *fp) {
  fprintf(fp,
          "usage: table [--out FILE] RUN_DIR...\n"
          "One CSV row per run: run_dir, kind, the config.json options that differ between\n"
          "the runs (lr and seed always), then every field of summary.json with dotted names\n"
          "(tail.loss_mean, gibbs.tv, ...). A directory without summary.json stands for its\n"
          "subdirectories that have one (a comparison's rates, a sweep's points).\n"
          "  --out FILE   write there (atomically) instead of stdout\n"
          "exit codes: 0 ok, 2 bad option, 3 a path that holds no run, 4 cannot write\n");
}

int main(int argc, char **argv) {
  const char *out = NULL;
  const char *paths[4096];
  size_t n = 0;
  cgd_error err = {{0}};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help")) {
      usage(stdout);
      return 0;
    } else if (!strcmp(argv[i], "--version")) {
      printf("table (chaosgd) %s, git %s\n", CGD_VERSION, CGD_GIT_REV);
      return 0;
    } else if (!strcmp(argv[i], "--out")) {
      if (i + 1 >= argc || !argv[i + 1][0]) {
        fprintf(stderr, "table: --out needs a file name\n");
        return 2;
      }
      out = argv[++i];
    } else if (!strncmp(argv[i], "--", 2)) {
      fprintf(stderr, "table: unknown option %s (see --help)\n", argv[i]);
      return 2;
    } else if (n == sizeof paths / sizeof *paths) {
      fprintf(stderr, "table: at most %zu paths\n", n);
      return 2;
    } else {
      paths[n++] = argv[i];
    }
  }
  if (!n) {
    fprintf(stderr, "table: give at least one run directory (see --help)\n");
    return 2;
  }
  int rc;
  if (out) {
    cgd_outfile f;
    rc = cgd_outfile_open_path(&f, out, &err);
    if (!rc) {
      rc = cgd_table_write(paths, n, f.fp, &err);
      if (rc) cgd_outfile_discard(&f);
      else rc = cgd_outfile_commit(&f, &err);
    }
  } else {
    rc = cgd_table_write(paths, n, stdout, &err);
    if (!rc && fflush(stdout) != 0) rc = cgd_fail(&err, CGD_EIO, "error writing stdout");
  }
  if (rc) fprintf(stderr, "table: %s\n", err.msg);
  return cgd_exit_code(rc);
}
