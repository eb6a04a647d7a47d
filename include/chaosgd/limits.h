/* Memory limits: how much a run may ask for, and what its big pieces need, so that an
 * input that would need too much is refused up front with the amount, instead of
 * allocating until the operating system kills the process.
 *
 * Sizes are uint64_t bytes and every estimate saturates at UINT64_MAX instead of
 * wrapping around, so a hostile size (--hidden 2^61) gives "needs more than 16 EiB",
 * never a small number. */
#ifndef CHAOSGD_LIMITS_H
#define CHAOSGD_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "chaosgd/status.h"

/* The default memory limit: 3/4 of the memory this process can have, the smallest of
 * physical memory (sysconf, else /proc/meminfo MemTotal), a cgroup limit
 * (/sys/fs/cgroup/memory.max, v1 memory.limit_in_bytes) and RLIMIT_AS. The quarter left
 * is for the libraries, the stack, BLAS buffers and the rest of the system. Returns
 * 1 GiB if none of these can be read. */
uint64_t cgd_default_max_memory(void);

/* Saturating arithmetic for size estimates. */
uint64_t cgd_mem_add(uint64_t a, uint64_t b);
uint64_t cgd_mem_mul(uint64_t a, uint64_t b);

/* Bytes a d-H-1 MLP run on n rows allocates besides the data set itself: the model's
 * scratch (Z and A, n×H each, and r, n; one model for the training rows and one for the
 * holdout rows, n in total), and 8 parameter-sized vectors of P = H·d + 2H + 1 doubles
 * (θ, gradient, map state, the observer's previous θ, initial θ copy, histogram and
 * parameter-file buffers, with room to spare). Data-set bytes: see
 * cgd_dataset_memory_bytes (dataset.h); per-step trace arrays: 3·(iters+1) doubles. */
uint64_t cgd_mlp_memory_bytes(uint64_t n, uint64_t d, uint64_t H);

/* Everything an MLP run of iters steps on n rows of d inputs allocates, for one check
 * before the run: cgd_mlp_memory_bytes, the data set with its holdout copy (n rows of
 * d + 1 values, twice) and the per-step trace arrays (loss, gradient norm, step length:
 * 3·(iters + 1) doubles). The file's bytes are freed once it is parsed and are not
 * counted. Saturates at UINT64_MAX (--iters 1e15, --hidden 2^61). */
uint64_t cgd_mlp_run_memory_bytes(uint64_t n, uint64_t d, uint64_t H, uint64_t iters);

/* "1.5 GiB", "12 MiB", "800 B" into buf (at least 16 bytes); returns buf. */
const char *cgd_mem_format(uint64_t bytes, char *buf, size_t bufsz);

/* CGD_OK if need <= limit (UINT64_MAX: no limit), else fails with the given code and
 * "WHAT needs N (more than the memory limit of M; raise it with --max-memory)". */
int cgd_mem_check(uint64_t need, uint64_t limit, int code, const char *what, cgd_error *err);

#endif
