/* SHA-256 (FIPS 180-4), self-contained, used to fingerprint input files in run records.
 * One-shot cgd_sha256() or incremental init/update/final for streams; byte-order
 * independent (the digest is the same on any host). */
#ifndef CHAOSGD_SHA256_H
#define CHAOSGD_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct cgd_sha256_ctx {
  uint32_t h[8];      /* chaining state */
  uint64_t nbytes;    /* message length so far, in bytes */
  uint8_t buf[64];    /* partial block */
  size_t buflen;      /* bytes used in buf, < 64 */
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
