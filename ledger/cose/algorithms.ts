// The COSE signature algorithms voltrail uses and the curve each one implies:
// ES256K (-47, RFC 8812 section 3.2, secp256k1) and ES256 (-7, RFC 9053 section 2.1, P-256),
// both ECDSA with SHA-256 and a 64-byte r||s signature.
import type { Curve } from '../signers/backend.ts';

export const ES256K = -47;
export const ES256 = -7;
export type CoseAlg = typeof ES256K | typeof ES256;

export const ALG_CURVE: Readonly<Record<CoseAlg, Curve>> = { [ES256K]: 'secp256k1', [ES256]: 'P-256' };
export const ALG_NAME: Readonly<Record<CoseAlg, string>> = { [ES256K]: 'ES256K', [ES256]: 'ES256' };

export function algForCurve(curve: Curve): CoseAlg {
  if (curve === 'secp256k1') return ES256K;
  if (curve === 'P-256') return ES256;
  throw new RangeError(`curve: '${String(curve)}' has no COSE algorithm here (secp256k1 or P-256)`);
}

export function isCoseAlg(value: unknown): value is CoseAlg {
  return value === ES256K || value === ES256;
}
