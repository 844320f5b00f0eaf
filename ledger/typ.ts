// The content types (RFC 9596 COSE "typ" header parameter, label 16) that name each signed
// structure. Every COSE_Sign1 voltrail makes carries one in its protected header and every
// verifier states the one it expects, so a signature over one kind of object can never be
// accepted as another (a record as a checkpoint, an event as a certificate request, ...).
// https://www.rfc-editor.org/rfc/rfc9596 ; the structures are specified in ledger/cddl/.

const PREFIX = 'application/vnd.voltrail.';

export const TYP = {
  /** A telemetry record (ledger/cddl/record.cddl). */
  record: `${PREFIX}record+cose`,
  /** A lifecycle event: fault, abuse, service, ownership change (event.cddl). */
  event: `${PREFIX}event+cose`,
  /** A signed log checkpoint: tree size, root hash, time (checkpoint.cddl). */
  checkpoint: `${PREFIX}checkpoint+cose`,
  /** A witness's (fleet collector's) countersignature of a checkpoint it verified. */
  witness: `${PREFIX}witness+cose`,
  /** A fleet authority's endorsement of a collector's witness key (witness.cddl). */
  witnessEndorsement: `${PREFIX}witness-endorsement+cose`,
  /** A device's request for a fleet certificate, signed with the key to be certified. */
  certificateRequest: `${PREFIX}cert-request+cose`,
  /** A device certificate: a CWT (RFC 8392) signed by the fleet authority. */
  deviceCertificate: `${PREFIX}device-cert+cwt`,
  /** A list of revoked device keys, signed by the fleet authority. */
  revocationList: `${PREFIX}revocation-list+cose`,
  /** A key-rotation statement: the old key vouches for the new one. */
  rotation: `${PREFIX}key-rotation+cose`,
  /** A battery passport bundle's signed manifest. */
  passport: `${PREFIX}passport+cose`,
  /** A battery status change (original, repurposed, ...) by an authorised party (passport.cddl). */
  batteryStatus: `${PREFIX}battery-status+cose`,
  /** A V2V / V2I message. */
  v2xMessage: `${PREFIX}v2x-message+cose`,
  /** A challenge-bound attestation linking a V2X pseudonym to a ledger identity. */
  v2xAttestation: `${PREFIX}v2x-attestation+cose`,
  /** A V2X pseudonym certificate: pseudonym key, validity, permissions; no identity (v2x/cddl/certificate.cddl). */
  v2xPseudonymCertificate: `${PREFIX}v2x-pseudonym-cert+cose`,
  /** A fleet-signed statement binding a vehicle id to its ledger identity key (v2x/cddl/attestation.cddl). */
  v2xVehicleIdentity: `${PREFIX}v2x-vehicle-identity+cose`,
} as const;

export type TypName = keyof typeof TYP;
export type Typ = (typeof TYP)[TypName];

const ALL = new Set<string>(Object.values(TYP));

export function isTyp(value: unknown): value is Typ {
  return typeof value === 'string' && ALL.has(value);
}
