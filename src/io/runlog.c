#include "chaosgd/runlog.h"

#include <errno.h>
#include <fcntl.h>
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
      "hist.png", "trace.png", "compare_hist.csv", "plot.log", "timing.json", "checkpoint.bin",
      "sharpness.csv", "time_hist.csv", "time_hist.png", "liyorke.csv", "liyorke.png",
      "bifurcation.csv", "attractor.csv", "bifurcation.png"};
  char path[4200];
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    for (int tmp = 0; tmp < 2; tmp++) {
      snprintf(path, sizeof path, "%s/%s%s", dir, names[i], tmp ? ".tmp" : "");
      if (remove(path) != 0 && errno != ENOENT)
        return cgd_fail(err, CGD_EIO, "cannot remove stale %s: %s", path, strerror(errno));
    }
  return CGD_OK;
}

/* A directory holds a run when one of these is in it. */
static int holds_run(const char *dir) {
  static const char *const marks[] = {"config.json", "summary.json", "comparison.json"};
  char path[4200];
  for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, marks[i]);
    if (access(path, F_OK) == 0) return 1;
  }
  return 0;
}

int cgd_run_dir_prepare(const char *out, const char *what, int force, char *dir, size_t len,
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
  if (rc) return rc;
  if (holds_run(dir) && !force)
    return cgd_fail(err, CGD_EIO,
                    "%s already holds a run: give another --out, or --force to replace its "
                    "run files", dir);
  return cgd_run_dir_clear(dir, err);
}

static void split_path(const char *path, char *dir, size_t dlen, const char **base) {
  const char *slash = strrchr(path, '/');
  if (!slash) {
    snprintf(dir, dlen, ".");
    *base = path;
  } else if (slash == path) {
    snprintf(dir, dlen, "/");
    *base = slash + 1;
  } else {
    snprintf(dir, dlen, "%.*s", (int)(slash - path), path);
    *base = slash + 1;
  }
}

int cgd_check_writable(const char *path, const char *what, cgd_error *err) {
  char dir[4096];
  const char *base;
  struct stat st;
  split_path(path, dir, sizeof dir, &base);
  if (!*base) return cgd_fail(err, CGD_EUSAGE, "%s %s: a file name is needed", what, path);
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return cgd_fail(err, CGD_EIO, "%s %s: directory %s does not exist", what, path, dir);
  if (access(dir, W_OK) != 0)
    return cgd_fail(err, CGD_EIO, "%s %s: cannot write in %s: %s", what, path, dir,
                    strerror(errno));
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return cgd_fail(err, CGD_EIO, "%s %s: is a directory", what, path);
  return CGD_OK;
}

int cgd_outfile_open_path(cgd_outfile *f, const char *path, cgd_error *err) {
  char dir[4096];
  const char *base;
  split_path(path, dir, sizeof dir, &base);
  return cgd_outfile_open(f, dir, base, err);
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

int cgd_outfile_reopen(cgd_outfile *f, const char *dir, const char *name, long off,
                       cgd_error *err) {
  f->fp = NULL;
  if (snprintf(f->final_path, sizeof f->final_path, "%s/%s", dir, name) >=
          (int)sizeof f->final_path ||
      snprintf(f->tmp_path, sizeof f->tmp_path, "%s.tmp", f->final_path) >=
          (int)sizeof f->tmp_path)
    return cgd_fail(err, CGD_EIO, "output path too long: %s/%s", dir, name);
  if (access(f->tmp_path, F_OK) != 0 && rename(f->final_path, f->tmp_path) != 0)
    return cgd_fail(err, CGD_EDATA, "resume: neither %s nor its .tmp can be reopened: %s",
                    f->final_path, strerror(errno));
  if (truncate(f->tmp_path, off) != 0)
    return cgd_fail(err, CGD_EDATA, "resume: cannot cut %s back to %ld bytes: %s", f->tmp_path,
                    off, strerror(errno));
  f->fp = fopen(f->tmp_path, "ab");
  if (!f->fp) return cgd_fail(err, CGD_EIO, "cannot write %s: %s", f->tmp_path, strerror(errno));
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
  /* gnuplot's complaints go to plot.log beside the script, so a failure can say why */
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "plot.log", O_WRONLY | O_CREAT | O_TRUNC,
                                   0666);
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
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char path[4200], line[512] = "";
    snprintf(path, sizeof path, "%s/plot.log", dir);
    FILE *fp = fopen(path, "r");
    /* the first line that says what went wrong (gnuplot echoes the script line first) */
    while (fp && fgets(line, sizeof line, fp))
      if (strstr(line, "rror") || strstr(line, "arning")) break;
    if (fp) fclose(fp);
    line[strcspn(line, "\n")] = '\0';
    return cgd_fail(err, CGD_EIO, "gnuplot failed on %s/%s%s%s", dir, script_name,
                    line[0] ? ": " : "", line);
  }
  return CGD_OK;
}
