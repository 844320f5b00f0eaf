/*
 * CRC-32/ISO-HDLC, the checksum of the ledger's frames (ledger/log/frame.ts), exactly as zlib's
 * crc32() computes it: reflected polynomial 0xEDB88320, initial value and final XOR
 * 0xFFFFFFFF. Slicing by 8 (eight tables of 256 entries, eight bytes a step), portable C; the
 * tables are built once per process. Cross-checked against node:zlib in
 * test/ledger/frame-chunk.test.ts.
 */
#include "crc32.h"
#include <pthread.h>
#include <string.h>

static uint32_t table[8][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++) {
    for (int t = 1; t < 8; t++) table[t][i] = table[0][table[t - 1][i] & 0xff] ^ (table[t - 1][i] >> 8);
  }
}

uint32_t vt_crc32(uint32_t crc, const unsigned char *p, size_t n) {
  pthread_once(&once, build);
  uint32_t c = ~crc;
  while (n >= 8) {
    /* Little-endian words by hand, so that the result does not depend on the CPU's byte order. */
    uint32_t lo = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
    lo ^= c;
    c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^ table[3][hi & 0xff] ^
        table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}
