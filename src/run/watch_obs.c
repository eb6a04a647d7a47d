/* Time histograms of the MLP (the paper's Fig. 6 claim: "GD converges to a statistical
 * distribution rather than a local minimum" is a statement about the distribution over
 * iterations). Over the tail window: histograms of the loss and of chosen parameters
 * (--watch W1[3,2],b2,... or, by default, the 4 parameters of largest variance), for the
 * first and the second half of the tail, and the total-variation distance between the
 * halves: small for a stationary law, large for a run still on the move.
 *
 * The parameters are recorded every `stride` steps of the tail so that at most
 * CGD_WATCH_MAX values are kept (the loss series is kept by the driver at every step). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/parse.h"
#include "chaos_obs.h"
#include "run_internal.h"

#define CGD_WATCH_MAX (4u << 20) /* recorded parameter values (32 MiB) */
#define CGD_WATCH_BINS 40
#define CGD_WATCH_SEL 8

typedef struct watch_obs {
  cgd_run_ctx *r;
  size_t P, tail_start, stride, cap, rows;
  double *rec;                   /* rows × P */
  size_t nsel;
  size_t sel[CGD_WATCH_SEL];     /* chosen parameters (explicit), or top variance at the end */
  char names[CGD_WATCH_SEL][64];
  int automatic;
} watch_obs;

/* "W1[3,2]", "b1[4]", "W2[5]", "b2" → index in θ (views W1 b1 W2 b2 of the MLP). */
static int param_index(const cgd_objective *o, const char *s, size_t *idx, cgd_error *err) {
  const size_t H = o->views[1].len, d = o->views[0].len / H;
  char name[8];
  size_t n = strcspn(s, "[");
  if (n >= sizeof name) goto bad;
  memcpy(name, s, n);
  name[n] = '\0';
  uint64_t a = 0, b = 0;
  const char *br = s + n;
  int two = !strcmp(name, "W1"), one = !strcmp(name, "b1") || !strcmp(name, "W2");
  if (!strcmp(name, "b2")) {
    if (*br) goto bad;
    *idx = o->views[3].offset;
    return CGD_OK;
  }
  if (!(two || one) || *br != '[' || br[strlen(br) - 1] != ']') goto bad;
  char inner[64];
  size_t len = strlen(br) - 2;
  if (len >= sizeof inner) goto bad;
  memcpy(inner, br + 1, len);
  inner[len] = '\0';
  char *comma = strchr(inner, ',');
  if (two != (comma != NULL)) goto bad;
  if (comma) *comma = '\0';
  if (cgd_parse_u64(inner, &a) || (comma && cgd_parse_u64(comma + 1, &b))) goto bad;
  if (two) {
    if (a >= H || b >= d) return cgd_fail(err, CGD_EUSAGE, "--watch %s: W1 is %zu x %zu (0-based)", s, H, d);
    *idx = o->views[0].offset + a * d + b;
  } else {
    if (a >= H) return cgd_fail(err, CGD_EUSAGE, "--watch %s: %s has %zu entries (0-based)", s, name, H);
    *idx = (!strcmp(name, "b1") ? o->views[1].offset : o->views[2].offset) + a;
  }
  return CGD_OK;
bad:
  return cgd_fail(err, CGD_EUSAGE, "--watch '%s': expected W1[i,j], b1[i], W2[j] or b2", s);
}

static int watch_wants(void *u, uint64_t t) {
  watch_obs *w = u;
  return t >= w->tail_start && (t - w->tail_start) % w->stride == 0;
}

static int watch_observe(void *u, uint64_t t, size_t n, const double *x, const double *f,
                         const double *g, cgd_error *err) {
  watch_obs *w = u;
  (void)n, (void)f, (void)g, (void)err;
  if (!watch_wants(u, t) || w->rows == w->cap) return CGD_OK;
  memcpy(w->rec + w->rows * w->P, x, w->P * sizeof *x);
  w->rows++;
  return CGD_OK;
}

/* Histograms of v[0..n) (stride s) on one range for the two halves; TV between them. */
static double halves(FILE *fp, const char *name_in, const double *v, size_t n, size_t s) {
  char name[64]; /* W1[3,2] → W1[3;2]: a comma would split the CSV field */
  snprintf(name, sizeof name, "%s", name_in);
  for (char *q = name; *q; q++)
    if (*q == ',') *q = ';';
  double lo = INFINITY, hi = -INFINITY;
  cgd_finite_minmax(v, n, s, &lo, &hi);
  if (!(lo <= hi) || n < 4) return NAN;
  cgd_hist_fit_range(&lo, &hi, CGD_WATCH_BINS);
  uint64_t c[2][CGD_WATCH_BINS] = {{0}};
  size_t tot[2] = {0, 0};
  const double w = (hi - lo) / CGD_WATCH_BINS;
  for (size_t i = 0; i < n; i++) {
    double x = v[i * s];
    if (!isfinite(x)) continue;
    size_t b = (size_t)((x - lo) / w);
    if (b >= CGD_WATCH_BINS) b = CGD_WATCH_BINS - 1;
    int half = i >= n / 2;
    c[half][b]++;
    tot[half]++;
  }
  double tv = 0;
  for (size_t b = 0; b < CGD_WATCH_BINS; b++) {
    double p = tot[0] ? (double)c[0][b] / (double)tot[0] : 0, q = tot[1] ? (double)c[1][b] / (double)tot[1] : 0;
    tv += 0.5 * fabs(p - q);
    for (int h = 0; h < 2; h++)
      fprintf(fp, "%s,%s,%zu,%.17g,%.17g,%llu,%.17g\n", name, h ? "second" : "first", b, lo + (double)b * w,
              lo + (double)(b + 1) * w, (unsigned long long)c[h][b], h ? q : p);
  }
  return tv;
}

static void top_variance(watch_obs *w) {
  double var[CGD_WATCH_SEL];
  w->nsel = 0;
  for (size_t k = 0; k < w->P; k++) {
    double m = 0, ss = 0;
    for (size_t i = 0; i < w->rows; i++) m += w->rec[i * w->P + k];
    m /= (double)w->rows;
    for (size_t i = 0; i < w->rows; i++) ss += (w->rec[i * w->P + k] - m) * (w->rec[i * w->P + k] - m);
    /* insert into the top 4 (ties: the lower index first, so the choice is deterministic) */
    size_t pos = w->nsel;
    while (pos > 0 && ss > var[pos - 1]) pos--;
    if (pos >= 4) continue;
    size_t last = w->nsel < 4 ? w->nsel : 3;
    for (size_t j = last; j > pos; j--) var[j] = var[j - 1], w->sel[j] = w->sel[j - 1];
    var[pos] = ss;
    w->sel[pos] = k;
    if (w->nsel < 4) w->nsel++;
  }
  const cgd_objective *o = w->r->obj;
  const size_t H = o->views[1].len, d = o->views[0].len / H;
  for (size_t j = 0; j < w->nsel; j++) {
    size_t k = w->sel[j];
    if (k < H * d) snprintf(w->names[j], 64, "W1[%zu,%zu]", k / d, k % d);
    else if (k < H * d + H) snprintf(w->names[j], 64, "b1[%zu]", k - H * d);
    else if (k < H * d + 2 * H) snprintf(w->names[j], 64, "W2[%zu]", k - H * d - H);
    else snprintf(w->names[j], 64, "b2");
  }
}

static int watch_finish(void *u, const cgd_run_info *info, cgd_record *rec, cgd_error *err) {
  watch_obs *w = u;
  cgd_run_ctx *r = w->r;
  (void)info;
  const size_t last = r->any_obs ? (size_t)r->last_obs : 0;
  if (w->rows < 4 || last < w->tail_start + 4) return CGD_OK; /* a run stopped before its tail */
  if (w->automatic) top_variance(w);
  cgd_outfile f;
  int rc = cgd_outfile_open(&f, r->dir, "time_hist.csv", err);
  if (rc) return rc;
  fprintf(f.fp, "series,half,bin,lo,hi,count,prob\n");
  json_t *arr = json_array();
  double tv = halves(f.fp, "loss", r->L + w->tail_start, last + 1 - w->tail_start, 1);
  json_array_append_new(arr, json_pack("{s:s, s:I, s:o}", "series", "loss", "samples",
                                       (json_int_t)(last + 1 - w->tail_start), "tv_first_vs_second_half", cgd_jreal(tv)));
  for (size_t j = 0; j < w->nsel; j++) {
    tv = halves(f.fp, w->names[j], w->rec + w->sel[j], w->rows, w->P);
    json_array_append_new(arr, json_pack("{s:s, s:I, s:o}", "series", w->names[j], "samples",
                                         (json_int_t)w->rows, "tv_first_vs_second_half", cgd_jreal(tv)));
  }
  if ((rc = cgd_outfile_commit(&f, err))) {
    json_decref(arr);
    return rc;
  }
  json_object_set_new((json_t *)rec, "time_histograms",
                      json_pack("{s:I, s:I, s:I, s:s, s:o}", "tail_start", (json_int_t)w->tail_start,
                                "parameter_stride", (json_int_t)w->stride, "bins", (json_int_t)CGD_WATCH_BINS,
                                "selection", w->automatic ? "the 4 parameters of largest variance over the tail" : "--watch",
                                "series", arr));
  return CGD_OK;
}

static int watch_save(void *u, FILE *fp, cgd_error *err) {
  watch_obs *w = u;
  int bad = fwrite(&w->rows, sizeof w->rows, 1, fp) != 1 ||
            fwrite(w->rec, sizeof(double), w->rows * w->P, fp) != w->rows * w->P;
  return bad ? cgd_fail(err, CGD_EIO, "checkpoint: writing the watched parameters") : CGD_OK;
}

static int watch_load(void *u, FILE *fp, cgd_error *err) {
  watch_obs *w = u;
  size_t rows;
  if (fread(&rows, sizeof rows, 1, fp) != 1 || rows > w->cap ||
      fread(w->rec, sizeof(double), rows * w->P, fp) != rows * w->P)
    return cgd_fail(err, CGD_EDATA, "checkpoint: the watched parameters do not fit this run");
  w->rows = rows;
  return CGD_OK;
}

static void watch_free(void *u) {
  watch_obs *w = u;
  free(w->rec);
  free(w);
}

int cgd_watch_attach(cgd_run_ctx *r, cgd_error *err) {
  const cgd_run_config *c = r->cfg;
  if (!strcmp(c->watch, "off")) return CGD_OK;
  watch_obs *w = calloc(1, sizeof *w);
  if (!w) return cgd_fail(err, CGD_ENOMEM, "out of memory");
  w->r = r;
  w->P = r->dim;
  w->tail_start = (size_t)floor((1.0 - c->tail_frac) * (double)c->iters);
  const size_t tail = (size_t)c->iters + 1 - w->tail_start;
  w->stride = tail * w->P / CGD_WATCH_MAX + 1;
  w->cap = tail / w->stride + 1;
  int rc = CGD_OK;
  w->automatic = !strcmp(c->watch, "auto");
  if (!w->automatic) {
    /* items separated by commas outside brackets: W1[3,2],b2 */
    char tok[64];
    size_t len = 0;
    int depth = 0;
    for (const char *p = c->watch;; p++) {
      if ((*p == ',' && !depth) || !*p) {
        tok[len] = '\0';
        if (w->nsel == CGD_WATCH_SEL) rc = cgd_fail(err, CGD_EUSAGE, "--watch: at most %d parameters", CGD_WATCH_SEL);
        else if (!(rc = param_index(r->obj, tok, &w->sel[w->nsel], err)))
          snprintf(w->names[w->nsel++], 64, "%s", tok);
        len = 0;
        if (rc || !*p) break;
        continue;
      }
      depth += *p == '[' ? 1 : *p == ']' ? -1 : 0;
      if (len + 1 == sizeof tok) {
        rc = cgd_fail(err, CGD_EUSAGE, "--watch: item too long");
        break;
      }
      tok[len++] = *p;
    }
  }
  if (!rc && !(w->rec = malloc(w->cap * w->P * sizeof *w->rec)))
    rc = cgd_fail(err, CGD_ENOMEM, "out of memory for the watched parameters");
  if (rc) {
    watch_free(w);
    return rc;
  }
  cgd_run_observer o = {.name = "time-histograms", .state = w, .wants = watch_wants,
                        .observe = watch_observe, .finish = watch_finish, .free = watch_free,
                        .save = watch_save, .load = watch_load};
  return cgd_run_attach(r, &o, err);
}
