/* The option table and what is produced from it here: defaults, validation of one value
 * from any source, and the kind checks. The command line and --help (cmdline.c) and
 * config.json (config.c) use the same table through options_internal.h. */
#include "chaosgd/options.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/grid.h"
#include "chaosgd/limits.h"
#include "chaosgd/mlp.h"
#include "chaosgd/parse.h"
#include "chaosgd/sampling.h"
#include "options_internal.h"

#define F(field) offsetof(cgd_run_config, field), sizeof(((cgd_run_config *)0)->field)
#define MLP CGD_KIND_MLP
#define ANA CGD_KIND_ANALYTIC
#define ORB CGD_KIND_ORBIT
#define ENS CGD_KIND_ENSEMBLE
#define ALL CGD_KIND_ALL
#define INF INFINITY

/* name, key, type, field, default, [lo, hi] (open ends flagged), kinds, map, group,
 * metavar, help. A key of NULL is not recorded in config.json (tool behaviour only). */
static const cgd_optdef TABLE[] = {
  {"data", "data", OPT_STR, F(data), "datasets/airfoil_self_noise.dat", 0, 0, 0, MLP, -1, "data and model (MLP)", "FILE",
   "data: tab/comma/semicolon/space separated numbers, optional header"},
  {"target-col", "target_col", OPT_U64, F(target_col), "0", 0, 1e6, 0, MLP, -1, NULL, "N",
   "1-based target column, 0 = last"},
  {"no-standardize", "standardize", OPT_NEGFLAG, F(standardize), "1", 0, 0, 0, MLP, -1, NULL, NULL,
   "do not z-score inputs and target"},
  {"holdout", "holdout", OPT_DOUBLE, F(holdout), "0", 0, 1, OPT_HI_OPEN, MLP, -1, NULL, "FRAC",
   "fraction of rows kept out of training, their loss logged"},
  {"hidden", "hidden", OPT_U64, F(hidden), "16", 1, 1e6, 0, MLP, -1, NULL, "H", "hidden units (d-H-1)"},
  {"leak", "leak", OPT_DOUBLE, F(leak), "0.01", 0, 1, 0, MLP, -1, NULL, "A", "leaky-ReLU slope"},
  {"kernel", "kernel", OPT_STR, F(kernel), "blas", 0, 0, 0, MLP, -1, NULL, "NAME",
   "blas (the reference path) | fused (one pass that never forms Z or A; same results to 1e-12)"},
  {"init", "init", OPT_STR, F(init), "", 0, 0, 0, MLP, -1, NULL, "FILE",
   "initial parameters (plain-text format, see README) [PyTorch-style init from --seed]"},
  {"save-params", "save_params", OPT_STR, F(save_params), "", 0, 0, 0, MLP, -1, NULL, "FILE",
   "also write the final parameters to FILE"},
  {"blas-threads", "blas_threads", OPT_U64, F(blas_threads), "1", 0, 1024, 0, MLP, -1, NULL, "N",
   "OpenBLAS threads, 0 = OpenBLAS's default (results do not depend on it)"},

  {"f0", "f0", OPT_STR, F(f0), "", 0, 0, 0, ANA, -1, "analytic objective f = f0 + f1,eps (instead of the MLP)", "NAME|EXPR",
   "quadratic quartic tilted doublewell matyas, or an expression in x (and y)"},
  {"f1", "f1", OPT_STR, F(f1), "sin", 0, 0, 0, ANA, -1, NULL, "NAME|EXPR",
   "sin negcos quasi madeup sincos2d none, or an expression"},
  /* 1/eps and x/eps must be finite doubles: eps below 1e-300 leaves no room for x */
  {"eps", "eps", OPT_DOUBLE, F(eps), "1e-6", 1e-300, INF, 0, ANA, -1, NULL, "E", "the small scale eps"},
  {"k", "k", OPT_DOUBLE, F(k), "1", 0, INF, OPT_LO_OPEN, ANA, -1, NULL, "K", "doublewell coefficient"},
  {"param", "params", OPT_PARAMS, F(nparams), "", 0, 0, 0, ANA, -1, NULL, "NAME=VALUE",
   "a parameter for expressions (repeatable, up to 8)"},
  {"x0", "x0", OPT_LAW, F(x0), "uniform:-1,1", 0, 0, 0, ANA, -1, NULL, "LAW",
   "initial state: 0.37 | 0.3,-0.2 | uniform:LO,HI | normal:M,S"},
  {"ensemble", "ensemble", OPT_U64, F(ensemble), "1", 1, 1e8, 0, ANA, -1, NULL, "N",
   "number of particles (1: a single orbit)"},
  {"hist-at", "hist_at", OPT_STEPS, F(hist_at), "", 0, 0, 0, ENS, -1, NULL, "S1,S2,..",
   "ensemble histograms at these steps (and always the last)"},
  {"hist-range", "hist_range", OPT_RANGE, F(hist_range), "-1.5,1.5", 0, 0, 0, ANA, -1, NULL, "LO,HI",
   "histogram range per coordinate"},
  {"burn-in", "burn_in", OPT_AUTO_U64, F(burn_in), "auto", 0, 1e9, 0, ORB, -1, NULL, "N",
   "single orbit: steps left out of its time histogram [auto: iters/10]"},
  {"compare-map", "compare_map", OPT_CMPMAP, F(compare_map), "", 0, 0, 0, ENS, -1, NULL, "NAME",
   "also run NAME from the same initial ensemble; distances and histograms per step"},
  {"gibbs-form", "gibbs_form", OPT_GIBBS, F(gibbs_gaussian), "exact", 0, 0, 0, ANA, -1, NULL, "FORM",
   "exact (rescaled Gibbs law of f0) | gaussian (Rmk 15: f0's quadratic model)"},

  {"lr", "lr", OPT_LRS, F(lrs), "0.02", 0, INF, OPT_LO_OPEN, ALL, -1, "optimisation", "X[,Y..]",
   "learning rate; a list (or A:B:N, A:B:log:N) compares rates from the same start"},
  {"map", "map", OPT_MAP, F(map), "gd", 0, 0, 0, ALL, -1, NULL, "NAME",
   "gd | heavyball | nag-sc; analytic also stochastic | gaussian"},
  {"gamma", "gamma", OPT_DOUBLE, F(gamma), "0.9", 0, 1, 0, ALL, CGD_MAP_HEAVYBALL, NULL, "G",
   "heavy-ball momentum (--map heavyball)"},
  {"mu", "mu", OPT_DOUBLE, F(mu), "1", 0, INF, OPT_LO_OPEN, ALL, CGD_MAP_NAGSC, NULL, "M",
   "NAG-SC strong-convexity constant (--map nag-sc)"},
  {"iters", "iters", OPT_U64, F(iters), "100000", 0, 1e9, 0, ALL, -1, NULL, "N", "gradient steps"},
  {"seed", "seed", OPT_SEED, F(seed), "0", 0, 0, 0, ALL, -1, NULL, "N",
   "seed of the initialisation, holdout split, initial ensemble and map noise"},
  {"loss-limit", "loss_limit", OPT_DOUBLE, F(loss_limit), "1e12", 0, INF, OPT_LO_OPEN, MLP, -1, NULL, "X",
   "loss above X counts as divergence"},

  {"lyapunov", "lyapunov", OPT_ONOFF, F(lyapunov), "auto", 0, 0, 0, ALL, -1, "chaos diagnostics", "[=on|off]",
   "largest Lyapunov exponent (and spectrum, theory, per particle) with its standard error\n"
   "                       [auto: on for the MLP with GD and single orbits, off for ensembles]"},
  {"lyap-burn-in", "lyap_burn_in", OPT_AUTO_U64, F(lyap_burn_in), "auto", 0, 1e18, 0, ALL, -1, NULL, "N",
   "steps before the exponent accumulates [auto: start of the --tail window]"},
  {"lyap-twin-every", "lyap_twin_every", OPT_U64, F(lyap_twin_every), "0", 0, 1e9, 0, MLP, -1, NULL, "K",
   "MLP: also a twin run 1e-8 away, put back every K steps (finite-size check) [0: none]"},
  {"watch", "watch", OPT_STR, F(watch), "auto", 0, 0, 0, MLP, -1, NULL, "LIST",
   "time histograms over the tail of the loss and W1[i,j],b1[i],W2[j],b2 (0-based),\n"
   "                       first vs second half [auto: the 4 largest-variance parameters; off]"},
  {"bifurcation", "bifurcation", OPT_FLAG, F(bifurcation), "0", 0, 0, 0, ORB, -1, NULL, NULL,
   "orbit diagram over the --lr grid (e.g. 2e-3:5e-3:400): period, lambda, micro-wells per lr"},
  {"li-yorke", "li_yorke", OPT_FLAG, F(li_yorke), "0", 0, 0, 0, ORB, -1, NULL, NULL,
   "1-D GD: search and verify a Li-Yorke witness (period 3 implies chaos) on --hist-range"},
  {"horizon", "horizon", OPT_FLAG, F(horizon), "0", 0, 0, 0, ORB, -1, NULL, NULL,
   "1-D GD, built-in f0 and f1: predictability horizon against a long-double orbit"},
  {"sharpness-every", "sharpness_every", OPT_U64, F(sharpness_every), "0", 0, 1e18, 0, MLP | ORB, -1, NULL, "N",
   "top Hessian eigenvalue beside 2/lr every N steps (sharpness.csv) [0: never]"},

  {"max-memory", "max_memory", OPT_STR, F(max_memory), "auto", 0, 0, 0, ALL, -1, "outputs", "BYTES",
   "refuse a run that would need more (e.g. 4G, 512M) [auto: 3/4 of the memory available]"},
  {"out", "out", OPT_STR, F(out), "", 0, 0, 0, ALL, -1, NULL, "DIR",
   "run directory [runs/<what>-<time>-<pid>]"},
  {"force", NULL, OPT_FLAG, F(force), "0", 0, 0, 0, ALL, -1, NULL, NULL,
   "reuse an --out directory that holds an earlier run (its run files are replaced)"},
  {"log-every", "log_every", OPT_AUTO_U64, F(log_every), "auto", 1, 1e18, 0, ALL, -1, NULL, "N",
   "trace.csv row every N steps [auto: 1; ensembles max(10, iters/1000)]"},
  {"hist-every", "hist_every", OPT_U64, F(hist_every), "0", 0, 1e18, 0, MLP, -1, NULL, "N",
   "parameter histograms every N steps, plus first and last [0: first and last]"},
  {"hist-bins", "hist_bins", OPT_AUTO_U64, F(hist_bins), "auto", 1, 100000, 0, ALL, -1, NULL, "N",
   "bins per histogram (per axis in 2-D) [auto: 40 MLP, 100 1-D, 20 2-D]"},
  {"tail", "tail_frac", OPT_DOUBLE, F(tail_frac), "0.5", 0, 1, OPT_LO_OPEN, MLP | ORB, -1, NULL, "FRAC",
   "summary statistics over the last FRAC of the run"},
  {"checkpoint-every", "checkpoint_every", OPT_U64, F(checkpoint_every), "0", 0, 1e18, 0, ALL, -1, NULL, "N",
   "write checkpoint.bin every N steps (always when interrupted); continue with --resume"},
  {"no-plots", "plots", OPT_NEGFLAG, F(plots), "1", 0, 0, 0, ALL, -1, NULL, NULL, "do not call gnuplot"},
  {"no-progress", NULL, OPT_NEGFLAG, F(progress), "1", 0, 0, 0, ALL, -1, NULL, NULL,
   "no progress line on a terminal"},
  {"quiet", NULL, OPT_FLAG, F(quiet), "0", 0, 0, 0, ALL, -1, NULL, NULL, "only errors on stderr"},
};
#define NOPT (sizeof TABLE / sizeof *TABLE)

int cgd_parse_memory(const char *s, uint64_t *out, cgd_error *err) {
  if (!strcmp(s, "auto")) {
    *out = cgd_default_max_memory();
    return CGD_OK;
  }
  char num[64];
  size_t len = strlen(s);
  uint64_t mult = 1;
  const char *suf = "KMGT";
  const char *hit = len ? strchr(suf, s[len - 1]) : NULL;
  if (hit && s[len - 1]) {
    for (const char *p = suf; p <= hit; p++) mult *= 1024;
    len--;
  }
  double v;
  if (len >= sizeof num) return cgd_fail(err, CGD_EUSAGE, "--max-memory: '%s' is too long", s);
  memcpy(num, s, len);
  num[len] = '\0';
  cgd_parse_code pc = cgd_parse_double(num, &v);
  if (pc || !(v * (double)mult >= 1) || v * (double)mult > 1.8e19)
    return cgd_fail(err, CGD_EUSAGE, "--max-memory: expected auto or bytes such as 4G, 512M, "
                    "1000000 (got '%s')", s);
  *out = (uint64_t)(v * (double)mult);
  return CGD_OK;
}

int cgd_opt_auto_max(const cgd_optdef *d) {
  /* the burn-ins' "auto" is UINT64_MAX (0 is a real value for them); other autos are 0 */
  return !strcmp(d->name, "burn-in") || !strcmp(d->name, "lyap-burn-in");
}

const cgd_optdef *cgd_opt_table(size_t *n) {
  *n = NOPT;
  return TABLE;
}

const cgd_optdef *cgd_opt_find(const char *name, const char *key) {
  for (size_t i = 0; i < NOPT; i++)
    if ((name && !strcmp(TABLE[i].name, name)) || (key && TABLE[i].key && !strcmp(TABLE[i].key, key)))
      return &TABLE[i];
  return NULL;
}

size_t cgd_opt_index(const cgd_optdef *d) { return (size_t)(d - TABLE); }

const char *cgd_fmt_double(double v, char *buf, size_t len) {
  for (int p = 15; p <= 17; p++) {
    snprintf(buf, len, "%.*g", p, v);
    if (strtod(buf, NULL) == v) break;
  }
  return buf;
}

/* ---------------------------------------------------------------- one value, any source */

static void *field(cgd_run_config *c, const cgd_optdef *d) { return (char *)c + d->offset; }

/* "[lo, hi)" as words for messages */
static int range_msg(const cgd_optdef *d, const char *who, const char *text, cgd_error *err) {
  char a[32], b[32];
  cgd_fmt_double(d->lo, a, sizeof a);
  cgd_fmt_double(d->hi, b, sizeof b);
  if (isinf(d->hi))
    return cgd_fail(err, CGD_EUSAGE, "%s: must be %s %s (got %s)", who,
                    d->flags & OPT_LO_OPEN ? ">" : ">=", a, text);
  return cgd_fail(err, CGD_EUSAGE, "%s: must be in %s%s, %s%s (got %s)", who,
                  d->flags & OPT_LO_OPEN ? "(" : "[", a, b, d->flags & OPT_HI_OPEN ? ")" : "]",
                  text);
}

static int in_range(const cgd_optdef *d, double v) {
  if (d->flags & OPT_LO_OPEN ? !(v > d->lo) : !(v >= d->lo)) return 0;
  if (d->flags & OPT_HI_OPEN ? !(v < d->hi) : !(v <= d->hi)) return 0;
  return 1;
}

static int parse_num(const cgd_optdef *d, const char *who, const char *s, double *v,
                     cgd_error *err) {
  cgd_parse_code pc = cgd_parse_double(s, v);
  if (pc) return cgd_fail(err, CGD_EUSAGE, "%s: '%s' %s", who, s, cgd_parse_why(pc));
  return in_range(d, *v) ? CGD_OK : range_msg(d, who, s, err);
}

static int parse_whole(const cgd_optdef *d, const char *who, const char *s, uint64_t *u,
                       cgd_error *err) {
  cgd_parse_code pc = cgd_parse_u64(s, u);
  if (pc == CGD_PARSE_SYNTAX || pc == CGD_PARSE_RANGE)
    return cgd_fail(err, CGD_EUSAGE, "%s: '%s' is not a whole number%s", who, s,
                    pc == CGD_PARSE_RANGE ? " below 2^64" : "");
  if (pc) return cgd_fail(err, CGD_EUSAGE, "%s: '%s' %s", who, s, cgd_parse_why(pc));
  if (d->hi > 0 && !((double)*u >= d->lo && (double)*u <= d->hi)) {
    char a[32], b[32];
    return cgd_fail(err, CGD_EUSAGE, "%s: must be between %s and %s (got %s)", who,
                    cgd_fmt_double(d->lo, a, sizeof a), cgd_fmt_double(d->hi, b, sizeof b), s);
  }
  return CGD_OK;
}

int cgd_opt_set_text(cgd_run_config *c, const cgd_optdef *d, const char *who, const char *s,
                     int src, cgd_error *err) {
  void *p = field(c, d);
  int rc = CGD_OK;
  double v;
  uint64_t u;
  /* config.json records an unset text option as "" (init, save_params, hist_at,
   * compare_map): that means the default there; on the command line it is a mistake */
  if (s && !*s) {
    if (src == CGD_SRC_FILE && !d->def[0]) return CGD_OK;
    return cgd_fail(err, CGD_EUSAGE, "%s: empty value", who);
  }
  switch (d->type) {
  case OPT_DOUBLE:
    if (!(rc = parse_num(d, who, s, &v, err))) *(double *)p = v;
    break;
  case OPT_U64:
    if (!(rc = parse_whole(d, who, s, &u, err))) *(uint64_t *)p = u;
    break;
  case OPT_AUTO_U64:
    if (!strcmp(s, "auto")) *(uint64_t *)p = cgd_opt_auto_max(d) ? UINT64_MAX : 0;
    else if (!(rc = parse_whole(d, who, s, &u, err))) *(uint64_t *)p = u;
    break;
  case OPT_SEED:
    if (!(rc = parse_whole(d, who, s, &u, err))) *(uint64_t *)p = u;
    break;
  case OPT_STR:
  case OPT_LAW:
  case OPT_STEPS:
    if (snprintf(p, d->size, "%s", s) >= (int)d->size)
      rc = cgd_fail(err, CGD_EUSAGE, "%s: value too long (at most %zu characters)", who, d->size - 1);
    break;
  case OPT_FLAG:
  case OPT_NEGFLAG:
    /* from the command line a flag has no value; from config.json it is a boolean */
    if (!s) *(int *)p = d->type == OPT_FLAG;
    else if (!strcmp(s, "true") || !strcmp(s, "false")) *(int *)p = !strcmp(s, "true");
    else rc = cgd_fail(err, CGD_EUSAGE, "%s: expected true or false (got %s)", who, s);
    break;
  case OPT_MAP:
  case OPT_CMPMAP:
    if (cgd_map_kind_parse(s, (cgd_map_kind *)p))
      rc = cgd_fail(err, CGD_EUSAGE, "%s: '%s' is not one of gd, stochastic, gaussian, heavyball, nag-sc",
                    who, s);
    else if (d->type == OPT_CMPMAP)
      c->compare = 1;
    break;
  case OPT_GIBBS:
    if (!strcmp(s, "exact") || !strcmp(s, "gaussian")) *(int *)p = !strcmp(s, "gaussian");
    else rc = cgd_fail(err, CGD_EUSAGE, "%s: 'exact' or 'gaussian' (got '%s')", who, s);
    break;
  case OPT_RANGE: {
    double r[2];
    size_t n;
    cgd_error e2;
    if (cgd_grid_parse(who, s, r, 2, &n, &e2) || n != 2 || strchr(s, ':') || !(r[1] > r[0]) ||
        !isfinite(r[1] - r[0]))
      rc = cgd_fail(err, CGD_EUSAGE, "%s: expected LO,HI with finite LO < HI (got '%s')", who, s);
    else
      memcpy(p, r, sizeof r);
    break;
  }
  case OPT_LRS: {
    double r[CGD_MAX_LR];
    size_t n;
    if ((rc = cgd_grid_parse(who, s, r, CGD_MAX_LR, &n, err))) break;
    for (size_t i = 0; i < n && !rc; i++) {
      char t[32];
      cgd_fmt_double(r[i], t, sizeof t);
      if (!in_range(d, r[i]) || !isfinite(r[i]))
        rc = range_msg(d, who, cgd_fmt_double(r[i], t, sizeof t), err);
      for (size_t j = 0; j < i && !rc; j++)
        if (r[j] == r[i]) rc = cgd_fail(err, CGD_EUSAGE, "%s: rate %s is given twice", who, t);
    }
    if (rc) break;
    memcpy(c->lrs, r, n * sizeof *r);
    c->nlr = n;
    c->lr = r[0];
    break;
  }
  case OPT_ONOFF:
    if (!s || !strcmp(s, "on")) *(int *)p = 1;
    else if (!strcmp(s, "off")) *(int *)p = 0;
    else if (!strcmp(s, "auto")) *(int *)p = -1;
    else rc = cgd_fail(err, CGD_EUSAGE, "%s: on, off or auto (got '%s')", who, s);
    break;
  case OPT_PARAMS: {
    const char *eq = strchr(s, '=');
    if (!eq || eq == s || (size_t)(eq - s) >= sizeof c->param_names[0])
      return cgd_fail(err, CGD_EUSAGE, "%s: expected NAME=VALUE (got '%s')", who, s);
    size_t len = (size_t)(eq - s), slot = c->nparams;
    for (size_t i = 0; i < c->nparams; i++)
      if (strlen(c->param_names[i]) == len && !strncmp(c->param_names[i], s, len)) slot = i;
    if (slot == CGD_MAX_PARAMS)
      return cgd_fail(err, CGD_EUSAGE, "%s: at most %d parameters", who, CGD_MAX_PARAMS);
    cgd_parse_code pc = cgd_parse_double(eq + 1, &v);
    if (pc) return cgd_fail(err, CGD_EUSAGE, "%s: '%s' %s", who, eq + 1, cgd_parse_why(pc));
    memcpy(c->param_names[slot], s, len);
    c->param_names[slot][len] = '\0';
    c->param_values[slot] = v;
    if (slot == c->nparams) c->nparams++;
    break;
  }
  }
  if (!rc) c->src[cgd_opt_index(d)] = (unsigned char)src;
  return rc;
}

void cgd_run_config_defaults(cgd_run_config *c) {
  memset(c, 0, sizeof *c);
  cgd_error e;
  for (size_t i = 0; i < NOPT; i++) {
    const cgd_optdef *d = &TABLE[i];
    if (d->type == OPT_FLAG || d->type == OPT_NEGFLAG) *(int *)field(c, d) = d->def[0] == '1';
    else if (d->type == OPT_ONOFF) *(int *)field(c, d) = -1;
    else if (d->type == OPT_CMPMAP || d->type == OPT_PARAMS || !d->def[0]) continue;
    else cgd_opt_set_text(c, d, d->name, d->def, CGD_SRC_DEFAULT, &e); /* cannot fail */
  }
  cgd_verdict_defaults(&c->verdict);
}

cgd_run_config *cgd_run_config_create(void) {
  cgd_run_config *c = malloc(sizeof *c);
  if (c) cgd_run_config_defaults(c);
  return c;
}

cgd_run_config *cgd_run_config_dup(const cgd_run_config *c) {
  cgd_run_config *d = malloc(sizeof *d);
  if (d) memcpy(d, c, sizeof *d);
  return d;
}

void cgd_run_config_free(cgd_run_config *c) { free(c); }

cgd_kind_id cgd_run_config_kind(const cgd_run_config *c) {
  if (!c->f0[0]) return CGD_KIND_MLP;
  return c->ensemble > 1 ? CGD_KIND_ENSEMBLE : CGD_KIND_ORBIT;
}

const char *cgd_kind_name(cgd_kind_id k) {
  return k == CGD_KIND_MLP ? "mlp" : k == CGD_KIND_ORBIT ? "orbit" : "ensemble";
}

int cgd_run_config_set(cgd_run_config *c, const char *name, const char *value, cgd_error *err) {
  const cgd_optdef *d = cgd_opt_find(name, NULL);
  char who[80];
  snprintf(who, sizeof who, "--%s", name);
  if (!d) return cgd_fail(err, CGD_EUSAGE, "unknown option %s (see --help)", who);
  int flag = d->type == OPT_FLAG || d->type == OPT_NEGFLAG;
  if (flag && value) return cgd_fail(err, CGD_EUSAGE, "%s takes no value", who);
  if (!flag && !value && d->type != OPT_ONOFF)
    return cgd_fail(err, CGD_EUSAGE, "option %s needs a value (see --help)", who);
  return cgd_opt_set_text(c, d, who, value, CGD_SRC_CLI, err);
}

/* ---------------------------------------------------------------- checks */

static const char *kinds_words(unsigned k) {
  switch (k) {
  case CGD_KIND_MLP: return "MLP runs (no --f0)";
  case CGD_KIND_ANALYTIC: return "analytic runs (--f0)";
  case CGD_KIND_ORBIT: return "single orbits (--f0 without --ensemble)";
  case CGD_KIND_ENSEMBLE: return "ensembles (--f0 with --ensemble N > 1)";
  case CGD_KIND_MLP | CGD_KIND_ORBIT: return "MLP runs and single orbits";
  }
  return "other run kinds";
}

static void source_name(const cgd_run_config *c, const cgd_optdef *d, char *buf, size_t len) {
  if (c->src[cgd_opt_index(d)] == CGD_SRC_FILE)
    snprintf(buf, len, "%s: \"%s\"", c->config_path, d->key ? d->key : d->name);
  else
    snprintf(buf, len, "--%s", d->name);
}

int cgd_run_config_check(const cgd_run_config *c, cgd_error *err) {
  const cgd_kind_id kind = cgd_run_config_kind(c);
  char who[4200];
  for (size_t i = 0; i < NOPT; i++) {
    const cgd_optdef *d = &TABLE[i];
    if (!c->src[i]) continue;
    source_name(c, d, who, sizeof who);
    if (!(d->kinds & kind))
      return cgd_fail(err, CGD_EUSAGE, "%s applies to %s only; this is %s run", who,
                      kinds_words(d->kinds),
                      kind == CGD_KIND_MLP ? "an MLP" : kind == CGD_KIND_ORBIT ? "a single-orbit" : "an ensemble");
    if (d->map >= 0 && c->map != (cgd_map_kind)d->map && !(c->compare && c->compare_map == (cgd_map_kind)d->map))
      return cgd_fail(err, CGD_EUSAGE, "%s applies to --map %s only (the map is %s)", who,
                      cgd_map_kind_name((cgd_map_kind)d->map), cgd_map_kind_name(c->map));
  }
  if (kind == CGD_KIND_MLP && (c->map == CGD_MAP_STOCHASTIC || c->map == CGD_MAP_GAUSSIAN))
    return cgd_fail(err, CGD_EUSAGE,
                    "--map %s needs an analytic objective (--f0 ...): it splits f into f0 + f1,eps",
                    cgd_map_kind_name(c->map));
  if (c->compare && c->compare_map == c->map)
    return cgd_fail(err, CGD_EUSAGE, "--compare-map %s is the run's own map",
                    cgd_map_kind_name(c->map));
  if (c->nlr > 1 && c->compare)
    return cgd_fail(err, CGD_EUSAGE, "--compare-map and a list of rates: run one comparison at a time");
  /* NAG-SC's condition on every rate, before any run directory exists (cgd_map_create
   * checks it again, for library callers) */
  if (c->map == CGD_MAP_NAGSC || (c->compare && c->compare_map == CGD_MAP_NAGSC))
    for (size_t i = 0; i < (c->nlr ? c->nlr : 1); i++) {
      const double lr = c->nlr ? c->lrs[i] : c->lr;
      if (!(c->mu > 0 && c->mu * lr < 1))
        return cgd_fail(err, CGD_EUSAGE, "--map nag-sc needs --mu > 0 and mu*lr < 1 (got mu %g, lr %g)",
                        c->mu, lr);
    }
  uint64_t mem;
  int rc0 = cgd_parse_memory(c->max_memory, &mem, err);
  if (rc0) return rc0;
  if (kind == CGD_KIND_MLP) {
    cgd_mlp_kernel k;
    if (cgd_mlp_kernel_parse(c->kernel, &k, NULL))
      return cgd_fail(err, CGD_EUSAGE, "--kernel: 'blas' or 'fused' (got '%s')", c->kernel);
  }
  if (kind != CGD_KIND_MLP) {
    cgd_law law;
    int rc = cgd_law_parse(c->x0, &law, err);
    if (rc) return rc;
    uint64_t *steps;
    size_t n;
    if ((rc = cgd_steps_parse("--hist-at", c->hist_at, c->iters, &steps, &n, err))) return rc;
    free(steps);
  }
  return CGD_OK;
}

