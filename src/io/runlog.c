#include "chaosgd/runlog.h"

#include <errno.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int cgd_mkdir_p(const char *path, cgd_error *err) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return cgd_fail(err, CGD_EIO, "output path too long: %s", path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return cgd_fail(err, CGD_EIO, "cannot create directory %s: %s", buf, strerror(errno));
      *p = c;
      if (!c) break;
    }
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return cgd_fail(err, CGD_EIO, "%s exists and is not a directory", path);
  if (access(path, W_OK) != 0)
    return cgd_fail(err, CGD_EIO, "cannot write in directory %s: %s", path, strerror(errno));
  return CGD_OK;
}

int cgd_run_dir_clear(const char *dir, cgd_error *err) {
  static const char *const names[] = {
      "config.json", "trace.csv", "hist.csv", "summary.json", "compare.csv",
      "comparison.csv", "comparison.json", "comparison_hist.csv", "comparison.gp",
      "comparison.png", "params_init.txt", "params_final.txt", "plot.gp", "loss.png",
      "hist.png", "trace.png"};
  char path[4200];
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    for (int tmp = 0; tmp < 2; tmp++) {
      snprintf(path, sizeof path, "%s/%s%s", dir, names[i], tmp ? ".tmp" : "");
      if (remove(path) != 0 && errno != ENOENT)
        return cgd_fail(err, CGD_EIO, "cannot remove stale %s: %s", path, strerror(errno));
    }
  return CGD_OK;
}

int cgd_run_dir_prepare(const char *out, const char *what, char *dir, size_t len,
                        cgd_error *err) {
  if (out[0]) {
    if (snprintf(dir, len, "%s", out) >= (int)len)
      return cgd_fail(err, CGD_EUSAGE, "--out: path too long");
  } else {
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    /* a name cut short is still a unique, valid directory name */
    if (snprintf(dir, len, "runs/%s-%s-%d", what, stamp, (int)getpid()) >= (int)len)
      dir[len - 1] = '\0';
  }
  int rc = cgd_mkdir_p(dir, err);
  return rc ? rc : cgd_run_dir_clear(dir, err);
}

int cgd_outfile_open(cgd_outfile *f, const char *dir, const char *name, cgd_error *err) {
  f->fp = NULL;
  if (snprintf(f->final_path, sizeof f->final_path, "%s/%s", dir, name) >=
          (int)sizeof f->final_path ||
      snprintf(f->tmp_path, sizeof f->tmp_path, "%s.tmp", f->final_path) >=
          (int)sizeof f->tmp_path)
    return cgd_fail(err, CGD_EIO, "output path too long: %s/%s", dir, name);
  f->fp = fopen(f->tmp_path, "wb");
  if (!f->fp)
    return cgd_fail(err, CGD_EIO, "cannot write %s: %s", f->tmp_path, strerror(errno));
  return CGD_OK;
}

int cgd_outfile_commit(cgd_outfile *f, cgd_error *err) {
  if (!f->fp) return cgd_fail(err, CGD_EINTERNAL, "commit of a closed file %s", f->final_path);
  int bad = fflush(f->fp) != 0 || ferror(f->fp);
  int e = errno;
  if (fclose(f->fp) != 0 && !bad) {
    bad = 1;
    e = errno;
  }
  f->fp = NULL;
  if (bad) {
    remove(f->tmp_path);
    return cgd_fail(err, CGD_EIO, "error writing %s: %s", f->tmp_path, strerror(e));
  }
  if (rename(f->tmp_path, f->final_path) != 0)
    return cgd_fail(err, CGD_EIO, "cannot rename %s to %s: %s", f->tmp_path, f->final_path,
                    strerror(errno));
  return CGD_OK;
}

void cgd_outfile_discard(cgd_outfile *f) {
  if (!f->fp) return;
  fclose(f->fp);
  f->fp = NULL;
  remove(f->tmp_path);
}

int cgd_json_write(const char *dir, const char *name, json_t *doc, cgd_error *err) {
  cgd_outfile f;
  int rc = cgd_outfile_open(&f, dir, name, err);
  if (rc) return rc;
  if (json_dumpf(doc, f.fp, JSON_INDENT(2) | JSON_REAL_PRECISION(17) | JSON_PRESERVE_ORDER) !=
          0 ||
      fputc('\n', f.fp) == EOF) {
    cgd_outfile_discard(&f);
    return cgd_fail(err, CGD_EIO, "error writing %s/%s", dir, name);
  }
  return cgd_outfile_commit(&f, err);
}

int cgd_gnuplot_script(cgd_outfile *script, const char *dir, const char *name, int *skipped,
                       cgd_error *err) {
  int rc = cgd_outfile_commit(script, err);
  return rc ? rc : cgd_gnuplot(dir, name, skipped, err);
}

int cgd_gnuplot(const char *dir, const char *script_name, int *skipped, cgd_error *err) {
  *skipped = 0;
  char *argv[] = {"gnuplot", (char *)script_name, NULL};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  /* gnuplot runs inside the run directory so scripts use plain file names. */
  posix_spawn_file_actions_addchdir_np(&fa, dir);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", 0, 0);
  pid_t pid;
  int e = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (e == ENOENT) {
    *skipped = 1;
    return CGD_OK;
  }
  if (e) return cgd_fail(err, CGD_EIO, "cannot start gnuplot: %s", strerror(e));
  int status;
  if (waitpid(pid, &status, 0) < 0)
    return cgd_fail(err, CGD_EIO, "waiting for gnuplot: %s", strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return cgd_fail(err, CGD_EIO, "gnuplot failed on %s/%s", dir, script_name);
  return CGD_OK;
}
