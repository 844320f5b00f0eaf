/*
 * CRC-32/ISO-HDLC, the checksum of the ledger's frames (ledger/log/frame.ts) as zlib's crc32()
 * computes it: reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF (ITU-T
 * V.42 / ISO 3309; parameters as catalogued for "CRC-32/ISO-HDLC"). Slicing-by-8 (eight 256-entry
 * tables, eight bytes a step; Kounavis and Berry, "A Systematic Approach to Building High
 * Performance Software-based CRC Generators", 2005): portable C, the same on x86 and ARM, about
 * a byte a cycle. The tables are built once per process. Cross-checked against node:zlib's
 * crc32 in test/ledger/native-scan.test.ts.
 */
#include "crc32.h"
#include <pthread.h>

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = table[0][i];
    for (int t = 1; t < 8; t++) {
      c = table[0][c & 0xff] ^ (c >> 8);
      table[t][i] = c;
    }
  }
}

uint32_t vt_crc32(uint32_t crc, const unsigned char *p, size_t n) {
  pthread_once(&table_once, build_tables);
  uint32_t c = ~crc;
  /* Eight bytes a step, read byte by byte: no alignment or byte-order assumption. */
  while (n >= 8) {
    uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
        table[3][p[4]] ^ table[2][p[5]] ^ table[1][p[6]] ^ table[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n--) c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}
