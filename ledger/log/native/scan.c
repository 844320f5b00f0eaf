/*
 * The ledger verifier's native run scanner. Walks the frames of a segment file
 * (ledger/log/frame.ts: payload length u32 BE | CRC-32 of kind||payload u32 BE | kind | payload)
 * and, for each unsigned leaf (kind 2) whose frame checks out, whose record the fast canonical
 * check vouches for, and whose sequence number is the next one, hashes the leaf into the Merkle
 * frontier (RFC 9162 section 2.1) and goes on. The record check is record-scan.ts's, line for
 * line: RFC 8949 section 4.2.1 core deterministic CBOR within decodeRecord's limits, the
 * envelope of ledger/cddl/record.cddl read on the way. It stops at anything else (a checkpoint,
 * a signed record, a witness, a frame that fails, a record it cannot vouch for, a wrong
 * sequence) and hands that entry back to JavaScript, which handles it exactly as without the
 * scanner: every verdict, error message and location stays the verifier's. It never rejects.
 *
 * Why: the JavaScript path costs an object, a view and a callback per entry and a byte walk in
 * JavaScript; millions of records a ledger make that most of the verification time.
 *
 * scanRun(data: Uint8Array, pos, frontier: Uint8Array(2048), size, out: Float64Array(>= 5))
 *   -> entries consumed (all of them leaves: size grows by as many; the frontier is updated)
 *   out[0] the position after the last frame consumed (pos when none), out[1] the time of the
 *   first record consumed, out[2] of the last, out[3] how many carried simulated: true,
 *   out[4] why it stopped (SCAN_* below).
 * A record's sequence must equal the tree size before it (records are the tree's leaves in
 * order, verify.ts).
 */
#include "scan.h"
#include "crc32.h"
#include "sha256.h"
#include <string.h>

#define FRONTIER_BYTES (64 * 32)
#define FRAME_HEADER_BYTES 9
#define MAX_PAYLOAD_BYTES (1024 * 1024)
#define KIND_SIGNED_RECORD 1
#define KIND_LEAF 2

/* Why a run ended (out[4]); for tests and profiles, JavaScript decides on the entry itself. */
enum { SCAN_END = 0, SCAN_FRAME = 1, SCAN_KIND = 2, SCAN_RECORD = 3, SCAN_SEQUENCE = 4 };

/* decodeRecord's limits, as record-scan.ts copies them. */
#define MAX_SIZE (1 << 20)
#define MAX_DEPTH 16
#define MAX_ITEMS 100000
#define MAX_ARRAY 65536
#define MAX_MAP 4096

typedef struct {
  const unsigned char *b;
  size_t pos, end;
  uint32_t items;
  /* The value of the last unsigned integer read. */
  uint64_t value;
} walk;

/* The argument of the head after its initial byte, shortest form only, below 2^53; -1 otherwise. */
static int64_t argument(walk *w, unsigned ai) {
  const unsigned char *b = w->b;
  size_t p = w->pos;
  if (ai < 24) return ai;
  if (ai == 24) {
    if (p + 1 > w->end) return -1;
    uint32_t n = b[p];
    w->pos = p + 1;
    return n < 24 ? -1 : (int64_t)n;
  }
  if (ai == 25) {
    if (p + 2 > w->end) return -1;
    uint32_t n = (uint32_t)b[p] << 8 | b[p + 1];
    w->pos = p + 2;
    return n < 0x100 ? -1 : (int64_t)n;
  }
  if (ai == 26) {
    if (p + 4 > w->end) return -1;
    uint32_t n = (uint32_t)b[p] << 24 | (uint32_t)b[p + 1] << 16 | (uint32_t)b[p + 2] << 8 | b[p + 3];
    w->pos = p + 4;
    return n < 0x10000 ? -1 : (int64_t)n;
  }
  if (ai == 27) {
    if (p + 8 > w->end) return -1;
    uint32_t hi = (uint32_t)b[p] << 24 | (uint32_t)b[p + 1] << 16 | (uint32_t)b[p + 2] << 8 | b[p + 3];
    uint32_t lo = (uint32_t)b[p + 4] << 24 | (uint32_t)b[p + 5] << 16 | (uint32_t)b[p + 6] << 8 | b[p + 7];
    w->pos = p + 8;
    /* Shortest form: at least 2^32; beyond 2^53 - 1 the decoder makes a bigint: let it. */
    if (hi == 0 || hi >= 0x200000) return -1;
    return (int64_t)hi << 32 | lo;
  }
  return -1;
}

static int compare(const unsigned char *b, size_t s1, size_t e1, size_t s2, size_t e2) {
  size_t l1 = e1 - s1, l2 = e2 - s2;
  int c = memcmp(b + s1, b + s2, l1 < l2 ? l1 : l2);
  if (c != 0) return c;
  return l1 < l2 ? -1 : l1 > l2 ? 1 : 0;
}

/*
 * An integer head of 1 to 3 bytes at p (major 0 or 1, argument below 2^16), most of a
 * telemetry record: its length when it is one that argument() accepts, -1 when it is one that
 * argument() refuses, 0 when it is something else (item() decides).
 */
static inline int small_int(const unsigned char *b, size_t p, size_t end) {
  unsigned c = p < end ? (b[p] & 0xdf) : 0xff; /* major 0 and 1 alike */
  if (c < 0x18) return 1;
  if (c == 0x19) return p + 3 > end || b[p + 1] == 0 ? -1 : 3;
  if (c == 0x18) return p + 2 > end || b[p + 1] < 24 ? -1 : 2;
  return 0;
}

/* One data item at w->pos; 0 to give up. */
static int item(walk *w, int depth) {
  if (w->pos >= w->end || ++w->items > MAX_ITEMS) return 0;
  const unsigned char *b = w->b;
  unsigned ib = b[w->pos++];
  unsigned major = ib >> 5, ai = ib & 0x1f;
  int64_t n;
  switch (major) {
    case 0:
    case 1:
      n = argument(w, ai);
      if (n < 0) return 0;
      w->value = (uint64_t)n;
      return 1;
    case 2:
      n = argument(w, ai);
      if (n < 0 || (uint64_t)n > w->end - w->pos) return 0;
      w->pos += (size_t)n;
      return 1;
    case 3: {
      n = argument(w, ai);
      if (n < 0 || (uint64_t)n > w->end - w->pos) return 0;
      /* ASCII only (always valid UTF-8); other text goes to the full decoder's UTF-8 check. */
      size_t stop = w->pos + (size_t)n;
      for (size_t i = w->pos; i < stop; i++)
        if (b[i] >= 0x80) return 0;
      w->pos = stop;
      return 1;
    }
    case 4: {
      if (depth >= MAX_DEPTH) return 0;
      n = argument(w, ai);
      if (n < 0 || n > MAX_ARRAY || (uint64_t)n > w->end - w->pos) return 0;
      /* Integers below 2^16 (most of a telemetry body) without the call, same checks; the
         position and count in locals, as the bytes could alias them for the compiler. */
      size_t p = w->pos, end = w->end;
      uint32_t items = w->items;
      for (int64_t i = 0; i < n; i++) {
        /* Four 3-byte integers in a row (cell voltages): one test for the four heads. */
        while (n - i >= 4 && end - p >= 12 && ((b[p] | b[p + 3] | b[p + 6] | b[p + 9]) & 0xdf) == 0x19 &&
               ((b[p] & b[p + 3] & b[p + 6] & b[p + 9]) & 0xdf) == 0x19 && b[p + 1] && b[p + 4] && b[p + 7] && b[p + 10]) {
          if ((items += 4) > MAX_ITEMS) return 0;
          p += 12;
          i += 4;
        }
        if (i == n) break;
        int k = small_int(b, p, end);
        if (k < 0) return 0;
        if (k > 0) {
          if (++items > MAX_ITEMS) return 0;
          p += (size_t)k;
          continue;
        }
        w->pos = p;
        w->items = items;
        if (!item(w, depth + 1)) return 0;
        p = w->pos;
        items = w->items;
      }
      w->pos = p;
      w->items = items;
      return 1;
    }
    case 5: {
      if (depth >= MAX_DEPTH) return 0;
      n = argument(w, ai);
      if (n < 0 || n > MAX_MAP || 2 * (uint64_t)n > w->end - w->pos) return 0;
      size_t prev_start = 0, prev_end = 0;
      for (int64_t i = 0; i < n; i++) {
        /* Small integer keys and values without the call, as in arrays. */
        size_t key_start = w->pos;
        int k = small_int(b, key_start, w->end);
        if (k < 0) return 0;
        if (k > 0) {
          if (++w->items > MAX_ITEMS) return 0;
          w->pos = key_start + (size_t)k;
        } else if (!item(w, depth + 1)) return 0;
        size_t key_end = w->pos;
        /* Keys strictly increasing in bytewise order of their encodings (no duplicates); two
           one-byte keys (small integers, the usual case) compare without the call. */
        if (i > 0) {
          if (prev_end - prev_start == 1 && key_end - key_start == 1) {
            if (b[prev_start] >= b[key_start]) return 0;
          } else if (compare(b, prev_start, prev_end, key_start, key_end) >= 0) return 0;
        }
        prev_start = key_start;
        prev_end = key_end;
        int v = small_int(b, w->pos, w->end);
        if (v < 0) return 0;
        if (v > 0) {
          if (++w->items > MAX_ITEMS) return 0;
          w->pos += (size_t)v;
        } else if (!item(w, depth + 1)) return 0;
      }
      return 1;
    }
    case 7:
      /* false, true, null; floats and other simple values go to the full decoder. */
      return ai == 20 || ai == 21 || ai == 22;
    default:
      /* Tags (6), including bignums. */
      return 0;
  }
}

/* record-scan.ts scanRecord: 1 with the envelope when the walk vouches for the whole record. */
int vt_scan_record(const unsigned char *bytes, size_t len, vt_envelope *out) {
  if (len > MAX_SIZE || len == 0) return 0;
  unsigned ib = bytes[0];
  /* A map of 6 or 7 entries (fields 1..7, 5 optional), keys 0x01..0x07 in order. */
  if (ib != 0xa6 && ib != 0xa7) return 0;
  walk w = {bytes, 1, len, 1, 0};
  unsigned n = ib & 0x1f, prev_key = 0;
  int have_seq = 0, have_time = 0, have_type = 0, have_mono = 0, have_body = 0, have_boot = 0;
  out->seq = out->time = 0;
  out->simulated = 0;
  for (unsigned i = 0; i < n; i++) {
    if (w.pos >= w.end) return 0;
    unsigned key = bytes[w.pos];
    if (key <= prev_key || key > 7) return 0;
    prev_key = key;
    w.pos++;
    w.items++;
    size_t at = w.pos;
    if (at >= w.end) return 0;
    unsigned major = bytes[at] >> 5;
    switch (key) {
      case 1:
      case 2:
      case 6:
        if (major != 0 || !item(&w, 1)) return 0;
        if (key == 1) out->seq = w.value, have_seq = 1;
        else if (key == 2) out->time = w.value, have_time = 1;
        else have_mono = 1;
        break;
      case 3:
        if (major != 3 || !item(&w, 1)) return 0;
        have_type = 1;
        break;
      case 4:
        if (!item(&w, 1)) return 0;
        have_body = 1;
        break;
      case 5:
        if (bytes[at] != 0xf5) return 0;
        w.pos++;
        w.items++;
        out->simulated = 1;
        break;
      case 7:
        if (major != 2 || !item(&w, 1)) return 0;
        have_boot = 1;
        break;
    }
  }
  return w.pos == w.end && have_seq && have_time && have_mono && have_type && have_body && have_boot;
}

static inline uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The arguments scanRun and hashRun share: (data, pos, frontier, size, out). */
typedef struct {
  unsigned char *data, *frontier;
  double *out;
  size_t dl, pos;
  uint64_t size;
} run_args;

/* Reads and checks them (`outs`: how many doubles `out` must hold); 0 after throwing a TypeError with `signature`. */
static int read_run_args(napi_env env, napi_callback_info info, size_t outs, const char *signature, run_args *a) {
  size_t argc = 5;
  napi_value argv[5];
  size_t fl, ol;
  double pos_d, size_d;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5 ||
      !vt_typed(env, argv[0], napi_uint8_array, (void **)&a->data, &a->dl) ||
      napi_get_value_double(env, argv[1], &pos_d) != napi_ok || !(pos_d >= 0 && pos_d <= (double)a->dl) ||
      !vt_typed(env, argv[2], napi_uint8_array, (void **)&a->frontier, &fl) || fl < FRONTIER_BYTES ||
      napi_get_value_double(env, argv[3], &size_d) != napi_ok || !(size_d >= 0 && size_d < 9007199254740992.0) ||
      !vt_typed(env, argv[4], napi_float64_array, (void **)&a->out, &ol) || ol < outs) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", signature);
    return 0;
  }
  a->pos = (size_t)pos_d;
  a->size = (uint64_t)size_d;
  return 1;
}

napi_value vt_js_scan_run(napi_env env, napi_callback_info info) {
  run_args a;
  if (!read_run_args(env, info, 5, "scanRun(data: Uint8Array, pos: number within data, frontier: Uint8Array of 2048 bytes, size: count below 2^53, out: Float64Array of 5)", &a)) return NULL;
  uint32_t consumed = 0, simulated = 0;
  double first = -1, last = -1;
  int why = SCAN_END;
  unsigned char h[32];
  vt_envelope rec;
  while (a.pos < a.dl) {
    if (a.dl - a.pos < FRAME_HEADER_BYTES) { why = SCAN_FRAME; break; }
    uint32_t len = be32(a.data + a.pos);
    if (len > MAX_PAYLOAD_BYTES || len > a.dl - a.pos - FRAME_HEADER_BYTES) { why = SCAN_FRAME; break; }
    /* The kind first: a checkpoint or a signed record goes back unchecked, JS checks its frame. */
    if (a.data[a.pos + 8] != KIND_LEAF) { why = SCAN_KIND; break; }
    if (vt_crc32(0, a.data + a.pos + 8, (size_t)len + 1) != be32(a.data + a.pos + 4)) { why = SCAN_FRAME; break; }
    const unsigned char *payload = a.data + a.pos + FRAME_HEADER_BYTES;
    if (!vt_scan_record(payload, len, &rec)) { why = SCAN_RECORD; break; }
    if (rec.seq != a.size) { why = SCAN_SEQUENCE; break; }
    leaf_hash(payload, len, h);
    a.size = frontier_append(a.frontier, a.size, h);
    if (consumed == 0) first = (double)rec.time;
    last = (double)rec.time;
    simulated += rec.simulated;
    consumed++;
    a.pos += FRAME_HEADER_BYTES + (size_t)len;
  }
  a.out[0] = (double)a.pos;
  a.out[1] = first;
  a.out[2] = last;
  a.out[3] = simulated;
  a.out[4] = why;
  napi_value result;
  napi_create_uint32(env, consumed, &result);
  return result;
}

/*
 * hashRun(data, pos, frontier, size, out) -> entries consumed: Ledger.open's replay, which only
 * rebuilds the frontier. From `pos`, consumes each frame of a Merkle leaf (kind 1 or 2) whose
 * length and CRC-32 check out, hashing its payload into the frontier; stops at anything else
 * (another kind, a damaged or cut frame), which the JavaScript replay then takes as it always
 * has. No record check: opening never checked records (verification does). out[0] = the
 * position after the run, out[1] = how many of its entries were unsigned leaves (kind 2).
 */
napi_value vt_js_hash_run(napi_env env, napi_callback_info info) {
  run_args a;
  if (!read_run_args(env, info, 2, "hashRun(data: Uint8Array, pos: number within data, frontier: Uint8Array of 2048 bytes, size: count below 2^53, out: Float64Array of 2)", &a)) return NULL;
  uint32_t consumed = 0, unsigned_leaves = 0;
  unsigned char h[32];
  while (a.pos < a.dl) {
    if (a.dl - a.pos < FRAME_HEADER_BYTES) break;
    uint32_t len = be32(a.data + a.pos);
    if (len > MAX_PAYLOAD_BYTES || len > a.dl - a.pos - FRAME_HEADER_BYTES) break;
    unsigned char kind = a.data[a.pos + 8];
    if (kind != KIND_LEAF && kind != KIND_SIGNED_RECORD) break;
    if (vt_crc32(0, a.data + a.pos + 8, (size_t)len + 1) != be32(a.data + a.pos + 4)) break;
    leaf_hash(a.data + a.pos + FRAME_HEADER_BYTES, len, h);
    a.size = frontier_append(a.frontier, a.size, h);
    unsigned_leaves += kind == KIND_LEAF;
    consumed++;
    a.pos += FRAME_HEADER_BYTES + (size_t)len;
  }
  a.out[0] = (double)a.pos;
  a.out[1] = unsigned_leaves;
  napi_value result;
  napi_create_uint32(env, consumed, &result);
  return result;
}
