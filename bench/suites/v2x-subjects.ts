// The v2x suite's reference, prepared inside a benchmark worker thread (harness/rate-worker.ts
// calls `prepare`): raw ES256 verification with OpenSSL through node:crypto, nothing else, on
// a ring of 64 Sig_structure-sized messages (150 bytes, the size of a CAM's) over 8 P-256
// keys. It is written here with node:crypto alone, so that it does not move when the
// pipeline's own verification path changes. Each signature is checked once before timing.
import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export const RING = 64;
const KEYS = 8;

export function prepare(): () => number {
  const keys = Array.from({ length: KEYS }, () => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const pubs: KeyObject[] = keys.map((k) => k.publicKey);
  const messages = Array.from({ length: RING }, () => randomBytes(150));
  const sigs = messages.map((m, i) => sign('sha256', m, { key: keys[i % KEYS]!.privateKey, dsaEncoding: 'ieee-p1363' }));
  for (let i = 0; i < RING; i++) {
    if (!verify('sha256', messages[i]!, { key: pubs[i % KEYS]!, dsaEncoding: 'ieee-p1363' }, sigs[i]!)) throw new Error(`v2x reference: signature ${i} does not verify`);
  }
  let i = 0;
  return () => {
    const k = i++ & (RING - 1);
    verify('sha256', messages[k]!, { key: pubs[k % KEYS]!, dsaEncoding: 'ieee-p1363' }, sigs[k]!);
    return 1;
  };
}
