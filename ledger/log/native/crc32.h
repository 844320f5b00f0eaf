/* CRC-32/ISO-HDLC, as zlib's crc32() computes it: crc32.c. */
#ifndef VT_CRC32_H
#define VT_CRC32_H
#include <stddef.h>
#include <stdint.h>

/* The CRC of n bytes at p, continuing from `crc` (0 to start), as zlib's crc32(crc, p, n). */
uint32_t vt_crc32(uint32_t crc, const unsigned char *p, size_t n);

#endif
