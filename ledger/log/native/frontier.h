/* The RFC 9162 leaf hash and frontier append of merkle_addon.c, shared with scan.c and frame.c. */
#ifndef VT_FRONTIER_H
#define VT_FRONTIER_H
#include <stddef.h>
#include <stdint.h>

void leaf_hash(const unsigned char *leaf, size_t n, unsigned char out[32]);
uint64_t frontier_append(unsigned char *frontier, uint64_t size, const unsigned char leaf_hash32[32]);

#endif
