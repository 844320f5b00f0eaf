import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../hal/clock.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { Ledger } from '../../ledger/log/ledger.ts';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { EntryKind } from '../../ledger/log/frame.ts';
import { inspectLedger } from '../../ledger/log/inspect.ts';
import { verifyLedger } from '../../ledger/log/verify.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { sign1 } from '../../ledger/cose/sign1.ts';
import { TYP } from '../../ledger/typ.ts';
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { FleetAuthority, initFleet, readFleetFile } from '../../ledger/identity/fleet-authority.ts';
import { IdentityError } from '../../ledger/identity/identity-error.ts';
import { countersignCheckpoint, endorseWitness, verifyCountersignature, verifyWitnessEndorsement } from '../../ledger/identity/witness.ts';

const T0 = Date.UTC(2026, 5, 1);
const fleetKey = PrivateKey.fromBytes(Uint8Array.from({ length: 32 }, (_, i) => i + 1));
const fleet = { publicKey: fleetKey.publicKey, curve: 'secp256k1' as const };
const otherFleet = PrivateKey.fromBytes(Uint8Array.from({ length: 32 }, (_, i) => i + 2));
const witnessKey = PrivateKey.fromBytes(Uint8Array.from({ length: 32 }, (_, i) => i + 3));
const deviceKey = PrivateKey.fromBytes(Uint8Array.from({ length: 32 }, (_, i) => i + 4));
const endorsement = endorseWitness({ authority: fleetKey, issuer: 'ACME fleet', name: 'depot-1', witness: { publicKey: witnessKey.publicKey, curve: 'secp256k1' }, validDays: 365, now: T0 });

/** A device log with two checkpoints; returns their COSE bytes as stored. */
async function deviceLog(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'vt-witness-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clock = new ManualClock(T0 + 1000);
  const ledger = await Ledger.open({ dir, signer: deviceKey, clock, checkpointEvery: 5 });
  for (let i = 0; i < 10; i++) {
    clock.advance(1000);
    await ledger.append('telemetry', new Map([[1, i]]));
  }
  await ledger.close();
  const log = await SegmentLog.open(dir, {});
  const checkpoints: Uint8Array[] = [];
  for await (const e of log.entries()) if (e.kind === EntryKind.checkpoint) checkpoints.push(Uint8Array.from(e.payload));
  await log.close();
  return { dir, checkpoints, clock };
}

test('a countersignature by an endorsed witness verifies against the pinned fleet key alone', async (t) => {
  const { checkpoints } = await deviceLog(t);
  const cs = countersignCheckpoint({ checkpoint: checkpoints[1]!, witnessKey, endorsement, time: T0 + 60_000 });
  const { statement, witness } = verifyCountersignature(cs, { authority: fleet, checkpoint: checkpoints[1]! });
  t.is(statement.size, 10);
  t.deepEqual(statement.logId, deviceKey.kid);
  t.is(statement.time, T0 + 60_000);
  t.is(witness.name, 'depot-1');
  t.is(witness.issuer, 'ACME fleet');
  t.deepEqual(witness.witnessKid, witnessKey.kid);
});

test('each forgery of a countersignature is refused with its reason', async (t) => {
  const { checkpoints } = await deviceLog(t);
  const [first, second] = checkpoints as [Uint8Array, Uint8Array];
  const good = countersignCheckpoint({ checkpoint: second, witnessKey, endorsement, time: T0 + 60_000 });
  const refused = (bytes: Uint8Array, opts: Partial<Parameters<typeof verifyCountersignature>[1]> = {}) =>
    t.throws(() => verifyCountersignature(bytes, { authority: fleet, checkpoint: second, ...opts }), { instanceOf: IdentityError });

  // Pinned to another fleet: the endorsement is not from it.
  t.is(refused(good, { authority: { publicKey: otherFleet.publicKey, curve: 'secp256k1' } }).reason, 'wrong-authority');
  // About another checkpoint of the same log.
  t.regex(refused(good, { checkpoint: first }).message, /the checkpoint at size 10, not this one at size 5/);
  // A different history at the same size: the board re-signed another root.
  const rewritten = await deviceLog(t);
  const other = countersignCheckpoint({ checkpoint: rewritten.checkpoints[1]!, witnessKey, endorsement, time: T0 + 60_000 });
  t.is(refused(other).reason, 'bad-link');
  // Signed by a key the endorsement does not name (an endorsement lifted from another witness).
  const thief = PrivateKey.fromBytes(Uint8Array.from({ length: 32 }, (_, i) => i + 9));
  const stolen = countersignCheckpoint({ checkpoint: second, witnessKey: thief, endorsement, time: T0 + 60_000 });
  t.is(refused(stolen).reason, 'uncertified');
  // An endorsement the witness made itself.
  const selfEndorsed = endorseWitness({ authority: thief, issuer: 'ACME fleet', name: 'depot-1', witness: { publicKey: thief.publicKey, curve: 'secp256k1' }, now: T0 });
  t.is(refused(countersignCheckpoint({ checkpoint: second, witnessKey: thief, endorsement: selfEndorsed, time: T0 + 60_000 })).reason, 'wrong-authority');
  // After the endorsement expired, or before it began.
  t.is(refused(countersignCheckpoint({ checkpoint: second, witnessKey, endorsement, time: T0 + 366 * 86_400_000 })).reason, 'expired');
  t.is(refused(countersignCheckpoint({ checkpoint: second, witnessKey, endorsement, time: T0 - 1 })).reason, 'not-yet-valid');
  // A revoked witness.
  t.is(refused(good, { revoked: (kid, at) => Buffer.from(kid).equals(Buffer.from(witnessKey.kid)) && at >= T0 }).reason, 'revoked');
  // No endorsement at all.
  const bare = sign1({ payload: encodeCanonical(new Map([[1, new Uint8Array(32)]])), typ: TYP.witness, signer: witnessKey });
  t.is(refused(bare).reason, 'uncertified');
  // Any flipped byte.
  for (let i = 0; i < good.length; i += 7) {
    const bad = Uint8Array.from(good);
    bad[i]! ^= 0x01;
    t.throws(() => verifyCountersignature(bad, { authority: fleet, checkpoint: second }), undefined, `flip at byte ${i}`);
  }
});

test('a checkpoint signature cannot pass for a witness endorsement', (t) => {
  const notEndorsement = sign1({ payload: encodeCanonical(new Map([[1, 'x']])), typ: TYP.checkpoint, signer: fleetKey });
  t.is(t.throws(() => verifyWitnessEndorsement(notEndorsement, fleet), { instanceOf: IdentityError }).reason, 'malformed');
});

test('the board keeps countersignatures in its log without changing the tree, and refuses other objects there', async (t) => {
  const { dir, checkpoints, clock } = await deviceLog(t);
  const cs = countersignCheckpoint({ checkpoint: checkpoints[1]!, witnessKey, endorsement, time: T0 + 60_000 });
  const ledger = await Ledger.open({ dir, signer: deviceKey, clock });
  const root = await ledger.root();
  const { index } = await ledger.appendWitness(cs);
  t.is(index, 12);
  t.deepEqual(await ledger.root(), root);
  await t.throwsAsync(ledger.appendWitness(checkpoints[0]!), { message: /typ is 'application\/vnd.voltrail.checkpoint\+cose'/ });
  await t.throwsAsync(ledger.appendWitness(new Uint8Array([1, 2, 3])), { message: /typ is missing/ });
  await ledger.close();
  const report = await verifyLedger(dir, { keys: new KeyRing([{ publicKey: deviceKey.publicKey, curve: 'secp256k1' }]).lookup });
  t.true(report.ok, report.failure?.reason);
  t.is((await inspectLedger(dir)).witnesses, 1);
});

test('the fleet authority endorses witness keys, records them, and can revoke them', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'vt-witness-fleet-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  await initFleet(root, { name: 'ACME fleet', passphrase: 'correct horse' });
  const authority = await FleetAuthority.open(root, 'correct horse');
  const bytes = await authority.endorseWitness({ publicKey: witnessKey.publicKey, curve: 'secp256k1' }, 'depot-2', { now: T0, validDays: 30 });
  const e = verifyWitnessEndorsement(bytes, authority.publicKey, T0 + 1000);
  t.is(e.name, 'depot-2');
  t.is(e.expires, T0 + 30 * 86_400_000);
  t.is(readFleetFile(root).witnesses?.[0]?.kid, Buffer.from(witnessKey.kid).toString('hex'));
  const { already } = await authority.revoke(Buffer.from(witnessKey.kid).toString('hex'), 'compromised', T0 + 5000);
  t.false(already);
  await t.throwsAsync(authority.endorseWitness({ publicKey: witnessKey.publicKey, curve: 'secp256k1' }, 'depot-2'), { message: /is revoked/ });
  t.throws(() => endorseWitness({ authority: fleetKey, issuer: 'x', name: 'bad name!', witness: fleet }), { instanceOf: RangeError });
});
