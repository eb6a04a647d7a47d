/* bench_liyorke: a Li–Yorke witness for GD on a 1-D objective and a figure of the
 * construction like Kong & Tao's Fig. 8: the map φ(x) = x − η f'(x) around the witness, the
 * diagonal, and the cobweb a → b → c → d with d ≤ a < b < c (or the mirror).
 *
 *   usage: bench_liyorke [--f0 doublewell] [--f1 sin] [--eps 1e-4] [--lr 0.05]
 *                        [--range LO:HI] [--scan N] [--out DIR]
 * Writes DIR/liyorke_map.csv, DIR/liyorke_cobweb.csv, DIR/liyorke.gp, DIR/liyorke.png. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chaosgd/liyorke.h"
#include "chaosgd/multiscale.h"

#include "bench_util.h"

int main(int argc, char **argv) {
  const char *f0 = "doublewell", *f1 = "sin", *out = "liyorke_out";
  double eps = 1e-4, eta = 0.05, lo = 0.5, hi = 1.5;
  uint64_t nscan = 1ul << 18;
  const char *me = "bench_liyorke";
  if (argc % 2 == 0) {
    fprintf(stderr, "usage: %s [--f0 F] [--f1 F] [--eps E] [--lr ETA] [--scan N] "
                    "[--range LO:HI] [--out DIR]\n", me);
    return 2;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    int bad = 0;
    if (!strcmp(k, "--f0")) f0 = v;
    else if (!strcmp(k, "--f1")) f1 = v;
    else if (!strcmp(k, "--eps")) bad = bench_double_arg(me, k, v, 1e-300, 1e300, &eps);
    else if (!strcmp(k, "--lr")) bad = bench_double_arg(me, k, v, 1e-300, 1e300, &eta);
    else if (!strcmp(k, "--scan")) bad = bench_u64_arg(me, k, v, 2, 1ul << 30, &nscan);
    else if (!strcmp(k, "--out")) out = v;
    else if (!strcmp(k, "--range")) bad = bench_pair_arg(me, k, v, -1e300, 1e300, &lo, &hi);
    else {
      fprintf(stderr, "%s: unknown option %s\n", me, k);
      return 2;
    }
    if (bad) return 2;
  }
  if (!(lo < hi)) {
    fprintf(stderr, "%s: --range %g:%g must have LO < HI\n", me, lo, hi);
    return 2;
  }
  cgd_error err;
  cgd_ms_spec sp = {.f0 = f0, .f1 = f1, .eps = eps, .k = 1.0};
  cgd_objective *o;
  if (cgd_multiscale_create(&sp, &o, &err)) { fprintf(stderr, "%s\n", err.msg); return 2; }
  cgd_liyorke w;
  if (cgd_liyorke_gd(o, eta, lo, hi, nscan, &w, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
  printf("%s + %s, eps = %g, eta = %g, searched [%g, %g] with %lu points (%zu candidates)\n", f0, f1,
         eps, eta, lo, hi, (unsigned long)nscan, w.candidates);
  if (!w.found) {
    printf("no Li-Yorke witness found in the searched interval at this resolution\n");
    return 0;
  }
  printf("witness (%s): a = %.17g\n  b = phi(a)   = %.17g\n  c = phi^2(a) = %.17g\n  d = phi^3(a) = %.17g\n"
         "margin %.3g; verified by re-evaluation\n",
         w.mirrored ? "d >= a > b > c" : "d <= a < b < c", w.a, w.b, w.c, w.d, w.margin);
  mkdir(out, 0777);
  char p[4096];
  double xl = fmin(fmin(w.a, w.b), fmin(w.c, w.d)), xh = fmax(fmax(w.a, w.b), fmax(w.c, w.d));
  double pad = 0.15 * (xh - xl);
  xl -= pad;
  xh += pad;
  snprintf(p, sizeof p, "%s/liyorke_map.csv", out);
  FILE *f = fopen(p, "w");
  if (!f) { perror(p); return 4; }
  const size_t N = 20000; /* resolves the 2πε oscillation of φ */
  for (size_t i = 0; i < N; i++) {
    double x = xl + (xh - xl) * (double)i / (double)(N - 1), g;
    o->eval(o->ctx, 1, &x, NULL, &g, NULL, &err);
    fprintf(f, "%.12g %.12g\n", x, x - eta * g);
  }
  fclose(f);
  snprintf(p, sizeof p, "%s/liyorke_cobweb.csv", out);
  f = fopen(p, "w");
  if (!f) { perror(p); return 4; }
  /* (a,a) → (a,b) → (b,b) → (b,c) → (c,c) → (c,d) → (d,d) */
  double pts[4] = {w.a, w.b, w.c, w.d};
  fprintf(f, "%.17g %.17g\n", pts[0], pts[0]);
  for (int i = 0; i < 3; i++) fprintf(f, "%.17g %.17g\n%.17g %.17g\n", pts[i], pts[i + 1], pts[i + 1], pts[i + 1]);
  fclose(f);
  snprintf(p, sizeof p, "%s/liyorke.gp", out);
  f = fopen(p, "w");
  if (!f) { perror(p); return 4; }
  fprintf(f, "set terminal pngcairo size 900,850\nset output 'liyorke.png'\nset size square\nset key outside below\n"
             "set xrange [%.12g:%.12g]\nset yrange [%.12g:%.12g]\nset xlabel 'x'\nset ylabel \"phi(x) = x - eta f'(x)\"\n"
             "set title '%s + %s, eps = %g, eta = %g: Li-Yorke witness (%s)'\n"
             "set label 'a' at %.12g, graph 0.03\nset label 'b' at %.12g, graph 0.03\n"
             "set label 'c' at %.12g, graph 0.03\nset label 'd' at %.12g, graph 0.03\n"
             "plot 'liyorke_map.csv' with lines lc rgb 'gray40' title 'phi', x with lines lc rgb 'black' dt 2 title 'diagonal',"
             " 'liyorke_cobweb.csv' with linespoints lc rgb 'red' lw 2 pt 7 title 'a -> b -> c -> d'\n",
          xl, xh, xl, xh, f0, f1, eps, eta, w.mirrored ? "d >= a > b > c" : "d <= a < b < c", w.a, w.b,
          w.c, w.d);
  fclose(f);
  snprintf(p, sizeof p, "cd '%s' && gnuplot liyorke.gp", out);
  if (system(p) != 0) fprintf(stderr, "gnuplot failed or missing: the CSV files are written\n");
  cgd_objective_free(o);
  return 0;
}
