// COSE_Sign1 (RFC 9052 section 4.2, https://www.rfc-editor.org/rfc/rfc9052#section-4.2), tag 18,
// with voltrail's profile (ledger/cddl/cose.cddl): the protected header holds exactly alg (1),
// kid (4, the RFC 9679 thumbprint of the signer's key) and typ (16, RFC 9596), in canonical
// CBOR; the signature is ECDSA r||s (64 bytes) over SHA-256 of
// Sig_structure = ["Signature1", protected, external_aad, payload] (section 4.4), low-S.
// The verifier accepts only the algorithms and the typ it is told to, a kid it knows, a key
// of the algorithm's curve, and nothing after the message.
import { createHash } from 'node:crypto';
import { decodeCbor, CborError } from '../cbor/decode.ts';
import { encodeCanonical } from '../cbor/canonical-encode.ts';
import { Tagged } from '../cbor/value.ts';
import type { CborValue } from '../cbor/value.ts';
import type { Curve, SignerBackend } from '../signers/backend.ts';
import { opensslVerifyBackend } from '../signers/openssl-verify.ts';
import { ALG_CURVE, ALG_NAME, ES256K, isCoseAlg } from './algorithms.ts';
import type { CoseAlg } from './algorithms.ts';
import { CoseError } from './cose-error.ts';

export const COSE_SIGN1_TAG = 18;
const HDR_ALG = 1;
const HDR_KID = 4;
const HDR_TYP = 16;
const PROFILE_LABELS = new Set([HDR_ALG, HDR_KID, HDR_TYP]);
const SIGNATURE1 = new TextEncoder().encode('Signature1');
const EMPTY = new Uint8Array(0);

/** Something that signs for one key: its algorithm, its kid, and ECDSA over a SHA-256 digest. */
export interface CoseSigner {
  readonly alg: CoseAlg;
  readonly kid: Uint8Array;
  /** r||s, 64 bytes, low-S, RFC 6979. */
  signDigest(digest: Uint8Array): Uint8Array;
  /**
   * Optional batch form: n digests concatenated (n*32 bytes) -> n signatures as signDigest
   * gives them, concatenated (n*64 bytes); one crossing into a native backend for the lot.
   */
  signDigests?(digests: Uint8Array): Uint8Array;
}

export interface Sign1Input {
  payload: Uint8Array;
  /** The RFC 9596 content type naming the structure (see ledger/typ.ts). */
  typ: string;
  signer: CoseSigner;
  /** Bytes bound into the signature but not carried in the message (default empty). */
  externalAad?: Uint8Array;
  /** Unprotected header parameters (e.g. a certificate); never alg, kid or typ. */
  unprotected?: ReadonlyMap<number, CborValue>;
}

export interface VerifyKey {
  publicKey: Uint8Array;
  alg: CoseAlg;
}

export interface Verify1Options {
  /** The key for a kid, or undefined when the kid is unknown. */
  keys: (kid: Uint8Array) => VerifyKey | undefined;
  /** The typ (or typs) accepted here. */
  typ: string | readonly string[];
  /** Algorithms accepted (default: ES256K only). */
  algs?: readonly CoseAlg[];
  externalAad?: Uint8Array;
  /** Backend per curve for the ECDSA check (default: noble signing with OpenSSL verification; a native backend from `pickBackend` is faster still on secp256k1). */
  backends?: Partial<Record<Curve, SignerBackend>>;
  /** Largest message accepted, in bytes (default 1 MiB). */
  maxSize?: number;
}

export interface Verified {
  payload: Uint8Array;
  kid: Uint8Array;
  alg: CoseAlg;
  typ: string;
  unprotected: ReadonlyMap<number, CborValue>;
}

/** Bytes of the CBOR head of a byte string of length n, shortest form. */
export function bstrHeadLength(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1_0000_0000 ? 5 : 9;
}

/** Writes a byte-string head (major type 2) for length n at `at`; returns the next offset. */
export function writeBstrHead(out: Uint8Array, at: number, n: number): number {
  if (n < 24) out[at++] = 0x40 | n;
  else if (n < 0x100) {
    out[at++] = 0x58;
    out[at++] = n;
  } else if (n < 0x10000) {
    out[at++] = 0x59;
    out[at++] = n >>> 8;
    out[at++] = n & 0xff;
  } else if (n < 0x1_0000_0000) {
    out[at++] = 0x5a;
    new DataView(out.buffer, out.byteOffset).setUint32(at, n);
    at += 4;
  } else throw new RangeError(`payload: ${n} bytes is too large to sign`);
  return at;
}

/** Sig_structure's encoding up to (not including) the payload bytes. */
function sigStructurePrefix(protectedBytes: Uint8Array, externalAad: Uint8Array, payload: Uint8Array): Uint8Array {
  const prefix = new Uint8Array(1 + 1 + SIGNATURE1.length + 9 + protectedBytes.length + 9 + externalAad.length + 9);
  let at = 0;
  prefix[at++] = 0x84;
  prefix[at++] = 0x60 | SIGNATURE1.length;
  prefix.set(SIGNATURE1, at);
  at += SIGNATURE1.length;
  at = writeBstrHead(prefix, at, protectedBytes.length);
  prefix.set(protectedBytes, at);
  at += protectedBytes.length;
  at = writeBstrHead(prefix, at, externalAad.length);
  prefix.set(externalAad, at);
  at += externalAad.length;
  at = writeBstrHead(prefix, at, payload.length);
  return prefix.subarray(0, at);
}

/** SHA-256 of Sig_structure for a COSE_Sign1, hashed in pieces (the payload is not copied). */
export function sign1Digest(protectedBytes: Uint8Array, externalAad: Uint8Array, payload: Uint8Array): Uint8Array {
  return createHash('sha256').update(sigStructurePrefix(protectedBytes, externalAad, payload)).update(payload).digest();
}

/** The complete Sig_structure bytes (for backends that hash the message themselves). */
export function sigStructure(protectedBytes: Uint8Array, externalAad: Uint8Array, payload: Uint8Array): Uint8Array {
  const prefix = sigStructurePrefix(protectedBytes, externalAad, payload);
  const out = new Uint8Array(prefix.length + payload.length);
  out.set(prefix);
  out.set(payload, prefix.length);
  return out;
}

// Protected headers repeat for every message of a signer and typ: encode each pair once.
const protectedCache = new WeakMap<CoseSigner, Map<string, Uint8Array>>();

function protectedHeader(signer: CoseSigner, typ: string): Uint8Array {
  let byTyp = protectedCache.get(signer);
  if (byTyp === undefined) protectedCache.set(signer, (byTyp = new Map()));
  let bytes = byTyp.get(typ);
  if (bytes === undefined) {
    bytes = encodeCanonical(
      new Map<number, CborValue>([
        [HDR_ALG, signer.alg],
        [HDR_KID, signer.kid],
        [HDR_TYP, typ],
      ]),
    );
    byTyp.set(typ, bytes);
  }
  return bytes;
}

/**
 * For writers of COSE_Sign1 messages in place (the ledger's batch path): the protected header
 * of (signer, typ) and Sig_structure's bytes before the payload's head, with an empty
 * external_aad. A message is then 0xd2 0x84 | bstr(protectedBytes) | 0xa0 | bstr(payload) |
 * 0x58 0x40 | signature over SHA-256(sigPrefix || bstr head of payload || payload): the bytes
 * sign1 gives without `unprotected` and `externalAad`.
 */
export function sign1Parts(signer: CoseSigner, typ: string): { protectedBytes: Uint8Array; sigPrefix: Uint8Array } {
  if (!isCoseAlg(signer?.alg)) throw new RangeError(`signer.alg: ${String(signer?.alg)} is not ES256K (-47) or ES256 (-7)`);
  const protectedBytes = protectedHeader(signer, typ);
  // The prefix for an empty payload ends with the empty payload's head (0x40): drop it.
  const withHead = sigStructurePrefix(protectedBytes, EMPTY, EMPTY);
  return { protectedBytes, sigPrefix: withHead.subarray(0, withHead.length - 1) };
}

/** Signs `payload` into a tagged COSE_Sign1 message. */
export function sign1(input: Sign1Input): Uint8Array {
  const { payload, typ, signer } = input;
  if (!(payload instanceof Uint8Array)) throw new TypeError('payload: expected a Uint8Array (the canonical CBOR of the structure)');
  if (typeof typ !== 'string' || typ === '') throw new TypeError('typ: expected a content type string (see ledger/typ.ts)');
  if (!isCoseAlg(signer?.alg)) throw new RangeError(`signer.alg: ${String(signer?.alg)} is not ES256K (-47) or ES256 (-7)`);
  const aad = input.externalAad ?? EMPTY;
  let unprotected: Uint8Array | undefined;
  if (input.unprotected !== undefined && input.unprotected.size > 0) {
    for (const label of input.unprotected.keys()) {
      if (PROFILE_LABELS.has(label)) throw new RangeError(`unprotected: label ${label} (alg, kid or typ) belongs in the protected header`);
    }
    unprotected = encodeCanonical(input.unprotected);
  }
  const prot = protectedHeader(signer, typ);
  const signature = signer.signDigest(sign1Digest(prot, aad, payload));
  if (signature.length !== 64) throw new RangeError(`signer returned ${signature.length} bytes, not a 64-byte r||s signature`);

  const size = 2 + bstrHeadLength(prot.length) + prot.length + (unprotected?.length ?? 1) + bstrHeadLength(payload.length) + payload.length + 2 + 64;
  const out = new Uint8Array(size);
  out[0] = 0xd2; // tag 18
  out[1] = 0x84; // array of 4
  let at = writeBstrHead(out, 2, prot.length);
  out.set(prot, at);
  at += prot.length;
  if (unprotected === undefined) out[at++] = 0xa0;
  else {
    out.set(unprotected, at);
    at += unprotected.length;
  }
  at = writeBstrHead(out, at, payload.length);
  out.set(payload, at);
  at += payload.length;
  out[at++] = 0x58;
  out[at++] = 64;
  out.set(signature, at);
  return out;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Checks a COSE_Sign1 message and returns what it says; throws `CoseError` otherwise. */
export function verify1(bytes: Uint8Array, opts: Verify1Options): Verified {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes: expected a Uint8Array');
  const algs = opts.algs ?? [ES256K];
  const typs = typeof opts.typ === 'string' ? [opts.typ] : opts.typ;
  let top: CborValue;
  try {
    top = decodeCbor(bytes, { maxSize: opts.maxSize, maxDepth: 16 });
  } catch (err) {
    if (err instanceof CborError) throw new CoseError('malformed', `not a COSE_Sign1 message: ${err.message}`, { cause: err });
    throw err;
  }
  if (!(top instanceof Tagged) || top.tag !== COSE_SIGN1_TAG) throw new CoseError('malformed', 'not a COSE_Sign1 message (tag 18 expected)');
  const parts = top.value;
  if (!Array.isArray(parts) || parts.length !== 4) throw new CoseError('malformed', 'COSE_Sign1 must be an array of 4 items');
  const [prot, unprot, payload, signature] = parts as CborValue[];
  if (!(prot instanceof Uint8Array)) throw new CoseError('malformed', 'the protected header must be a byte string');
  if (!(unprot instanceof Map)) throw new CoseError('malformed', 'the unprotected header must be a map');
  if (!(payload instanceof Uint8Array)) throw new CoseError('malformed', 'the payload must be a byte string (detached payloads are not accepted)');
  if (!(signature instanceof Uint8Array) || signature.length !== 64) throw new CoseError('malformed', 'the signature must be 64 bytes (r||s)');

  let header: CborValue;
  try {
    header = decodeCbor(prot, { canonical: true, maxDepth: 2, maxMapSize: 8 });
  } catch (err) {
    if (err instanceof CborError) throw new CoseError('not-canonical', `protected header: ${err.message}`, { cause: err });
    throw err;
  }
  if (!(header instanceof Map)) throw new CoseError('malformed', 'the protected header must hold a map');
  for (const label of header.keys()) {
    if (!PROFILE_LABELS.has(label as number)) throw new CoseError('malformed', `protected header label ${String(label)} is not in voltrail's profile (alg, kid, typ)`);
  }
  for (const label of unprot.keys()) {
    if (PROFILE_LABELS.has(label as number)) throw new CoseError('malformed', `label ${String(label)} (alg, kid or typ) must not be in the unprotected header`);
  }
  const alg = header.get(HDR_ALG);
  const kid = header.get(HDR_KID);
  const typ = header.get(HDR_TYP);
  if (!isCoseAlg(alg) || !algs.includes(alg)) {
    throw new CoseError('alg-not-allowed', `algorithm ${String(alg)} is not accepted here (accepted: ${algs.map((a) => ALG_NAME[a]).join(', ')})`);
  }
  if (!(kid instanceof Uint8Array) || kid.length === 0) throw new CoseError('malformed', 'the protected header has no kid');
  if (typeof typ !== 'string') throw new CoseError('typ-mismatch', `the protected header has no typ; expected ${typs.join(' or ')}`);
  if (!typs.includes(typ)) throw new CoseError('typ-mismatch', `typ is ${typ}, expected ${typs.join(' or ')}`);
  const key = opts.keys(kid);
  if (key === undefined) throw new CoseError('unknown-kid', `no key is known for kid ${hex(kid)}`);
  if (key.alg !== alg) throw new CoseError('key-alg-mismatch', `the key for kid ${hex(kid)} is for ${ALG_NAME[key.alg] ?? String(key.alg)}, the message says ${ALG_NAME[alg]}`);
  const curve = ALG_CURVE[alg];
  const backend = opts.backends?.[curve] ?? opensslVerifyBackend(curve);
  const aad = opts.externalAad ?? EMPTY;
  const ok = backend.verifyMessage
    ? backend.verifyMessage(signature, sigStructure(prot, aad, payload), key.publicKey)
    : backend.verify(signature, sign1Digest(prot, aad, payload), key.publicKey);
  if (!ok) {
    throw new CoseError('bad-signature', `the signature does not verify for kid ${hex(kid)} (altered, high-S, or another key)`);
  }
  return { payload, kid, alg, typ, unprotected: unprot as ReadonlyMap<number, CborValue> };
}
