#include "chaosgd/sampling.h"

#include <string.h>

#include "chaosgd/parse.h"
#include "chaosgd/rng.h"

/* "a" or "a,b": 1 or 2 strictly parsed numbers; 0 on any junk. */
static size_t parse_numbers(const char *s, double *a, double *b) {
  const char *comma = strchr(s, ',');
  char buf[128];
  if (!comma) return cgd_parse_double(s, a) ? 0 : 1;
  size_t len = (size_t)(comma - s);
  if (len >= sizeof buf) return 0;
  memcpy(buf, s, len);
  buf[len] = '\0';
  if (cgd_parse_double(buf, a) || cgd_parse_double(comma + 1, b)) return 0;
  return 2;
}

int cgd_law_parse(const char *spec, cgd_law *law, cgd_error *err) {
  memset(law, 0, sizeof *law);
  int uni = !strncmp(spec, "uniform:", 8), nor = !strncmp(spec, "normal:", 7);
  if (uni || nor) {
    law->kind = uni ? CGD_LAW_UNIFORM : CGD_LAW_NORMAL;
    if (parse_numbers(spec + (uni ? 8 : 7), &law->a, &law->b) != 2 ||
        (uni ? !(law->b > law->a) : !(law->b >= 0)))
      return cgd_fail(err, CGD_EUSAGE, "--x0 '%s': expected %s", spec,
                      uni ? "uniform:LO,HI with LO < HI" : "normal:MEAN,STD with STD >= 0");
    return CGD_OK;
  }
  law->kind = CGD_LAW_POINT;
  law->npoint = parse_numbers(spec, &law->a, &law->b);
  if (!law->npoint)
    return cgd_fail(err, CGD_EUSAGE,
                    "--x0 '%s': expected a number, a point X,Y, uniform:LO,HI or normal:MEAN,STD",
                    spec);
  return CGD_OK;
}

int cgd_law_sample(const cgd_law *law, size_t dim, size_t n, uint64_t seed, double *x,
                   cgd_error *err) {
  if (law->kind == CGD_LAW_POINT) {
    if (law->npoint != dim)
      return cgd_fail(err, CGD_EUSAGE, "--x0: expected %s for this %zu-D objective",
                      dim == 1 ? "a number" : "a point X,Y", dim);
    for (size_t i = 0; i < n; i++) {
      x[i * dim] = law->a;
      if (dim == 2) x[i * dim + 1] = law->b;
    }
    return CGD_OK;
  }
  /* one batch of draws, then the affine map of the law */
  if (law->kind == CGD_LAW_UNIFORM)
    cgd_rng_uniform_fill(seed, CGD_STREAM_X0, 0, n * dim, law->b - law->a, x);
  else
    cgd_rng_normal_fill(seed, CGD_STREAM_X0, 0, n * dim, x);
  const double scale = law->kind == CGD_LAW_UNIFORM ? 1.0 : law->b;
  for (size_t i = 0; i < n * dim; i++) x[i] = law->a + scale * x[i];
  return CGD_OK;
}
