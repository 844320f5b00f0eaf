// A signer digest (the 8-byte kid of v2x/cddl/envelope.cddl) as lowercase hex: the key of every
// per-signer table in reception (certificate cache, revocation list, replay order, plausibility
// tracks, local map). Written with a byte table because reception computes it for every message
// heard, and Buffer.from(...).toString('hex') copies the bytes first (several times slower).
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex of `bytes` (same as Buffer's 'hex' encoding). */
export function signerIdOf(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]!;
  return s;
}
