/* What frame.c shares with merkle_addon.c: the RFC 9162 leaf hash and frontier update it
 * reuses, and the N-API functions it adds to the addon. */
#ifndef VOLTRAIL_FRAME_H
#define VOLTRAIL_FRAME_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#include "frontier.h"

/* frame.c */
napi_value vt_js_frame_chunk(napi_env env, napi_callback_info info);
napi_value vt_js_frame_chunk_async(napi_env env, napi_callback_info info);
napi_value vt_js_sig_digests(napi_env env, napi_callback_info info);
napi_value vt_js_check_records(napi_env env, napi_callback_info info);

#endif
