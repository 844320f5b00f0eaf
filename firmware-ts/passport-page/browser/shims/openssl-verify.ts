// The browser has no OpenSSL and WebCrypto has no secp256k1 (TOOLCHAIN.md): the page build puts
// this module in place of ledger/signers/openssl-verify.ts, so every COSE check in the browser
// runs on @noble/curves, the same audited code the board signs with (same low-S rule, same
// result). It also counts the signatures it checks, which is how the page shows progress on a
// long history without the verifier knowing it runs in a browser.
import type { Curve, SignerBackend } from '../../../../ledger/signers/backend.ts';
import { nobleBackend } from '../../../../ledger/signers/noble.ts';

let listener: (() => void) | undefined;

/** Calls `onVerify` after every signature check (undefined: stop). One listener: the worker's. */
export function countVerifications(onVerify: (() => void) | undefined): void {
  listener = onVerify;
}

const counting = new Map<Curve, SignerBackend>();

export function opensslVerifyBackend(curve: Curve): SignerBackend {
  let b = counting.get(curve);
  if (!b) {
    const noble = nobleBackend(curve);
    b = {
      name: noble.name,
      curve,
      sign: (digest, key) => noble.sign(digest, key),
      publicKey: (key) => noble.publicKey(key),
      verify(signature, digest, publicKey) {
        const ok = noble.verify(signature, digest, publicKey);
        listener?.();
        return ok;
      },
    };
    counting.set(curve, b);
  }
  return b;
}

/** A pickBackend candidate: in the browser, noble is the one there is. */
export const loadOpensslVerify = (curve: Curve): SignerBackend | undefined => opensslVerifyBackend(curve);
