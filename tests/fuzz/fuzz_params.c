/* libFuzzer target: the MLP parameter-file reader (cgd_mlp_params_parse, chaosgd/mlp.h).
 * Input: one byte choosing the model shape d (1..4) and H (1..4), then the file's bytes.
 * A successful read must fill exactly P values, all finite. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "chaosgd/mlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const size_t d = 1 + (data[0] & 3), H = 1 + ((data[0] >> 2) & 3);
  const size_t P = H * d + 2 * H + 1;
  double theta[4 * 4 + 2 * 4 + 1];
  cgd_error err;
  if (cgd_mlp_params_parse("fuzz.txt", (const char *)data + 1, size - 1, d, H, theta, &err) ==
      CGD_OK) {
    for (size_t i = 0; i < P; i++)
      if (!isfinite(theta[i])) abort(); /* the reader promises finite values */
  }
  return 0;
}
