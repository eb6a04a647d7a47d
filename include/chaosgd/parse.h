/* Strict parsing of numbers from text, the one number parser for every input path
 * (command line, config.json strings, parameter files, data files, expressions).
 *
 * A number is accepted only when the whole string is a number: no leading or trailing
 * white space, no empty string, no trailing junk ("0.1x", "0.1-0.2"), no hex or
 * inf/nan spellings. Doubles must be finite; a value that underflows to a subnormal or
 * to zero is accepted only when the text denotes it (strtod sets ERANGE for both, and a
 * value such as 1e-320 is a legitimate subnormal that we keep, whereas 1e-400 rounds to
 * 0 and is rejected as out of range). Whole numbers are decimal digits only, no sign. */
#ifndef CHAOSGD_PARSE_H
#define CHAOSGD_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Why a parse failed; cgd_parse_why gives a phrase for messages ("is not a number"). */
typedef enum {
  CGD_PARSE_OK = 0,
  CGD_PARSE_EMPTY,     /* "" */
  CGD_PARSE_SPACE,     /* leading or trailing white space */
  CGD_PARSE_SYNTAX,    /* not a number, or trailing junk */
  CGD_PARSE_RANGE,     /* overflows, or underflows to zero from non-zero digits */
  CGD_PARSE_NEGATIVE   /* a sign on a whole number */
} cgd_parse_code;

const char *cgd_parse_why(cgd_parse_code c);

/* The whole of s as a finite double. */
cgd_parse_code cgd_parse_double(const char *s, double *out);
/* The whole of s as an unsigned 64-bit decimal number. */
cgd_parse_code cgd_parse_u64(const char *s, uint64_t *out);

/* The longest numeric prefix of s (no leading space skipped), as strtod would read it but
 * with the same finiteness and range rules; *end points past it. For tokenisers (data and
 * parameter files, expressions) that then check what follows themselves. */
cgd_parse_code cgd_parse_double_prefix(const char *s, double *out, const char **end);

#endif
