/* A single orbit of GD on f = x⁴/4 + ε sin(x/ε) through the installed chaosgd library, with
 * a user observer that measures the Lyapunov exponent of the orbit by eq. (4) of Kong & Tao
 * (2020): λ = (1/n) Σ ln|1 − η f''(x_i)|, and prints it beside the theory
 * λ ≈ m + ln(η/ε) with m = E ln|sin θ| = −ln 2 for f1 = ε sin(x/ε).
 *
 *   cc orbit_lyapunov.c $(pkg-config --cflags --libs chaosgd) -o orbit_lyapunov
 *   ./orbit_lyapunov [OUTDIR]
 */
#include <math.h>
#include <stdio.h>

#include <chaosgd/observer.h>
#include <chaosgd/options.h>
#include <chaosgd/run.h>

typedef struct {
  const cgd_objective *obj;
  double lr, sum;
  unsigned long long n, burn_in;
} lyap;

static int lyap_start(void *s, const cgd_run_info *info, cgd_error *err) {
  lyap *l = s;
  (void)err;
  l->obj = info->obj;
  l->lr = info->cfg->lr;
  return CGD_OK;
}

/* every step: f''(x_t) from the objective's exact Hessian */
static int lyap_observe(void *s, uint64_t t, size_t n, const double *x, const double *f,
                        const double *g, cgd_error *err) {
  lyap *l = s;
  (void)n, (void)f, (void)g;
  double h;
  int rc = l->obj->eval(l->obj->ctx, 1, x, NULL, NULL, &h, err);
  if (rc) return rc;
  if (t >= l->burn_in) {
    l->sum += log(fabs(1.0 - l->lr * h));
    l->n++;
  }
  return CGD_OK;
}

static int lyap_finish(void *s, const cgd_run_info *info, cgd_record *sum, cgd_error *err) {
  lyap *l = s;
  (void)err;
  const double lambda = l->sum / (double)l->n, theory = -log(2.0) + log(l->lr / info->cfg->eps);
  cgd_record *o = cgd_record_object(sum, "example_lyapunov");
  cgd_record_num(o, "lambda", lambda);
  cgd_record_num(o, "lambda_theory", theory);
  printf("lambda %.4f over %llu steps; theory -ln 2 + ln(lr/eps) = %.4f\n", lambda, l->n, theory);
  return CGD_OK;
}

int main(int argc, char **argv) {
  cgd_run_config *c = cgd_run_config_create();
  cgd_error err;
  const char *opts[][2] = {{"f0", "quartic"}, {"f1", "sin"}, {"eps", "1e-4"}, {"lr", "0.01"},
                           {"x0", "0.37"},    {"iters", "200000"}, {"no-plots", NULL},
                           {"quiet", NULL},   {"out", argc > 1 ? argv[1] : "orbit-lyapunov"},
                           {"force", NULL}};
  for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
    if (cgd_run_config_set(c, opts[i][0], opts[i][1], &err)) {
      fprintf(stderr, "orbit_lyapunov: %s\n", err.msg);
      return 2;
    }
  lyap l = {.burn_in = 1000};
  cgd_run_observer ob = {.name = "lyapunov", .state = &l, .start = lyap_start,
                         .observe = lyap_observe, .finish = lyap_finish};
  cgd_run_extras ex = {.observers = &ob, .nobservers = 1};
  cgd_run_result res;
  int rc = cgd_run(c, &ex, &res, &err);
  if (rc) fprintf(stderr, "orbit_lyapunov: %s\n", err.msg);
  else printf("run directory %s, verdict %s\n", res.dir, res.verdict);
  cgd_run_result_clear(&res);
  cgd_run_config_free(c);
  return rc ? 1 : 0;
}
