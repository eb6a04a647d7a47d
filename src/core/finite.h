/* The finiteness test the loop and the maps fold into their passes: on the bits of a
 * double, (b & EXP) + ONE carries into the sign bit exactly when the exponent is all ones
 * (±∞, NaN). OR-ed over a pass it is two integer operations per value, which vectorise,
 * where a floating-point test would be a serial chain; bit 63 of the OR says whether any
 * value was not finite. Not installed. */
#ifndef CHAOSGD_FINITE_H
#define CHAOSGD_FINITE_H

#include <stdint.h>
#include <string.h>

static inline uint64_t cgd_nonfinite_bit(double v) {
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  return (b & 0x7ff0000000000000ULL) + 0x0010000000000000ULL;
}

#endif
