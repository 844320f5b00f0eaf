/*
 * The group-commit side of the ledger in one pass over a chunk of entries laid out as they go to
 * disk (ledger/log/frame.ts): each frame is
 *   payload length u32 BE | CRC-32 (ISO-HDLC, as zlib computes it) of kind||payload u32 BE |
 *   kind u8 | payload
 * and for Merkle leaves (kinds 1 and 2) the RFC 9162 leaf hash SHA-256(0x00 || payload) goes
 * into the frontier, all in one call into C instead of a CRC call, a copy and a hash call per
 * entry from JavaScript. Also: the SHA-256 digests of COSE_Sign1 Sig_structures (RFC 9052
 * section 4.4) over many payloads, for batch signing in per-record mode.
 *
 * Exports (registered in merkle_addon.c):
 *   frameChunk(buf, offsets: Uint32Array, count, frontier, size, leafHashesOut?) -> new size
 *     frame i spans buf[offsets[i] .. offsets[i+1]); its kind byte is already written at
 *     offsets[i] + 8 and its payload follows; length and CRC are written here. Every frame is
 *     checked before anything is written, so a bad argument changes nothing.
 *   frameChunkAsync(buf, offsets, count, frontier, size, done) -> undefined
 *     the same work on a thread of libuv's pool, off the event loop; done(newSize) is called
 *     on the event loop afterwards. The arguments are checked here, before anything is queued;
 *     the caller must not touch buf, offsets or frontier until done runs.
 *   sigDigests(buf, spans: Uint32Array, count, prefix, out) -> undefined
 *     digest i = SHA-256(prefix || bstr head of n_i || buf[spans[2i] .. spans[2i+1])),
 *     n_i = the span's length; prefix = Sig_structure's bytes before the payload's head.
 *   checkRecords(buf, spans: Uint32Array, from, count) -> index of the first record from `from`
 *     on (record i = buf[spans[2i] .. spans[2i+1])) that the walk below does not vouch for;
 *     count when it vouches for all.
 */
#include "frame.h"
#include "scan.h"
#include "sha256.h"
#include "crc32.h"
#include <stdlib.h>
#include <string.h>

#define FRAME_HEADER 9
#define MAX_PAYLOAD (1024u * 1024u)
#define FRONTIER_BYTES (64 * 32)

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* A chunk to frame and hash: its checked arguments. */
typedef struct {
  unsigned char *buf, *frontier, *out;
  uint32_t *offsets;
  uint32_t count;
  uint64_t size;
} chunk_job;

/* Checks frameChunk's arguments into `job`; 0 after throwing the TypeError that says which. */
static int chunk_args(napi_env env, napi_value *argv, size_t argc, chunk_job *job) {
  size_t bl, ol, fl, hl = 0;
  double s;
  job->out = NULL;
  if (!vt_typed(env, argv[0], napi_uint8_array, (void **)&job->buf, &bl)) return vt_type_error(env, "buf must be a Uint8Array"), 0;
  if (!vt_typed(env, argv[1], napi_uint32_array, (void **)&job->offsets, &ol)) return vt_type_error(env, "offsets must be a Uint32Array"), 0;
  if (napi_get_value_uint32(env, argv[2], &job->count) != napi_ok || (size_t)job->count + 1 > ol) return vt_type_error(env, "count must be a number of frames that offsets holds (count + 1 offsets)"), 0;
  if (!vt_typed(env, argv[3], napi_uint8_array, (void **)&job->frontier, &fl) || fl < FRONTIER_BYTES) return vt_type_error(env, "frontier must be a Uint8Array of 2048 bytes"), 0;
  if (napi_get_value_double(env, argv[4], &s) != napi_ok || !(s >= 0 && s < 9007199254740992.0)) return vt_type_error(env, "size must be a count below 2^53"), 0;
  if (argc > 5 && !vt_is_undefined(env, argv[5])) {
    if (!vt_typed(env, argv[5], napi_uint8_array, (void **)&job->out, &hl)) return vt_type_error(env, "leafHashesOut must be a Uint8Array"), 0;
  }
  uint32_t leaves = 0;
  for (uint32_t i = 0; i < job->count; i++) {
    uint32_t start = job->offsets[i], end = job->offsets[i + 1];
    if (start > end || end > bl || end - start < FRAME_HEADER) return vt_type_error(env, "a frame lies outside buf or is shorter than its header"), 0;
    if (end - start - FRAME_HEADER > MAX_PAYLOAD) return vt_type_error(env, "a payload exceeds the 1 MiB limit of a ledger entry"), 0;
    unsigned char kind = job->buf[start + 8];
    if (kind < 1 || kind > 4) return vt_type_error(env, "a frame's kind byte is not 1..4"), 0;
    if (kind <= 2) leaves++;
  }
  if (job->out != NULL && hl < (size_t)leaves * 32) return vt_type_error(env, "leafHashesOut must hold 32 bytes per leaf"), 0;
  job->size = (uint64_t)s;
  return 1;
}

/* Frames every entry of a checked job and appends its leaves to the frontier; returns the new size. */
static uint64_t frame_chunk(const chunk_job *job) {
  uint64_t size = job->size;
  unsigned char h[32];
  uint32_t leaf = 0;
  for (uint32_t i = 0; i < job->count; i++) {
    unsigned char *f = job->buf + job->offsets[i];
    uint32_t n = job->offsets[i + 1] - job->offsets[i] - FRAME_HEADER;
    put_be32(f, n);
    put_be32(f + 4, vt_crc32(0, f + 8, (size_t)n + 1));
    if (f[8] <= 2) {
      unsigned char *lh = job->out ? job->out + 32 * (size_t)leaf++ : h;
      leaf_hash(f + FRAME_HEADER, n, lh);
      size = frontier_append(job->frontier, size, lh);
    }
  }
  return size;
}

napi_value vt_js_frame_chunk(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) return vt_type_error(env, "frameChunk(buf, offsets, count, frontier, size, leafHashesOut?)");
  chunk_job job;
  if (!chunk_args(env, argv, argc, &job)) return NULL;
  napi_value result;
  napi_create_double(env, (double)frame_chunk(&job), &result);
  return result;
}

/* frameChunkAsync's work in flight: the job, and references that keep its arrays and callback alive. */
typedef struct {
  chunk_job job;
  uint64_t result;
  napi_async_work work;
  napi_ref refs[4]; /* buf, offsets, frontier, done */
} async_chunk;

static void async_execute(napi_env env, void *data) {
  (void)env;
  async_chunk *a = (async_chunk *)data;
  a->result = frame_chunk(&a->job);
}

static void async_complete(napi_env env, napi_status status, void *data) {
  async_chunk *a = (async_chunk *)data;
  napi_value done, global, size;
  if (napi_get_reference_value(env, a->refs[3], &done) == napi_ok && napi_get_global(env, &global) == napi_ok) {
    if (status == napi_ok) {
      napi_create_double(env, (double)a->result, &size);
    } else {
      napi_get_undefined(env, &size);
    }
    napi_call_function(env, global, done, 1, &size, NULL);
  }
  for (int i = 0; i < 4; i++) napi_delete_reference(env, a->refs[i]);
  napi_delete_async_work(env, a->work);
  free(a);
}

napi_value vt_js_frame_chunk_async(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) return vt_type_error(env, "frameChunkAsync(buf, offsets, count, frontier, size, done)");
  napi_valuetype t;
  if (napi_typeof(env, argv[5], &t) != napi_ok || t != napi_function) return vt_type_error(env, "done must be a function");
  async_chunk *a = (async_chunk *)calloc(1, sizeof *a);
  if (a == NULL) {
    napi_throw_error(env, "ERR_MEMORY", "frameChunkAsync: out of memory");
    return NULL;
  }
  if (!chunk_args(env, argv, 5, &a->job)) {
    free(a);
    return NULL;
  }
  napi_value name;
  napi_create_string_utf8(env, "voltrail:frameChunk", NAPI_AUTO_LENGTH, &name);
  const int keep[4] = {0, 1, 3, 5};
  int made = 0;
  for (; made < 4; made++) {
    if (napi_create_reference(env, argv[keep[made]], 1, &a->refs[made]) != napi_ok) break;
  }
  if (made < 4 || napi_create_async_work(env, NULL, name, async_execute, async_complete, a, &a->work) != napi_ok || napi_queue_async_work(env, a->work) != napi_ok) {
    for (int i = 0; i < made; i++) napi_delete_reference(env, a->refs[i]);
    free(a);
    napi_throw_error(env, "ERR_NAPI", "frameChunkAsync: could not queue the work");
    return NULL;
  }
  return NULL;
}

napi_value vt_js_sig_digests(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) return vt_type_error(env, "sigDigests(buf, spans, count, prefix, out)");
  unsigned char *buf, *prefix, *out;
  uint32_t *spans;
  size_t bl, sl, pl, outl;
  uint32_t count;
  if (!vt_typed(env, argv[0], napi_uint8_array, (void **)&buf, &bl)) return vt_type_error(env, "buf must be a Uint8Array");
  if (!vt_typed(env, argv[1], napi_uint32_array, (void **)&spans, &sl)) return vt_type_error(env, "spans must be a Uint32Array");
  if (napi_get_value_uint32(env, argv[2], &count) != napi_ok || (size_t)count * 2 > sl) return vt_type_error(env, "count must be a number of spans that spans holds");
  if (!vt_typed(env, argv[3], napi_uint8_array, (void **)&prefix, &pl)) return vt_type_error(env, "prefix must be a Uint8Array");
  if (!vt_typed(env, argv[4], napi_uint8_array, (void **)&out, &outl) || outl < (size_t)count * 32) return vt_type_error(env, "out must be a Uint8Array of at least count*32 bytes");
  for (uint32_t i = 0; i < count; i++) {
    if (spans[2 * i] > spans[2 * i + 1] || spans[2 * i + 1] > bl) return vt_type_error(env, "a span lies outside buf");
  }
  for (uint32_t i = 0; i < count; i++) {
    uint32_t n = spans[2 * i + 1] - spans[2 * i];
    unsigned char head[5];
    size_t hn;
    if (n < 24) {
      head[0] = (unsigned char)(0x40 | n);
      hn = 1;
    } else if (n < 0x100) {
      head[0] = 0x58;
      head[1] = (unsigned char)n;
      hn = 2;
    } else if (n < 0x10000) {
      head[0] = 0x59;
      head[1] = (unsigned char)(n >> 8);
      head[2] = (unsigned char)n;
      hn = 3;
    } else {
      head[0] = 0x5a;
      put_be32(head + 1, n);
      hn = 5;
    }
    vt_sha256_ctx c;
    vt_sha256_init(&c);
    vt_sha256_update(&c, prefix, pl);
    vt_sha256_update(&c, head, hn);
    vt_sha256_update(&c, buf + spans[2 * i], n);
    vt_sha256_final(&c, out + 32 * (size_t)i);
  }
  return NULL;
}

/* Whether the verifier's record walk (scan.c, record-scan.ts's rules) vouches for b[0 .. n). */
static int record_ok(const unsigned char *b, size_t n) {
  vt_envelope e;
  return vt_scan_record(b, n, &e);
}

napi_value vt_js_check_records(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) return vt_type_error(env, "checkRecords(buf, spans, from, count)");
  unsigned char *buf;
  uint32_t *spans;
  size_t bl, sl;
  uint32_t from, count;
  if (!vt_typed(env, argv[0], napi_uint8_array, (void **)&buf, &bl)) return vt_type_error(env, "buf must be a Uint8Array");
  if (!vt_typed(env, argv[1], napi_uint32_array, (void **)&spans, &sl)) return vt_type_error(env, "spans must be a Uint32Array");
  if (napi_get_value_uint32(env, argv[2], &from) != napi_ok || napi_get_value_uint32(env, argv[3], &count) != napi_ok || from > count || (size_t)count * 2 > sl)
    return vt_type_error(env, "from <= count, and count a number of spans that spans holds");
  uint32_t i = from;
  for (; i < count; i++) {
    uint32_t start = spans[2 * i], end = spans[2 * i + 1];
    if (start > end || end > bl) return vt_type_error(env, "a span lies outside buf");
    if (!record_ok(buf + start, end - start)) break;
  }
  napi_value result;
  napi_create_uint32(env, i, &result);
  return result;
}
