/* Element-wise kernels compiled for several x86-64 levels and picked at load time (GCC
 * function multi-versioning). Element-wise IEEE operations give the same bits at every
 * vector width (no FMA contraction in ISO C mode), so results do not depend on the CPU's
 * choice. */
#ifndef CHAOSGD_CLONES_H
#define CHAOSGD_CLONES_H
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CGD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CGD_CLONES
#endif
#endif
