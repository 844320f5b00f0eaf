// Pseudonym certificates (v2x/cddl/certificate.cddl): a CWT-like claims set (RFC 8392 claim
// keys: 4 exp, 5 nbf, 8 cnf holding the COSE_Key, RFC 8747) plus one private-use claim,
// -65537, listing the message types the key may sign; signed by the fleet authority as a
// COSE_Sign1 with typ TYP.v2xPseudonymCertificate. It carries the pseudonym key, its validity
// and its permissions and nothing else: no vehicle, battery or owner identity, and no serial
// number that the authority could hand out in a linkable order. A signer is named by its
// digest: the first 8 bytes of the RFC 9679 thumbprint of its key (as ETSI TS 103 097 names
// certificates by an 8-byte HashedId8).
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import { sign1, verify1 } from '../../ledger/cose/sign1.ts';
import type { CoseSigner, VerifyKey } from '../../ledger/cose/sign1.ts';
import { algForCurve, ES256, ES256K } from '../../ledger/cose/algorithms.ts';
import type { CoseAlg } from '../../ledger/cose/algorithms.ts';
import { coseKey, keyThumbprint } from '../../ledger/cose/key-thumbprint.ts';
import type { Curve, SignerBackend } from '../../ledger/signers/backend.ts';
import { TYP } from '../../ledger/typ.ts';
import { array, bytes, decodeStruct, encodeStruct, enumOf, int, struct } from '../codec/schema.ts';
import type { Schema } from '../codec/schema.ts';
import { isMessageName, MESSAGE_NAMES, MESSAGE_TYPE, messageName } from '../messages/message-types.ts';
import type { MessageName } from '../messages/message-types.ts';
import { asV2xError, V2xError } from '../v2x-error.ts';

export const DIGEST_LENGTH = 8;
const CRV = { 1: 'P-256', 8: 'secp256k1' } as const;
const CRV_CODE: Record<Curve, number> = { 'P-256': 1, secp256k1: 8 };

/** The signer digest: the first 8 bytes of the RFC 9679 thumbprint of the key. */
export function signerDigest(publicKey: Uint8Array, curve: Curve): Uint8Array {
  return keyThumbprint(publicKey, curve).slice(0, DIGEST_LENGTH);
}

export const coseKeySchema: Schema = {
  name: 'coseKey',
  fields: [
    { key: 1, name: 'kty', type: int(2, 2) },
    { key: -1, name: 'crv', type: enumOf(CRV) },
    { key: -2, name: 'x', type: bytes(32) },
    { key: -3, name: 'y', type: bytes(32) },
  ],
};

const cnfSchema: Schema = { name: 'cnf', fields: [{ key: 1, name: 'coseKey', type: struct(coseKeySchema) }] };

const messageTypeCode = { kind: 'enum', values: Object.fromEntries(MESSAGE_NAMES.map((n) => [MESSAGE_TYPE[n], n])) } as const;

export const certificateClaimsSchema: Schema = {
  name: 'pseudonymCertificate',
  fields: [
    { key: 4, name: 'exp', type: int(946_684_800, 7_258_118_400), unit: 's since the Unix epoch' },
    { key: 5, name: 'nbf', type: int(946_684_800, 7_258_118_400), unit: 's since the Unix epoch' },
    { key: 8, name: 'cnf', type: struct(cnfSchema) },
    { key: -65537, name: 'permissions', type: array(messageTypeCode, 1, MESSAGE_NAMES.length) },
  ],
  check(v, path) {
    if ((v.exp as number) <= (v.nbf as number)) throw new RangeError(`${path}.exp: ${String(v.exp)} is not after nbf (${String(v.nbf)})`);
  },
};

export interface CertificateRequest {
  publicKey: Uint8Array;
  curve: Curve;
  /** Validity start, ms since the Unix epoch (stored in whole seconds, rounded down). */
  notBefore: number;
  /** Validity end, ms since the Unix epoch (stored in whole seconds, rounded up). */
  notAfter: number;
  permissions: readonly MessageName[];
}

export interface PseudonymCertificate {
  /** The certificate as sent (COSE_Sign1). */
  readonly bytes: Uint8Array;
  /** 8-byte digest of the pseudonym key: the kid of the messages it signs. */
  readonly digest: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly curve: Curve;
  readonly alg: CoseAlg;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly permissions: ReadonlySet<MessageName>;
  /** kid of the authority that signed it. */
  readonly issuer: Uint8Array;
}

/** The authority signs a pseudonym certificate. */
export function issuePseudonymCertificate(authority: CoseSigner, req: CertificateRequest): Uint8Array {
  const key = coseKey(req.publicKey, req.curve);
  if (new Set(req.permissions).size !== req.permissions.length) throw new RangeError('permissions: a message type is listed twice');
  const claims = encodeStruct(certificateClaimsSchema, {
    exp: Math.ceil(req.notAfter / 1000),
    nbf: Math.floor(req.notBefore / 1000),
    cnf: { coseKey: { kty: 2, crv: CRV_CODE[req.curve], x: key.get(-2), y: key.get(-3) } },
    permissions: [...req.permissions].map((p, i) => {
      if (!isMessageName(p)) throw new RangeError(`permissions[${i}]: '${String(p)}' is not a message type (${MESSAGE_NAMES.join(', ')})`);
      return MESSAGE_TYPE[p];
    }),
  });
  return sign1({ payload: encodeCanonical(claims), typ: TYP.v2xPseudonymCertificate, signer: authority });
}

export interface CertificateCheckOptions {
  /** The fleet authorities' keys by kid (e.g. `new KeyRing([...]).lookup`). */
  authorities: (kid: Uint8Array) => VerifyKey | undefined;
  backends?: Partial<Record<Curve, SignerBackend>>;
}

/** Checks the authority's signature and the claims; throws V2xError('bad-certificate'). */
export function verifyPseudonymCertificate(bytes: Uint8Array, opts: CertificateCheckOptions): PseudonymCertificate {
  let verified;
  try {
    verified = verify1(bytes, { keys: opts.authorities, typ: TYP.v2xPseudonymCertificate, algs: [ES256, ES256K], backends: opts.backends, maxSize: 1024 });
  } catch (err) {
    const e = asV2xError(err, 'pseudonym certificate');
    throw new V2xError('bad-certificate', e.message, { cause: err });
  }
  let claims: Record<string, unknown>;
  try {
    claims = decodeStruct(certificateClaimsSchema, decodeCbor(verified.payload, { canonical: true, maxDepth: 6 }));
  } catch (err) {
    throw new V2xError('bad-certificate', `pseudonym certificate: ${(err as Error).message}`, { cause: err });
  }
  const k = (claims.cnf as { coseKey: { crv: 1 | 8; x: Uint8Array; y: Uint8Array } }).coseKey;
  const curve = CRV[k.crv];
  const publicKey = new Uint8Array([0x04, ...k.x, ...k.y]);
  let digest: Uint8Array;
  try {
    digest = signerDigest(publicKey, curve);
  } catch (err) {
    throw new V2xError('bad-certificate', `pseudonym certificate: the key is not a ${curve} point`, { cause: err });
  }
  return {
    bytes,
    digest,
    publicKey,
    curve,
    alg: algForCurve(curve),
    notBefore: (claims.nbf as number) * 1000,
    notAfter: (claims.exp as number) * 1000,
    permissions: new Set((claims.permissions as number[]).map((c) => messageName(c))),
    issuer: verified.kid,
  };
}
