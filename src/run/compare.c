/* Small-vs-large learning-rate comparison of finished runs (the paper's Fig. 6/7). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "chaosgd/run.h"
#include "chaosgd/runlog.h"
#include "run_internal.h"

#define jreal cgd_jreal

/* A run's directory relative to the comparison directory (its last path component). */
static const char *leaf(const char *dir) {
  const char *slash = strrchr(dir, '/');
  return slash ? slash + 1 : dir;
}

int cgd_compare_write(const char *dir, const cgd_run_config *cfgs, const cgd_run_result *runs,
                      size_t nruns, int plots, int *plots_skipped, cgd_error *err) {
  int rc;
  *plots_skipped = 0;
  cgd_outfile csv;
  if ((rc = cgd_outfile_open(&csv, dir, "comparison.csv", err))) return rc;
  fprintf(csv.fp, "lr,map,verdict,period,status,steps,final_loss,tail_start,tail_mean,tail_std,"
                  "tail_rel_std,tail_min,tail_max,frac_increase,lag1_autocorr_increments,run_dir\n");
  json_t *arr = json_array();
  for (size_t r = 0; r < nruns; r++) {
    const cgd_run_result *R = &runs[r];
    const cgd_tail_stats *t = &R->tail;
    const char *verdict = R->verdict[0] ? R->verdict : "none";
    const char *rel = leaf(R->dir);
    char period[16] = ""; /* empty when there is none (as null in comparison.json) */
    if (R->have_tail && t->period) snprintf(period, sizeof period, "%d", t->period);
    fprintf(csv.fp, "%.17g,%s,%s,%s,%s,%llu,%.17g,%zu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%s\n",
            cfgs[r].lr, cgd_map_kind_name(cfgs[r].map), verdict, period,
            cgd_status_name(R->status), (unsigned long long)R->steps, R->final_loss, t->start,
            t->mean, t->std, t->rel_std, t->min, t->max, t->frac_increase, t->lag1_autocorr_incr,
            rel);
    json_t *o = json_object();
    json_object_set_new(o, "lr", json_real(cfgs[r].lr));
    json_object_set_new(o, "map", json_string(cgd_map_kind_name(cfgs[r].map)));
    json_object_set_new(o, "verdict", json_string(verdict));
    json_object_set_new(o, "status", json_string(cgd_status_name(R->status)));
    json_object_set_new(o, "steps", json_integer((json_int_t)R->steps));
    json_object_set_new(o, "final_loss", jreal(R->final_loss));
    json_object_set_new(o, "first_increase_step",
                        R->first_increase >= 0 ? json_integer(R->first_increase) : json_null());
    json_object_set_new(o, "tail", R->have_tail ? cgd_tail_json(t, "loss") : json_null());
    json_object_set_new(o, "run_dir", json_string(rel));
    json_array_append_new(arr, o);
  }
  if ((rc = cgd_outfile_commit(&csv, err))) {
    json_decref(arr);
    return rc;
  }
  json_t *doc = json_object();
  json_object_set_new(doc, "runs", arr);
  rc = cgd_json_write(dir, "comparison.json", doc, err);
  json_decref(doc);
  if (rc || !plots) return rc;

  /* Final parameter histograms of every run on one common range, so they can be overlaid. */
  double lo = INFINITY, hi = -INFINITY;
  for (size_t r = 0; r < nruns; r++)
    for (size_t k = 0; runs[r].theta_final && k < runs[r].nparams; k++) {
      double v = runs[r].theta_final[k];
      if (isfinite(v)) {
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
    }
  if (!(hi > lo)) {
    lo = -1;
    hi = 1;
  }
  const size_t nb = 40;
  cgd_outfile hc;
  if ((rc = cgd_outfile_open(&hc, dir, "comparison_hist.csv", err))) return rc;
  fprintf(hc.fp, "lr,bin,bin_lo,bin_hi,count\n");
  for (size_t r = 0; r < nruns; r++) {
    cgd_hist *h;
    if ((rc = cgd_hist_create(lo, hi, nb, &h, err))) {
      cgd_outfile_discard(&hc);
      return rc;
    }
    if (runs[r].theta_final) cgd_hist_add(h, runs[r].theta_final, runs[r].nparams, 1);
    double w = (hi - lo) / (double)nb;
    for (size_t b = 0; b < nb; b++)
      fprintf(hc.fp, "%.17g,%zu,%.17g,%.17g,%llu\n", cfgs[r].lr, b, lo + (double)b * w,
              lo + (double)(b + 1) * w, (unsigned long long)h->count[b]);
    cgd_hist_free(h);
  }
  if ((rc = cgd_outfile_commit(&hc, err))) return rc;

  cgd_outfile gp;
  if ((rc = cgd_outfile_open(&gp, dir, "comparison.gp", err))) return rc;
  fprintf(gp.fp, "# gnuplot script that drew comparison.png from this directory's files\n"
                 "set terminal pngcairo size 1100,1200 font ',10'\n"
                 "set datafile separator ','\n"
                 "set output 'comparison.png'\n"
                 "set multiplot layout 3,1\nset rmargin 6\n"
                 "set title 'loss traces (same initial parameters)'\n"
                 "set xlabel 'step'; set ylabel 'loss'; set logscale y; set grid\n"
                 "plot ");
  for (size_t r = 0; r < nruns; r++) {
    const char *rel = leaf(runs[r].dir);
    fprintf(gp.fp, "%s'%s/trace.csv' every ::1 using 1:2 with lines title 'lr = %g (%s)'",
            r ? ", " : "", rel, cfgs[r].lr,
            runs[r].verdict[0] ? runs[r].verdict : "none");
  }
  /* the last 10% of each trace over its own mean: a monotone descent is a straight
   * line, a chaotic one fluctuates — visible whatever the two loss levels are */
  uint64_t last = 0;
  for (size_t r = 0; r < nruns; r++) last = runs[r].steps > last ? runs[r].steps : last;
  fprintf(gp.fp, "\nunset logscale y\n"
                 "set title 'last 10%% of the steps, each loss over its mean in that window'\n"
                 "set ylabel 'loss / window mean'\n");
  for (size_t r = 0; r < nruns; r++) {
    const char *rel = leaf(runs[r].dir);
    fprintf(gp.fp, "stats '%s/trace.csv' every ::1 using ($1 >= %llu ? $2 : NaN) name 'W%zu' nooutput\n",
            rel, (unsigned long long)(last - last / 10), r);
  }
  fprintf(gp.fp, "plot ");
  for (size_t r = 0; r < nruns; r++) {
    const char *rel = leaf(runs[r].dir);
    fprintf(gp.fp, "%s'%s/trace.csv' every ::1 using ($1 >= %llu ? $1 : NaN):($2/W%zu_mean) "
                   "with lines title 'lr = %g'",
            r ? ", " : "", rel, (unsigned long long)(last - last / 10), r, cfgs[r].lr);
  }
  fprintf(gp.fp, "\n"
                 "set title 'final parameter histograms (all parameters)'\n"
                 "set xlabel 'parameter value'; set ylabel 'count'\n"
                 "set style fill transparent solid 0.4\n"
                 "plot ");
  for (size_t r = 0; r < nruns; r++)
    fprintf(gp.fp, "%s'comparison_hist.csv' every ::1 using ($1==%.17g ? ($3+$4)/2 : NaN):5:($4-$3) "
                   "with boxes title 'lr = %g'",
            r ? ", " : "", cfgs[r].lr, cfgs[r].lr);
  fprintf(gp.fp, "\nunset multiplot\n");
  return cgd_gnuplot_script(&gp, dir, "comparison.gp", plots_skipped, err);
}
