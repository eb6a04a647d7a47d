/* The command line of the tools, produced from the option table (options.c): getopt_long's
 * table, --help, --config and --resume (read through config.c), --critical-k. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/multiscale.h"
#include "chaosgd/options.h"
#include "chaosgd_version.h"
#include "ms_spec.h"
#include "options_internal.h"

static int parse_with(cgd_run_config *c, int argc, char **argv, FILE *out,
                      const cgd_optdef *TABLE, size_t NOPT, struct option *opts, cgd_error *err);


void cgd_run_config_usage(FILE *fp) {
  size_t NOPT;
  const cgd_optdef *TABLE = cgd_opt_table(&NOPT);
  fprintf(fp,
          "usage: train [--config RUN/config.json] [options]\n"
          "Full-batch gradient descent on a d-H-1 leaky-ReLU MLP (default: UCI Airfoil, 5-16-1)\n"
          "or on an analytic multiscale objective f0 + f1,eps (a single orbit or an ensemble),\n"
          "writing one run directory: config.json trace.csv hist.csv summary.json *.png\n"
          "\n"
          "  --config FILE        repeat a run from its config.json (must come first; later\n"
          "                       options override it)\n"
          "  --resume RUN         continue an interrupted or killed run (or comparison) from its checkpoint\n"
          "                       (must come first; only --quiet, --no-progress may follow)\n");
  for (size_t i = 0; i < NOPT; i++) {
    const cgd_optdef *d = &TABLE[i];
    if (d->group) fprintf(fp, "\n%s\n", d->group);
    char lhs[64];
    snprintf(lhs, sizeof lhs, "--%s%s%s", d->name, d->metavar && d->metavar[0] != '[' ? " " : "",
             d->metavar ? d->metavar : "");
    int flag = d->type == OPT_FLAG || d->type == OPT_NEGFLAG;
    fprintf(fp, "  %-20s %s", lhs, d->help);
    if (!flag && d->def[0] && !strchr(d->help, '[')) fprintf(fp, " [%s]", d->def);
    fputc('\n', fp);
    if (!strcmp(d->name, "gibbs-form"))
      fprintf(fp, "  %-20s print the doublewell critical k for --f1 (sin: 3*sqrt(3)/8), exit\n",
              "--critical-k");
  }
  fprintf(fp,
          "  --help, --version\n"
          "\n"
          "Options apply to the run kinds they name; any other combination is an error.\n"
          "exit codes: 0 ok, 1 internal error, 2 bad option, 3 bad data or input file,\n"
          "            4 cannot write outputs, 5 diverged, 6 interrupted\n");
}

enum { O_CONFIG = 1000, O_HELP, O_VERSION, O_CRITK, O_RESUME };

static int critical_k(const cgd_run_config *c, FILE *out, cgd_error *err) {
  const char *pn[CGD_MAX_PARAMS];
  cgd_ms_spec spec = cgd_ms_spec_of(c, pn);
  spec.f0 = "doublewell"; /* the threshold is for k(x^2-1)^2 at k = 1, whatever --f0 says */
  spec.k = 1.0;
  cgd_objective *o;
  double kc;
  int rc = cgd_multiscale_create(&spec, &o, err);
  if (rc) return rc;
  rc = cgd_doublewell_critical_k_for(o, &kc, err);
  cgd_objective_free(o);
  if (rc) return rc;
  fprintf(out, "%.15g\n", kc);
  return 1;
}

int cgd_run_config_parse_argv(cgd_run_config *c, int argc, char **argv, FILE *out,
                              cgd_error *err) {
  size_t NOPT;
  const cgd_optdef *TABLE = cgd_opt_table(&NOPT);
  struct option *opts = calloc(NOPT + 6, sizeof *opts);
  if (!opts) return cgd_fail(err, CGD_ENOMEM, "out of memory");
  int rc = parse_with(c, argc, argv, out, TABLE, NOPT, opts, err);
  free(opts);
  return rc;
}

static int parse_with(cgd_run_config *c, int argc, char **argv, FILE *out,
                      const cgd_optdef *TABLE, size_t NOPT, struct option *opts, cgd_error *err) {
  for (size_t i = 0; i < NOPT; i++) {
    int flag = TABLE[i].type == OPT_FLAG || TABLE[i].type == OPT_NEGFLAG;
    opts[i] = (struct option){TABLE[i].name,
                              flag ? no_argument
                              : TABLE[i].type == OPT_ONOFF ? optional_argument
                                                           : required_argument,
                              NULL, (int)i};
  }
  opts[NOPT] = (struct option){"config", required_argument, NULL, O_CONFIG};
  opts[NOPT + 1] = (struct option){"help", no_argument, NULL, O_HELP};
  opts[NOPT + 2] = (struct option){"version", no_argument, NULL, O_VERSION};
  opts[NOPT + 3] = (struct option){"critical-k", no_argument, NULL, O_CRITK};
  opts[NOPT + 4] = (struct option){"resume", required_argument, NULL, O_RESUME};
  opts[NOPT + 5] = (struct option){NULL, 0, NULL, 0};

  size_t pos = 0;
  for (int i = 0; i < argc && pos < sizeof c->command_line - 1; i++)
    pos += (size_t)snprintf(c->command_line + pos, sizeof c->command_line - pos, "%s%s",
                            i ? " " : "", argv[i]);
  opterr = 0;
  optind = 1;
  int ch, rc = CGD_OK, want_critk = 0, nlr_cli = 0;
  /* argv index the option being handled starts at: --config and --resume must be argv[1]
   * (checked this way, "--quiet --config=f" is not mistaken for a first --config) */
  int at = 1;
  for (; !rc && (ch = getopt_long(argc, argv, ":", opts, NULL)) != -1; at = optind) {
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    if (ch >= 0 && (size_t)ch < NOPT && c->resume && strcmp(TABLE[ch].name, "quiet") &&
        strcmp(TABLE[ch].name, "no-progress"))
      return cgd_fail(err, CGD_EUSAGE, "--%s: a resumed run keeps its own options (only --quiet "
                      "and --no-progress may be added)", TABLE[ch].name);
    if (ch >= 0 && (size_t)ch < NOPT) {
      char who[80];
      snprintf(who, sizeof who, "--%s", TABLE[ch].name);
      int flag = TABLE[ch].type == OPT_FLAG || TABLE[ch].type == OPT_NEGFLAG;
      double keep[CGD_MAX_LR];
      size_t nkeep = c->nlr;
      memcpy(keep, c->lrs, sizeof keep);
      rc = cgd_opt_set_text(c, &TABLE[ch], who, flag ? NULL : optarg, CGD_SRC_CLI, err);
      /* an optional value never swallows the next argument: --lyapunov --iters 10 */
      /* --lr A --lr B is --lr A,B; the first --lr replaces a --config's rate */
      if (!rc && TABLE[ch].type == OPT_LRS && nlr_cli++) {
        if (nkeep + c->nlr > CGD_MAX_LR)
          return cgd_fail(err, CGD_EUSAGE, "--lr: at most %d rates", CGD_MAX_LR);
        for (size_t i = 0; i < c->nlr; i++)
          for (size_t j = 0; j < nkeep; j++)
            if (keep[j] == c->lrs[i]) {
              char t[32];
              return cgd_fail(err, CGD_EUSAGE, "--lr: rate %s is given twice",
                              cgd_fmt_double(keep[j], t, sizeof t));
            }
        memmove(c->lrs + nkeep, c->lrs, c->nlr * sizeof *c->lrs);
        memcpy(c->lrs, keep, nkeep * sizeof *keep);
        c->nlr += nkeep;
        c->lr = c->lrs[0];
      }
      continue;
    }
    switch (ch) {
    case O_CONFIG:
      rc = at != 1 ? cgd_fail(err, CGD_EUSAGE, "--config must come first (later options override it)")
                   : cgd_run_config_load(optarg, c, err);
      break;
    case O_RESUME:
      rc = at != 1 ? cgd_fail(err, CGD_EUSAGE, "--resume must come first")
                   : cgd_run_config_load_resume(optarg, c, err);
      break;
    case O_HELP: cgd_run_config_usage(out); return 1;
    case O_VERSION: fprintf(out, "train (chaosgd) %s, git %s\n", CGD_VERSION, CGD_GIT_REV); return 1;
    case O_CRITK: want_critk = 1; break;
    case ':': return cgd_fail(err, CGD_EUSAGE, "option %s needs a value (see --help)", arg);
    default:
      return cgd_fail(err, CGD_EUSAGE, "unknown option %s (see --help)", arg);
    }
  }
  if (rc) return rc;
  if (optind < argc)
    return cgd_fail(err, CGD_EUSAGE, "unexpected argument '%s' (see --help)", argv[optind]);
  if (want_critk) return critical_k(c, out, err);
  return cgd_run_config_check(c, err);
}
