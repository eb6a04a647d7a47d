#include "chaosgd/stats.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clones.h"

/* ================================================================ histograms */

/* Edges must be representable as distinct doubles, or a bin would be empty by
 * construction and the index correction below could not make progress. */
static int check_range(const char *what, double lo, double hi, size_t nbins, cgd_error *err) {
  if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
    return cgd_fail(err, CGD_EUSAGE, "%s: need finite lo < hi (got [%g, %g])", what, lo, hi);
  if (nbins == 0) return cgd_fail(err, CGD_EUSAGE, "%s: need at least one bin", what);
  double span = hi - lo;
  if (!isfinite(span))
    return cgd_fail(err, CGD_EUSAGE, "%s: range [%g, %g] too wide for doubles", what, lo, hi);
  double w = span / (double)nbins;
  if (!(lo + w > lo) || !(hi - w < hi))
    return cgd_fail(err, CGD_EUSAGE, "%s: %zu bins on [%g, %g] are narrower than a double's spacing",
                    what, nbins, lo, hi);
  return CGD_OK;
}

/* Bin of a finite v with lo <= v <= hi. The estimate (v − lo)·(1/w) can be off by one
 * unit next to an edge; stepping against the edges as the header defines them (lo + k·w,
 * computed the same way everywhere) makes membership exact, and clamping sends v == hi to
 * the last bin. (A multiplication rather than a division: the estimate need not be exact.
 * But 1/w is +inf for bins narrower than 2^-1024, which check_range allows: the estimate
 * would be NaN or +inf, far more than one bin off, so such widths divide.) */
static inline size_t bin_index(double v, double lo, double w, size_t nbins) {
  const double inv = 1.0 / w;
  double t = floor(isinf(inv) ? (v - lo) / w : (v - lo) * inv);
  size_t k = t <= 0.0 ? 0 : (t >= (double)nbins ? nbins - 1 : (size_t)t);
  if (k > 0 && v < lo + (double)k * w) k--;
  else if (k + 1 < nbins && v >= lo + (double)(k + 1) * w) k++;
  return k;
}

int cgd_hist_create(double lo, double hi, size_t nbins, cgd_hist **out, cgd_error *err) {
  if (!out) return cgd_fail(err, CGD_EUSAGE, "hist_create: out is NULL");
  *out = NULL;
  int rc = check_range("hist_create", lo, hi, nbins, err);
  if (rc) return rc;
  if (nbins > SIZE_MAX / sizeof(uint64_t))
    return cgd_fail(err, CGD_EUSAGE, "hist_create: %zu bins overflow size_t", nbins);
  cgd_hist *h = calloc(1, sizeof *h);
  uint64_t *c = calloc(nbins, sizeof *c);
  if (!h || !c) {
    free(h);
    free(c);
    return cgd_fail(err, CGD_ENOMEM, "hist_create: cannot allocate %zu bins", nbins);
  }
  h->lo = lo;
  h->hi = hi;
  h->nbins = nbins;
  h->count = c;
  *out = h;
  return CGD_OK;
}

void cgd_finite_minmax(const double *v, size_t n, size_t stride, double *lo, double *hi) {
  for (size_t i = 0; v && i < n; i++) {
    const double x = v[i * stride];
    if (isfinite(x)) *lo = fmin(*lo, x), *hi = fmax(*hi, x);
  }
}

void cgd_hist_fit_range(double *lo, double *hi, size_t nbins) {
  if (!(*lo <= *hi)) *lo = *hi = 0.0; /* no finite value */
  const double delta = fmax(fmax(fabs(*lo), fabs(*hi)) * 0x1p-50, 0x1p-1000) * (double)(nbins ? nbins : 1);
  if (!(*hi - *lo >= 2 * delta)) {
    const int single = *hi == *lo;
    const double c = single ? *lo : 0.5 * *lo + 0.5 * *hi, half = single ? fmax(0.5, delta) : delta;
    *lo = c - half;
    *hi = c + half;
    /* next to ±DBL_MAX: the whole width on the side that has room */
    if (!isfinite(*lo)) *lo = c, *hi = c + 2 * half;
    if (!isfinite(*hi)) *hi = c, *lo = c - 2 * half;
  }
  if (!isfinite(*hi - *lo)) {
    *lo = fmax(*lo, -0x1p1022);
    *hi = fmin(*hi, 0x1p1022);
  }
}

void cgd_hist_free(cgd_hist *h) {
  if (!h) return;
  free(h->count);
  free(h);
}

void cgd_hist_reset(cgd_hist *h) {
  if (!h) return;
  memset(h->count, 0, h->nbins * sizeof *h->count);
  h->under = h->over = h->nonfinite = 0;
  h->n = 0;
  h->min = h->max = h->mean = h->m2 = 0.0;
}

/* cgd_hist_count in two passes per chunk: the bin (or class) of every value without a
 * branch or a store, which vectorises, then the increments. One pass did both at ~10 ns a
 * value here: each increment's address waited on a division and a conversion. The bins
 * are those of bin_index (the same edge tests, as selects). */
enum { HC_CHUNK = 256 };

CGD_CLONES static void bin_codes(const double *v, size_t m, size_t stride, double lo, double hi,
                                 double w, int32_t nb, int32_t *code) {
  const double inv = 1.0 / w, top = (double)(nb - 1);
  for (size_t j = 0; j < m; j++) {
    const double x = v[j * stride];
    const int32_t fin = fabs(x) <= DBL_MAX, under = x < lo, over = x > hi;
    double xc = under ? lo : x; /* clamped into [lo, hi] so the conversion is defined */
    xc = over ? hi : xc;
    xc = fin ? xc : lo;
    double t = floor((xc - lo) * inv);
    t = t < top ? t : top;
    int32_t k = (int32_t)t;
    const int32_t down = (k > 0) & (xc < lo + (double)k * w);
    const int32_t up = (k + 1 < nb) & (xc >= lo + (double)(k + 1) * w);
    k += up - down;
    k = under ? nb : k;
    k = over ? nb + 1 : k;
    code[j] = fin ? k : nb + 2;
  }
}

void cgd_hist_count(cgd_hist *h, const double *v, size_t n, size_t stride) {
  if (!h || !v) return;
  const double lo = h->lo, hi = h->hi;
  const size_t nb = h->nbins;
  const double w = (hi - lo) / (double)nb;
  /* codes are int32: a histogram this wide takes the one-pass path; so do bins narrower
   * than 2^-1024, whose 1/w (bin_codes' estimate) is +inf (bin_index divides there) */
  if (nb > INT32_MAX - 3 || isinf(1.0 / w)) {
    uint64_t under = h->under, over = h->over, nonfin = h->nonfinite;
    for (size_t i = 0; i < n; i++) {
      double x = v[i * stride];
      if (!isfinite(x)) nonfin++;
      else if (x < lo) under++;
      else if (x > hi) over++;
      else h->count[bin_index(x, lo, w, nb)]++;
    }
    h->under = under;
    h->over = over;
    h->nonfinite = nonfin;
    return;
  }
  int32_t code[HC_CHUNK];
  uint64_t extra[3] = {h->under, h->over, h->nonfinite};
  for (size_t i0 = 0; i0 < n; i0 += HC_CHUNK) {
    const size_t m = n - i0 < HC_CHUNK ? n - i0 : HC_CHUNK;
    bin_codes(v + i0 * stride, m, stride, lo, hi, w, (int32_t)nb, code);
    for (size_t j = 0; j < m; j++) {
      const size_t k = (size_t)code[j];
      if (k < nb) h->count[k]++;
      else extra[k - nb]++;
    }
  }
  h->under = extra[0];
  h->over = extra[1];
  h->nonfinite = extra[2];
}

void cgd_hist_add(cgd_hist *h, const double *v, size_t n, size_t stride) {
  if (!h || !v) return;
  const double lo = h->lo, hi = h->hi;
  const size_t nb = h->nbins;
  const double w = (hi - lo) / (double)nb;
  /* Locals instead of h->... so the compiler need not assume count[] aliases them. */
  uint64_t cnt = h->n, under = h->under, over = h->over, nonfin = h->nonfinite;
  double mean = h->mean, m2 = h->m2, mn = h->min, mx = h->max;
  for (size_t i = 0; i < n; i++) {
    double x = v[i * stride];
    if (!isfinite(x)) {
      nonfin++;
      continue;
    }
    if (cnt == 0) mn = mx = x;
    mn = x < mn ? x : mn;
    mx = x > mx ? x : mx;
    cnt++;
    double d = x - mean;
    mean += d / (double)cnt;
    m2 += d * (x - mean);
    if (x < lo) under++;
    else if (x > hi) over++;
    else h->count[bin_index(x, lo, w, nb)]++;
  }
  h->n = cnt;
  h->under = under;
  h->over = over;
  h->nonfinite = nonfin;
  h->mean = mean;
  h->m2 = m2;
  h->min = mn;
  h->max = mx;
}

double cgd_hist_std(const cgd_hist *h) {
  if (!h || h->n == 0) return 0.0;
  return sqrt(h->m2 / (double)h->n);
}

static uint64_t counts_to_prob(const uint64_t *c, size_t m, double *p) {
  uint64_t tot = 0;
  for (size_t k = 0; k < m; k++) tot += c[k];
  if (tot == 0) {
    for (size_t k = 0; k < m; k++) p[k] = 0.0;
    return 0;
  }
  /* Division rather than a reciprocal: p[k] is then the correctly rounded count/total. */
  const double dt = (double)tot;
  for (size_t k = 0; k < m; k++) p[k] = (double)c[k] / dt;
  return tot;
}

uint64_t cgd_hist_prob(const cgd_hist *h, double *p) {
  if (!h || !p) return 0;
  return counts_to_prob(h->count, h->nbins, p);
}

int cgd_hist2d_create(double xlo, double xhi, size_t nx, double ylo, double yhi, size_t ny,
                      cgd_hist2d **out, cgd_error *err) {
  if (!out) return cgd_fail(err, CGD_EUSAGE, "hist2d_create: out is NULL");
  *out = NULL;
  int rc = check_range("hist2d_create (x)", xlo, xhi, nx, err);
  if (rc) return rc;
  rc = check_range("hist2d_create (y)", ylo, yhi, ny, err);
  if (rc) return rc;
  if (nx > SIZE_MAX / ny / sizeof(uint64_t))
    return cgd_fail(err, CGD_EUSAGE, "hist2d_create: %zu x %zu bins overflow size_t", nx, ny);
  cgd_hist2d *h = calloc(1, sizeof *h);
  uint64_t *c = calloc(nx * ny, sizeof *c);
  if (!h || !c) {
    free(h);
    free(c);
    return cgd_fail(err, CGD_ENOMEM, "hist2d_create: cannot allocate %zu x %zu bins", nx, ny);
  }
  h->xlo = xlo;
  h->xhi = xhi;
  h->ylo = ylo;
  h->yhi = yhi;
  h->nx = nx;
  h->ny = ny;
  h->count = c;
  *out = h;
  return CGD_OK;
}

void cgd_hist2d_free(cgd_hist2d *h) {
  if (!h) return;
  free(h->count);
  free(h);
}

void cgd_hist2d_add(cgd_hist2d *h, const double *xy, size_t n) {
  if (!h || !xy) return;
  const double xlo = h->xlo, xhi = h->xhi, ylo = h->ylo, yhi = h->yhi;
  const size_t nx = h->nx, ny = h->ny;
  const double wx = (xhi - xlo) / (double)nx, wy = (yhi - ylo) / (double)ny;
  uint64_t outside = h->outside, nonfin = h->nonfinite;
  for (size_t i = 0; i < n; i++) {
    double x = xy[2 * i], y = xy[2 * i + 1];
    if (!isfinite(x) || !isfinite(y)) {
      nonfin++;
      continue;
    }
    if (x < xlo || x > xhi || y < ylo || y > yhi) {
      outside++;
      continue;
    }
    h->count[bin_index(x, xlo, wx, nx) * ny + bin_index(y, ylo, wy, ny)]++;
  }
  h->outside = outside;
  h->nonfinite = nonfin;
}

uint64_t cgd_hist2d_prob(const cgd_hist2d *h, double *p) {
  if (!h || !p) return 0;
  return counts_to_prob(h->count, h->nx * h->ny, p);
}

/* ================================================================ loss traces */

const char *cgd_verdict_name(cgd_verdict v) {
  switch (v) {
  case CGD_VERDICT_CONVERGED: return "converged";
  case CGD_VERDICT_DESCENDING: return "descending";
  case CGD_VERDICT_PERIODIC: return "periodic";
  case CGD_VERDICT_CHAOTIC: return "chaotic";
  case CGD_VERDICT_DIVERGED: return "diverged";
  }
  return "unknown";
}

void cgd_verdict_defaults(cgd_verdict_opts *o) {
  if (!o) return;
  o->converged_rtol = 1e-9;
  o->increase_rtol = 1e-12;
  o->period_rtol = 1e-6;
  o->max_period = 64;
  o->descent_blocks = 20;
  o->descent_max_rise = 0.02;
}

/* Whether the means of nb consecutive blocks of x[0..len) strictly decrease (0 if nb < 2
 * or the tail is shorter than 2 nb). A stationary oscillation has block means that go up
 * and down (20 strictly decreasing ones by chance: probability 1/20!). */
static int block_means_decrease(const double *x, size_t len, size_t nb) {
  if (nb < 2 || len < 2 * nb) return 0;
  double prev = INFINITY;
  for (size_t b = 0; b < nb; b++) {
    const size_t i0 = b * len / nb, i1 = (b + 1) * len / nb;
    double s = 0;
    for (size_t t = i0; t < i1; t++) s += x[t];
    const double m = s / (double)(i1 - i0);
    if (!(m < prev)) return 0;
    prev = m;
  }
  return 1;
}

/* A run still on its way down: the block means strictly decrease, and at most
 * descent_max_rise of its steps raise the loss. The leaky-ReLU GD map jumps where a unit's
 * input changes sign on a data row, which makes about 1% of the steps of a
 * still-descending MLP run rise (measured: 0.98% over the last half of 10^6 steps at lr
 * 0.0005, seed 0); without this rule such a run would stop being "descending" as it grows
 * longer. The cap keeps an oscillation whose mean still creeps down (lr 0.02: 38% rising
 * steps, block means falling by 0.1% over the tail) out of "descending"; a descent with
 * more kink rises than the cap (seen: 14.5%, seed 3 at lr 0.0005) is not descending by
 * this rule, and block_means_decreasing reports the trend on its own. */
static int still_descending(const cgd_tail_stats *ts, size_t raises, const cgd_verdict_opts *o) {
  return ts->block_means_decreasing &&
         (double)raises <= o->descent_max_rise * (double)(ts->len - 1);
}

static void mean_var_scaled(const double *v, size_t n, double *mean, double *vs, double *sc);

int cgd_tail_stats_compute(const double *L, size_t n, size_t start, const cgd_verdict_opts *o,
                           cgd_tail_stats *out, cgd_error *err) {
  if (!L || !out) return cgd_fail(err, CGD_EUSAGE, "tail_stats: NULL argument");
  if (start >= n || n - start < 2)
    return cgd_fail(err, CGD_EUSAGE, "tail_stats: tail [%zu, %zu) has fewer than 2 values",
                    start, n);
  cgd_verdict_opts def;
  if (!o) {
    cgd_verdict_defaults(&def);
    o = &def;
  }
  if (!(o->converged_rtol >= 0.0) || !(o->increase_rtol >= 0.0) || !(o->period_rtol >= 0.0) ||
      !isfinite(o->converged_rtol) || !isfinite(o->increase_rtol) || !isfinite(o->period_rtol))
    return cgd_fail(err, CGD_EUSAGE, "tail_stats: tolerances must be finite and >= 0");

  const double *x = L + start;
  const size_t len = n - start;
  memset(out, 0, sizeof *out);
  out->start = start;
  out->len = len;

  int finite = 1;
  for (size_t t = 0; t < len; t++) finite &= isfinite(x[t]) != 0;
  if (!finite) {
    out->mean = out->std = out->rel_std = out->min = out->max = NAN;
    out->frac_increase = out->lag1_autocorr_incr = NAN;
    out->period = 0;
    out->verdict = CGD_VERDICT_DIVERGED;
    return CGD_OK;
  }

  double mean, vs, sc;
  mean_var_scaled(x, len, &mean, &vs, &sc);
  double mn = x[0], mx = x[0];
  for (size_t t = 1; t < len; t++) {
    mn = x[t] < mn ? x[t] : mn;
    mx = x[t] > mx ? x[t] : mx;
  }
  out->mean = mean;
  out->std = sc == 1.0 ? sqrt(vs) : sc * sqrt(vs);
  out->rel_std = mean != 0.0 ? out->std / fabs(mean) : 0.0;
  out->min = mn;
  out->max = mx;

  const size_t m = len - 1; /* number of steps / increments */
  size_t raises = 0;
  const double irt = o->increase_rtol;
  for (size_t t = 0; t < m; t++) raises += (x[t + 1] - x[t]) > irt * fabs(x[t]);
  out->frac_increase = (double)raises / (double)m;
  out->block_means_decreasing = block_means_decrease(x, len, o->descent_blocks);

  /* Increments are recomputed rather than stored: the tail may be long and the function
   * promises no hidden allocation cost. */
  double dsum = 0.0;
  for (size_t t = 0; t < m; t++) dsum += x[t + 1] - x[t];
  const double dbar = dsum / (double)m;
  double num = 0.0, den = 0.0;
  for (size_t t = 0; t < m; t++) {
    double a = (x[t + 1] - x[t]) - dbar;
    den += a * a;
    if (t + 1 < m) num += a * ((x[t + 2] - x[t + 1]) - dbar);
  }
  out->lag1_autocorr_incr = den > 0.0 ? num / den : 0.0;

  /* Range and differences are halved so that finite values near ±DBL_MAX cannot overflow
   * to inf and make every period test pass trivially. */
  const double half_range = 0.5 * mx - 0.5 * mn;
  out->period = 0;
  if (mx - mn <= o->converged_rtol * fmax(fabs(mean), 1e-300)) {
    out->verdict = CGD_VERDICT_CONVERGED;
    return CGD_OK;
  }
  const double ptol = o->period_rtol * half_range;
  for (size_t p = 1; p <= o->max_period && 2 * p < len; p++) {
    size_t t = 0;
    while (t + p < len && fabs(0.5 * x[t + p] - 0.5 * x[t]) <= ptol) t++;
    if (t + p == len) {
      out->period = (int)p;
      out->verdict = CGD_VERDICT_PERIODIC;
      return CGD_OK;
    }
  }
  out->verdict = raises == 0 || still_descending(out, raises, o) ? CGD_VERDICT_DESCENDING
                                                                 : CGD_VERDICT_CHAOTIC;
  return CGD_OK;
}

/* ================================================================ distances */

static int check_prob(const char *name, const double *p, size_t m, double *sum, cgd_error *err) {
  if (!p) return cgd_fail(err, CGD_EUSAGE, "distances: %s is NULL", name);
  double s = 0.0;
  int bad = 0;
  for (size_t k = 0; k < m; k++) {
    bad |= !(p[k] >= 0.0) || !isfinite(p[k]);
    s += p[k];
  }
  if (bad) return cgd_fail(err, CGD_EUSAGE, "distances: %s has a negative or non-finite entry", name);
  if (!(s > 0.0)) return cgd_fail(err, CGD_EUSAGE, "distances: %s is all zero", name);
  if (!isfinite(s)) return cgd_fail(err, CGD_EUSAGE, "distances: %s sums to infinity", name);
  *sum = s;
  return CGD_OK;
}

static const double KL_FLOOR = 1e-12;

static int distances_common(const double *p, const double *q, size_t m, double w, int one_d,
                            struct cgd_distances *out, cgd_error *err) {
  if (!out) return cgd_fail(err, CGD_EUSAGE, "distances: out is NULL");
  if (m == 0) return cgd_fail(err, CGD_EUSAGE, "distances: no bins");
  if (one_d && !(w > 0.0 && isfinite(w)))
    return cgd_fail(err, CGD_EUSAGE, "distances: bin width must be finite and > 0 (got %g)", w);
  double sp, sq;
  int rc = check_prob("p", p, m, &sp, err);
  if (rc) return rc;
  rc = check_prob("q", q, m, &sq, err);
  if (rc) return rc;

  const double ip = 1.0 / sp, iq = 1.0 / sq;
  double tv = 0.0, hel = 0.0, kl = 0.0;
  for (size_t k = 0; k < m; k++) {
    double a = p[k] * ip, b = q[k] * iq;
    tv += fabs(a - b);
    double r = sqrt(a) - sqrt(b);
    hel += r * r;
    /* p ln(p/q) → 0 as p → 0, so empty p-bins contribute nothing even where q is empty. */
    if (a > 0.0) kl += a * log(a / fmax(b, KL_FLOOR));
  }
  out->tv = 0.5 * tv;
  out->hellinger = fmin(1.0, sqrt(0.5 * hel)); /* rounding may push ½Σ a hair above 1 */
  out->kl = kl;

  if (one_d) {
    /* The last cumulative sums are both 1 by construction; skipping that term keeps its
     * rounding noise out of w1 and ks. */
    double P = 0.0, Q = 0.0, w1 = 0.0, ks = 0.0;
    for (size_t k = 0; k + 1 < m; k++) {
      P += p[k] * ip;
      Q += q[k] * iq;
      double d = fabs(P - Q);
      w1 += d;
      ks = d > ks ? d : ks;
    }
    out->w1 = w * w1;
    out->ks = ks;
  } else {
    out->w1 = NAN;
    out->ks = NAN;
  }
  return CGD_OK;
}

int cgd_distances_1d(const double *p, const double *q, size_t m, double w,
                     struct cgd_distances *out, cgd_error *err) {
  return distances_common(p, q, m, w, 1, out, err);
}

int cgd_distances(const double *p, const double *q, size_t m, struct cgd_distances *out,
                  cgd_error *err) {
  return distances_common(p, q, m, 1.0, 0, out, err);
}

/* ================================================================ rescaled Gibbs law */

/* 5-point Gauss–Legendre on [-1, 1]: exact for polynomials of degree 9, so with 8
 * sub-intervals per bin (4×4 sub-cells in 2-D) a smooth density is integrated far below
 * the sampling error of any histogram it is compared with. */
enum { GL_N = 5, GIBBS_SUB_1D = 8, GIBBS_SUB_2D = 4 };
static const double GL_X[GL_N] = {-0.90617984593866399279762687829939,
                                  -0.53846931010568309103631442070021, 0.0,
                                  0.53846931010568309103631442070021,
                                  0.90617984593866399279762687829939};
static const double GL_W[GL_N] = {0.23692688505618908751426404071992,
                                  0.47862867049936646804129151483564,
                                  0.56888888888888888888888888888889,
                                  0.47862867049936646804129151483564,
                                  0.23692688505618908751426404071992};

static int gibbs_beta(const char *what, cgd_eval_fn f0, double eta, double sigma2, double *beta,
                      cgd_error *err) {
  if (!f0) return cgd_fail(err, CGD_EUSAGE, "%s: f0 is NULL", what);
  if (!(eta > 0.0) || !isfinite(eta) || !(sigma2 > 0.0) || !isfinite(sigma2))
    return cgd_fail(err, CGD_EUSAGE, "%s: need finite eta > 0 and sigma2 > 0 (got %g, %g)", what,
                    eta, sigma2);
  double b = 2.0 / (eta * sigma2);
  if (!isfinite(b))
    return cgd_fail(err, CGD_EUSAGE, "%s: eta*sigma2 = %g underflows", what, eta * sigma2);
  *beta = b;
  return CGD_OK;
}

/* Call f0 and keep its own message, prefixed, so the caller sees where it failed. */
static int gibbs_eval(const char *what, cgd_eval_fn f0, void *ctx, size_t n, const double *x,
                      double *f, cgd_error *err) {
  cgd_error inner;
  inner.msg[0] = '\0';
  int rc = f0(ctx, n, x, f, NULL, NULL, &inner);
  if (rc != CGD_OK)
    return cgd_fail(err, rc < 0 ? rc : CGD_EINTERNAL, "%s: f0 failed: %s", what, inner.msg);
  return CGD_OK;
}

/* Minimum of f over n values (+inf when all are +inf, i.e. ρ vanishes on them); NaN or
 * -inf make the law undefined, while +inf is simply a zero weight. */
/* A NaN or -inf from f0 is a usage error (CGD_EUSAGE, exit 2), like an expression that
 * does not parse: f0 is the caller's objective (an option) and it is undefined on the
 * range the caller asked for; the message names the first such node (x has dim
 * coordinates per node). */
static int gibbs_min(const char *what, const double *f, const double *x, int dim, size_t n,
                     double *fmin, cgd_error *err) {
  double mn = INFINITY;
  size_t bad = n;
  for (size_t i = 0; i < n; i++) {
    if (bad == n && (isnan(f[i]) || f[i] == -INFINITY)) bad = i;
    mn = f[i] < mn ? f[i] : mn;
  }
  if (bad < n) {
    if (dim == 1)
      return cgd_fail(err, CGD_EUSAGE,
                      "%s: f0 is %s at x = %.17g (a quadrature node of the histogram range): "
                      "f0 must be defined on the whole range",
                      what, isnan(f[bad]) ? "NaN" : "-inf", x[bad]);
    return cgd_fail(err, CGD_EUSAGE,
                    "%s: f0 is %s at (x, y) = (%.17g, %.17g) (a quadrature node of the "
                    "histogram range): f0 must be defined on the whole range",
                    what, isnan(f[bad]) ? "NaN" : "-inf", x[2 * bad], x[2 * bad + 1]);
  }
  *fmin = mn;
  return CGD_OK;
}

int cgd_gibbs_bins_1d(cgd_eval_fn f0, void *ctx, double eta, double sigma2, double lo,
                      double hi, size_t nbins, double *p, cgd_error *err) {
  static const char what[] = "gibbs_bins_1d";
  double beta;
  int rc = gibbs_beta(what, f0, eta, sigma2, &beta, err);
  if (rc) return rc;
  if (!p) return cgd_fail(err, CGD_EUSAGE, "%s: p is NULL", what);
  rc = check_range(what, lo, hi, nbins, err);
  if (rc) return rc;
  const size_t per_bin = GIBBS_SUB_1D * GL_N;
  if (nbins > SIZE_MAX / per_bin / sizeof(double))
    return cgd_fail(err, CGD_EUSAGE, "%s: %zu bins overflow size_t", what, nbins);
  const size_t nsub = nbins * GIBBS_SUB_1D, npts = nbins * per_bin;
  double *x = malloc(npts * sizeof *x), *f = malloc(npts * sizeof *f);
  if (!x || !f) {
    free(x);
    free(f);
    return cgd_fail(err, CGD_ENOMEM, "%s: cannot allocate %zu quadrature nodes", what, npts);
  }

  const double h = (hi - lo) / (double)nsub;
  for (size_t s = 0; s < nsub; s++) {
    const double c = lo + ((double)s + 0.5) * h;
    for (int j = 0; j < GL_N; j++) x[s * GL_N + j] = c + 0.5 * h * GL_X[j];
  }
  double fmin = 0.0;
  rc = gibbs_eval(what, f0, ctx, npts, x, f, err);
  if (!rc) rc = gibbs_min(what, f, x, 1, npts, &fmin, err);
  if (!rc && fmin == INFINITY)
    rc = cgd_fail(err, CGD_EUSAGE, "%s: f0 is +inf at every quadrature node", what);
  if (!rc) {
    for (size_t i = 0; i < npts; i++) f[i] = exp(-beta * (f[i] - fmin));
    /* Every sub-interval has the same width, so its Jacobian h/2 cancels in the
     * normalisation and is left out. */
    double tot = 0.0;
    for (size_t k = 0; k < nbins; k++) {
      const double *fk = f + k * per_bin;
      double acc = 0.0;
      for (size_t s = 0; s < GIBBS_SUB_1D; s++)
        for (int j = 0; j < GL_N; j++) acc += GL_W[j] * fk[s * GL_N + j];
      p[k] = acc;
      tot += acc;
    }
    /* tot > 0: the node at fmin has weight 1. */
    const double inv = 1.0 / tot;
    for (size_t k = 0; k < nbins; k++) p[k] *= inv;
  }
  free(x);
  free(f);
  return rc;
}

int cgd_gibbs_bins_2d(cgd_eval_fn f0, void *ctx, double eta, double sigma2, double xlo,
                      double xhi, size_t nx, double ylo, double yhi, size_t ny, double *p,
                      cgd_error *err) {
  static const char what[] = "gibbs_bins_2d";
  double beta;
  int rc = gibbs_beta(what, f0, eta, sigma2, &beta, err);
  if (rc) return rc;
  if (!p) return cgd_fail(err, CGD_EUSAGE, "%s: p is NULL", what);
  rc = check_range("gibbs_bins_2d (x)", xlo, xhi, nx, err);
  if (rc) return rc;
  rc = check_range("gibbs_bins_2d (y)", ylo, yhi, ny, err);
  if (rc) return rc;

  enum { NODES_1 = GIBBS_SUB_2D * GL_N, NODES_BIN = NODES_1 * NODES_1 };
  if (ny > SIZE_MAX / NODES_BIN / (2 * sizeof(double)) || nx > SIZE_MAX / ny ||
      nx > SIZE_MAX / sizeof(double))
    return cgd_fail(err, CGD_EUSAGE, "%s: %zu x %zu bins overflow size_t", what, nx, ny);
  /* One row of x-bins per call bounds memory by ny rather than nx·ny; each row keeps its
   * own exponent shift and the rows are rescaled to the global minimum at the end. */
  const size_t npts = ny * NODES_BIN;
  double *pts = malloc(2 * npts * sizeof *pts), *f = malloc(npts * sizeof *f);
  double *ynode = malloc(ny * NODES_1 * sizeof *ynode), *rowmin = malloc(nx * sizeof *rowmin);
  if (!pts || !f || !ynode || !rowmin) {
    rc = cgd_fail(err, CGD_ENOMEM, "%s: cannot allocate %zu quadrature nodes", what, npts);
    goto done;
  }

  double wnode[NODES_1];
  for (int a = 0; a < GIBBS_SUB_2D; a++)
    for (int u = 0; u < GL_N; u++) wnode[a * GL_N + u] = GL_W[u];
  const double hx = (xhi - xlo) / (double)(nx * GIBBS_SUB_2D);
  const double hy = (yhi - ylo) / (double)(ny * GIBBS_SUB_2D);
  for (size_t s = 0; s < ny * GIBBS_SUB_2D; s++) {
    const double c = ylo + ((double)s + 0.5) * hy;
    for (int v = 0; v < GL_N; v++) ynode[s * GL_N + v] = c + 0.5 * hy * GL_X[v];
  }

  for (size_t i = 0; i < nx; i++) {
    double xnode[NODES_1];
    for (int a = 0; a < GIBBS_SUB_2D; a++) {
      const double c = xlo + ((double)(i * GIBBS_SUB_2D + a) + 0.5) * hx;
      for (int u = 0; u < GL_N; u++) xnode[a * GL_N + u] = c + 0.5 * hx * GL_X[u];
    }
    for (size_t j = 0; j < ny; j++) {
      double *pj = pts + 2 * j * NODES_BIN;
      const double *yj = ynode + j * NODES_1;
      for (int ax = 0; ax < NODES_1; ax++)
        for (int by = 0; by < NODES_1; by++) {
          pj[2 * (ax * NODES_1 + by)] = xnode[ax];
          pj[2 * (ax * NODES_1 + by) + 1] = yj[by];
        }
    }
    rc = gibbs_eval(what, f0, ctx, npts, pts, f, err);
    if (!rc) rc = gibbs_min(what, f, pts, 2, npts, &rowmin[i], err);
    if (rc) goto done;
    if (rowmin[i] == INFINITY) {
      /* A row where ρ vanishes is legitimate as long as another row carries mass. */
      for (size_t j = 0; j < ny; j++) p[i * ny + j] = 0.0;
      continue;
    }
    const double m = rowmin[i];
    for (size_t k = 0; k < npts; k++) f[k] = exp(-beta * (f[k] - m));
    for (size_t j = 0; j < ny; j++) {
      const double *fj = f + j * NODES_BIN;
      double acc = 0.0;
      for (int ax = 0; ax < NODES_1; ax++) {
        double row = 0.0;
        for (int by = 0; by < NODES_1; by++) row += wnode[by] * fj[ax * NODES_1 + by];
        acc += wnode[ax] * row;
      }
      p[i * ny + j] = acc;
    }
  }

  double gmin = INFINITY;
  for (size_t i = 0; i < nx; i++) gmin = rowmin[i] < gmin ? rowmin[i] : gmin;
  if (gmin == INFINITY) {
    rc = cgd_fail(err, CGD_EUSAGE, "%s: f0 is +inf at every quadrature node", what);
    goto done;
  }
  double tot = 0.0;
  for (size_t i = 0; i < nx; i++) {
    const double scale = rowmin[i] == INFINITY ? 0.0 : exp(-beta * (rowmin[i] - gmin));
    for (size_t j = 0; j < ny; j++) {
      p[i * ny + j] *= scale;
      tot += p[i * ny + j];
    }
  }
  const double inv = 1.0 / tot;
  for (size_t k = 0; k < nx * ny; k++) p[k] *= inv;

done:
  free(pts);
  free(f);
  free(ynode);
  free(rowmin);
  return rc;
}

/* ================================================================ moments */

/* Mean, and the variance as sc² · vs: sc = 1 unless the sum or the squared deviations
 * overflow (values beyond ~1e154, a run that blew up); then every value is divided by sc,
 * the power of two just below the largest |value| (exact), so that the mean sc·μ' and the
 * standard deviation sc·√vs stay finite and right where the variance itself is not
 * representable (before: a mean of inf, and inf − inf = NaN clamped to a variance of 0). */
static void mean_var_at(const double *v, size_t n, double sc, double *mean, double *vs) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += v[i] / sc;
  const double mu = s / (double)n;
  /* Corrected two-pass (Chan, Golub & LeVeque): the Σd term removes the first-order error
   * of mu, so the variance stays accurate when the mean is large against the spread. */
  double sd = 0.0, sd2 = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = v[i] / sc - mu;
    sd += d;
    sd2 += d * d;
  }
  const double vr = (sd2 - sd * sd / (double)n) / (double)n;
  *mean = mu;
  *vs = vr > 0.0 || !isfinite(vr) ? vr : 0.0;
}

static void mean_var_scaled(const double *v, size_t n, double *mean, double *vs, double *sc) {
  *sc = 1.0;
  mean_var_at(v, n, 1.0, mean, vs);
  if (isfinite(*mean) && isfinite(*vs)) return;
  double mx = 0.0;
  for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(v[i]));
  if (!isfinite(mx) || mx == 0.0) return; /* a non-finite value: nothing to rescue */
  int e;
  frexp(mx, &e); /* mx < 2^e, which can be 2^1024 (inf): 2^(e−1) keeps |v/sc| < 2 */
  *sc = ldexp(1.0, e - 1);
  mean_var_at(v, n, *sc, mean, vs);
  *mean *= *sc;
}

void cgd_mean_var(const double *v, size_t n, double *mean, double *var) {
  if (!v || n == 0) {
    if (mean) *mean = 0.0;
    if (var) *var = 0.0;
    return;
  }
  double mu, vs, sc;
  mean_var_scaled(v, n, &mu, &vs, &sc);
  if (mean) *mean = mu;
  if (var) *var = sc == 1.0 ? vs : vs * sc * sc; /* inf when not representable */
}

