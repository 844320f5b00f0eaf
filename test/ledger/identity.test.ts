// The battery's whole life, in process: fleet init, provision, rotate, replace the board, revoke;
// the history verifier, given only the fleet authority's public key (and its revocation list),
// accepts it and refuses records after revocation, by an uncertified key, for another battery,
// under another authority, under an expired certificate, and a rotation signed by one key only.
import test from 'ava';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../hal/clock.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { loadKeyFile } from '../../ledger/keys/keyfile.ts';
import { Ledger } from '../../ledger/log/ledger.ts';
import { FleetAuthority, initFleet } from '../../ledger/identity/fleet-authority.ts';
import { batteryDataFrom } from '../../ledger/identity/battery-data.ts';
import { makeCertificateRequest, verifyCertificateRequest } from '../../ledger/identity/cert-request.ts';
import { verifyCertificate } from '../../ledger/identity/device-cert.ts';
import { IdentityError } from '../../ledger/identity/identity-error.ts';
import { keyRotatedBody } from '../../ledger/identity/identity-events.ts';
import { mergeRevocationLists } from '../../ledger/identity/revocation.ts';
import { signRotation } from '../../ledger/identity/rotation.ts';
import { verifyHistory } from '../../ledger/identity/verify-history.ts';
import { parseBatteryId } from '../../ledger/identity/battery-id.ts';
import {
  certificateRequest,
  ensureDeviceKey,
  installCertificate,
  lastCheckpointLink,
  readProvisioned,
  rotateDeviceKey,
  type ProvisionedIdentity,
} from '../../firmware-ts/identity/board-identity.ts';
import { ledgerDir } from '../../firmware-ts/runtime/data-dir.ts';
import { runPython } from '../helpers/python.ts';

const PASS = 'correct horse battery staple';
const BATTERY = 'urn:voltrail:battery:ACME:PK-0001';
const DATA = batteryDataFrom({ manufacturer: 'ACME Cells', model: 'PK-75', chemistry: 'NMC', capacityAh: 75.5, massKg: 412.3, nominalV: 355.2, manufactured: '2025-11-03' });
const DAY = 86_400_000;
const quiet = () => undefined;

interface World {
  root: string;
  clock: ManualClock;
  fleet: FleetAuthority;
  boardA: string;
  boardB: string;
  crl: Uint8Array;
  revokedKid: string;
}

async function provision(w: { clock: ManualClock; fleet: FleetAuthority }, dataDir: string, opts: { battery?: string; boardId: string; replaces?: string; validDays?: number; fleet?: FleetAuthority } = { boardId: 'pi-a' }) {
  const { key, file } = await ensureDeviceKey(dataDir, PASS, quiet);
  const req = certificateRequest(key, opts.battery ?? BATTERY, opts.boardId, DATA, w.clock.now());
  const fleet = opts.fleet ?? w.fleet;
  const { certificate } = await fleet.sign(req, { now: w.clock.now(), validDays: opts.validDays });
  const replaces = opts.replaces ? await lastCheckpointLink(ledgerDir(opts.replaces)) : undefined;
  await installCertificate({ dataDir, key, keyFile: file, certificate, fleetKey: fleet.publicKey, clock: w.clock, replaces, progress: quiet });
  return key;
}

/** What the runtime does: sign records with the key identity.json names. */
async function run(dataDir: string, clock: ManualClock, n: number, key?: PrivateKey): Promise<void> {
  const id = (await readProvisioned(dataDir)) as ProvisionedIdentity;
  const signer = key ?? (await loadKeyFile(join(dataDir, id.keyFile), PASS));
  const ledger = await Ledger.open({ dir: ledgerDir(dataDir), signer, clock, checkpointEvery: 3 });
  for (let i = 0; i < n; i++) {
    clock.advance(60_000);
    await ledger.append('telemetry', new Map([[1, 3_700_000 + i]]));
  }
  await ledger.close();
}

async function life(): Promise<World> {
  const root = await mkdtemp(join(tmpdir(), 'voltrail-identity-'));
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  await initFleet(join(root, 'fleet'), { name: 'ACME fleet', passphrase: PASS });
  const fleet = await FleetAuthority.open(join(root, 'fleet'), PASS);
  const w = { clock, fleet };
  const boardA = join(root, 'board-a');
  const boardB = join(root, 'board-b');
  await provision(w, boardA, { boardId: 'pi-a' });
  await run(boardA, clock, 5);
  clock.advance(30 * DAY);
  await rotateDeviceKey({ dataDir: boardA, passphrase: PASS, fleetKey: fleet.publicKey, certify: async (r) => (await fleet.sign(r, { now: clock.now() })).certificate, clock, progress: quiet });
  await run(boardA, clock, 4);
  clock.advance(DAY);
  await provision(w, boardB, { boardId: 'pi-b', replaces: boardA });
  await run(boardB, clock, 4);
  // The old board is lost: revoke its (rotated) key from now on.
  const revokedKid = (await readProvisioned(boardA))!.keys[1]!.kid;
  await fleet.revoke(revokedKid, 'lost', clock.now());
  const crl = (await fleet.revocationList(clock.now())).bytes;
  return { root, clock, fleet, boardA, boardB, crl, revokedKid };
}

let world: World;
test.before(async () => {
  world = await life();
});
test.after.always(async () => {
  if (world) await rm(world.root, { recursive: true, force: true });
});

async function copyOf(dir: string, name: string): Promise<string> {
  const to = join(world.root, `${name}-${Math.random().toString(36).slice(2)}`);
  await cp(dir, to, { recursive: true });
  return to;
}

const trust = () => ({ authority: world.fleet.publicKey, revocationLists: [world.crl] });

test('the whole life verifies with only the fleet public key and the revocation list', async (t) => {
  const r = await verifyHistory({ ...trust(), ledgers: [ledgerDir(world.boardB), ledgerDir(world.boardA)] });
  t.true(r.ok, r.failure?.reason);
  t.is(r.batteryId, BATTERY);
  t.is(r.revocationListNumber, 1);
  t.deepEqual(r.boards.map((b) => b.boardId), ['pi-a', 'pi-b']);
  t.is(r.boards[0]!.keys.length, 2, 'board A: the provisioned key and the rotated one');
  t.is(r.boards[0]!.keys[1]!.revoked?.reason, 'lost');
  t.is(r.boards[0]!.records, 1 + 5 + 1 + 4);
  t.is(r.boards[1]!.replaces?.logKid, r.boards[0]!.keys[1]!.kid);
  t.is(r.boards[1]!.records, 2 + 4);
});

test('records signed by the revoked key after its revocation are refused', async (t) => {
  const a = await copyOf(world.boardA, 'late');
  const clock = new ManualClock(world.clock.now() + DAY);
  await run(a, clock, 2);
  const r = await verifyHistory({ ...trust(), ledgers: [ledgerDir(a), ledgerDir(world.boardB)] });
  t.false(r.ok);
  t.is(r.failure?.code, 'revoked', r.failure?.reason);
  t.is(r.failure?.seq, 11);
  t.regex(r.failure!.reason, /revoked \(lost\)/);
});

test('records after the board was replaced are refused even with a backdated clock (log order)', async (t) => {
  const a = await copyOf(world.boardA, 'backdated');
  const clock = new ManualClock(world.clock.now() - DAY / 2);
  await run(a, clock, 1);
  const r = await verifyHistory({ ...trust(), ledgers: [ledgerDir(a), ledgerDir(world.boardB)] });
  t.false(r.ok);
  t.is(r.failure?.code, 'bad-link', r.failure?.reason);
  t.regex(r.failure!.reason, /after this board was replaced/);
});

test('a record signed by an uncertified key is refused', async (t) => {
  const b = await copyOf(world.boardB, 'rogue');
  await run(b, new ManualClock(world.clock.now()), 1, PrivateKey.generate());
  const r = await verifyHistory({ ...trust(), ledgers: [ledgerDir(world.boardA), ledgerDir(b)] });
  t.false(r.ok);
  t.is(r.failure?.code, 'uncertified', r.failure?.reason);
  // Telemetry is checkpoint-signed: the rogue key shows at the checkpoint covering record 6.
  t.regex(r.failure!.reason, /checkpoint after record 6 is signed by key .*which no certificate in this history binds/);
});

test('a board certified for another battery is refused', async (t) => {
  const c = join(world.root, 'board-c');
  await provision({ clock: new ManualClock(world.clock.now()), fleet: world.fleet }, c, { boardId: 'pi-c', battery: 'ACME:PK-0002', replaces: world.boardB });
  const r = await verifyHistory({ ...trust(), ledgers: [ledgerDir(world.boardA), ledgerDir(world.boardB), ledgerDir(c)] });
  t.false(r.ok);
  t.is(r.failure?.code, 'wrong-battery', r.failure?.reason);
  t.regex(r.failure!.reason, /PK-0002/);
  const alone = await verifyHistory({ ...trust(), ledgers: [ledgerDir(world.boardA)], batteryId: 'urn:voltrail:battery:ACME:PK-0002' });
  t.is(alone.failure?.code, 'wrong-battery');
});

test('a certificate signed by another authority is refused', async (t) => {
  await initFleet(join(world.root, 'fleet-2'), { name: 'other fleet', passphrase: PASS });
  const other = await FleetAuthority.open(join(world.root, 'fleet-2'), PASS);
  const d = join(world.root, 'board-d');
  await provision({ clock: new ManualClock(world.clock.now()), fleet: other }, d, { boardId: 'pi-d', fleet: other });
  const r = await verifyHistory({ ...trust(), ledgers: [ledgerDir(d)] });
  t.is(r.failure?.code, 'wrong-authority', r.failure?.reason);
  t.true((await verifyHistory({ authority: other.publicKey, ledgers: [ledgerDir(d)] })).ok);
});

test('records after the certificate expired are refused, and an expired certificate is not installed', async (t) => {
  const clock = new ManualClock(world.clock.now());
  const e = join(world.root, 'board-e');
  await provision({ clock, fleet: world.fleet }, e, { boardId: 'pi-e', battery: 'ACME:PK-0003', validDays: 1 });
  await run(e, clock, 2);
  t.true((await verifyHistory({ ...trust(), ledgers: [ledgerDir(e)] })).ok);
  clock.advance(2 * DAY);
  await run(e, clock, 1);
  const r = await verifyHistory({ ...trust(), ledgers: [ledgerDir(e)] });
  t.is(r.failure?.code, 'expired', r.failure?.reason);
  t.is(r.failure?.seq, 3);

  const key = PrivateKey.generate();
  const { certificate } = await world.fleet.sign(makeCertificateRequest({ key, batteryId: 'ACME:PK-0004', boardId: 'pi-x', battery: DATA, time: clock.now() }), { now: clock.now() - 3 * DAY, validDays: 1 });
  const err = await t.throwsAsync(installCertificate({ dataDir: join(world.root, 'board-x'), key, keyFile: 'k', certificate, fleetKey: world.fleet.publicKey, clock, progress: quiet }));
  t.is((err as IdentityError).reason, 'expired');
});

test('a rotation signed only by the new key is refused', async (t) => {
  const clock = new ManualClock(world.clock.now());
  const f = join(world.root, 'board-f');
  const oldKey = await provision({ clock, fleet: world.fleet }, f, { boardId: 'pi-f', battery: 'ACME:PK-0005' });
  const newKey = PrivateKey.generate();
  const { certificate } = await world.fleet.sign(makeCertificateRequest({ key: newKey, batteryId: 'ACME:PK-0005', boardId: 'pi-f', battery: DATA, time: clock.now() }), { now: clock.now() });
  // The forger holds only the new key: both "signatures" of the statement are the new key's.
  const forged = signRotation({ oldKey: newKey, newKey, time: clock.now(), reason: 'scheduled', seq: 1, batteryId: BATTERY.replace('0001', '0005') });
  const ledger = await Ledger.open({ dir: ledgerDir(f), signer: oldKey, clock });
  await ledger.append('key-rotated', keyRotatedBody(forged, certificate), { signed: true });
  await ledger.close();
  const r = await verifyHistory({ ...trust(), ledgers: [ledgerDir(f)] });
  t.is(r.failure?.code, 'bad-rotation', r.failure?.reason);
  t.regex(r.failure!.reason, /old key/);
});

test('certificate requests: tampering, replay; revocation lists: rollback', async (t) => {
  const key = PrivateKey.generate();
  const req = makeCertificateRequest({ key, batteryId: BATTERY, boardId: 'pi-z', battery: DATA });
  t.is(verifyCertificateRequest(req).batteryId, BATTERY);
  const bad = Uint8Array.from(req);
  bad[bad.length - 70] ^= 1; // inside the payload
  t.throws(() => verifyCertificateRequest(bad), { instanceOf: IdentityError });
  await world.fleet.sign(req);
  const replay = await t.throwsAsync(world.fleet.sign(req));
  t.is((replay as IdentityError).reason, 'replayed');

  const older = world.crl;
  const { revokedAt } = mergeRevocationLists([older], world.fleet.publicKey);
  t.is(revokedAt.size, 1);
  // A newer list that silently drops the revocation is refused.
  const dir = join(world.root, 'fleet');
  const f = world.fleet.file;
  const saved = f.revoked.splice(0);
  const newer = (await world.fleet.revocationList()).bytes;
  f.revoked.push(...saved);
  t.is(t.throws(() => mergeRevocationLists([older, newer], world.fleet.publicKey), { instanceOf: IdentityError })?.reason, 'crl-rollback');
  t.truthy(dir);
});

test('battery ids: URN form', (t) => {
  t.is(parseBatteryId('ACME:PK-0001').urn, BATTERY);
  t.is(parseBatteryId(BATTERY).serial, 'PK-0001');
  t.throws(() => parseBatteryId('urn:voltrail:battery:ACME'), { instanceOf: RangeError });
  t.throws(() => parseBatteryId('ACME:PK 1'), { instanceOf: RangeError });
  // A part of only dots would be a dot segment in the passport URL and resolve elsewhere.
  t.throws(() => parseBatteryId('ACME:..'), { instanceOf: RangeError, message: /not only dots/ });
  t.is(parseBatteryId('ACME:1.2').serial, '1.2');
});

test('python3-cryptography verifies a device certificate signature with the fleet public key', async (t) => {
  const id = (await readProvisioned(world.boardB))!;
  const cert = verifyCertificate(Buffer.from(id.certificate, 'hex'), { authority: world.fleet.publicKey });
  t.is(cert.battery.capacityMah, 75_500);
  t.is(cert.battery.massG, 412_300);
  const script = `
import sys, json, cbor2
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives import hashes
from cryptography.exceptions import InvalidSignature
inp = json.load(sys.stdin)
msg = cbor2.loads(bytes.fromhex(inp['cert']))
prot, unprot, payload, sig = msg.value
hdr = cbor2.loads(prot)
tbs = cbor2.dumps(['Signature1', prot, b'', payload])
pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), bytes.fromhex(inp['fleet']))
der = utils.encode_dss_signature(int.from_bytes(sig[:32], 'big'), int.from_bytes(sig[32:], 'big'))
def ok(data):
    try:
        pub.verify(der, data, ec.ECDSA(hashes.SHA256())); return True
    except InvalidSignature:
        return False
claims = cbor2.loads(payload)
print(json.dumps({'tag': msg.tag, 'typ': hdr[16], 'alg': hdr[1], 'ok': ok(tbs), 'tampered': ok(tbs[:-1] + bytes([tbs[-1] ^ 1])),
  'sub': claims[2], 'cnf_crv': claims[8][1][-1], 'role': claims[-65537], 'exp_after_nbf': claims[4] > claims[5]}))
`;
  const out = await runPython<Record<string, unknown>>(script, { cert: id.certificate, fleet: world.fleet.file.publicKey });
  t.deepEqual(out, { tag: 18, typ: 'application/vnd.voltrail.device-cert+cwt', alg: -47, ok: true, tampered: false, sub: BATTERY, cnf_crv: 8, role: 'device', exp_after_nbf: true });
});

test('provisioning interrupted before identity.json is finished by a re-run, without a second "provisioned" record', async (t) => {
  const clock = new ManualClock(world.clock.now());
  const g = join(world.root, 'board-g');
  const { key, file } = await ensureDeviceKey(g, PASS, quiet);
  const { certificate } = await world.fleet.sign(certificateRequest(key, 'ACME:PK-0006', 'pi-g', DATA, clock.now()), { now: clock.now() });
  const args = { dataDir: g, key, keyFile: file, certificate, fleetKey: world.fleet.publicKey, clock, progress: quiet };
  t.true((await installCertificate(args)).installed);
  await rm(join(g, 'identity.json'));
  const lines: string[] = [];
  await installCertificate({ ...args, progress: (l) => lines.push(l) });
  t.true(lines.some((l) => /kept the "provisioned" record/.test(l)), lines.join('\n'));
  t.is((await readProvisioned(g))?.batteryId, 'urn:voltrail:battery:ACME:PK-0006');
  const again = await installCertificate({ ...args, progress: (l) => lines.push(l) });
  t.false(again.installed);
  const r = await verifyHistory({ ...trust(), ledgers: [ledgerDir(g)] });
  t.true(r.ok, r.failure?.reason);
  t.is(r.boards[0]!.records, 1);
  // Another board's key cannot take over that ledger.
  const other = PrivateKey.generate();
  const { certificate: c2 } = await world.fleet.sign(certificateRequest(other, 'ACME:PK-0006', 'pi-h', DATA, clock.now()), { now: clock.now() });
  await rm(join(g, 'identity.json'));
  const err = await t.throwsAsync(installCertificate({ ...args, key: other, certificate: c2 }));
  t.is((err as IdentityError).reason, 'wrong-key');
});
