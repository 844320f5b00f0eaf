/* SHA-256 (FIPS 180-4) for the Merkle hasher: a streaming context over a block function picked
 * once at load time (the x86 SHA extensions where the CPU has them, portable C otherwise). */
#ifndef VOLTRAIL_SHA256_H
#define VOLTRAIL_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t state[8];
  uint64_t length;
  unsigned char buffer[64];
  size_t fill;
} vt_sha256_ctx;

/* Picks the block function; returns a name for it ("sha-ni" or "portable"). */
const char *vt_sha256_setup(void);
void vt_sha256_init(vt_sha256_ctx *c);
void vt_sha256_update(vt_sha256_ctx *c, const unsigned char *data, size_t n);
void vt_sha256_final(vt_sha256_ctx *c, unsigned char out[32]);

#endif
