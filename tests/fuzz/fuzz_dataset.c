/* libFuzzer target: the data-file loader (chaosgd/dataset.h) through its in-memory entry
 * point, then standardisation and a holdout split of whatever loads. Input: one byte
 * choosing the target column (0..3), then the file's bytes. The memory limit is set low
 * (64 MiB) so that the limit checks themselves are exercised. */
#include <stdint.h>
#include <stdlib.h>

#include "chaosgd/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  cgd_dataset_opts o = {.target_col = data[0] & 3, .max_bytes = (uint64_t)64 << 20,
                        .allow_constant_target = (data[0] >> 2) & 1};
  cgd_dataset *ds = NULL;
  cgd_error err;
  if (cgd_dataset_load_mem("fuzz.dat", (const char *)data + 1, size - 1, &o, &ds, &err) ==
      CGD_OK) {
    cgd_dataset *tr = NULL, *te = NULL;
    if ((data[0] >> 3) & 1) (void)cgd_dataset_standardize(ds, &err);
    if (cgd_dataset_split(ds, 0.25, data[0], &tr, &te, &err) == CGD_OK) {
      cgd_dataset_free(tr);
      cgd_dataset_free(te);
    }
    cgd_dataset_free(ds);
  }
  return 0;
}
