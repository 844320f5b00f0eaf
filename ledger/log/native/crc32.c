/*
 * CRC-32/ISO-HDLC, the checksum of the ledger's frames (ledger/log/frame.ts) as zlib's crc32()
 * computes it: reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF (ITU-T
 * V.42 / ISO 3309; parameters as catalogued for "CRC-32/ISO-HDLC"). Two ways, the same result:
 * - x86 with PCLMULQDQ (picked at run time from CPUID): folding by carry-less multiplication
 *   and a Barrett reduction, as in Gopal et al., "Fast CRC Computation for Generic Polynomials
 *   Using PCLMULQDQ Instruction" (Intel, 2009), four 16-byte lanes at a time; for inputs of at
 *   least 64 bytes, the rest by table.
 * - everywhere else (ARM boards included): slicing-by-8 (eight 256-entry tables, eight bytes
 *   a step; Kounavis and Berry, "A Systematic Approach to Building High Performance
 *   Software-based CRC Generators", 2005), portable C, about a byte a cycle.
 * The tables are built once per process. Cross-checked against node:zlib's crc32 in
 * test/ledger/native-scan.test.ts (lengths 0 to over 1,100 bytes), the table way too
 * (VOLTRAIL_MERKLE_CRC32=portable forces it at run time; -DVT_CRC32_PORTABLE builds it alone).
 */
#include "crc32.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

static uint32_t table_crc(uint32_t c, const unsigned char *p, size_t n);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(VT_CRC32_PORTABLE)
#include <immintrin.h>
#define VT_CRC_CLMUL 1
static int have_clmul;

/* Folding constants for the reflected polynomial (x^k mod P, bit-reflected, from the paper):
   by 4 lanes (x^(4*128+32), x^(4*128-32)), by 1 lane (x^(128+32), x^(128-32)), 64 to 32 bits
   (x^64), and the Barrett pair (P' = P with x^32, mu = floor(x^64 / P)). */
static const uint64_t K_FOLD4[2] = {0x0154442bd4ull, 0x01c6e41596ull};
static const uint64_t K_FOLD1[2] = {0x01751997d0ull, 0x00ccaa009eull};
static const uint64_t K_64[2] = {0x0163cd6124ull, 0};
static const uint64_t K_BARRETT[2] = {0x01db710641ull, 0x01f7011641ull};

/* c is the register before inversion (~crc); n a multiple of 16, at least 64. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t clmul_crc(uint32_t c, const unsigned char *p, size_t n) {
  __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), _mm_cvtsi32_si128((int)c));
  __m128i b = _mm_loadu_si128((const __m128i *)(p + 16));
  __m128i d = _mm_loadu_si128((const __m128i *)(p + 32));
  __m128i e = _mm_loadu_si128((const __m128i *)(p + 48));
  p += 64;
  n -= 64;
  __m128i k = _mm_loadu_si128((const __m128i *)K_FOLD4);
#define VT_FOLD(x, next) _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next)
  for (; n >= 64; p += 64, n -= 64) {
    a = VT_FOLD(a, _mm_loadu_si128((const __m128i *)p));
    b = VT_FOLD(b, _mm_loadu_si128((const __m128i *)(p + 16)));
    d = VT_FOLD(d, _mm_loadu_si128((const __m128i *)(p + 32)));
    e = VT_FOLD(e, _mm_loadu_si128((const __m128i *)(p + 48)));
  }
  k = _mm_loadu_si128((const __m128i *)K_FOLD1);
  a = VT_FOLD(a, b);
  a = VT_FOLD(a, d);
  a = VT_FOLD(a, e);
  for (; n >= 16; p += 16, n -= 16) a = VT_FOLD(a, _mm_loadu_si128((const __m128i *)p));
#undef VT_FOLD
  /* 128 bits to 64, then to 32 by Barrett reduction. */
  const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
  __m128i t = _mm_clmulepi64_si128(a, k, 0x10);
  a = _mm_xor_si128(_mm_srli_si128(a, 8), t);
  k = _mm_loadl_epi64((const __m128i *)K_64);
  t = _mm_srli_si128(a, 4);
  a = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(a, low32), k, 0x00), t);
  k = _mm_loadu_si128((const __m128i *)K_BARRETT);
  t = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(a, low32), k, 0x10), low32);
  t = _mm_clmulepi64_si128(t, k, 0x00);
  a = _mm_xor_si128(a, t);
  return (uint32_t)_mm_extract_epi32(a, 1);
}
#endif

static void setup(void) {
  build_tables();
#ifdef VT_CRC_CLMUL
  __builtin_cpu_init();
  /* VOLTRAIL_MERKLE_CRC32=portable forces the table way, so that tests check it on any CPU. */
  const char *force = getenv("VOLTRAIL_MERKLE_CRC32");
  have_clmul = !(force && strcmp(force, "portable") == 0) && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#endif
}

const char *vt_crc32_impl(void) {
  pthread_once(&table_once, setup);
#ifdef VT_CRC_CLMUL
  if (have_clmul) return "pclmul";
#endif
  return "portable";
}

uint32_t vt_crc32(uint32_t crc, const unsigned char *p, size_t n) {
  pthread_once(&table_once, setup);
  uint32_t c = ~crc;
#ifdef VT_CRC_CLMUL
  if (have_clmul && n >= 64) {
    size_t m = n & ~(size_t)15;
    c = clmul_crc(c, p, m);
    p += m;
    n -= m;
  }
#endif
  return ~table_crc(c, p, n);
}

/* Slicing-by-8 over the register c (before inversion). */
static uint32_t table_crc(uint32_t c, const unsigned char *p, size_t n) {
  /* Eight bytes a step, read byte by byte: no alignment or byte-order assumption. */
  while (n >= 8) {
    uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
        table[3][p[4]] ^ table[2][p[5]] ^ table[1][p[6]] ^ table[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n--) c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return c;
}
