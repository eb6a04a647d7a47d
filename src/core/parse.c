#include "chaosgd/parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

const char *cgd_parse_why(cgd_parse_code c) {
  switch (c) {
  case CGD_PARSE_OK: return "ok";
  case CGD_PARSE_EMPTY: return "is empty";
  case CGD_PARSE_SPACE: return "has leading or trailing white space";
  case CGD_PARSE_SYNTAX: return "is not a number";
  case CGD_PARSE_RANGE: return "is out of the range of a double";
  case CGD_PARSE_NEGATIVE: return "must not be negative";
  }
  return "is not a number";
}

/* strtod accepts "inf", "nan", hex floats and leading space; we want decimal numbers only:
 * [sign] digits [. digits] [e [sign] digits], with at least one digit in the mantissa. */
static const char *scan_decimal(const char *s) {
  const char *p = s;
  if (*p == '+' || *p == '-') p++;
  int digits = 0;
  while (isdigit((unsigned char)*p)) p++, digits++;
  if (*p == '.') {
    p++;
    while (isdigit((unsigned char)*p)) p++, digits++;
  }
  if (!digits) return s;
  if (*p == 'e' || *p == 'E') {
    const char *q = p + 1;
    if (*q == '+' || *q == '-') q++;
    if (isdigit((unsigned char)*q)) {
      while (isdigit((unsigned char)*q)) q++;
      p = q;
    }
  }
  return p;
}

/* Does the mantissa of [s, e) have a non-zero digit? (Then a zero result is underflow.) */
static int nonzero_mantissa(const char *s, const char *e) {
  for (const char *p = s; p < e && *p != 'e' && *p != 'E'; p++)
    if (*p >= '1' && *p <= '9') return 1;
  return 0;
}

cgd_parse_code cgd_parse_double_prefix(const char *s, double *out, const char **end) {
  *end = s;
  if (!*s) return CGD_PARSE_EMPTY;
  if (isspace((unsigned char)*s)) return CGD_PARSE_SPACE;
  const char *e = scan_decimal(s);
  if (e == s) return CGD_PARSE_SYNTAX;
  char *se;
  errno = 0;
  double v = strtod(s, &se);
  /* strtod may read further than our grammar (e.g. hex after "0x"); our scan decides. */
  if (se < e) return CGD_PARSE_SYNTAX;
  if (!isfinite(v)) return CGD_PARSE_RANGE;
  /* ERANGE with a finite result is underflow: keep subnormals, reject a flush to zero. */
  if (errno == ERANGE && v == 0 && nonzero_mantissa(s, e)) return CGD_PARSE_RANGE;
  if (errno == ERANGE && fabs(v) > 1) return CGD_PARSE_RANGE;
  *out = v;
  *end = e;
  return CGD_PARSE_OK;
}

cgd_parse_code cgd_parse_double(const char *s, double *out) {
  const char *end;
  double v;
  cgd_parse_code c = cgd_parse_double_prefix(s, &v, &end);
  if (c) return c;
  if (*end) return isspace((unsigned char)*end) ? CGD_PARSE_SPACE : CGD_PARSE_SYNTAX;
  *out = v;
  return CGD_PARSE_OK;
}

cgd_parse_code cgd_parse_u64(const char *s, uint64_t *out) {
  if (!*s) return CGD_PARSE_EMPTY;
  if (isspace((unsigned char)*s)) return CGD_PARSE_SPACE;
  if (*s == '-') return CGD_PARSE_NEGATIVE;
  /* No '+' either: the header promises digits only, and a signed spelling of a count
   * ("+5") is more likely a slip than intent. */
  if (!isdigit((unsigned char)*s)) return CGD_PARSE_SYNTAX;
  uint64_t v = 0;
  for (; isdigit((unsigned char)*s); s++) {
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10) return CGD_PARSE_RANGE;
    v = v * 10 + d;
  }
  if (*s) return isspace((unsigned char)*s) ? CGD_PARSE_SPACE : CGD_PARSE_SYNTAX;
  *out = v;
  return CGD_PARSE_OK;
}
