// The vehicle's ledger identity as the attestation needs it: its identity public key and a
// fleet-signed statement binding that key to the vehicle. The fleet's device certificate (a
// CWT from provisioning) is specified elsewhere; until it lands, this file defines a minimal
// fleet-signed identity statement (v2x/cddl/attestation.cddl, typ TYP.v2xVehicleIdentity) and
// the `IdentityVerifier` interface the attestation verifier takes, so a verifier for the
// provisioning certificate can be dropped in without touching the attestation itself.
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import { sign1, verify1 } from '../../ledger/cose/sign1.ts';
import type { CoseSigner, VerifyKey } from '../../ledger/cose/sign1.ts';
import { ES256, ES256K } from '../../ledger/cose/algorithms.ts';
import { publicKeyCoordinates } from '../../ledger/cose/key-thumbprint.ts';
import type { Curve, SignerBackend } from '../../ledger/signers/backend.ts';
import { TYP } from '../../ledger/typ.ts';
import { bytes, decodeStruct, encodeStruct, enumOf, text } from '../codec/schema.ts';
import type { Schema } from '../codec/schema.ts';
import { notBefore, timeField } from '../messages/field-types.ts';
import { asV2xError, V2xError } from '../v2x-error.ts';

const CRV = { 1: 'P-256', 8: 'secp256k1' } as const;
const CRV_CODE: Record<Curve, 1 | 8> = { 'P-256': 1, secp256k1: 8 };

export interface VehicleIdentity {
  /** The fleet's id for the vehicle (VIN or fleet number). */
  vehicleId: string;
  /** The ledger identity key, SEC1 compressed. */
  publicKey: Uint8Array;
  curve: Curve;
  notBefore: number;
  notAfter: number;
}

/**
 * Checks that `statement` binds `identityKey` to a vehicle and is valid at `at` (ms); returns
 * the vehicle identity or throws V2xError('uncertified'). The provisioning issue's device
 * certificate verifier implements this same shape.
 */
export type IdentityVerifier = (statement: Uint8Array, identityKey: { publicKey: Uint8Array; curve: Curve }, at: number) => VehicleIdentity;

export const identityStatementSchema: Schema = {
  name: 'vehicleIdentity',
  fields: [
    { key: 1, name: 'vehicleId', type: text(1, 64) },
    { key: 2, name: 'publicKey', type: bytes(33) },
    { key: 3, name: 'crv', type: enumOf(CRV) },
    timeField(4, 'notBefore'),
    timeField(5, 'notAfter'),
  ],
  check: (v, path) => notBefore(v, path, 'notBefore', 'notAfter'),
};

/** The fleet authority signs a vehicle identity statement. */
export function issueVehicleIdentity(authority: CoseSigner, id: VehicleIdentity): Uint8Array {
  publicKeyCoordinates(id.publicKey, id.curve); // refuses a key off the curve
  const payload = encodeStruct(identityStatementSchema, {
    vehicleId: id.vehicleId,
    publicKey: id.publicKey,
    crv: CRV_CODE[id.curve],
    notBefore: id.notBefore,
    notAfter: id.notAfter,
  });
  return sign1({ payload: encodeCanonical(payload), typ: TYP.v2xVehicleIdentity, signer: authority });
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The IdentityVerifier for the minimal statement, trusting the given fleet authorities. */
export function fleetIdentityVerifier(opts: { authorities: (kid: Uint8Array) => VerifyKey | undefined; backends?: Partial<Record<Curve, SignerBackend>> }): IdentityVerifier {
  return (statement, identityKey, at) => {
    let fields: Record<string, unknown>;
    try {
      const v = verify1(statement, { keys: opts.authorities, typ: TYP.v2xVehicleIdentity, algs: [ES256K, ES256], backends: opts.backends, maxSize: 1024 });
      fields = decodeStruct(identityStatementSchema, decodeCbor(v.payload, { canonical: true, maxDepth: 4 }));
    } catch (err) {
      const e = asV2xError(err, 'identity statement');
      throw new V2xError('uncertified', `${e.message} (no trusted fleet statement for this identity key)`, { cause: err });
    }
    const curve = CRV[fields.crv as 1 | 8];
    if (curve !== identityKey.curve || !equal(fields.publicKey as Uint8Array, identityKey.publicKey)) {
      throw new V2xError('uncertified', 'identity statement: it certifies another key than the one that signed the attestation');
    }
    if (at < (fields.notBefore as number) || at > (fields.notAfter as number)) {
      throw new V2xError('expired', `identity statement: not valid at ${new Date(at).toISOString()}`);
    }
    return { vehicleId: fields.vehicleId as string, publicKey: identityKey.publicKey, curve, notBefore: fields.notBefore as number, notAfter: fields.notAfter as number };
  };
}
