/* What frame.c shares with merkle_addon.c: the RFC 9162 leaf hash and frontier update it
 * reuses, and the N-API functions it adds to the addon. */
#ifndef VOLTRAIL_FRAME_H
#define VOLTRAIL_FRAME_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

/* merkle_addon.c */
void leaf_hash(const unsigned char *leaf, size_t n, unsigned char out[32]);
uint64_t frontier_append(unsigned char *frontier, uint64_t size, const unsigned char leaf_hash32[32]);

/* frame.c */
napi_value vt_js_frame_chunk(napi_env env, napi_callback_info info);
napi_value vt_js_sig_digests(napi_env env, napi_callback_info info);
napi_value vt_js_check_records(napi_env env, napi_callback_info info);

#endif
