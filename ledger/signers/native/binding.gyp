# The optional native signer: a thin N-API addon over the system libsecp256k1
# (Debian libsecp256k1-dev). Built by scripts/build-native.mjs only where a compiler and the
# library exist; voltrail runs without it on the pure-JavaScript backend.
{
  "targets": [
    {
      "target_name": "voltrail_secp256k1",
      "sources": ["secp256k1_addon.c"],
      "libraries": ["-lsecp256k1"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
