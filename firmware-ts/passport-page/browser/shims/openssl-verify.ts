// The browser has no OpenSSL and WebCrypto has no secp256k1 (TOOLCHAIN.md): the page build puts
// this module in place of ledger/signers/openssl-verify.ts, so every COSE check in the browser
// runs on @noble/curves, the same audited code the board signs with (same low-S rule, same result).
import type { Curve, SignerBackend } from '../../../../ledger/signers/backend.ts';
import { nobleBackend } from '../../../../ledger/signers/noble.ts';

export function opensslVerifyBackend(curve: Curve): SignerBackend {
  return nobleBackend(curve);
}

/** A pickBackend candidate: in the browser, noble is the one there is. */
export const loadOpensslVerify = (curve: Curve): SignerBackend | undefined => nobleBackend(curve);
