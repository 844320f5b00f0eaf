// Published demonstration keys for documentation examples and `voltrail v2x send --demo-keys`:
// a fleet authority, one pseudonym and one vehicle identity whose secrets are printed right
// here, so anyone can reproduce the README's bytes and check them. They protect nothing and
// must never sign anything real. Certificates are valid 2026-01-01 to 2036-01-01 (ECDSA per
// RFC 6979 is deterministic, so the certificate bytes are the same on every machine).
import { PrivateKey } from '../ledger/keys/private-key.ts';
import { issuePseudonymCertificate, verifyPseudonymCertificate } from './security/pseudonym-certificate.ts';
import type { PseudonymCredential } from './security/pseudonym-manager.ts';
import { issueVehicleIdentity } from './attestation/vehicle-identity.ts';
import { MESSAGE_NAMES } from './messages/message-types.ts';
import type { Curve } from '../ledger/signers/backend.ts';

const secret = (label: string) => new Uint8Array(Buffer.from(label.padEnd(32, '.').slice(0, 32), 'latin1'));

export const DEMO_VALID_FROM = Date.UTC(2026, 0, 1);
export const DEMO_VALID_TO = Date.UTC(2036, 0, 1);

export interface DemoKeys {
  authority: PrivateKey;
  pseudonym: PseudonymCredential;
  identityKey: PrivateKey;
  identityStatement: Uint8Array;
}

/** The demonstration keys; `curve` picks the pseudonym's curve (P-256 for ES256, secp256k1 for ES256K). */
export function demoKeys(curve: Curve = 'P-256'): DemoKeys {
  const authority = PrivateKey.fromBytes(secret('voltrail demo fleet authority'), 'P-256');
  const key = PrivateKey.fromBytes(secret(`voltrail demo pseudonym ${curve}`), curve);
  const certificate = issuePseudonymCertificate(authority, { publicKey: key.publicKey, curve, notBefore: DEMO_VALID_FROM, notAfter: DEMO_VALID_TO, permissions: MESSAGE_NAMES });
  const info = verifyPseudonymCertificate(certificate, { authorities: (kid) => (kid.every((b, i) => b === authority.kid[i]) ? { publicKey: authority.publicKey, alg: authority.alg } : undefined) });
  const identityKey = PrivateKey.fromBytes(secret('voltrail demo vehicle identity'), 'secp256k1');
  const identityStatement = issueVehicleIdentity(authority, { vehicleId: 'DEMO-VEHICLE-0001', publicKey: identityKey.publicKey, curve: 'secp256k1', notBefore: DEMO_VALID_FROM, notAfter: DEMO_VALID_TO });
  return { authority, pseudonym: { key, certificate, info }, identityKey, identityStatement };
}
