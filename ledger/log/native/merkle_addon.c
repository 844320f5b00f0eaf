/*
 * voltrail's native Merkle hasher: RFC 9162 section 2.1 leaf hashes (SHA-256(0x00 || leaf))
 * and the right edge ("frontier") of a growing tree (node = SHA-256(0x01 || left || right)),
 * for many leaves in one call. https://www.rfc-editor.org/rfc/rfc9162#section-2.1
 *
 * Why: node:crypto's one-shot hash costs about 3 us a call on a 450-byte leaf, almost all of
 * it per-call overhead (a fresh digest context, the JS/C++ crossing); the compression itself
 * is a few hundred ns with the CPU's SHA instructions. Hashing a batch of leaves in one
 * crossing, with the low-level SHA-256 of the OpenSSL linked into Node (which picks SHA-NI or
 * the ARMv8 crypto extension at run time), removes that overhead. Nothing is allocated; results
 * go into arrays the caller passes in. Argument checks with field names live in the loader
 * (ledger/log/native-merkle.ts); the checks here only keep every access in bounds.
 *
 * Exports:
 *   appendSpans(frontier, size, data, spans, count, leafHashesOut?) -> new size
 *     leaves are data[spans[2i] .. spans[2i+1]) for i < count
 *   appendLeaves(frontier, size, leaves: Uint8Array[], leafHashesOut?) -> new size
 *   root(frontier, size, out) -> undefined: the root of the tree of size >= 1 leaves into out[0..32)
 *   scanRun(data, pos, frontier, size, out) -> entries consumed (the verifier's scanner, scan.c)
 *   hashRun(data, pos, frontier, size, out) -> entries consumed (Ledger.open's replay, scan.c)
 *   frameChunk(...), frameChunkAsync(...), sigDigests(...), checkRecords(...): frame.c (chunks of frames for the group commit)
 * frontier: Uint8Array of 64*32 bytes; slot k holds the root of a perfect subtree of 2^k leaves
 * when bit k of size is set (the layout of MerkleFrontier in merkle.ts). size < 2^53.
 */
#include <node_api.h>
#include "sha256.h"
#include "scan.h"
#include "crc32.h"
#include "frame.h"
#include <stdint.h>
#include <string.h>

#define FRONTIER_BYTES (64 * 32)

void leaf_hash(const unsigned char *leaf, size_t n, unsigned char out[32]) {
  static const unsigned char prefix = 0x00;
  vt_sha256_ctx c;
  vt_sha256_init(&c);
  vt_sha256_update(&c, &prefix, 1);
  vt_sha256_update(&c, leaf, n);
  vt_sha256_final(&c, out);
}

/* out may alias left or right: both are copied behind the prefix first. */
static void node_hash(const unsigned char *left, const unsigned char *right, unsigned char out[32]) {
  unsigned char buf[65];
  buf[0] = 0x01;
  memcpy(buf + 1, left, 32);
  memcpy(buf + 33, right, 32);
  vt_sha256_ctx c;
  vt_sha256_init(&c);
  vt_sha256_update(&c, buf, sizeof buf);
  vt_sha256_final(&c, out);
}

uint64_t frontier_append(unsigned char *frontier, uint64_t size, const unsigned char leaf_hash32[32]) {
  unsigned char h[32];
  memcpy(h, leaf_hash32, 32);
  int k = 0;
  while ((size >> k) & 1) {
    node_hash(frontier + 32 * k, h, h);
    k++;
  }
  memcpy(frontier + 32 * k, h, 32);
  return size + 1;
}

napi_value vt_type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

int vt_typed(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok) return 0;
  return type == want;
}

int vt_is_undefined(napi_env env, napi_value value) {
  napi_valuetype t;
  return napi_typeof(env, value, &t) == napi_ok && (t == napi_undefined || t == napi_null);
}

/* The frontier and size arguments shared by both calls. */
static int frontier_args(napi_env env, napi_value *argv, unsigned char **frontier, uint64_t *size) {
  size_t fl;
  if (!vt_typed(env, argv[0], napi_uint8_array, (void **)frontier, &fl) || fl < FRONTIER_BYTES) return 0;
  double s;
  if (napi_get_value_double(env, argv[1], &s) != napi_ok || !(s >= 0 && s < 9007199254740992.0)) return 0;
  *size = (uint64_t)s;
  return 1;
}

static napi_value number(napi_env env, uint64_t v) {
  napi_value result;
  napi_create_double(env, (double)v, &result);
  return result;
}

static napi_value js_append_spans(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) return vt_type_error(env, "appendSpans(frontier, size, data, spans, count, leafHashesOut?)");
  unsigned char *frontier, *data, *out = NULL;
  uint32_t *spans;
  uint64_t size;
  size_t dl, sl, ol = 0;
  uint32_t count;
  if (!frontier_args(env, argv, &frontier, &size)) return vt_type_error(env, "frontier must be a Uint8Array of 2048 bytes and size a count below 2^53");
  if (!vt_typed(env, argv[2], napi_uint8_array, (void **)&data, &dl)) return vt_type_error(env, "data must be a Uint8Array");
  if (!vt_typed(env, argv[3], napi_uint32_array, (void **)&spans, &sl)) return vt_type_error(env, "spans must be a Uint32Array");
  if (napi_get_value_uint32(env, argv[4], &count) != napi_ok || (size_t)count * 2 > sl) return vt_type_error(env, "count must be a number of spans that spans holds");
  if (argc > 5 && !vt_is_undefined(env, argv[5])) {
    if (!vt_typed(env, argv[5], napi_uint8_array, (void **)&out, &ol) || ol < (size_t)count * 32) return vt_type_error(env, "leafHashesOut must be a Uint8Array of at least count*32 bytes");
  }
  for (uint32_t i = 0; i < count; i++) {
    uint32_t start = spans[2 * i], end = spans[2 * i + 1];
    if (start > end || end > dl) return vt_type_error(env, "a span lies outside data");
  }
  unsigned char h[32];
  for (uint32_t i = 0; i < count; i++) {
    unsigned char *lh = out ? out + 32 * (size_t)i : h;
    leaf_hash(data + spans[2 * i], spans[2 * i + 1] - spans[2 * i], lh);
    size = frontier_append(frontier, size, lh);
  }
  return number(env, size);
}

/* The root over the frontier's slots (MerkleFrontier.root): the set bits of size, lowest first, folded as h = H(slot_k, h). */
static napi_value js_root(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return vt_type_error(env, "root(frontier, size, out)");
  unsigned char *frontier, *out;
  uint64_t size;
  size_t ol;
  if (!frontier_args(env, argv, &frontier, &size) || size == 0) return vt_type_error(env, "frontier must be a Uint8Array of 2048 bytes and size a count from 1 to 2^53");
  if (!vt_typed(env, argv[2], napi_uint8_array, (void **)&out, &ol) || ol < 32) return vt_type_error(env, "out must be a Uint8Array of at least 32 bytes");
  unsigned char h[32];
  int have = 0;
  for (int k = 0; k < 64; k++) {
    if (!((size >> k) & 1)) continue;
    if (have) {
      node_hash(frontier + 32 * k, h, h);
    } else {
      memcpy(h, frontier + 32 * k, 32);
      have = 1;
    }
  }
  memcpy(out, h, 32);
  return NULL;
}

static napi_value js_append_leaves(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return vt_type_error(env, "appendLeaves(frontier, size, leaves, leafHashesOut?)");
  unsigned char *frontier, *out = NULL;
  uint64_t size;
  size_t ol = 0;
  if (!frontier_args(env, argv, &frontier, &size)) return vt_type_error(env, "frontier must be a Uint8Array of 2048 bytes and size a count below 2^53");
  bool is_array = false;
  uint32_t count;
  if (napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[2], &count) != napi_ok) return vt_type_error(env, "leaves must be an array of Uint8Array");
  if (argc > 3 && !vt_is_undefined(env, argv[3])) {
    if (!vt_typed(env, argv[3], napi_uint8_array, (void **)&out, &ol) || ol < (size_t)count * 32) return vt_type_error(env, "leafHashesOut must be a Uint8Array of at least leaves.length*32 bytes");
  }
  /* Checked before anything is hashed, so that a bad element leaves the frontier unchanged. */
  for (uint32_t i = 0; i < count; i++) {
    napi_value el;
    unsigned char *leaf;
    size_t n;
    if (napi_get_element(env, argv[2], i, &el) != napi_ok || !vt_typed(env, el, napi_uint8_array, (void **)&leaf, &n)) return vt_type_error(env, "leaves must be an array of Uint8Array");
  }
  unsigned char h[32];
  for (uint32_t i = 0; i < count; i++) {
    napi_value el;
    unsigned char *leaf;
    size_t n;
    napi_get_element(env, argv[2], i, &el);
    vt_typed(env, el, napi_uint8_array, (void **)&leaf, &n);
    unsigned char *lh = out ? out + 32 * (size_t)i : h;
    leaf_hash(leaf, n, lh);
    size = frontier_append(frontier, size, lh);
  }
  return number(env, size);
}

static const char *g_impl = NULL;

NAPI_MODULE_INIT() {
  if (g_impl == NULL) g_impl = vt_sha256_setup();
  napi_value impl;
  if (napi_create_string_utf8(env, g_impl, NAPI_AUTO_LENGTH, &impl) != napi_ok) return NULL;
  napi_value crc_impl;
  if (napi_create_string_utf8(env, vt_crc32_impl(), NAPI_AUTO_LENGTH, &crc_impl) != napi_ok) return NULL;
  napi_property_descriptor props[] = {
      {"sha256", NULL, NULL, NULL, NULL, impl, napi_enumerable, NULL},
      {"appendSpans", NULL, js_append_spans, NULL, NULL, NULL, napi_enumerable, NULL},
      {"appendLeaves", NULL, js_append_leaves, NULL, NULL, NULL, napi_enumerable, NULL},
      {"root", NULL, js_root, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scanRun", NULL, vt_js_scan_run, NULL, NULL, NULL, napi_enumerable, NULL},
      {"hashRun", NULL, vt_js_hash_run, NULL, NULL, NULL, napi_enumerable, NULL},
      {"crc32", NULL, NULL, NULL, NULL, crc_impl, napi_enumerable, NULL},
      {"frameChunk", NULL, vt_js_frame_chunk, NULL, NULL, NULL, napi_enumerable, NULL},
      {"frameChunkAsync", NULL, vt_js_frame_chunk_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sigDigests", NULL, vt_js_sig_digests, NULL, NULL, NULL, napi_enumerable, NULL},
      {"checkRecords", NULL, vt_js_check_records, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
