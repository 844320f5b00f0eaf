# The optional native Merkle hasher: RFC 9162 leaf and node hashes of many leaves in one call,
# with its own SHA-256 (x86 SHA extensions where present; no library to install). Built by
# scripts/build-native.mjs where a C compiler exists; without it the ledger hashes leaves with
# node:crypto one call at a time (ledger/log/merkle.ts). scan.c and crc32.c: the verifier's run
# scanner over segment bytes (ledger/log/verify.ts), which hashes into the same frontier.
{
  "targets": [
    {
      "target_name": "voltrail_merkle",
      "sources": ["merkle_addon.c", "sha256.c", "scan.c", "crc32.c", "frame.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
