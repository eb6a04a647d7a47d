#include "chaosgd/grid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chaosgd/parse.h"

/* Copy the element [s, e) into buf (NUL-terminated); 0 if it does not fit. */
static int element(const char *s, const char *e, char *buf, size_t cap) {
  size_t len = (size_t)(e - s);
  if (len >= cap) return 0;
  memcpy(buf, s, len);
  buf[len] = '\0';
  return 1;
}

static int parse_elem(const char *what, const char *whole, const char *s, const char *e,
                      double *v, cgd_error *err) {
  char buf[128];
  if (!element(s, e, buf, sizeof buf))
    return cgd_fail(err, CGD_EUSAGE, "%s: element '%.40s...' of '%s' is too long", what, s, whole);
  cgd_parse_code pc = cgd_parse_double(buf, v);
  if (pc)
    return cgd_fail(err, CGD_EUSAGE, "%s: '%s' %s (in '%s')", what, buf, cgd_parse_why(pc), whole);
  return CGD_OK;
}

static int parse_grid(const char *what, const char *s, double *v, size_t cap, size_t *n,
                      cgd_error *err) {
  /* A:B:N or A:B:log:N */
  const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (!c2) return cgd_fail(err, CGD_EUSAGE, "%s: '%s': expected A:B:N or A:B:log:N", what, s);
  int lg = !strncmp(c2 + 1, "log:", 4);
  const char *ns = lg ? c2 + 5 : c2 + 1;
  double a, b;
  uint64_t cnt;
  int rc;
  if ((rc = parse_elem(what, s, s, c1, &a, err)) || (rc = parse_elem(what, s, c1 + 1, c2, &b, err)))
    return rc;
  cgd_parse_code pc = cgd_parse_u64(ns, &cnt);
  if (pc)
    return cgd_fail(err, CGD_EUSAGE, "%s: '%s': the count '%s' %s", what, s, ns, cgd_parse_why(pc));
  if (cnt < 2) return cgd_fail(err, CGD_EUSAGE, "%s: '%s': a grid needs N >= 2 points", what, s);
  if (cnt > cap)
    return cgd_fail(err, CGD_EUSAGE, "%s: '%s': at most %zu values", what, s, cap);
  if (lg && !(a > 0 && b > 0))
    return cgd_fail(err, CGD_EUSAGE, "%s: '%s': a log grid needs A > 0 and B > 0", what, s);
  for (uint64_t i = 0; i < cnt; i++) {
    double u = (double)i / (double)(cnt - 1);
    /* end points exactly as written, whatever the rounding of the interpolation */
    v[i] = i == 0 ? a : i == cnt - 1 ? b : lg ? exp(log(a) + u * (log(b) - log(a))) : a + u * (b - a);
  }
  *n = (size_t)cnt;
  return CGD_OK;
}

int cgd_grid_parse(const char *what, const char *s, double *v, size_t cap, size_t *n,
                   cgd_error *err) {
  *n = 0;
  if (!*s) return cgd_fail(err, CGD_EUSAGE, "%s: empty value", what);
  if (strchr(s, ':')) return parse_grid(what, s, v, cap, n, err);
  const char *p = s;
  for (;;) {
    const char *e = strchr(p, ',');
    if (!e) e = p + strlen(p);
    if (e == p) return cgd_fail(err, CGD_EUSAGE, "%s: empty element in '%s'", what, s);
    if (*n == cap) return cgd_fail(err, CGD_EUSAGE, "%s: at most %zu values", what, cap);
    int rc = parse_elem(what, s, p, e, &v[*n], err);
    if (rc) return rc;
    (*n)++;
    if (!*e) break;
    p = e + 1;
  }
  return CGD_OK;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

int cgd_steps_parse(const char *what, const char *s, uint64_t iters, uint64_t **out,
                    size_t *n, cgd_error *err) {
  size_t cap = 2;
  for (const char *p = s; *p; p++) cap += *p == ',';
  uint64_t *v = malloc(cap * sizeof *v);
  if (!v) return cgd_fail(err, CGD_ENOMEM, "out of memory");
  size_t k = 0;
  for (const char *p = s; *s;) {
    const char *e = strchr(p, ',');
    if (!e) e = p + strlen(p);
    char buf[32];
    uint64_t u;
    cgd_parse_code pc = e == p ? CGD_PARSE_EMPTY
                        : !element(p, e, buf, sizeof buf) ? CGD_PARSE_RANGE
                                                          : cgd_parse_u64(buf, &u);
    if (pc) {
      free(v);
      return cgd_fail(err, CGD_EUSAGE, "%s '%s': %s '%.*s' %s (expected steps like 10,100,1000)",
                      what, s, e == p ? "an element" : "step", (int)(e - p), p,
                      cgd_parse_why(pc));
    }
    if (u <= iters) v[k++] = u;
    if (!*e) break;
    p = e + 1;
  }
  v[k++] = iters;
  qsort(v, k, sizeof *v, cmp_u64);
  size_t m = 0;
  for (size_t i = 0; i < k; i++)
    if (!m || v[m - 1] != v[i]) v[m++] = v[i];
  *out = v;
  *n = m;
  return CGD_OK;
}
