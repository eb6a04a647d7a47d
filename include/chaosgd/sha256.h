/* SHA-256 (FIPS 180-4) fingerprints of input files in run records, from Debian's libnettle
 * (nettle-dev). One-shot cgd_sha256() or incremental init/update/final for streams. */
#ifndef CHAOSGD_SHA256_H
#define CHAOSGD_SHA256_H

#include <nettle/sha2.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cgd_sha256_ctx {
  struct sha256_ctx n;
} cgd_sha256_ctx;

void cgd_sha256_init(cgd_sha256_ctx *c);
void cgd_sha256_update(cgd_sha256_ctx *c, const void *data, size_t len);
/* Writes the 32-byte digest; c must be re-initialised before reuse. */
void cgd_sha256_final(cgd_sha256_ctx *c, uint8_t out[32]);

/* Digest of len bytes at data (data may be NULL when len == 0). */
void cgd_sha256(const void *data, size_t len, uint8_t out[32]);

/* 64 lowercase hex characters plus NUL. */
void cgd_sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
