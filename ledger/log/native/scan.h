/* The ledger verifier's native run scanner (scan.c), registered by merkle_addon.c. */
#ifndef VT_SCAN_H
#define VT_SCAN_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include "frontier.h"

/* scanRun(data, pos, frontier, size, out) -> entries consumed; see scan.c. */
napi_value vt_js_scan_run(napi_env env, napi_callback_info info);
/* hashRun(data, pos, frontier, size, out) -> entries consumed: Ledger.open's replay; see scan.c. */
napi_value vt_js_hash_run(napi_env env, napi_callback_info info);

/* The envelope fields of a record that vt_scan_record vouched for. */
typedef struct {
  uint64_t seq, time;
  int simulated;
} vt_envelope;

/* record-scan.ts scanRecord: 1 with the envelope when the walk vouches for the whole record,
 * 0 when the full decoder must decide (it never rejects on its own). Shared with frame.c. */
int vt_scan_record(const unsigned char *bytes, size_t len, vt_envelope *out);

#endif
