/* Output files of a run: the only code that writes them. Every file is written under a
 * temporary name (NAME.tmp) and renamed when complete, so a killed run never leaves a
 * half-written file under its final name. */
#ifndef CHAOSGD_RUNLOG_H
#define CHAOSGD_RUNLOG_H

#include <stdio.h>

#include "chaosgd/status.h"

typedef struct cgd_outfile {
  FILE *fp;
  char final_path[4096];
  char tmp_path[4100];
} cgd_outfile;

/* Create directory path and its parents (like mkdir -p). */
int cgd_mkdir_p(const char *path, cgd_error *err);
/* Remove the files a run writes (config.json, trace.csv, hist.csv, summary.json,
 * timing.json, checkpoint.bin, compare*.csv, comparison*, params_*.txt, the diagnostics'
 * CSV files, plot.gp, plot.log, *.png and their .tmp) from dir, so that
 * a run into a reused directory leaves no stale file that looks like its own. Other files
 * are left alone. */
int cgd_run_dir_clear(const char *dir, cgd_error *err);
/* The run directory: out if given, else runs/<what>-<timestamp>-<pid>; created (with its
 * parents). A directory that already holds a run (config.json, summary.json or
 * comparison.json) is refused (CGD_EIO naming it) unless force, which clears the earlier
 * run's files first (cgd_run_dir_clear). */
int cgd_run_dir_prepare(const char *out, const char *what, int force, char *dir, size_t len,
                        cgd_error *err);
/* Check before a run that a file can later be written at path (its directory exists and
 * is writable, path is not a directory); what names the option in the message. */
int cgd_check_writable(const char *path, const char *what, cgd_error *err);
/* Write a file at any path atomically: open PATH.tmp (dir and base split from path). */
int cgd_outfile_open_path(cgd_outfile *f, const char *path, cgd_error *err);
/* Open dir/name.tmp for writing (buffered). */
int cgd_outfile_open(cgd_outfile *f, const char *dir, const char *name, cgd_error *err);
/* Resuming a run: reopen dir/name for appending at byte offset off — its NAME.tmp if the
 * run was killed while writing it, else the committed NAME (moved back to NAME.tmp) —
 * truncated to off, so what was written after the checkpoint is dropped. */
int cgd_outfile_reopen(cgd_outfile *f, const char *dir, const char *name, long off,
                       cgd_error *err);
/* Flush, check for write errors, close and rename to the final name. */
int cgd_outfile_commit(cgd_outfile *f, cgd_error *err);
/* Close and remove the temporary file (on an error path). Safe on a closed file. */
void cgd_outfile_discard(cgd_outfile *f);
/* Commit a gnuplot script opened with cgd_outfile_open(dir, name) and run it (below). */
int cgd_gnuplot_script(cgd_outfile *script, const char *dir, const char *name, int *skipped,
                       cgd_error *err);
/* Run gnuplot on a script file inside dir. *skipped = 1 (and CGD_OK) when gnuplot is
 * not installed; a gnuplot failure is an I/O error naming the script and carrying the
 * first line gnuplot printed on stderr. */
int cgd_gnuplot(const char *dir, const char *script_name, int *skipped, cgd_error *err);

#endif
