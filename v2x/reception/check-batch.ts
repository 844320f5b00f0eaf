// The wire form of a verification batch between the pipeline and its worker threads
// (verify-workers.ts, verify-worker.ts): every check of every job packed into one ArrayBuffer,
// which is transferred (moved, not copied) to the worker; the answer is one byte per job,
// transferred back. Structured clone of the jobs themselves would copy each small array (and
// the whole buffer behind any view) and build objects on both sides for every message.
// Layout, all integers big-endian:
//   u16 job count, then per job: u8 check count, then per check:
//   u8 curve (0 P-256, 1 secp256k1), u8 key length, key, u16 message length, message, 64-byte r||s.
// Lengths are bounded by construction (a key is 33 or 65 bytes, a Sig_structure under the
// 2048-byte envelope limit plus its prefix), and `unpackBatch` refuses a buffer that does not
// parse to the end, so a corrupted batch fails as a whole (the pipeline never accepts its jobs).
import type { Curve } from '../../ledger/signers/backend.ts';
import type { SignatureCheck } from './signature-check.ts';

const CURVES: readonly Curve[] = ['P-256', 'secp256k1'];
const SIGNATURE_BYTES = 64;

/** Packs jobs (each a list of checks that must all hold) into one transferable buffer. */
export function packBatch(jobs: readonly (readonly SignatureCheck[])[]): Uint8Array<ArrayBuffer> {
  if (jobs.length > 0xffff) throw new RangeError(`batch: ${jobs.length} jobs, at most 65535`);
  let size = 2;
  for (const checks of jobs) {
    if (checks.length > 0xff) throw new RangeError(`batch: a job of ${checks.length} checks, at most 255`);
    size += 1;
    for (const c of checks) size += 2 + c.publicKey.length + 2 + c.message.length + SIGNATURE_BYTES;
  }
  const out = new Uint8Array(size);
  let at = 0;
  out[at++] = jobs.length >>> 8;
  out[at++] = jobs.length & 0xff;
  for (const checks of jobs) {
    out[at++] = checks.length;
    for (const c of checks) {
      const curve = CURVES.indexOf(c.curve);
      if (curve < 0) throw new RangeError(`batch: curve '${String(c.curve)}' (P-256 or secp256k1)`);
      if (c.publicKey.length > 0xff) throw new RangeError(`batch: a public key of ${c.publicKey.length} bytes`);
      if (c.message.length > 0xffff) throw new RangeError(`batch: a message of ${c.message.length} bytes, at most 65535`);
      if (c.signature.length !== SIGNATURE_BYTES) throw new RangeError(`batch: a signature of ${c.signature.length} bytes, expected ${SIGNATURE_BYTES}`);
      out[at++] = curve;
      out[at++] = c.publicKey.length;
      out.set(c.publicKey, at);
      at += c.publicKey.length;
      out[at++] = c.message.length >>> 8;
      out[at++] = c.message.length & 0xff;
      out.set(c.message, at);
      at += c.message.length;
      out.set(c.signature, at);
      at += SIGNATURE_BYTES;
    }
  }
  return out;
}

/** The jobs of a packed batch, as views into it (nothing copied). Throws RangeError when it does not parse. */
export function unpackBatch(b: Uint8Array): SignatureCheck[][] {
  let at = 0;
  const need = (n: number) => {
    if (at + n > b.length) throw new RangeError(`batch: truncated at byte ${at} (needs ${n} more of ${b.length})`);
  };
  need(2);
  const count = (b[at]! << 8) | b[at + 1]!;
  at += 2;
  const jobs: SignatureCheck[][] = new Array(count);
  for (let j = 0; j < count; j++) {
    need(1);
    const n = b[at++]!;
    const checks: SignatureCheck[] = new Array(n);
    for (let i = 0; i < n; i++) {
      need(2);
      const curve = CURVES[b[at]!];
      if (curve === undefined) throw new RangeError(`batch: unknown curve code ${b[at]} at byte ${at}`);
      const keyLength = b[at + 1]!;
      at += 2;
      need(keyLength + 2);
      const publicKey = b.subarray(at, at + keyLength);
      at += keyLength;
      const messageLength = (b[at]! << 8) | b[at + 1]!;
      at += 2;
      need(messageLength + SIGNATURE_BYTES);
      const message = b.subarray(at, at + messageLength);
      at += messageLength;
      const signature = b.subarray(at, at + SIGNATURE_BYTES);
      at += SIGNATURE_BYTES;
      checks[i] = { curve, publicKey, message, signature };
    }
    jobs[j] = checks;
  }
  if (at !== b.length) throw new RangeError(`batch: ${b.length - at} trailing bytes`);
  return jobs;
}
