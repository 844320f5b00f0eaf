// The two V2X messages of the shared-vehicle identity attestation (v2x/cddl/attestation.cddl):
// a roadside unit's or car-share station's challenge (its id, a fresh nonce, optionally the
// pseudonym it asks), and the vehicle's answer, which carries the attestation statement
// (a COSE_Sign1 signed with the vehicle's ledger identity key, see ../attestation/).
import { bytes } from '../codec/schema.ts';
import type { Schema } from '../codec/schema.ts';
import { stationId } from './field-types.ts';

export interface AttestationChallenge {
  /** The challenger's station id: the answer is bound to it. */
  challengerId: number;
  /** 16..32 random bytes, used once. */
  nonce: Uint8Array;
  /** The pseudonym digest of the vehicle asked; absent: any vehicle in range may answer. */
  target?: Uint8Array;
}

export interface AttestationAnswer {
  /** The attestation statement: COSE_Sign1, typ TYP.v2xAttestation. */
  statement: Uint8Array;
}

export const challengeSchema: Schema = {
  name: 'attestationChallenge',
  fields: [
    { key: 1, name: 'challengerId', type: stationId },
    { key: 2, name: 'nonce', type: bytes(16, 32) },
    { key: 3, name: 'target', type: bytes(8), optional: true },
  ],
};

export const answerSchema: Schema = {
  name: 'attestationAnswer',
  fields: [{ key: 1, name: 'statement', type: bytes(64, 2048) }],
};
