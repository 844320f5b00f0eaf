// The board's side of provisioning (ledger/README.md "Fleet identity"): the device key sealed in
// the data folder, the certificate request, the certificate's installation into identity.json,
// the signed "provisioned" (and "board-replaced") records, and key rotation. Every step keeps
// what already exists (re-running provisioning is safe) and says so through `progress`.
// These identity keys are the battery's ledger keys, never the V2X pseudonym keys.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Clock } from '../../hal/clock.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { loadKeyFile, writeKeyFile, type WriteKeyFileOptions } from '../../ledger/keys/keyfile.ts';
import { Ledger } from '../../ledger/log/ledger.ts';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { EntryKind } from '../../ledger/log/frame.ts';
import { decodeCheckpoint, decodeRecord } from '../../ledger/log/record.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import { keyThumbprint } from '../../ledger/cose/key-thumbprint.ts';
import { peekSign1Payload } from '../../ledger/identity/cose-peek.ts';
import { makeCertificateRequest } from '../../ledger/identity/cert-request.ts';
import { checkValidAt, verifyCertificate, type DeviceCertificate, type PublicKeyRef } from '../../ledger/identity/device-cert.ts';
import type { BatteryData } from '../../ledger/identity/battery-data.ts';
import { boardReplacedBody, keyRotatedBody, provisionedBody, EVENT_KEY_ROTATED, type BoardLink } from '../../ledger/identity/identity-events.ts';
import { signRotation, type RotationReason } from '../../ledger/identity/rotation.ts';
import { fromCoseKey, hex } from '../../ledger/identity/claims.ts';
import { IdentityError } from '../../ledger/identity/identity-error.ts';
import { ledgerDir, readIdentity, writeIdentity, type IdentityFile } from '../runtime/data-dir.ts';

export const DEVICE_KEY_FILE = 'device.key';
export const CERTIFICATE_FILE = 'certificate.cbor';

/** identity.json of a provisioned board: the base format plus what provisioning adds. */
export interface ProvisionedIdentity extends IdentityFile {
  simulated: false;
  /** urn:voltrail:battery:<manufacturer-id>:<serial> */
  batteryId: string;
  boardId: string;
  /** The fleet authority's public key (compressed hex): what doctor and verify check against. */
  fleetPublicKey: string;
  /** The current device key file, relative to the data folder. */
  keyFile: string;
  /** The current device certificate, hex (also in certificate.cbor). */
  certificate: string;
  certificateFile: string;
  /** Every certificate this board's ledger has used, oldest first (hex). */
  certificates: string[];
}

export type Progress = (line: string) => void;

export async function readProvisioned(dataDir: string): Promise<ProvisionedIdentity | undefined> {
  const id = await readIdentity(dataDir);
  if (!id || id.simulated) return undefined;
  const p = id as ProvisionedIdentity;
  return typeof p.batteryId === 'string' && typeof p.certificate === 'string' ? p : undefined;
}

/** The board's device key: an existing key file is opened and kept, else a new one is sealed. */
export async function ensureDeviceKey(dataDir: string, passphrase: string, progress: Progress, opts: { file?: string; scrypt?: WriteKeyFileOptions['scrypt'] } = {}): Promise<{ key: PrivateKey; file: string; created: boolean }> {
  const file = resolve(dataDir, opts.file ?? DEVICE_KEY_FILE);
  if (existsSync(file)) {
    const key = await loadKeyFile(file, passphrase);
    progress(`kept the existing device key ${file} (kid ${hex(key.kid)})`);
    return { key, file, created: false };
  }
  await mkdir(resolve(dataDir), { recursive: true, mode: 0o700 });
  const key = PrivateKey.generate('secp256k1');
  await writeKeyFile(file, key, passphrase, opts.scrypt ? { scrypt: opts.scrypt } : {});
  progress(`generated a new device key ${file} (secp256k1, sealed, mode 0600; kid ${hex(key.kid)})`);
  return { key, file, created: true };
}

export function certificateRequest(key: PrivateKey, batteryId: string, boardId: string, battery: BatteryData, time?: number): Uint8Array {
  return makeCertificateRequest({ key, batteryId, boardId, battery, time });
}

/**
 * Whether a ledger folder already opens with a "provisioned" record: false for none (no folder,
 * or empty), the kid (hex) of its signer, or 'other' for a ledger that starts otherwise.
 */
async function provisionedRecordOf(dir: string): Promise<false | string> {
  if (!existsSync(dir)) return false;
  const log = await SegmentLog.open(dir, { readOnly: true });
  try {
    for await (const e of log.entries()) {
      if (e.kind !== EntryKind.signedRecord) return 'other';
      const rec = decodeRecord(peekSign1Payload(e.payload), 'record 0');
      if (rec.type !== 'provisioned') return 'other';
      const d = rec.body instanceof Map ? rec.body.get(2) : undefined;
      const cert = d instanceof Map ? d.get('certificate') : undefined;
      if (!(cert instanceof Uint8Array)) return 'other';
      return hex(decodeCertificateKid(cert));
    }
    return false;
  } finally {
    await log.close().catch(() => undefined);
  }
}

/** The device kid a certificate binds, read without checking it (the caller compares it to its own key). */
function decodeCertificateKid(cert: Uint8Array): Uint8Array {
  const claims = decodeCbor(peekSign1Payload(cert));
  const cnf = claims instanceof Map ? claims.get(8) : undefined;
  const k = fromCoseKey(cnf instanceof Map ? cnf.get(1) : undefined, 'certificate cnf');
  return keyThumbprint(k.publicKey, k.curve);
}

/** The last signed checkpoint of a board's ledger folder: what a replacement board links to. */
export async function lastCheckpointLink(oldLedgerDir: string): Promise<BoardLink> {
  const log = await SegmentLog.open(oldLedgerDir, { readOnly: true });
  let last: Uint8Array | undefined;
  try {
    for await (const e of log.entries()) if (e.kind === EntryKind.checkpoint) last = e.payload;
  } finally {
    await log.close().catch(() => undefined);
  }
  if (!last) throw new IdentityError('bad-link', `${oldLedgerDir} holds no signed checkpoint to link to; give the old board's ledger folder (or the collector's copy of it)`);
  // Read only: the verifier checks its signature against the old board's certificate.
  const c = decodeCheckpoint(peekSign1Payload(last), `last checkpoint of ${oldLedgerDir}`);
  return { checkpoint: last, oldLogKid: c.logId, oldRoot: c.root, oldSize: c.size };
}

export interface InstallInput {
  dataDir: string;
  key: PrivateKey;
  keyFile: string;
  certificate: Uint8Array;
  fleetKey: PublicKeyRef;
  /** The battery this board is being provisioned onto (the certificate must name it). */
  batteryId?: string;
  clock: Clock;
  /** When this board replaces another: the old board's last checkpoint. */
  replaces?: BoardLink;
  progress: Progress;
}

/**
 * Checks a certificate (signed by the fleet key, binds this device key, this battery, valid now),
 * then writes identity.json and certificate.cbor and logs the signed "provisioned" record (and
 * "board-replaced"). An identity already provisioned with this key is kept.
 */
export async function installCertificate(input: InstallInput): Promise<{ cert: DeviceCertificate; installed: boolean }> {
  const { dataDir, key, progress } = input;
  const cert = verifyCertificate(input.certificate, { authority: input.fleetKey, deviceKid: key.kid, batteryId: input.batteryId, at: input.clock.now() });
  progress(`certificate checked: signed by fleet ${cert.issuer}, battery ${cert.batteryId}, key ${hex(cert.deviceKid).slice(0, 16)}…, valid until ${new Date(cert.expires * 1000).toISOString()}`);
  const existing = await readIdentity(dataDir);
  if (existing?.simulated) throw new IdentityError('malformed', `${resolve(dataDir)} is a simulator's data folder; provision into an empty folder (--data-dir)`);
  const prov = await readProvisioned(dataDir);
  if (prov) {
    if (prov.batteryId !== cert.batteryId) throw new IdentityError('wrong-battery', `${resolve(dataDir)} is already provisioned for battery ${prov.batteryId}; a board serves one battery (use a new data folder for another)`);
    if (prov.keys.some((k) => k.kid === hex(key.kid))) {
      progress(`kept the installed certificate: ${join(resolve(dataDir), 'identity.json')} already binds this key to ${prov.batteryId}`);
      return { cert, installed: false };
    }
  }
  // An earlier run may have logged the records and stopped before identity.json: keep them.
  const logged = prov ? false : await provisionedRecordOf(ledgerDir(dataDir));
  if (logged === 'other') throw new IdentityError('malformed', `${resolve(dataDir)} holds a ledger that is not this board's provisioning; provision into an empty data folder`);
  const certHex = hex(input.certificate);
  const id: ProvisionedIdentity = {
    format: 'voltrail-identity/1',
    simulated: false,
    batteryId: cert.batteryId,
    boardId: cert.boardId,
    fleetPublicKey: hex(input.fleetKey.publicKey),
    keyFile: input.keyFile.startsWith(resolve(dataDir)) ? input.keyFile.slice(resolve(dataDir).length + 1) : input.keyFile,
    certificate: certHex,
    certificateFile: CERTIFICATE_FILE,
    certificates: [certHex],
    keys: [{ curve: key.curve, publicKey: hex(key.publicKey), kid: hex(key.kid), since: new Date(input.clock.now()).toISOString() }],
  };
  if (logged !== false && logged !== hex(key.kid)) throw new IdentityError('wrong-key', `${ledgerDir(dataDir)} was provisioned with key ${logged}, not this board's key ${hex(key.kid)}`);
  if (logged !== false) progress(`kept the "provisioned" record already in ${ledgerDir(dataDir)}`);
  const ledger = logged !== false ? undefined : await Ledger.open({ dir: ledgerDir(dataDir), signer: key, clock: input.clock });
  if (ledger) {
    try {
      await ledger.append('provisioned', provisionedBody(input.certificate, cert.batteryId), { signed: true });
      progress(`logged a signed "provisioned" record (seq 0) in ${ledgerDir(dataDir)}`);
      if (input.replaces) {
        await ledger.append('board-replaced', boardReplacedBody(input.replaces), { signed: true });
        progress(`logged "board-replaced" (seq 1): continues the history of log ${hex(input.replaces.oldLogKid).slice(0, 16)}… at tree size ${input.replaces.oldSize}`);
      }
    } finally {
      await ledger.close();
    }
  }
  await writeFile(join(dataDir, CERTIFICATE_FILE), input.certificate, { mode: 0o644 });
  await writeIdentity(dataDir, id);
  progress(`wrote ${join(resolve(dataDir), 'identity.json')} (battery ${cert.batteryId}, key file ${id.keyFile})`);
  return { cert, installed: true };
}

export interface RotateInput {
  dataDir: string;
  passphrase: string;
  fleetKey: PublicKeyRef;
  /** Obtains a certificate for a request: the fleet authority (local) or a file round trip. */
  certify: (request: Uint8Array) => Promise<Uint8Array>;
  reason?: RotationReason;
  clock: Clock;
  progress: Progress;
  scrypt?: WriteKeyFileOptions['scrypt'];
}

/**
 * Rotates the board's ledger key: a new sealed key, its certificate, and a "key-rotated" record
 * (signed by the old key) carrying the rotation statement signed by both keys and the new
 * certificate. identity.json then names the new key; the runtime signs with it from then on.
 */
export async function rotateDeviceKey(input: RotateInput): Promise<{ oldKid: string; newKid: string; seq: number; keyFile: string }> {
  const { dataDir, progress } = input;
  const prov = await readProvisioned(dataDir);
  if (!prov) throw new IdentityError('uncertified', `${resolve(dataDir)} is not a provisioned board; run voltrail provision first`);
  const oldKey = await loadKeyFile(resolve(dataDir, prov.keyFile), input.passphrase);
  const n = prov.keys.length + 1;
  let file = resolve(dataDir, `device-${n}.key`);
  for (let i = n; existsSync(file); i++) file = resolve(dataDir, `device-${i + 1}.key`);
  const newKey = PrivateKey.generate(oldKey.curve);
  await writeKeyFile(file, newKey, input.passphrase, input.scrypt ? { scrypt: input.scrypt } : {});
  progress(`generated the new device key ${file} (kid ${hex(newKey.kid)})`);
  const request = makeCertificateRequest({ key: newKey, batteryId: prov.batteryId, boardId: prov.boardId, battery: verifyCertificate(Buffer.from(prov.certificate, 'hex'), { authority: input.fleetKey }).battery, time: input.clock.now() });
  const certificate = await input.certify(request);
  const cert = verifyCertificate(certificate, { authority: input.fleetKey, deviceKid: newKey.kid, batteryId: prov.batteryId });
  checkValidAt(cert, input.clock.now());
  progress(`new certificate checked (serial ${hex(cert.serial)})`);
  const ledger = await Ledger.open({ dir: ledgerDir(dataDir), signer: oldKey, clock: input.clock });
  let seq: number;
  try {
    seq = ledger.size;
    const rotation = signRotation({ oldKey, newKey, time: input.clock.now(), reason: input.reason ?? 'scheduled', seq, batteryId: prov.batteryId });
    await ledger.append(EVENT_KEY_ROTATED, keyRotatedBody(rotation, certificate), { signed: true });
  } finally {
    await ledger.close();
  }
  progress(`logged "key-rotated" (seq ${seq}), signed by the old key, carrying the statement signed by both keys`);
  const certHex = hex(certificate);
  const next: ProvisionedIdentity = {
    ...prov,
    keyFile: file.slice(resolve(dataDir).length + 1),
    certificate: certHex,
    certificates: [...(prov.certificates ?? [prov.certificate]), certHex],
    keys: [...prov.keys, { curve: newKey.curve, publicKey: hex(newKey.publicKey), kid: hex(newKey.kid), since: new Date(input.clock.now()).toISOString() }],
  };
  await writeFile(join(dataDir, CERTIFICATE_FILE), certificate, { mode: 0o644 });
  await writeIdentity(dataDir, next);
  progress(`identity.json now names ${next.keyFile}; records from now on are signed by the new key`);
  return { oldKid: hex(oldKey.kid), newKid: hex(newKey.kid), seq, keyFile: file };
}

/** Reads a certificate file (raw COSE bytes, or hex text). */
export async function readCertificateFile(file: string): Promise<Uint8Array> {
  const raw = await readFile(file);
  const text = raw.toString('latin1').trim();
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) return new Uint8Array(Buffer.from(text, 'hex'));
  return new Uint8Array(raw);
}
