/* SHA-256 through libnettle: the digests are the standard ones (tests/test_dataset.c
 * checks the FIPS 180-4 vectors and the Airfoil manifest). */
#include "chaosgd/sha256.h"

void cgd_sha256_init(cgd_sha256_ctx *c) { sha256_init(&c->n); }

void cgd_sha256_update(cgd_sha256_ctx *c, const void *data, size_t len) {
  if (len) sha256_update(&c->n, len, data);
}

void cgd_sha256_final(cgd_sha256_ctx *c, uint8_t out[32]) {
  sha256_digest(&c->n, SHA256_DIGEST_SIZE, out);
}

void cgd_sha256(const void *data, size_t len, uint8_t out[32]) {
  cgd_sha256_ctx c;
  cgd_sha256_init(&c);
  cgd_sha256_update(&c, data, len);
  cgd_sha256_final(&c, out);
}

void cgd_sha256_hex(const uint8_t digest[32], char hex[65]) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    hex[2 * i] = digits[digest[i] >> 4];
    hex[2 * i + 1] = digits[digest[i] & 15];
  }
  hex[64] = '\0';
}
