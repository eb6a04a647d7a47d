/* Checkpoints of a run: everything needed to continue it so that its files come out
 * byte-identical to an uninterrupted run — the states, the map's own state, the step and
 * whether it was observed, the driver's series and file offsets, the kind's accumulators
 * and every observer's. The counter RNG needs no state (draws are keyed by step).
 *
 * File checkpoint.bin in the run directory, written atomically (checkpoint.bin.tmp, then
 * rename): magic "CGDCKPT1", then length-prefixed little-endian records, then the magic
 * again. Reading checks every length against what the run expects (a checkpoint of
 * another run, or a damaged one, is CGD_EDATA). Not installed. */
#ifndef CHAOSGD_CHECKPOINT_H
#define CHAOSGD_CHECKPOINT_H

#include <stdint.h>
#include <stdio.h>

#include "chaosgd/status.h"

/* Writers set *bad on a write error (checked once at the end). */
void cgd_ck_put_u64(FILE *fp, uint64_t v);
void cgd_ck_put(FILE *fp, const void *p, size_t bytes); /* length prefix + bytes */
/* Readers return CGD_OK or CGD_EDATA naming what. */
int cgd_ck_get_u64(FILE *fp, uint64_t *v, const char *what, cgd_error *err);
int cgd_ck_get(FILE *fp, void *p, size_t bytes, const char *what, cgd_error *err);

#endif
