/*
 * voltrail's native signer: a thin N-API binding to the system libsecp256k1 (Bitcoin Core's
 * library, Debian libsecp256k1-dev). ECDSA over a 32-byte digest with RFC 6979 nonces and
 * low-S signatures (SEC 1 v2 section 4.1; BIP 62 low-S), r||s compact form, as COSE ES256K
 * asks (RFC 8812, RFC 9053 section 2.1).
 *
 * Why this shape: the cost of a call must be the library's, not the binding's. One context is
 * created once per process (signing and verifying only read it, so worker threads share it),
 * no call allocates: every result is written into a Uint8Array the caller passes in, and the
 * batch calls (signMany, verifyMany) sign or verify n digests in one crossing of the JS/C
 * boundary. Argument checks with field names live in the TypeScript loader (native.ts); the
 * checks here only make sure that no call can read or write out of bounds or abort the process.
 *
 * Exports (all arguments Uint8Array; `out` is written, never allocated):
 *   sign(digest32, priv32, out64) -> boolean            false if the key is out of range
 *   verify(sig64, digest32, pub) -> boolean             never throws: false on any malformed input
 *   publicKey(priv32, out33) -> boolean                 SEC1 compressed; false if the key is invalid
 *   signMany(digests n*32, priv32, out n*64) -> boolean
 *   verifyMany(sigs n*64, digests n*32, pub, out n) -> number of valid signatures; out[i] = 1|0
 */
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <secp256k1.h>

static secp256k1_context *g_ctx = NULL;
static pthread_once_t g_ctx_once = PTHREAD_ONCE_INIT;

/* libsecp256k1 aborts the process on an API misuse by default. Every call below passes
 * checked, non-NULL arguments, so this never fires; if it ever did, the call returns 0 and the
 * binding reports failure instead of killing the runtime that is signing telemetry. */
static void ignore_illegal(const char *message, void *data) {
  (void)message;
  (void)data;
}

static void create_context(void) {
  /* SECP256K1_CONTEXT_NONE: 0.2.0 has its signing tables built in; one flag-free context
   * serves sign and verify alike. */
  secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
  if (ctx == NULL) return;
  secp256k1_context_set_illegal_callback(ctx, ignore_illegal, NULL);
  /* Blinding of the signing computation against side channels (secp256k1.h,
   * secp256k1_context_randomize). Done once, before any other thread can see the context:
   * randomize is the only call that writes to it. */
  unsigned char seed[32];
  if (getrandom(seed, sizeof seed, 0) == (ssize_t)sizeof seed) {
    if (!secp256k1_context_randomize(ctx, seed)) {
      /* Still a valid context; signatures are unaffected (RFC 6979 is deterministic). */
    }
  }
  memset(seed, 0, sizeof seed);
  g_ctx = ctx;
}

/* A Uint8Array (or Buffer) argument: its bytes and length; 0 if it is anything else. */
static int u8(napi_env env, napi_value value, unsigned char **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *ptr = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &ptr, NULL, NULL) != napi_ok) return 0;
  if (type != napi_uint8_array && type != napi_uint8_clamped_array) return 0;
  *data = (unsigned char *)ptr;
  return 1;
}

static napi_value boolean(napi_env env, int value) {
  napi_value result;
  napi_get_boolean(env, value != 0, &result);
  return result;
}

static napi_value type_error(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

/* Signs one digest into out[0..64). The library parses the key itself and returns 0 when it
 * is zero or not below the group order. */
static int sign_one(const unsigned char *digest, const unsigned char *priv, unsigned char *out) {
  secp256k1_ecdsa_signature sig;
  if (!secp256k1_ecdsa_sign(g_ctx, &sig, digest, priv, NULL, NULL)) return 0;
  return secp256k1_ecdsa_signature_serialize_compact(g_ctx, out, &sig);
}

/* Verifies one r||s signature. parse_compact refuses r or s >= n; verify refuses high-S
 * (secp256k1.h: "only ECDSA signatures in lower-S form are accepted"). */
static int verify_one(const unsigned char *sig64, const unsigned char *digest, const secp256k1_pubkey *pub) {
  secp256k1_ecdsa_signature sig;
  if (!secp256k1_ecdsa_signature_parse_compact(g_ctx, &sig, sig64)) return 0;
  return secp256k1_ecdsa_verify(g_ctx, &sig, digest, pub);
}

static napi_value js_sign(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return type_error(env, "sign(digest, privateKey, out) takes three Uint8Arrays");
  unsigned char *digest, *priv, *out;
  size_t dl, pl, ol;
  if (!u8(env, argv[0], &digest, &dl) || dl != 32) return type_error(env, "digest must be a 32-byte Uint8Array");
  if (!u8(env, argv[1], &priv, &pl) || pl != 32) return type_error(env, "privateKey must be a 32-byte Uint8Array");
  if (!u8(env, argv[2], &out, &ol) || ol < 64) return type_error(env, "out must be a Uint8Array of at least 64 bytes");
  return boolean(env, sign_one(digest, priv, out));
}

static napi_value js_verify(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return boolean(env, 0);
  unsigned char *sig, *digest, *pub;
  size_t sl, dl, kl;
  if (!u8(env, argv[0], &sig, &sl) || sl != 64) return boolean(env, 0);
  if (!u8(env, argv[1], &digest, &dl) || dl != 32) return boolean(env, 0);
  if (!u8(env, argv[2], &pub, &kl) || (kl != 33 && kl != 65)) return boolean(env, 0);
  secp256k1_pubkey key;
  if (!secp256k1_ec_pubkey_parse(g_ctx, &key, pub, kl)) return boolean(env, 0);
  return boolean(env, verify_one(sig, digest, &key));
}

static napi_value js_public_key(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) return type_error(env, "publicKey(privateKey, out) takes two Uint8Arrays");
  unsigned char *priv, *out;
  size_t pl, ol;
  if (!u8(env, argv[0], &priv, &pl) || pl != 32) return type_error(env, "privateKey must be a 32-byte Uint8Array");
  if (!u8(env, argv[1], &out, &ol) || ol < 33) return type_error(env, "out must be a Uint8Array of at least 33 bytes");
  secp256k1_pubkey key;
  if (!secp256k1_ec_pubkey_create(g_ctx, &key, priv)) return boolean(env, 0);
  size_t written = 33;
  return boolean(env, secp256k1_ec_pubkey_serialize(g_ctx, out, &written, &key, SECP256K1_EC_COMPRESSED) && written == 33);
}

static napi_value js_sign_many(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return type_error(env, "signMany(digests, privateKey, out) takes three Uint8Arrays");
  unsigned char *digests, *priv, *out;
  size_t dl, pl, ol;
  if (!u8(env, argv[0], &digests, &dl) || dl % 32 != 0) return type_error(env, "digests must be a Uint8Array of n*32 bytes");
  if (!u8(env, argv[1], &priv, &pl) || pl != 32) return type_error(env, "privateKey must be a 32-byte Uint8Array");
  size_t n = dl / 32;
  if (!u8(env, argv[2], &out, &ol) || ol < n * 64) return type_error(env, "out must be a Uint8Array of at least n*64 bytes");
  for (size_t i = 0; i < n; i++) {
    if (!sign_one(digests + 32 * i, priv, out + 64 * i)) return boolean(env, 0);
  }
  return boolean(env, 1);
}

static napi_value js_verify_many(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) return type_error(env, "verifyMany(signatures, digests, publicKey, out) takes four Uint8Arrays");
  unsigned char *sigs, *digests, *pub, *out;
  size_t sl, dl, kl, ol;
  if (!u8(env, argv[1], &digests, &dl) || dl % 32 != 0) return type_error(env, "digests must be a Uint8Array of n*32 bytes");
  size_t n = dl / 32;
  if (!u8(env, argv[0], &sigs, &sl) || sl != n * 64) return type_error(env, "signatures must be a Uint8Array of n*64 bytes, n = digests.length / 32");
  if (!u8(env, argv[2], &pub, &kl)) return type_error(env, "publicKey must be a Uint8Array");
  if (!u8(env, argv[3], &out, &ol) || ol < n) return type_error(env, "out must be a Uint8Array of at least n bytes");
  /* The key is parsed (a field square root for a compressed key) once for the whole batch. */
  secp256k1_pubkey key;
  int key_ok = (kl == 33 || kl == 65) && secp256k1_ec_pubkey_parse(g_ctx, &key, pub, kl);
  uint32_t valid = 0;
  for (size_t i = 0; i < n; i++) {
    int ok = key_ok && verify_one(sigs + 64 * i, digests + 32 * i, &key);
    out[i] = (unsigned char)ok;
    valid += (uint32_t)ok;
  }
  napi_value result;
  napi_create_uint32(env, valid, &result);
  return result;
}

NAPI_MODULE_INIT() {
  pthread_once(&g_ctx_once, create_context);
  if (g_ctx == NULL) {
    napi_throw_error(env, NULL, "libsecp256k1: secp256k1_context_create failed");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"sign", NULL, js_sign, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verify", NULL, js_verify, NULL, NULL, NULL, napi_enumerable, NULL},
      {"publicKey", NULL, js_public_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"signMany", NULL, js_sign_many, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verifyMany", NULL, js_verify_many, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
