/* The ledger verifier's native run scanner (scan.c), registered by merkle_addon.c. */
#ifndef VT_SCAN_H
#define VT_SCAN_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

/* scanRun(data, pos, frontier, size, out) -> entries consumed; see scan.c. */
napi_value vt_js_scan_run(napi_env env, napi_callback_info info);

/* The RFC 9162 leaf hash and frontier append of merkle_addon.c, shared with scan.c. */
void leaf_hash(const unsigned char *leaf, size_t n, unsigned char out[32]);
uint64_t frontier_append(unsigned char *frontier, uint64_t size, const unsigned char leaf_hash32[32]);

#endif
