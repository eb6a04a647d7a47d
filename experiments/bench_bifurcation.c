/* bench_bifurcation: an orbit diagram like Kong & Tao's Fig. 9 through cgd_bifurcation:
 * bifurcation.csv (per η: period, λ ± se, wells visited, hop rate), attractor.csv (the last
 * points of each orbit), events.txt (period doublings, onset of chaos and of global chaos)
 * and bifurcation.png (attractor points over η/ε with the micro-well boundaries dashed,
 * λ(η) below).
 *
 *   usage: bench_bifurcation [--f0 quartic] [--f1 negcos] [--eps 1e-3] [--lr A:B:N]
 *                            [--x0 0.01] [--burn N] [--iters N] [--keep K] [--out DIR]
 * --lr is in absolute units; the default 2e-3:5e-3:600 is η/ε from 2 to 5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chaosgd/bifurcation.h"
#include "chaosgd/multiscale.h"

#include "bench_util.h"

int main(int argc, char **argv) {
  const char *f0 = "quartic", *f1 = "negcos", *out = "bifurcation_out";
  double eps = 1e-3, a = 2e-3, b = 5e-3, x0 = 0.01;
  uint64_t n = 600, burn = 20000, iters = 100000, keep = 200;
  const char *me = "bench_bifurcation";
  if (argc % 2 == 0) {
    fprintf(stderr, "usage: %s [--f0 F] [--f1 F] [--eps E] [--x0 X] [--lr A:B:N] [--burn N] "
                    "[--iters N] [--keep N] [--out DIR]\n", me);
    return 2;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    int bad = 0;
    if (!strcmp(k, "--f0")) f0 = v;
    else if (!strcmp(k, "--f1")) f1 = v;
    else if (!strcmp(k, "--eps")) bad = bench_double_arg(me, k, v, 1e-300, 1e300, &eps);
    else if (!strcmp(k, "--x0")) bad = bench_double_arg(me, k, v, -1e300, 1e300, &x0);
    else if (!strcmp(k, "--burn")) bad = bench_u64_arg(me, k, v, 0, 100000000, &burn);
    else if (!strcmp(k, "--iters")) bad = bench_u64_arg(me, k, v, 1, 100000000, &iters);
    else if (!strcmp(k, "--keep")) bad = bench_u64_arg(me, k, v, 1, 100000, &keep);
    else if (!strcmp(k, "--out")) out = v;
    else if (!strcmp(k, "--lr")) { /* A:B:N */
      const char *c2 = strrchr(v, ':');
      char ab[128];
      if (!c2 || c2 == strchr(v, ':') || (size_t)(c2 - v) >= sizeof ab) {
        fprintf(stderr, "%s: --lr '%s' must be A:B:N\n", me, v);
        return 2;
      }
      memcpy(ab, v, (size_t)(c2 - v));
      ab[c2 - v] = 0;
      bad = bench_pair_arg(me, k, ab, 1e-300, 1e300, &a, &b) ||
            bench_u64_arg(me, "--lr (N)", c2 + 1, 2, 1000000, &n);
    } else {
      fprintf(stderr, "%s: unknown option %s\n", me, k);
      return 2;
    }
    if (bad) return 2;
  }
  if (burn >= iters) {
    fprintf(stderr, "%s: --burn %llu must be below --iters %llu\n", me,
            (unsigned long long)burn, (unsigned long long)iters);
    return 2;
  }
  cgd_error err;
  cgd_ms_spec sp = {.f0 = f0, .f1 = f1, .eps = eps, .k = 1.0};
  cgd_objective *o;
  if (cgd_multiscale_create(&sp, &o, &err)) { fprintf(stderr, "%s\n", err.msg); return 2; }
  double *et = malloc(sizeof(double) * n), wp = 0, wo = 0;
  if (!et) { fprintf(stderr, "%s: out of memory\n", me); return 1; }
  if (cgd_grid(a, b, n, 0, et, &err)) { fprintf(stderr, "%s: --lr: %s\n", me, err.msg); return 2; }
  if (cgd_wells_for(f1, eps, &wp, &wo, &err)) wp = wo = 0; /* no wells for this f1 */
  cgd_bif_spec bs = {.etas = et, .n_eta = n, .x0 = x0, .burn_in = burn, .steps = iters - burn,
                     .keep = keep, .well_period = wp, .well_offset = wo};
  cgd_bif_result *r;
  double t = bench_now_s();
  if (cgd_bifurcation(o, &bs, &r, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
  t = bench_now_s() - t;
  mkdir(out, 0777);
  char p[4096];
  snprintf(p, sizeof p, "%s/bifurcation.csv", out);
  FILE *f = fopen(p, "w");
  if (!f) { perror(p); return 4; }
  fprintf(f, "eta,eta_over_eps,period,lambda,lambda_se,wells,hop_rate,diverged\n");
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%.10g,%.8g,%zu,%.8g,%.3g,%zu,%.6g,%d\n", r->eta[i], r->eta[i] / eps, r->period[i],
            r->lambda[i], r->lambda_se[i], r->wells[i], r->hop_rate[i], r->diverged[i]);
  fclose(f);
  snprintf(p, sizeof p, "%s/attractor.csv", out);
  f = fopen(p, "w");
  if (!f) { perror(p); return 4; }
  /* y-range of the plot: the orbits before global chaos (local structure), widened to the
   * enclosing well boundaries; hopping orbits beyond it are clipped (their extent is in
   * the wells panel) */
  double ymin = INFINITY, ymax = -INFINITY;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < keep; k++) {
      double x = r->points[i * keep + k];
      if (!isfinite(x)) continue;
      fprintf(f, "%.8g %.10g\n", r->eta[i] / eps, x);
      if (isnan(r->global_onset) || r->eta[i] < r->global_lo) {
        ymin = fmin(ymin, x);
        ymax = fmax(ymax, x);
      }
    }
  if (wp > 0) {
    ymin = wo + wp * floor((ymin - wo) / wp);
    ymax = wo + wp * ceil((ymax - wo) / wp);
  }
  const double ypad = 0.04 * (ymax - ymin); /* the boundaries stay visible inside the frame */
  fclose(f);
  snprintf(p, sizeof p, "%s/events.txt", out);
  f = fopen(p, "w");
  if (!f) { perror(p); return 4; }
  FILE *outs[2] = {stdout, f};
  for (int s = 0; s < 2; s++) {
    fprintf(outs[s], "%s + %s, eps = %g, x0 = %g, %lu rates in [%g, %g] eps, %lu steps (burn-in %lu): %.2f s\n",
            f0, f1, eps, x0, n, a / eps, b / eps, iters, burn, t);
    for (size_t k = 0; k < r->n_doublings; k++)
      fprintf(outs[s], "period doubling %zu -> %zu at eta = %.5f eps (between %.5f and %.5f)\n",
              r->doubling_from[k], 2 * r->doubling_from[k], r->doubling_eta[k] / eps,
              r->doubling_lo[k] / eps, r->doubling_hi[k] / eps);
    fprintf(outs[s], "onset of chaos: eta = %.5f eps (previous grid point %.5f)\n", r->chaos_onset / eps, r->chaos_lo / eps);
    fprintf(outs[s], "onset of global chaos (well hopping): eta = %.5f eps (previous %.5f)\n",
            r->global_onset / eps, r->global_lo / eps);
  }
  fclose(f);
  /* gnuplot: the well boundaries inside the plotted range, dashed */
  snprintf(p, sizeof p, "%s/bifurcation.gp", out);
  f = fopen(p, "w");
  if (!f) { perror(p); return 4; }
  fprintf(f, "set terminal pngcairo size 1200,1100\nset output 'bifurcation.png'\nset datafile separator ','\n"
             "set multiplot layout 3,1\nset lmargin 12\nset xrange [%g:%g]\nset yrange [%.10g:%.10g]\n"
             "set ylabel 'x (attractor)'\n"
             "set title '%s + %s, eps = %g, x0 = %g: GD orbit diagram (dashed: micro-well boundaries; "
             "red: onset of chaos, blue: of global chaos)'\n",
          a / eps, b / eps, ymin - ypad, ymax + ypad, f0, f1, eps, x0);
  if (wp > 0 && (ymax - ymin) / wp < 200) {
    long k0 = (long)floor((ymin - wo) / wp), k1 = (long)ceil((ymax - wo) / wp);
    for (long k = k0; k <= k1; k++)
      if (wo + (double)k * wp >= ymin && wo + (double)k * wp <= ymax) /* arrows are not clipped */
        fprintf(f, "set arrow from graph 0, first %.10g to graph 1, first %.10g nohead dt 2 lc rgb 'gray50'\n",
              wo + (double)k * wp, wo + (double)k * wp);
  }
  if (isfinite(r->chaos_onset))
    fprintf(f, "set arrow from %g, graph 0 to %g, graph 1 nohead lc rgb 'red'\n", r->chaos_onset / eps, r->chaos_onset / eps);
  if (isfinite(r->global_onset))
    fprintf(f, "set arrow from %g, graph 0 to %g, graph 1 nohead lc rgb 'blue'\n", r->global_onset / eps, r->global_onset / eps);
  fprintf(f, "set datafile separator whitespace\nplot 'attractor.csv' using 1:2 with dots lc rgb 'black' notitle\n"
             "unset arrow\nset title ''\nset datafile separator ','\nset xlabel 'eta / eps'\nset ylabel 'Lyapunov exponent'\n"
             "set arrow from graph 0, first 0 to graph 1, first 0 nohead lc rgb 'gray'\n");
  if (isfinite(r->chaos_onset))
    fprintf(f, "set arrow from %g, graph 0 to %g, graph 1 nohead lc rgb 'red'\n", r->chaos_onset / eps, r->chaos_onset / eps);
  if (isfinite(r->global_onset))
    fprintf(f, "set arrow from %g, graph 0 to %g, graph 1 nohead lc rgb 'blue'\n", r->global_onset / eps, r->global_onset / eps);
  fprintf(f, "set yrange [*:*]\nplot 'bifurcation.csv' every ::1 using 2:4 with lines lc rgb 'black' title 'lambda (eq. 4)'\n"
             "unset arrow\nset logscale y\nset ylabel 'wells visited'\nset yrange [0.8:*]\n"
             "plot 'bifurcation.csv' every ::1 using 2:6 with lines lc rgb 'blue' title 'wells visited',"
             " '' every ::1 using 2:(1+1000*$7) with lines lc rgb 'gray40' title '1 + 1000 x hop rate'\n"
             "unset multiplot\n");
  fclose(f);
  snprintf(p, sizeof p, "cd '%s' && gnuplot bifurcation.gp", out);
  if (system(p) != 0) fprintf(stderr, "gnuplot failed or missing: the CSV files are written\n");
  cgd_bif_result_free(r);
  free(et);
  cgd_objective_free(o);
  return 0;
}
