/* What merkle_addon.c shares with scan.c and frame.c: the RFC 9162 leaf hash and frontier
 * append, and the N-API argument checks. */
#ifndef VT_FRONTIER_H
#define VT_FRONTIER_H
#include <stddef.h>
#include <stdint.h>
#include <node_api.h>

void leaf_hash(const unsigned char *leaf, size_t n, unsigned char out[32]);
uint64_t frontier_append(unsigned char *frontier, uint64_t size, const unsigned char leaf_hash32[32]);

/* Throws a TypeError (code ERR_INVALID_ARG_TYPE) with `message`; returns NULL to return from a call. */
napi_value vt_type_error(napi_env env, const char *message);
/* 1 when `value` is a typed array of type `want`, with its data and length in elements. */
int vt_typed(napi_env env, napi_value value, napi_typedarray_type want, void **data, size_t *length);
/* 1 when `value` is undefined or null. */
int vt_is_undefined(napi_env env, napi_value value);

#endif
