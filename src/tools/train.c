/* train: one run (or a comparison of rates) of gradient descent on the MLP or on an
 * analytic multiscale objective. A thin tool: the options are parsed by the library's
 * option table, the run is the library's; here only signals, BLAS threads, the lines a
 * user reads, and the exit code. */
#include <cblas.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "chaosgd/options.h"
#include "chaosgd/run.h"

static volatile sig_atomic_t g_stop = 0; /* the one global: a signal handler needs it */
static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static void say_result(const cgd_run_config *c, const cgd_run_result *r) {
  if (c->quiet) return;
  fprintf(stderr, "lr %g: %s after %llu steps (%.2f s)", c->lr, r->verdict,
          (unsigned long long)r->steps, r->seconds);
  if (r->kind == CGD_KIND_MLP)
    fprintf(stderr, ", final loss %.6g, %.1f us/step", r->final_value,
            r->steps ? 1e6 * r->seconds / (double)r->steps : 0.0);
  if (r->have_tail)
    fprintf(stderr, "; tail: %.1f%% of steps raise the %s, rel. std %.3g",
            100 * r->tail.frac_increase, r->kind == CGD_KIND_MLP ? "loss" : "value",
            r->tail.rel_std);
  if (isfinite(r->gibbs[0]))
    fprintf(stderr, "; TV to the %s Gibbs law %.4f", c->gibbs_gaussian ? "Gaussian-form" : "rescaled",
            r->gibbs[0]);
  fprintf(stderr, "\n");
  if (!strcmp(r->plots, "skipped (no gnuplot)")) fprintf(stderr, "  plots skipped: gnuplot not found\n");
  else if (!strncmp(r->plots, "failed", 6)) fprintf(stderr, "train: warning: plots %s\n", r->plots);
  else if (!strncmp(r->plots, "none", 4)) fprintf(stderr, "  no plots: %s\n", r->plots + 6);
}

int main(int argc, char **argv) {
  cgd_run_config *cfg = cgd_run_config_create();
  cgd_error err = {{0}};
  if (!cfg) {
    fprintf(stderr, "train: out of memory\n");
    return 1;
  }
  int rc = cgd_run_config_parse_argv(cfg, argc, argv, stdout, &err);
  if (rc) {
    if (rc != 1) fprintf(stderr, "train: %s\n", err.msg);
    cgd_run_config_free(cfg);
    return rc == 1 ? 0 : cgd_exit_code(rc);
  }
  /* BLAS threading is process-wide, so the tool (not the library) sets it; results do not
   * depend on it (tests/cli.sh), only the speed does. */
  if (cfg->blas_threads > 0) openblas_set_num_threads((int)cfg->blas_threads);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  cfg->stop = &g_stop;

  if (cfg->bifurcation || cfg->nlr > 1) {
    char dir[4096] = "";
    rc = cfg->bifurcation ? cgd_run_bifurcation(cfg, dir, sizeof dir, &err)
                          : cgd_run_compare(cfg, dir, sizeof dir, &err);
    if (dir[0] && (rc == CGD_OK || rc == CGD_EDIVERGED || rc == CGD_EINTERRUPTED))
      printf("%s\n", dir);
  } else {
    cgd_run_result res;
    rc = cfg->resume ? cgd_run_resume(cfg, &res, &err) : cgd_run(cfg, NULL, &res, &err);
    if (res.dir[0] && (rc == CGD_OK || rc == CGD_EDIVERGED || rc == CGD_EINTERRUPTED)) {
      say_result(cfg, &res);
      printf("%s\n", res.dir);
    }
    cgd_run_result_clear(&res);
  }
  if (rc) fprintf(stderr, "train: %s\n", err.msg);
  cgd_run_config_free(cfg);
  return cgd_exit_code(rc);
}
