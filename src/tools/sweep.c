/* sweep: a grid over any run options, each point an ordinary run (cgd_run) in its own run
 * directory, then sweep.csv (one row per point, in grid order) and phase-diagram figures.
 *
 * Points run in forked worker processes (--workers N): a point is a whole run, a crash or
 * an abort in one point is that point's row, and nothing is shared but the file system.
 * sweep.csv is written from the point directories on disk, so it does not depend on the
 * number of workers or on the order in which points finished. Started again with the same
 * command, a sweep skips the points whose run directories are complete (checked by the
 * library) and redoes the rest. Built with -DCGD_WITH_MPI (CMake: CHAOSGD_MPI), the same
 * tool spreads points over MPI ranks instead (static round-robin), and rank 0 writes the
 * same sweep.csv. */
#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef CGD_WITH_MPI
#include <mpi.h>
#endif

#include "chaosgd/options.h"
#include "chaosgd/run.h"
#include "chaosgd/runlog.h"
#include "chaosgd/sweep.h"
#include "chaosgd_version.h"

static volatile sig_atomic_t g_stop = 0; /* the one global: a signal handler needs it */
static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

typedef struct sweep_opts {
  char out[4096];
  long workers;
  int force, quiet, progress, plots, point_plots;
  const char *plot_x, *plot_y;
} sweep_opts;

static void usage(FILE *fp) {
  fprintf(fp,
          "usage: sweep [sweep options] [run options]\n"
          "Runs every point of a grid over run options (see train --help) as an ordinary run,\n"
          "each in its own directory under --out, then writes sweep.csv and phase diagrams.\n"
          "\n"
          "Run options take one value or a list of values:\n"
          "  numbers        A:B:N (linear), A:B:log:N (logarithmic) or a,b,c\n"
          "                 (whole-number options must get whole numbers)\n"
          "  text           a,b,c  (--x0, --hist-at, --hist-range: v1;v2)\n"
          "  e.g. sweep --out runs/s --lr 1e-4:0.1:log:60 --seed 0:4:5 --iters 20000\n"
          "Points are in row-major order: the last varied option varies fastest.\n"
          "\n"
          "Sweep options:\n"
          "  --out DIR            sweep directory [runs/sweep-<time>-<pid>]; started again on\n"
          "                       the same DIR with the same options, a sweep resumes\n"
          "  --workers N          processes running points [all cores]%s\n"
          "  --force              replace a different sweep in DIR, and redo every point\n"
          "  --plot-x OPT, --plot-y OPT   axes of the phase diagram [the first varied options]\n"
          "  --no-plots           no phase diagrams\n"
          "  --point-plots        each point also draws its run's plots (off by default: one\n"
          "                       gnuplot call per point costs more than a short run)\n"
          "  --no-progress, --quiet, --help, --version\n"
          "\n"
          "exit codes: 0 done (failed or diverged points are rows of sweep.csv), 2 bad option,\n"
          "            4 cannot write the sweep directory, 6 interrupted (sweep.csv of what ran)\n",
#ifdef CGD_WITH_MPI
          "; under mpirun: points are spread over\n                       the ranks, one at a time per rank"
#else
          ""
#endif
  );
}

/* Sweep options are the tool's; every other --name goes to the sweep definition. */
static int parse_args(int argc, char **argv, sweep_opts *o, cgd_sweep *sw, char *cmdline,
                      size_t cmdlen, cgd_error *err) {
  size_t pos = 0;
  for (int i = 0; i < argc && pos < cmdlen - 1; i++)
    pos += (size_t)snprintf(cmdline + pos, cmdlen - pos, "%s%s", i ? " " : "", argv[i]);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0 || !a[2])
      return cgd_fail(err, CGD_EUSAGE, "unexpected argument '%s' (see --help)", a);
    char name[128];
    const char *eq = strchr(a, '='), *val = NULL;
    snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - a - 2) : (int)strlen(a + 2), a + 2);
    if (eq) val = eq + 1;
    int is_flag = 0;
    const int run_option = cgd_sweep_is_option(name, &is_flag);
    const int sweep_valued = !strcmp(name, "out") || !strcmp(name, "workers") ||
                             !strcmp(name, "plot-x") || !strcmp(name, "plot-y");
    const int known = sweep_valued || !strcmp(name, "force") || !strcmp(name, "quiet") ||
                      !strcmp(name, "point-plots") ||
                      !strcmp(name, "no-progress") || !strcmp(name, "help") ||
                      !strcmp(name, "version") || run_option;
    if (!known) return cgd_fail(err, CGD_EUSAGE, "unknown option --%s (see --help)", name);
    if (sweep_valued || (run_option && !is_flag)) {
      if (!val) {
        if (i + 1 >= argc) return cgd_fail(err, CGD_EUSAGE, "option --%s needs a value", name);
        val = argv[++i];
      }
    } else if (val) {
      return cgd_fail(err, CGD_EUSAGE, "--%s takes no value", name);
    }
    int rc = CGD_OK;
    if (!strcmp(name, "help")) {
      usage(stdout);
      return 1;
    } else if (!strcmp(name, "version")) {
      printf("sweep (chaosgd) %s, git %s\n", CGD_VERSION, CGD_GIT_REV);
      return 1;
    } else if (!strcmp(name, "out")) {
      if (!*val || snprintf(o->out, sizeof o->out, "%s", val) >= (int)sizeof o->out)
        rc = cgd_fail(err, CGD_EUSAGE, "--out: an empty or too long path");
    } else if (!strcmp(name, "workers")) {
      char *end;
      errno = 0;
      o->workers = strtol(val, &end, 10);
      if (!*val || *end || errno || o->workers < 1 || o->workers > 4096)
        rc = cgd_fail(err, CGD_EUSAGE, "--workers: expected a whole number in [1, 4096] (got '%s')", val);
    } else if (!strcmp(name, "plot-x")) {
      o->plot_x = val;
    } else if (!strcmp(name, "plot-y")) {
      o->plot_y = val;
    } else if (!strcmp(name, "force")) {
      o->force = 1;
    } else if (!strcmp(name, "quiet")) {
      o->quiet = 1;
    } else if (!strcmp(name, "no-progress")) {
      o->progress = 0;
    } else if (!strcmp(name, "no-plots")) {
      o->plots = 0;
    } else if (!strcmp(name, "point-plots")) {
      o->point_plots = 1;
    } else {
      rc = cgd_sweep_add(sw, name, val, err);
    }
    if (rc) return rc;
  }
  /* the points' own plots are a run option, recorded in the definition */
  return o->point_plots ? CGD_OK : cgd_sweep_add(sw, "no-plots", NULL, err);
}

/* One point, in this process. Returns the run's status (a failure is recorded in the
 * point's directory as its summary). */
static int run_point(const cgd_sweep *sw, size_t i, const char *dir) {
  cgd_run_config *cfg = cgd_run_config_create();
  cgd_error err = {{0}}, e2;
  if (!cfg) return CGD_ENOMEM;
  int rc = cgd_sweep_point_config(sw, i, dir, cfg, &err);
  if (rc) {
    cgd_sweep_point_fail(cfg->out, rc, err.msg, 1, &e2);
    cgd_run_config_free(cfg);
    return rc;
  }
  cfg->stop = &g_stop;
  if (cfg->blas_threads > 0) openblas_set_num_threads((int)cfg->blas_threads);
  cgd_run_result res;
  rc = cgd_run(cfg, NULL, &res, &err);
  if (rc && rc != CGD_EDIVERGED && rc != CGD_EINTERRUPTED)
    /* a directory cgd_run never prepared may hold an earlier attempt's files: clear it */
    cgd_sweep_point_fail(cfg->out, rc, err.msg, res.dir[0] == '\0', &e2);
  cgd_run_result_clear(&res);
  cgd_run_config_free(cfg);
  return rc;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct progress {
  int tty;
  size_t total, done, ran, todo;
  double t0, last;
} progress;

static void show(progress *p, int final) {
  if (!p->tty) return;
  double now = now_s();
  if (!final && now - p->last < 0.25) return;
  p->last = now;
  double el = now - p->t0;
  fprintf(stderr, "\r  points %zu/%zu  elapsed %.0fs", p->done, p->total, el);
  if (p->ran && p->ran < p->todo)
    fprintf(stderr, "  remaining ~%.0fs   ", el / (double)p->ran * (double)(p->todo - p->ran));
  else
    fprintf(stderr, "                  ");
  if (final) fputc('\n', stderr);
}

/* The points of this invocation: all with --force, else those not complete on disk. */
static size_t *pending_points(const cgd_sweep *sw, const char *dir, int force, size_t *n) {
  size_t np = cgd_sweep_npoints(sw), k = 0;
  size_t *v = malloc((np ? np : 1) * sizeof *v);
  for (size_t i = 0; v && i < np; i++)
    if (force || !cgd_sweep_point_complete(sw, i, dir)) v[k++] = i;
  *n = k;
  return v;
}

typedef struct slot {
  pid_t pid;
  size_t point;
} slot;

/* Fork workers: at most `workers` points at a time. On SIGINT/SIGTERM: launch nothing
 * more, pass SIGTERM on to the running points (each stops cleanly, writing everything
 * with status interrupted), wait for them. */
static void run_forked(const cgd_sweep *sw, const char *dir, const size_t *todo, size_t ntodo,
                       long workers, progress *pg) {
  slot *run = calloc((size_t)workers, sizeof *run);
  size_t next = 0, nrun = 0;
  int forwarded = 0;
  const pid_t parent = getpid();
  if (!run) return;
  while (next < ntodo || nrun > 0) {
    while (!g_stop && nrun < (size_t)workers && next < ntodo) {
      size_t i = todo[next++];
      fflush(NULL);
      pid_t pid = fork();
      if (pid == 0) {
        /* a point must not outlive its sweep (a resumed sweep would run it twice) */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(6);
        if (workers > 1) {
          /* each worker one thread: the cores are shared out as processes */
          openblas_set_num_threads(1);
          omp_set_num_threads(1);
        }
        _exit(cgd_exit_code(run_point(sw, i, dir)));
      }
      if (pid < 0) {
        char pd[8400], name[512];
        cgd_error e;
        cgd_sweep_point_name(sw, i, name, sizeof name);
        snprintf(pd, sizeof pd, "%s/%s", dir, name);
        cgd_sweep_point_fail(pd, CGD_EINTERNAL, "fork failed", 1, &e);
        continue;
      }
      for (long s = 0; s < workers; s++)
        if (!run[s].pid) {
          run[s] = (slot){pid, i};
          break;
        }
      nrun++;
    }
    if (g_stop && !forwarded) {
      for (long s = 0; s < workers; s++)
        if (run[s].pid) kill(run[s].pid, SIGTERM);
      forwarded = 1;
    }
    int st;
    pid_t pid = waitpid(-1, &st, WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {
      struct timespec ts = {0, 20 * 1000 * 1000};
      nanosleep(&ts, NULL);
      show(pg, 0);
      continue;
    }
    if (pid < 0) break; /* no children left */
    for (long s = 0; s < workers; s++) {
      if (run[s].pid != pid) continue;
      if (WIFSIGNALED(st) && !g_stop) {
        char pd[8400], name[512], msg[128];
        cgd_error e;
        cgd_sweep_point_name(sw, run[s].point, name, sizeof name);
        snprintf(pd, sizeof pd, "%s/%s", dir, name);
        snprintf(msg, sizeof msg, "the point's process was killed by signal %d", WTERMSIG(st));
        cgd_sweep_point_fail(pd, CGD_EINTERNAL, msg, 0, &e);
      }
      run[s].pid = 0;
      nrun--;
      pg->done++;
      pg->ran++;
    }
    show(pg, 0);
  }
  free(run);
}

/* The sweep directory is one sweep's at a time: a lock held for the whole sweep (and by
 * its running points, which inherit it). */
static int lock_dir(const char *dir, int *fd, cgd_error *err) {
  char path[4600];
  snprintf(path, sizeof path, "%s/.sweep.lock", dir);
  *fd = open(path, O_CREAT | O_RDWR, 0644);
  if (*fd < 0) return cgd_fail(err, CGD_EIO, "%s: %s", path, strerror(errno));
  if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
    return cgd_fail(err, CGD_EIO, "%s: another sweep is running in this directory", dir);
  return CGD_OK;
}

int main(int argc, char **argv) {
  int rank = 0, nranks = 1;
#ifdef CGD_WITH_MPI
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &nranks);
#endif
  sweep_opts o = {.workers = sysconf(_SC_NPROCESSORS_ONLN), .progress = 1, .plots = 1};
  if (o.workers < 1) o.workers = 1;
  cgd_error err = {{0}};
  cgd_sweep *sw = NULL;
  static char cmdline[8192];
  int rc = cgd_sweep_create(&sw, &err);
  if (!rc) rc = parse_args(argc, argv, &o, sw, cmdline, sizeof cmdline, &err);
  if (!rc) rc = cgd_sweep_finish(sw, cmdline, &err);
  if (!rc && !o.out[0]) {
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(o.out, sizeof o.out, "runs/sweep-%s-%d", stamp, (int)getpid());
#ifdef CGD_WITH_MPI
    MPI_Bcast(o.out, sizeof o.out, MPI_CHAR, 0, MPI_COMM_WORLD);
#endif
  }
  int lockfd = -1;
  /* rank 0 (or the one process) owns the directory: lock, check, sweep.json */
  if (!rc && rank == 0 && !(rc = cgd_mkdir_p(o.out, &err)) && !(rc = lock_dir(o.out, &lockfd, &err)))
    rc = cgd_sweep_prepare_dir(sw, o.out, o.force, &err);
#ifdef CGD_WITH_MPI
  /* every rank learns rank 0's verdict on the directory (and stops with it) */
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rc && rank != 0) {
    cgd_sweep_free(sw);
    MPI_Finalize();
    return cgd_exit_code(rc);
  }
#endif
  if (rc) {
    if (rc != 1) fprintf(stderr, "sweep: %s\n", err.msg);
    cgd_sweep_free(sw);
#ifdef CGD_WITH_MPI
    MPI_Finalize();
#endif
    return rc == 1 ? 0 : cgd_exit_code(rc);
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: waits return early */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  size_t ntodo = 0;
  size_t *todo = pending_points(sw, o.out, o.force, &ntodo);
#ifdef CGD_WITH_MPI
  /* no rank starts a point before every rank has its list: a point finished meanwhile
   * would drop out of a late rank's list and shift the round-robin */
  MPI_Barrier(MPI_COMM_WORLD);
#endif
  progress pg = {.tty = rank == 0 && o.progress && !o.quiet && isatty(STDERR_FILENO),
                 .total = cgd_sweep_npoints(sw), .todo = ntodo, .t0 = now_s()};
  pg.done = pg.total - ntodo;
  if (!o.quiet && rank == 0)
    fprintf(stderr, "sweep: %zu points in %s (%zu complete, %zu to run%s)\n", pg.total, o.out,
            pg.done, ntodo, nranks > 1 ? ", over MPI ranks" : "");
  if (nranks == 1) {
    run_forked(sw, o.out, todo, ntodo, o.workers, &pg);
  } else {
#ifdef CGD_WITH_MPI
    /* static round-robin over the points still to run, in this process; every rank saw
     * the same list (computed before anyone started) */
    openblas_set_num_threads(1);
    omp_set_num_threads(1);
    for (size_t k = (size_t)rank; k < ntodo && !g_stop; k += (size_t)nranks) {
      run_point(sw, todo[k], o.out);
      pg.done++;
      pg.ran++;
      show(&pg, 0);
    }
#endif
  }
  free(todo);
  int stopped = g_stop != 0;
#ifdef CGD_WITH_MPI
  /* every rank done before rank 0 reads the point directories */
  int any = stopped;
  MPI_Allreduce(&stopped, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  stopped = any;
#endif
  show(&pg, 1);
  int code = stopped ? 6 : 0;
  if (rank == 0) {
    cgd_sweep_counts n;
    rc = cgd_sweep_write_csv(sw, o.out, &n, &err);
    if (rc) {
      fprintf(stderr, "sweep: %s\n", err.msg);
      code = cgd_exit_code(rc);
    } else {
      if (!o.quiet)
        fprintf(stderr, "sweep: %zu ok, %zu diverged, %zu failed, %zu interrupted, %zu not run%s\n",
                n.ok, n.diverged, n.failed, n.interrupted, n.pending,
                stopped ? " (interrupted: run the same command again to resume)" : "");
      if (o.plots && !stopped) {
        char msg[512];
        cgd_sweep_plot(sw, o.out, o.plot_x, o.plot_y, msg, sizeof msg);
        if (!strncmp(msg, "failed", 6) || (!o.quiet && strncmp(msg, "none", 4)))
          fprintf(stderr, "sweep: plots: %s\n", msg);
      }
      printf("%s\n", o.out);
    }
  }
  if (lockfd >= 0) close(lockfd);
  cgd_sweep_free(sw);
#ifdef CGD_WITH_MPI
  MPI_Finalize();
#endif
  return code;
}
