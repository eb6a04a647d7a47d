/* train: gradient descent on the MLP (and, through the same loop, other objectives),
 * writing one run directory per run. Parses options into a cgd_run_config, calls the
 * library, prints where the results went, maps the status to an exit code. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "chaosgd/multiscale.h"
#include "chaosgd/run.h"
#include "chaosgd/runlog.h"
#include "chaosgd_version.h"

static volatile sig_atomic_t g_stop = 0; /* the one global: a signal handler needs it */
static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

#define MAX_LR 16

static void usage(FILE *fp) {
  cgd_run_config d;
  cgd_run_config_defaults(&d);
  fprintf(fp,
"usage: train [options]\n"
"Full-batch gradient descent on a d-H-1 leaky-ReLU MLP (default: UCI Airfoil, 5-16-1),\n"
"writing a run directory: config.json trace.csv hist.csv summary.json params_*.txt *.png\n"
"\n"
"  --config FILE        repeat a run from its config.json (later options override it)\n"
"\n"
"data and model\n"
"  --data FILE          tab/comma/semicolon/space separated numbers, optional header\n"
"                       [%s]\n"
"  --target-col N       1-based target column, 0 = last [0]\n"
"  --no-standardize     do not z-score inputs and target\n"
"  --holdout FRAC       fraction of rows kept out of training, loss logged [0]\n"
"  --hidden H           hidden units [%zu]\n"
"  --leak A             leaky-ReLU slope [%g]\n"
"  --init FILE          initial parameters (plain-text format, see README)\n"
"  --save-params FILE   also write the final parameters to FILE\n"
"\n"
"analytic multiscale objective f = f0 + f1,eps (instead of the MLP; see README)\n"
"  --f0 NAME|EXPR       quadratic quartic tilted doublewell matyas, or an expression in x (y)\n"
"  --f1 NAME|EXPR       sin negcos quasi madeup sincos2d none, or an expression [sin]\n"
"  --eps E              the small scale eps [%g]\n"
"  --k K                doublewell coefficient [%g]\n"
"  --param NAME=VALUE   a parameter for expressions (repeatable, up to 8)\n"
"  --x0 LAW             initial state: 0.37 | 0.3,-0.2 | uniform:LO,HI | normal:M,S\n"
"                       [uniform:-1,1]\n"
"  --ensemble N         number of particles [1: a single orbit]\n"
"  --hist-at S1,S2,..   ensemble histograms at these steps (and the last one)\n"
"  --hist-range LO,HI   histogram range per coordinate [-1.5,1.5]\n"
"  --burn-in N          single orbit: steps left out of its histogram [iters/10]\n"
"  --compare-map NAME   also run NAME from the same initial ensemble; distances per step\n"
"  --gibbs-form FORM    exact (rescaled Gibbs of f0) | gaussian (Rmk 15: f0's quadratic\n"
"                       model at its minimum) [exact]\n"
"  --critical-k         print the doublewell critical k for --f1 (sin: 3*sqrt(3)/8) and exit\n"
"\n"
"optimisation\n"
"  --lr X               learning rate [%g]; give it twice or more (or X,Y,...) to compare\n"
"                       rates from the same initial parameters in one directory\n"
"  --map NAME           gd | heavyball | nag-sc; analytic also stochastic | gaussian [gd]\n"
"  --gamma G            heavy-ball momentum [%g]\n"
"  --mu M               NAG-SC strong-convexity constant [%g]\n"
"  --iters N            gradient steps [%llu]\n"
"  --seed N             seed of the initialisation, holdout split, initial ensemble\n"
"                       and map noise [0]\n"
"  --loss-limit X       loss above X counts as divergence [%g]\n"
"\n"
"outputs\n"
"  --out DIR            run directory [runs/<what>-<time>]\n"
"  --log-every N        trace.csv row every N steps [1; ensembles: max(10, iters/1000)]\n"
"  --hist-every N       parameter histograms every N steps, plus first/last [0: first/last]\n"
"  --hist-bins N        bins per histogram (per axis in 2-D) [40 MLP, 100 1-D, 20 2-D]\n"
"  --tail FRAC          summary statistics over the last FRAC of the run [%g]\n"
"  --no-plots           do not call gnuplot\n"
"  --no-progress        no progress line on a terminal\n"
"  --blas-threads N     OpenBLAS threads; 0 = OpenBLAS's own default (OPENBLAS_NUM_THREADS)\n"
"                       [1: the MLP's products are too small to gain from threads]\n"
"  --quiet              only errors on stderr\n"
"  --help, --version\n"
"\n"
"exit codes: 0 ok, 1 internal error, 2 bad option, 3 bad data or input file,\n"
"            4 cannot write outputs, 5 diverged, 6 interrupted\n",
          d.data, d.hidden, d.leak, d.eps, d.k, d.lr, d.gamma, d.mu,
          (unsigned long long)d.iters, d.loss_limit, d.tail_frac);
}

static int parse_double(const char *opt, const char *s, double *out, cgd_error *err) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno == ERANGE || !isfinite(v))
    return cgd_fail(err, CGD_EUSAGE, "%s: '%s' is not a finite number", opt, s);
  *out = v;
  return CGD_OK;
}

static int parse_u64(const char *opt, const char *s, unsigned long long *out, cgd_error *err) {
  char *end;
  errno = 0;
  if (*s == '-') return cgd_fail(err, CGD_EUSAGE, "%s: '%s' must not be negative", opt, s);
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || *end || errno == ERANGE)
    return cgd_fail(err, CGD_EUSAGE, "%s: '%s' is not a whole number", opt, s);
  *out = v;
  return CGD_OK;
}

static int copy_str(const char *opt, char *dst, size_t cap, const char *s, cgd_error *err) {
  if (snprintf(dst, cap, "%s", s) >= (int)cap)
    return cgd_fail(err, CGD_EUSAGE, "%s: value too long", opt);
  return CGD_OK;
}

enum {
  O_DATA = 256, O_TARGET, O_NOSTD, O_HOLDOUT, O_HIDDEN, O_LEAK, O_INIT, O_SAVE, O_LR, O_MAP,
  O_GAMMA, O_MU, O_ITERS, O_SEED, O_LOSSLIM, O_OUT, O_LOGEVERY, O_HISTEVERY, O_HISTBINS,
  O_TAIL, O_F0, O_F1, O_EPS, O_K, O_PARAM, O_X0, O_ENSEMBLE, O_HISTAT, O_HISTRANGE,
  O_BURNIN, O_CONFIG, O_GIBBSFORM, O_COMPAREMAP, O_CRITK, O_BLASTHREADS, O_NOPLOTS, O_NOPROGRESS, O_QUIET, O_HELP, O_VERSION
};

static int parse_args(int argc, char **argv, cgd_run_config *c, double *lrs, size_t *nlr,
                      int *blas_threads, cgd_error *err) {
  static const struct option opts[] = {
      {"data", 1, 0, O_DATA},           {"target-col", 1, 0, O_TARGET},
      {"no-standardize", 0, 0, O_NOSTD}, {"holdout", 1, 0, O_HOLDOUT},
      {"hidden", 1, 0, O_HIDDEN},       {"leak", 1, 0, O_LEAK},
      {"init", 1, 0, O_INIT},           {"save-params", 1, 0, O_SAVE},
      {"lr", 1, 0, O_LR},               {"map", 1, 0, O_MAP},
      {"gamma", 1, 0, O_GAMMA},         {"mu", 1, 0, O_MU},
      {"iters", 1, 0, O_ITERS},         {"seed", 1, 0, O_SEED},
      {"loss-limit", 1, 0, O_LOSSLIM},  {"out", 1, 0, O_OUT},
      {"log-every", 1, 0, O_LOGEVERY},  {"hist-every", 1, 0, O_HISTEVERY},
      {"hist-bins", 1, 0, O_HISTBINS},  {"tail", 1, 0, O_TAIL},
      {"f0", 1, 0, O_F0},               {"f1", 1, 0, O_F1},
      {"eps", 1, 0, O_EPS},             {"k", 1, 0, O_K},
      {"param", 1, 0, O_PARAM},         {"x0", 1, 0, O_X0},
      {"ensemble", 1, 0, O_ENSEMBLE},   {"hist-at", 1, 0, O_HISTAT},
      {"hist-range", 1, 0, O_HISTRANGE}, {"burn-in", 1, 0, O_BURNIN},
      {"compare-map", 1, 0, O_COMPAREMAP}, {"config", 1, 0, O_CONFIG}, {"gibbs-form", 1, 0, O_GIBBSFORM}, {"critical-k", 0, 0, O_CRITK},
      {"no-plots", 0, 0, O_NOPLOTS},    {"blas-threads", 1, 0, O_BLASTHREADS},    {"no-progress", 0, 0, O_NOPROGRESS},
      {"quiet", 0, 0, O_QUIET},         {"help", 0, 0, O_HELP},
      {"version", 0, 0, O_VERSION},     {0, 0, 0, 0}};
  opterr = 0;
  int ch, rc = CGD_OK, want_critical_k = 0;
  unsigned long long u;
  double v;
  *nlr = 0;
  while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1 && !rc) {
    const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    switch (ch) {
    case O_DATA: rc = copy_str("--data", c->data, sizeof c->data, optarg, err); break;
    case O_TARGET:
      if (!(rc = parse_u64("--target-col", optarg, &u, err))) c->target_col = (int)u;
      if (!rc && u > 1000000) rc = cgd_fail(err, CGD_EUSAGE, "--target-col: too large");
      break;
    case O_NOSTD: c->standardize = 0; break;
    case O_HOLDOUT:
      if (!(rc = parse_double("--holdout", optarg, &c->holdout, err)) &&
          !(c->holdout >= 0 && c->holdout < 1))
        rc = cgd_fail(err, CGD_EUSAGE, "--holdout: must be in [0, 1) (got %s)", optarg);
      break;
    case O_HIDDEN:
      if (!(rc = parse_u64("--hidden", optarg, &u, err)) && (u < 1 || u > 1000000))
        rc = cgd_fail(err, CGD_EUSAGE, "--hidden: must be between 1 and 1000000");
      c->hidden = (size_t)u;
      break;
    case O_LEAK: rc = parse_double("--leak", optarg, &c->leak, err); break;
    case O_INIT: rc = copy_str("--init", c->init, sizeof c->init, optarg, err); break;
    case O_SAVE: rc = copy_str("--save-params", c->save_params, sizeof c->save_params, optarg, err); break;
    case O_LR: {
      /* --lr A,B,C is the same as --lr A --lr B --lr C; it replaces a --config's rate */
      char buf[1024];
      if ((rc = copy_str("--lr", buf, sizeof buf, optarg, err))) break;
      for (char *save, *tok = strtok_r(buf, ",", &save); tok && !rc;
           tok = strtok_r(NULL, ",", &save)) {
        if (*nlr == MAX_LR) rc = cgd_fail(err, CGD_EUSAGE, "--lr: at most %d rates", MAX_LR);
        else if (!(rc = parse_double("--lr", tok, &v, err)) && !(v > 0))
          rc = cgd_fail(err, CGD_EUSAGE, "--lr: must be positive (got %s)", tok);
        else if (!rc) lrs[(*nlr)++] = v;
      }
      break;
    }
    case O_MAP:
      if (cgd_map_kind_parse(optarg, &c->map))
        rc = cgd_fail(err, CGD_EUSAGE,
                      "--map: '%s' is not one of gd, stochastic, gaussian, heavyball, nag-sc",
                      optarg);
      break;
    case O_COMPAREMAP:
      if (cgd_map_kind_parse(optarg, &c->compare_map))
        rc = cgd_fail(err, CGD_EUSAGE,
                      "--compare-map: '%s' is not one of gd, stochastic, gaussian, heavyball, "
                      "nag-sc", optarg);
      c->compare = 1;
      break;
    case O_CONFIG:
      if (optind != 3 && !(optind == 2 && strncmp(argv[1], "--config=", 9) == 0))
        rc = cgd_fail(err, CGD_EUSAGE, "--config must come first (later options override it)");
      else
        rc = cgd_run_config_load(optarg, c, err); /* its lr is the default below */
      break;
    case O_GIBBSFORM:
      if (!strcmp(optarg, "exact")) c->gibbs_gaussian = 0;
      else if (!strcmp(optarg, "gaussian")) c->gibbs_gaussian = 1;
      else rc = cgd_fail(err, CGD_EUSAGE, "--gibbs-form: 'exact' or 'gaussian' (got '%s')", optarg);
      break;
    case O_F0: rc = copy_str("--f0", c->f0, sizeof c->f0, optarg, err); break;
    case O_F1: rc = copy_str("--f1", c->f1, sizeof c->f1, optarg, err); break;
    case O_EPS:
      if (!(rc = parse_double("--eps", optarg, &c->eps, err)) && !(c->eps > 0))
        rc = cgd_fail(err, CGD_EUSAGE, "--eps: must be positive (got %s)", optarg);
      break;
    case O_K: rc = parse_double("--k", optarg, &c->k, err); break;
    case O_PARAM: {
      const char *eq = strchr(optarg, '=');
      if (!eq || eq == optarg || (size_t)(eq - optarg) >= sizeof c->param_names[0])
        rc = cgd_fail(err, CGD_EUSAGE, "--param: expected NAME=VALUE (got '%s')", optarg);
      else if (c->nparams == 8)
        rc = cgd_fail(err, CGD_EUSAGE, "--param: at most 8 parameters");
      else if (!(rc = parse_double("--param", eq + 1, &c->param_values[c->nparams], err))) {
        memcpy(c->param_names[c->nparams], optarg, (size_t)(eq - optarg));
        c->param_names[c->nparams][eq - optarg] = '\0';
        c->nparams++;
      }
      break;
    }
    case O_X0: rc = copy_str("--x0", c->x0, sizeof c->x0, optarg, err); break;
    case O_ENSEMBLE:
      if (!(rc = parse_u64("--ensemble", optarg, &u, err)) && (u < 1 || u > 100000000ULL))
        rc = cgd_fail(err, CGD_EUSAGE, "--ensemble: must be between 1 and 1e8");
      c->ensemble = (size_t)u;
      break;
    case O_HISTAT: rc = copy_str("--hist-at", c->hist_at, sizeof c->hist_at, optarg, err); break;
    case O_HISTRANGE: {
      char *end;
      c->hist_lo = strtod(optarg, &end);
      if (end == optarg || *end != ',' ||
          (c->hist_hi = strtod(end + 1, &end), *end) || !(c->hist_hi > c->hist_lo) ||
          !isfinite(c->hist_lo) || !isfinite(c->hist_hi))
        rc = cgd_fail(err, CGD_EUSAGE, "--hist-range: expected LO,HI with LO < HI (got '%s')",
                      optarg);
      break;
    }
    case O_BURNIN: if (!(rc = parse_u64("--burn-in", optarg, &u, err))) c->burn_in = u; break;
    case O_CRITK: want_critical_k = 1; break;
    case O_GAMMA: rc = parse_double("--gamma", optarg, &c->gamma, err); break;
    case O_MU: rc = parse_double("--mu", optarg, &c->mu, err); break;
    case O_ITERS:
      if (!(rc = parse_u64("--iters", optarg, &u, err)) && u > 1000000000ULL)
        rc = cgd_fail(err, CGD_EUSAGE, "--iters: at most 1e9");
      c->iters = u;
      break;
    case O_SEED: if (!(rc = parse_u64("--seed", optarg, &u, err))) c->seed = u; break;
    case O_LOSSLIM:
      if (!(rc = parse_double("--loss-limit", optarg, &c->loss_limit, err)) && !(c->loss_limit > 0))
        rc = cgd_fail(err, CGD_EUSAGE, "--loss-limit: must be positive");
      break;
    case O_OUT: rc = copy_str("--out", c->out, sizeof c->out, optarg, err); break;
    case O_LOGEVERY:
      if (!(rc = parse_u64("--log-every", optarg, &u, err)) && u < 1)
        rc = cgd_fail(err, CGD_EUSAGE, "--log-every: must be >= 1");
      c->log_every = u;
      break;
    case O_HISTEVERY: if (!(rc = parse_u64("--hist-every", optarg, &u, err))) c->hist_every = u; break;
    case O_HISTBINS:
      if (!(rc = parse_u64("--hist-bins", optarg, &u, err)) && (u < 1 || u > 100000))
        rc = cgd_fail(err, CGD_EUSAGE, "--hist-bins: must be between 1 and 100000");
      c->hist_bins = (size_t)u;
      break;
    case O_TAIL:
      if (!(rc = parse_double("--tail", optarg, &c->tail_frac, err)) &&
          !(c->tail_frac > 0 && c->tail_frac <= 1))
        rc = cgd_fail(err, CGD_EUSAGE, "--tail: must be in (0, 1]");
      break;
    case O_BLASTHREADS:
      if (!(rc = parse_u64("--blas-threads", optarg, &u, err)) && u > 1024)
        rc = cgd_fail(err, CGD_EUSAGE, "--blas-threads: at most 1024");
      *blas_threads = (int)u;
      break;
    case O_NOPLOTS: c->plots = 0; break;
    case O_NOPROGRESS: c->progress = 0; break;
    case O_QUIET: c->quiet = 1; c->progress = 0; break;
    case O_HELP: usage(stdout); return 1;
    case O_VERSION: printf("train (chaosgd) %s, git %s\n", CGD_VERSION, CGD_GIT_REV); return 1;
    case ':': return cgd_fail(err, CGD_EUSAGE, "option %s needs a value (see --help)", name);
    default: return cgd_fail(err, CGD_EUSAGE, "unknown option %s (see --help)", name);
    }
  }
  if (rc) return rc;
  if (optind < argc)
    return cgd_fail(err, CGD_EUSAGE, "unexpected argument '%s' (see --help)", argv[optind]);
  if (want_critical_k) { /* for the --f1 given (default sin), whatever the option order */
    cgd_ms_spec spec = {.f0 = "doublewell", .f1 = c->f1[0] ? c->f1 : "sin", .eps = c->eps,
                        .k = 1.0};
    const char *pn[8];
    for (size_t i = 0; i < c->nparams; i++) pn[i] = c->param_names[i];
    spec.nparams = c->nparams;
    spec.param_names = pn;
    spec.param_values = c->param_values;
    cgd_objective *o;
    double kc;
    if ((rc = cgd_multiscale_create(&spec, &o, err))) return rc;
    rc = cgd_doublewell_critical_k_for(o, &kc, err);
    cgd_objective_free(o);
    if (rc) return rc;
    printf("%.15g\n", kc);
    return 1;
  }
  if (*nlr == 0) lrs[(*nlr)++] = c->lr;
  /* every combination check lives in the library; here only so nothing is created first */
  return cgd_run_config_check(c, err);
}

static void say_result(const cgd_run_config *c, const cgd_run_result *r) {
  if (c->quiet) return;
  fprintf(stderr, "lr %g: %s after %llu steps (%.2f s)", c->lr,
          r->verdict[0] ? r->verdict : "no verdict", (unsigned long long)r->steps, r->seconds);
  if (!c->f0[0]) fprintf(stderr, ", final loss %.6g, %.1f us/step", r->final_loss,
                         r->steps ? 1e6 * r->seconds / (double)r->steps : 0.0);
  if (r->have_tail)
    fprintf(stderr, "; tail: %.1f%% of steps raise the %s, rel. std %.3g",
            100 * r->tail.frac_increase, c->f0[0] ? "value" : "loss", r->tail.rel_std);
  if (isfinite(r->gibbs_tv))
    fprintf(stderr, "; TV to the %s Gibbs law %.4f", c->gibbs_gaussian ? "Gaussian-form" : "rescaled",
            r->gibbs_tv);
  fprintf(stderr, "\n");
  if (r->plots_skipped) fprintf(stderr, "  plots skipped: gnuplot not found\n");
}

int main(int argc, char **argv) {
  cgd_run_config cfg;
  cgd_run_config_defaults(&cfg);
  cgd_error err = {{0}};
  double lrs[MAX_LR];
  size_t nlr = 0;
  int blas_threads = 1;
  int rc = parse_args(argc, argv, &cfg, lrs, &nlr, &blas_threads, &err);
  if (rc == 1) return 0; /* --help / --version */
  if (rc) {
    fprintf(stderr, "train: %s\n", err.msg);
    return cgd_exit_code(rc);
  }
  size_t pos = 0;
  for (int i = 0; i < argc && pos < sizeof cfg.command_line - 1; i++)
    pos += (size_t)snprintf(cfg.command_line + pos, sizeof cfg.command_line - pos, "%s%s",
                            i ? " " : "", argv[i]);

  /* BLAS threading is process-wide, so the tool (not the library) sets it; results do not
   * depend on it (tests/determinism.sh), only the speed does. */
  if (blas_threads > 0) openblas_set_num_threads(blas_threads);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  cfg.stop = &g_stop;

  if (nlr == 1) {
    cfg.lr = lrs[0];
    cgd_run_result res;
    rc = cgd_run(&cfg, NULL, &res, &err);
    if (res.dir[0] && (rc == CGD_OK || rc == CGD_EDIVERGED || rc == CGD_EINTERRUPTED)) {
      say_result(&cfg, &res);
      printf("%s\n", res.dir);
    }
    if (rc) fprintf(stderr, "train: %s\n", err.msg);
    cgd_run_result_clear(&res);
    return cgd_exit_code(rc);
  }

  /* Comparison: every rate from the same initial parameters (same seed or --init file),
   * each in its own subdirectory, then the side-by-side files. */
  char top[4096], what[64];
  snprintf(what, sizeof what, "compare-seed%llu", (unsigned long long)cfg.seed);
  if ((rc = cgd_run_dir_prepare(cfg.out, what, top, sizeof top, &err))) {
    fprintf(stderr, "train: %s\n", err.msg);
    return cgd_exit_code(rc);
  }
  cgd_run_config cfgs[MAX_LR];
  cgd_run_result res[MAX_LR];
  memset(res, 0, sizeof res);
  int worst = CGD_OK;
  size_t done = 0;
  for (size_t r = 0; r < nlr; r++) {
    cfgs[r] = cfg;
    cfgs[r].lr = lrs[r];
    if (snprintf(cfgs[r].out, sizeof cfgs[r].out, "%s/lr-%g", top, lrs[r]) >= (int)sizeof cfgs[r].out) {
      fprintf(stderr, "train: output path too long\n");
      return 2;
    }
    rc = cgd_run(&cfgs[r], NULL, &res[r], &err);
    if (rc && rc != CGD_EDIVERGED && rc != CGD_EINTERRUPTED) {
      fprintf(stderr, "train: %s\n", err.msg);
      for (size_t k = 0; k <= r; k++) cgd_run_result_clear(&res[k]);
      return cgd_exit_code(rc);
    }
    say_result(&cfgs[r], &res[r]);
    if (rc) fprintf(stderr, "train: %s\n", err.msg);
    if (rc && !worst) worst = rc;
    done = r + 1;
    if (rc == CGD_EINTERRUPTED) break;
  }
  int skipped = 0;
  rc = cgd_compare_write(top, cfgs, res, done, cfg.plots, &skipped, &err);
  for (size_t k = 0; k < done; k++) cgd_run_result_clear(&res[k]);
  if (rc) {
    fprintf(stderr, "train: %s\n", err.msg);
    return cgd_exit_code(rc);
  }
  if (skipped && !cfg.quiet) fprintf(stderr, "  comparison plot skipped: gnuplot not found\n");
  printf("%s\n", top);
  return cgd_exit_code(worst);
}
