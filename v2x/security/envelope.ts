// The V2X security envelope (v2x/cddl/envelope.cddl): a COSE_Sign1 (RFC 9052) with typ
// TYP.v2xMessage whose protected header names the signer by its 8-byte digest in the kid
// (label 4: the first 8 bytes of the RFC 9679 thumbprint of the pseudonym key) and whose
// payload is the canonical CBOR {1: type, 2: generation time, 3: body, ? 4: certificate
// requests}. The pseudonym certificate rides in the unprotected header under the private-use
// label -65537 as a byte string (it is signed by the authority itself; keeping its exact bytes
// lets a receiver check it without re-encoding). `parseEnvelope` reads a message without
// checking it (the reception pipeline's freshness and replay stages run before verification);
// `EnvelopeVerifier.open` checks certificate, signature, permission and validity.
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import { Tagged } from '../../ledger/cbor/value.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import { COSE_SIGN1_TAG, sign1, verify1 } from '../../ledger/cose/sign1.ts';
import type { CoseSigner, VerifyKey } from '../../ledger/cose/sign1.ts';
import { ES256, ES256K, isCoseAlg } from '../../ledger/cose/algorithms.ts';
import type { CoseAlg } from '../../ledger/cose/algorithms.ts';
import type { Curve, SignerBackend } from '../../ledger/signers/backend.ts';
import { TYP } from '../../ledger/typ.ts';
import { bodyFromCbor, bodyToCbor, MESSAGE_TYPE, messageName } from '../messages/message-types.ts';
import type { MessageBodies, MessageName } from '../messages/message-types.ts';
import { TIME_MAX, TIME_MIN } from '../messages/field-types.ts';
import { asV2xError, V2xError } from '../v2x-error.ts';
import { CertificateCache } from './certificate-cache.ts';
import { DIGEST_LENGTH, verifyPseudonymCertificate } from './pseudonym-certificate.ts';
import type { PseudonymCertificate } from './pseudonym-certificate.ts';

/** Unprotected header label of the attached pseudonym certificate (COSE private use, < -65536). */
export const HDR_CERTIFICATE = -65537;
/** Largest V2X message accepted, bytes. */
export const MAX_MESSAGE_SIZE = 2048;
/** At most this many certificate requests ride in one message. */
export const MAX_CERT_REQUESTS = 4;

const P_TYPE = 1;
const P_TIME = 2;
const P_BODY = 3;
const P_REQUESTS = 4;

export interface SealInput<N extends MessageName> {
  type: N;
  body: MessageBodies[N];
  /** ms since the Unix epoch (UTC). */
  generationTime: number;
  /** The pseudonym signer; its kid must be the 8-byte digest. */
  signer: CoseSigner;
  /** The signer's certificate, attached when given. */
  certificate?: Uint8Array;
  /** Digests of other signers whose certificates this sender is missing (at most 4). */
  certRequests?: readonly Uint8Array[];
}

function payloadMap(type: MessageName, generationTime: number, body: unknown, certRequests: readonly Uint8Array[] | undefined): Map<number, CborValue> {
  if (!Number.isInteger(generationTime)) throw new TypeError(`generationTime: expected an integer (ms since the Unix epoch), got ${String(generationTime)}`);
  if (generationTime < TIME_MIN || generationTime > TIME_MAX) throw new RangeError(`generationTime: ${generationTime} is out of range [${TIME_MIN}, ${TIME_MAX}] ms since the Unix epoch`);
  const m = new Map<number, CborValue>([
    [P_TYPE, MESSAGE_TYPE[type]],
    [P_TIME, generationTime],
    [P_BODY, bodyToCbor(type, body as MessageBodies[typeof type])],
  ]);
  if (certRequests !== undefined && certRequests.length > 0) {
    if (certRequests.length > MAX_CERT_REQUESTS) throw new RangeError(`certRequests: ${certRequests.length} items, at most ${MAX_CERT_REQUESTS}`);
    for (const [i, d] of certRequests.entries()) {
      if (!(d instanceof Uint8Array) || d.length !== DIGEST_LENGTH) throw new RangeError(`certRequests[${i}]: expected an ${DIGEST_LENGTH}-byte signer digest`);
    }
    m.set(P_REQUESTS, [...certRequests]);
  }
  return m;
}

/** The canonical CBOR payload of a V2X message (checked field by field). */
export function encodePayload<N extends MessageName>(type: N, generationTime: number, body: MessageBodies[N], certRequests?: readonly Uint8Array[]): Uint8Array {
  return encodeCanonical(payloadMap(type, generationTime, body, certRequests));
}

/** Signs a V2X message into its envelope. */
export function sealMessage<N extends MessageName>(input: SealInput<N>): Uint8Array {
  if (!(input.signer?.kid instanceof Uint8Array) || input.signer.kid.length !== DIGEST_LENGTH) {
    throw new RangeError(`signer.kid: a V2X signer is named by its ${DIGEST_LENGTH}-byte digest (see PseudonymSigner)`);
  }
  const payload = encodePayload(input.type, input.generationTime, input.body, input.certRequests);
  const unprotected = input.certificate === undefined ? undefined : new Map<number, CborValue>([[HDR_CERTIFICATE, input.certificate]]);
  return sign1({ payload, typ: TYP.v2xMessage, signer: input.signer, unprotected });
}

export interface DecodedPayload<N extends MessageName = MessageName> {
  type: N;
  generationTime: number;
  body: MessageBodies[N];
  certRequests: Uint8Array[];
}

/** Reads a payload: canonical CBOR, known type, every field checked; throws V2xError. */
export function decodePayload(payload: Uint8Array): DecodedPayload {
  let m: CborValue;
  try {
    m = decodeCbor(payload, { canonical: true, maxSize: MAX_MESSAGE_SIZE, maxDepth: 8 });
  } catch (err) {
    throw asV2xError(err, 'payload');
  }
  try {
    if (!(m instanceof Map)) throw new TypeError('payload: expected a map {1: type, 2: generation time, 3: body}');
    for (const k of m.keys()) if (k !== P_TYPE && k !== P_TIME && k !== P_BODY && k !== P_REQUESTS) throw new TypeError(`payload: unknown key ${String(k)}`);
    if (!m.has(P_TYPE)) throw new TypeError('payload.type: missing (key 1)');
    if (!m.has(P_TIME)) throw new TypeError('payload.generationTime: missing (key 2)');
    if (!m.has(P_BODY)) throw new TypeError('payload.body: missing (key 3)');
    const type = messageName(m.get(P_TYPE));
    const time = m.get(P_TIME);
    if (typeof time !== 'number' || !Number.isInteger(time)) throw new TypeError('payload.generationTime: expected an integer');
    if (time < TIME_MIN || time > TIME_MAX) throw new RangeError(`payload.generationTime: ${time} is out of range [${TIME_MIN}, ${TIME_MAX}]`);
    const body = bodyFromCbor(type, m.get(P_BODY));
    const req = m.get(P_REQUESTS);
    let certRequests: Uint8Array[] = [];
    if (req !== undefined) {
      if (!Array.isArray(req) || req.length === 0 || req.length > MAX_CERT_REQUESTS) throw new RangeError(`payload.certRequests: expected 1 to ${MAX_CERT_REQUESTS} digests`);
      for (const [i, d] of (req as CborValue[]).entries()) {
        if (!(d instanceof Uint8Array) || d.length !== DIGEST_LENGTH) throw new RangeError(`payload.certRequests[${i}]: expected an ${DIGEST_LENGTH}-byte digest`);
      }
      certRequests = req as Uint8Array[];
    }
    return { type, generationTime: time, body, certRequests };
  } catch (err) {
    throw asV2xError(err, 'payload');
  }
}

export interface ParsedEnvelope {
  /** The signer digest (kid). */
  signer: Uint8Array;
  alg: CoseAlg;
  typ: string;
  /** The attached certificate bytes, if any (not checked). */
  certificate?: Uint8Array;
  payload: Uint8Array;
  /** The protected header as sent (signed: part of the Sig_structure). */
  protectedBytes: Uint8Array;
  /** r||s as sent (its length is checked by the verifier, not here). */
  signature: Uint8Array;
}

/** Reads the envelope without checking any signature; throws V2xError when it is not one. */
export function parseEnvelope(bytes: Uint8Array): ParsedEnvelope {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes: expected a Uint8Array');
  if (bytes.length > MAX_MESSAGE_SIZE) throw new V2xError('malformed', `message: ${bytes.length} bytes is over the ${MAX_MESSAGE_SIZE}-byte limit`);
  let top: CborValue;
  try {
    top = decodeCbor(bytes, { maxSize: MAX_MESSAGE_SIZE, maxDepth: 12 });
  } catch (err) {
    throw asV2xError(err, 'envelope');
  }
  if (!(top instanceof Tagged) || top.tag !== COSE_SIGN1_TAG || !Array.isArray(top.value) || top.value.length !== 4) {
    throw new V2xError('malformed', 'envelope: not a COSE_Sign1 message (tag 18, array of 4)');
  }
  const [prot, unprot, payload, signature] = top.value as CborValue[];
  if (!(prot instanceof Uint8Array) || !(unprot instanceof Map) || !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) throw new V2xError('malformed', 'envelope: COSE_Sign1 parts of the wrong types');
  let header: CborValue;
  try {
    header = decodeCbor(prot, { canonical: true, maxDepth: 2, maxMapSize: 8 });
  } catch (err) {
    throw asV2xError(err, 'envelope protected header');
  }
  if (!(header instanceof Map)) throw new V2xError('malformed', 'envelope: the protected header must hold a map');
  const alg = header.get(1);
  const kid = header.get(4);
  const typ = header.get(16);
  if (!isCoseAlg(alg)) throw new V2xError('alg-not-allowed', `envelope: algorithm ${String(alg)} is not ES256 or ES256K`);
  if (!(kid instanceof Uint8Array) || kid.length !== DIGEST_LENGTH) throw new V2xError('malformed', `envelope: the kid must be the ${DIGEST_LENGTH}-byte signer digest`);
  if (typeof typ !== 'string') throw new V2xError('wrong-typ', 'envelope: no typ in the protected header');
  const cert = unprot.get(HDR_CERTIFICATE);
  if (cert !== undefined && !(cert instanceof Uint8Array)) throw new V2xError('malformed', `envelope: unprotected label ${HDR_CERTIFICATE} must hold the certificate bytes`);
  for (const label of unprot.keys()) if (label !== HDR_CERTIFICATE) throw new V2xError('malformed', `envelope: unknown unprotected header label ${String(label)}`);
  return { signer: kid, alg, typ, certificate: cert as Uint8Array | undefined, payload, protectedBytes: prot, signature };
}

export interface OpenedMessage<N extends MessageName = MessageName> extends DecodedPayload<N> {
  /** The signer digest (the kid). */
  signer: Uint8Array;
  certificate: PseudonymCertificate;
  /** True when the message carried its certificate. */
  certificateAttached: boolean;
}

export interface EnvelopeVerifierOptions {
  /** The fleet authorities' keys by kid (`new KeyRing([...]).lookup`). */
  authorities: (kid: Uint8Array) => VerifyKey | undefined;
  cache?: CertificateCache;
  /** Backend per curve; default: verify1's (noble signing, OpenSSL verification through node:crypto). */
  backends?: Partial<Record<Curve, SignerBackend>>;
  /** Algorithms accepted (default ES256 and ES256K). */
  algs?: readonly CoseAlg[];
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Checks V2X messages against the fleet authorities, caching certificates by digest. */
export class EnvelopeVerifier {
  readonly cache: CertificateCache;
  readonly #opts: EnvelopeVerifierOptions;
  readonly #backends: Partial<Record<Curve, SignerBackend>>;

  constructor(opts: EnvelopeVerifierOptions) {
    this.#opts = opts;
    this.cache = opts.cache ?? new CertificateCache();
    this.#backends = { ...opts.backends };
  }

  /** Checks and caches a certificate on its own (e.g. one received out of band). */
  learnCertificate(bytes: Uint8Array): PseudonymCertificate {
    const cert = verifyPseudonymCertificate(bytes, { authorities: this.#opts.authorities, backends: this.#backends });
    this.cache.add(cert);
    return cert;
  }

  /** Verifies a message; throws V2xError with a reason the caller can count. */
  open(bytes: Uint8Array): OpenedMessage {
    const env = parseEnvelope(bytes);
    if (env.typ !== TYP.v2xMessage) throw new V2xError('wrong-typ', `envelope: typ is ${env.typ}, expected ${TYP.v2xMessage}`);
    let cert = this.cache.get(env.signer);
    if (env.certificate !== undefined && (cert === undefined || !equal(cert.bytes, env.certificate))) {
      const attached = verifyPseudonymCertificate(env.certificate, { authorities: this.#opts.authorities, backends: this.#backends });
      if (!equal(attached.digest, env.signer)) {
        throw new V2xError('bad-certificate', `envelope: the attached certificate is for signer ${hex(attached.digest)}, the message is signed by ${hex(env.signer)}`);
      }
      if (cert === undefined) this.cache.add(attached);
      cert = attached;
    }
    if (cert === undefined) throw new V2xError('unknown-signer', `no certificate known for signer ${hex(env.signer)}: request it (payload key 4) and wait for one attached`);
    const known = cert;
    try {
      verify1(bytes, {
        keys: (kid) => (equal(kid, known.digest) ? ({ publicKey: known.publicKey, alg: known.alg } satisfies VerifyKey) : undefined),
        typ: TYP.v2xMessage,
        algs: this.#opts.algs ?? [ES256, ES256K],
        backends: this.#backends,
        maxSize: MAX_MESSAGE_SIZE,
      });
    } catch (err) {
      throw asV2xError(err, `message from ${hex(env.signer)}`);
    }
    const p = decodePayload(env.payload);
    if (!known.permissions.has(p.type)) throw new V2xError('not-permitted', `signer ${hex(env.signer)}: its certificate does not permit ${p.type} messages`);
    if (p.generationTime < known.notBefore || p.generationTime > known.notAfter) {
      throw new V2xError('expired', `signer ${hex(env.signer)}: generation time ${new Date(p.generationTime).toISOString()} is outside its certificate's validity`);
    }
    return { ...p, signer: env.signer, certificate: known, certificateAttached: env.certificate !== undefined };
  }
}
