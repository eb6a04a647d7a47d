/* bench_lyapunov_scan: measured Lyapunov exponents against the theory λ ≈ m + ln(η/ε)
 * (Figs. 13/14/15/16/17 of Kong & Tao as tables): λ against η/ε and against ε for
 * doublewell (k = 1) + sin and + quasi, madeup on x²/2 (Fig. 5's objective), and the 2-D
 * Matyas + sincos2d with both d-D quantities. 10⁶ steps per point after 10⁴ burn-in, from
 * x0 = 0.9 (1-D) and (0.3, −0.2) (2-D); ± is the batch-means standard error. Prints
 * markdown; with --out DIR also writes DIR/lambda_vs_ratio.csv and DIR/lambda_vs_ratio.png
 * (λ against η/ε with the theory lines, Figs. 13/15). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chaosgd/lyapunov.h"
#include "chaosgd/multiscale.h"

static cgd_objective *mk(const char *f0, const char *f1, double eps) {
  cgd_ms_spec sp = {.f0 = f0, .f1 = f1, .eps = eps, .k = 1.0};
  cgd_objective *o = NULL;
  cgd_error err;
  if (cgd_multiscale_create(&sp, &o, &err)) fprintf(stderr, "%s\n", err.msg);
  return o;
}

static FILE *g_csv;

static void row(const char *f0, const char *f1, double eps, double eta, double x0) {
  cgd_objective *o = mk(f0, f1, eps);
  cgd_error err;
  double m = NAN;
  const char *meth = "";
  cgd_lyap_m_theory(f1, eps, o, &m, &meth, &err);
  cgd_estimate e;
  double L = log(eta / eps);
  if (cgd_lyapunov_1d(o, eta, x0, 10000, 1000000, &e, NULL, &err)) {
    printf("| %s + %s | %g | %g | %g | – | %s |\n", f0, f1, eps, eta / eps, m + L, err.msg);
  } else {
    printf("| %s + %s | %g | %g | %.4f | %.4f ± %.4f | %+.4f |\n", f0, f1, eps, eta / eps, m + L,
           e.mean, e.se, e.mean - (m + L));
    if (g_csv) fprintf(g_csv, "%s,%g,%g,%.8g,%.8g,%.3g\n", f1, eps, eta / eps, m + L, e.mean, e.se);
  }
  cgd_objective_free(o);
}

int main(int argc, char **argv) {
  const char *out = argc > 2 && !strcmp(argv[1], "--out") ? argv[2] : NULL;
  char path[4096];
  if (out) {
    mkdir(out, 0777);
    snprintf(path, sizeof path, "%s/lambda_vs_ratio.csv", out);
    g_csv = fopen(path, "w");
    if (!g_csv) { perror(path); return 4; }
    fprintf(g_csv, "f1,eps,eta_over_eps,theory,lambda,se\n");
  }
  const double ratios[] = {0.5, 1, 1.5, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 10000};
  printf("### λ against η/ε (ε = 1e-4; Figs. 13, 15)\n\n| objective | ε | η/ε | m + ln(η/ε) | λ measured | λ − theory |\n|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < sizeof ratios / sizeof *ratios; i++) row("doublewell", "sin", 1e-4, ratios[i] * 1e-4, 0.9);
  for (size_t i = 0; i < sizeof ratios / sizeof *ratios; i++) row("doublewell", "quasi", 1e-4, ratios[i] * 1e-4, 0.9);
  if (g_csv) {
    fclose(g_csv);
    g_csv = NULL;
    snprintf(path, sizeof path, "%s/lambda_vs_ratio.gp", out);
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); return 4; }
    fprintf(f, "set terminal pngcairo size 900,600\nset output 'lambda_vs_ratio.png'\nset datafile separator ','\n"
               "set logscale x\nset xlabel 'eta / eps'\nset ylabel 'Lyapunov exponent'\nset key top left\n"
               "set title 'doublewell (k = 1) + f1, eps = 1e-4: measured lambda (points) and m + ln(eta/eps) (lines)'\n"
               "plot 'lambda_vs_ratio.csv' using ($3):(stringcolumn(1) eq 'sin' ? $5 : 1/0) with points pt 7 lc rgb 'blue' title 'sin, measured',"
               " '' using ($3):(stringcolumn(1) eq 'sin' ? $4 : 1/0) with lines lc rgb 'blue' title 'sin: -ln 2 + ln(eta/eps)',"
               " '' using ($3):(stringcolumn(1) eq 'quasi' ? $5 : 1/0) with points pt 5 lc rgb 'red' title 'quasi, measured',"
               " '' using ($3):(stringcolumn(1) eq 'quasi' ? $4 : 1/0) with lines lc rgb 'red' title 'quasi: m + ln(eta/eps), m = 0',"
               " 0 with lines lc rgb 'gray' notitle\n");
    fclose(f);
    snprintf(path, sizeof path, "cd '%s' && gnuplot lambda_vs_ratio.gp", out);
    if (system(path) != 0) fprintf(stderr, "gnuplot failed or missing\n");
  }
  printf("\n### λ against ε (η = 0.02; Fig. 14)\n\n| objective | ε | η/ε | m + ln(η/ε) | λ measured | λ − theory |\n|---|---|---|---|---|---|\n");
  const double epss[] = {1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 1e-6, 1e-7};
  for (size_t i = 0; i < sizeof epss / sizeof *epss; i++) row("doublewell", "sin", epss[i], 0.02, 0.9);
  printf("\n### Fig. 5's objective x²/2 + ε cos(1 + cos(√3x/5)/ε)\n\n| objective | ε | η/ε | m + ln(η/ε) | λ measured | λ − theory |\n|---|---|---|---|---|---|\n");
  row("quadratic", "madeup", 1e-4, 0.1, 0.9);
  row("quadratic", "madeup", 1e-6, 0.1, 0.9);
  printf("\n### 2-D: Matyas + sincos2d, η = 0.1 (Figs. 16/17)\n\n| ε | m (torus) | norm_average − ln(η/ε) | λ1 − ln(η/ε) | λ2 − ln(η/ε) |\n|---|---|---|---|---|\n");
  const double e2[] = {1e-3, 1e-4, 1e-5, 1e-6};
  for (size_t i = 0; i < 4; i++) {
    cgd_objective *o = mk("matyas", "sincos2d", e2[i]);
    cgd_error err;
    double m, x0[2] = {0.3, -0.2};
    cgd_lyap_m_theory("sincos2d", e2[i], o, &m, NULL, &err);
    cgd_estimate sp[2], na;
    double L = log(0.1 / e2[i]);
    if (cgd_lyapunov_spectrum(o, 0.1, x0, 10000, 1000000, sp, &na, &err) == 0)
      printf("| %g | %.4f | %.4f ± %.4f | %.4f ± %.4f | %.4f ± %.4f |\n", e2[i], m, na.mean - L, na.se,
             sp[0].mean - L, sp[0].se, sp[1].mean - L, sp[1].se);
    cgd_objective_free(o);
  }
  return 0;
}
