/*
 * SHA-256 as FIPS 180-4 section 6.2 specifies it, with two block functions: the x86 SHA
 * extensions (SHA256RNDS2, SHA256MSG1/2: Intel's "SHA Extensions" reference, 2013), picked at
 * run time when CPUID says the CPU has them, and portable C everywhere else. Written here
 * because the OpenSSL linked into Node 20 on this platform hashes at about a third of the
 * speed of the same CPU's SHA instructions, and the ledger's verifier spends most of its time
 * hashing. Cross-checked against node:crypto in test/ledger/native-merkle.test.ts.
 */
#include "sha256.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define VT_HAVE_X86 1
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void blocks_portable(uint32_t s[8], const unsigned char *p, size_t blocks) {
  uint32_t w[64];
  while (blocks--) {
    for (int t = 0; t < 16; t++) w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 | (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
    for (int t = 16; t < 64; t++) {
      uint32_t s0 = ROTR(w[t - 15], 7) ^ ROTR(w[t - 15], 18) ^ (w[t - 15] >> 3);
      uint32_t s1 = ROTR(w[t - 2], 17) ^ ROTR(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
    for (int t = 0; t < 64; t++) {
      uint32_t t1 = h + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
      uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    s[0] += a;
    s[1] += b;
    s[2] += c;
    s[3] += d;
    s[4] += e;
    s[5] += f;
    s[6] += g;
    s[7] += h;
    p += 64;
  }
}

#ifdef VT_HAVE_X86
/* The state is kept as ABEF and CDGH, the layout SHA256RNDS2 works on; each group of four
 * rounds takes W[t..t+3] + K[t..t+3], two rounds per instruction. */
__attribute__((target("sha,sse4.1,ssse3"))) static void blocks_shani(uint32_t s[8], const unsigned char *p, size_t blocks) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[0]), 0xB1); /* CDAB */
  __m128i st1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[4]), 0x1B); /* EFGH */
  __m128i st0 = _mm_alignr_epi8(tmp, st1, 8);                                     /* ABEF */
  st1 = _mm_blend_epi16(st1, tmp, 0xF0);                                          /* CDGH */
  while (blocks--) {
    const __m128i abef = st0, cdgh = st1;
    __m128i w[4];
    /* Unrolled so that w[] lives in registers. */
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
      __m128i cur;
      if (g < 4) {
        cur = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
      } else {
        /* W[t] = W[t-16] + s0(W[t-15]) + W[t-7] + s1(W[t-2]), four words at a time. */
        __m128i x = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
        x = _mm_add_epi32(x, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4));
        cur = _mm_sha256msg2_epu32(x, w[(g + 3) & 3]);
      }
      w[g & 3] = cur;
      __m128i m = _mm_add_epi32(cur, _mm_loadu_si128((const __m128i *)&K[4 * g]));
      st1 = _mm_sha256rnds2_epu32(st1, st0, m);
      st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(m, 0x0E));
    }
    st0 = _mm_add_epi32(st0, abef);
    st1 = _mm_add_epi32(st1, cdgh);
    p += 64;
  }
  tmp = _mm_shuffle_epi32(st0, 0x1B);   /* FEBA */
  st1 = _mm_shuffle_epi32(st1, 0xB1);   /* DCHG */
  st0 = _mm_blend_epi16(tmp, st1, 0xF0); /* DCBA */
  st1 = _mm_alignr_epi8(st1, tmp, 8);   /* HGFE */
  _mm_storeu_si128((__m128i *)&s[0], st0);
  _mm_storeu_si128((__m128i *)&s[4], st1);
}

static int cpu_has_shani(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  if (!(b & (1u << 29))) return 0; /* CPUID.(EAX=7,ECX=0):EBX.SHA[bit 29] */
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  return (c & (1u << 19)) && (c & (1u << 9)); /* SSE4.1, SSSE3 */
}
#endif

static void (*blocks_fn)(uint32_t s[8], const unsigned char *p, size_t blocks) = blocks_portable;

const char *vt_sha256_setup(void) {
  /* VOLTRAIL_MERKLE_SHA256=portable forces the C path, so that tests check it on any CPU. */
  const char *force = getenv("VOLTRAIL_MERKLE_SHA256");
  if (force != NULL && strcmp(force, "portable") == 0) {
    blocks_fn = blocks_portable;
    return "portable";
  }
#ifdef VT_HAVE_X86
  if (cpu_has_shani()) {
    blocks_fn = blocks_shani;
    return "sha-ni";
  }
#endif
  blocks_fn = blocks_portable;
  return "portable";
}

void vt_sha256_init(vt_sha256_ctx *c) {
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(c->state, iv, sizeof iv);
  c->length = 0;
  c->fill = 0;
}

void vt_sha256_update(vt_sha256_ctx *c, const unsigned char *data, size_t n) {
  c->length += n;
  if (c->fill > 0) {
    size_t take = 64 - c->fill < n ? 64 - c->fill : n;
    memcpy(c->buffer + c->fill, data, take);
    c->fill += take;
    data += take;
    n -= take;
    if (c->fill < 64) return;
    blocks_fn(c->state, c->buffer, 1);
    c->fill = 0;
  }
  if (n >= 64) {
    blocks_fn(c->state, data, n / 64);
    data += n & ~(size_t)63;
    n &= 63;
  }
  memcpy(c->buffer, data, n);
  c->fill = n;
}

void vt_sha256_final(vt_sha256_ctx *c, unsigned char out[32]) {
  uint64_t bits = c->length * 8;
  c->buffer[c->fill++] = 0x80;
  if (c->fill > 56) {
    memset(c->buffer + c->fill, 0, 64 - c->fill);
    blocks_fn(c->state, c->buffer, 1);
    c->fill = 0;
  }
  memset(c->buffer + c->fill, 0, 56 - c->fill);
  for (int i = 0; i < 8; i++) c->buffer[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
  blocks_fn(c->state, c->buffer, 1);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (unsigned char)(c->state[i] >> 24);
    out[4 * i + 1] = (unsigned char)(c->state[i] >> 16);
    out[4 * i + 2] = (unsigned char)(c->state[i] >> 8);
    out[4 * i + 3] = (unsigned char)c->state[i];
  }
}
