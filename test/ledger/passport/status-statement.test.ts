// Battery status statements: signed by the fleet authority or a workshop it certified, never by
// a device key or another fleet; a repurposed battery's statement links to the old passport; a
// bundle with a status going back from "waste" is refused.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrivateKey } from '../../../ledger/keys/private-key.ts';
import { makeCertificateRequest } from '../../../ledger/identity/cert-request.ts';
import { IdentityError } from '../../../ledger/identity/identity-error.ts';
import { sha256 } from '../../../ledger/log/merkle.ts';
import { signStatus, verifyStatus } from '../../../ledger/passport/status-statement.ts';
import { BATTERY, DATA, makeFleet } from '../../helpers/passport-world.ts';
import type { FleetAuthority } from '../../../ledger/identity/fleet-authority.ts';

let root: string;
let fleet: FleetAuthority;
let other: FleetAuthority;
test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'voltrail-status-'));
  fleet = await makeFleet(root, 'fleet');
  other = await makeFleet(root, 'other');
});
test.after.always(async () => {
  await rm(root, { recursive: true, force: true });
});

async function certified(role: 'workshop' | 'device', by = fleet): Promise<{ key: PrivateKey; cert: Uint8Array }> {
  const key = PrivateKey.generate();
  const req = makeCertificateRequest({ key, batteryId: BATTERY, boardId: `${role}-1`, battery: DATA, role });
  return { key, cert: (await by.sign(req)).certificate };
}

test('the fleet authority and a certified workshop may sign; the statement reads back', async (t) => {
  const byFleet = verifyStatus(await fleet.signStatement({ batteryId: BATTERY, status: 'original', time: Date.UTC(2026, 0, 1) }), fleet.publicKey);
  t.is(byFleet.signer, 'fleet authority');
  t.is(byFleet.status, 'original');
  const ws = await certified('workshop');
  const pred = { batteryId: 'urn:voltrail:battery:ACME:PK-0000', checkpointHash: sha256(new Uint8Array([1, 2, 3])) };
  const v = verifyStatus(signStatus({ batteryId: BATTERY, status: 'repurposed', time: Date.UTC(2027, 0, 1), predecessor: pred, note: 'stationary storage' }, ws.key, ws.cert), fleet.publicKey);
  t.is(v.signer, 'workshop workshop-1');
  t.is(v.predecessor?.batteryId, pred.batteryId);
  t.deepEqual([...v.predecessor!.checkpointHash], [...pred.checkpointHash]);
  t.is(v.note, 'stationary storage');
});

test('a device key, an uncertified key or another fleet cannot change the status', async (t) => {
  const dev = await certified('device');
  const e1 = t.throws(() => verifyStatus(signStatus({ batteryId: BATTERY, status: 'waste', time: 1 }, dev.key, dev.cert), fleet.publicKey), { instanceOf: IdentityError });
  t.is(e1.reason, 'wrong-key');
  const e2 = t.throws(() => verifyStatus(signStatus({ batteryId: BATTERY, status: 'waste', time: 1 }, PrivateKey.generate()), fleet.publicKey), { instanceOf: IdentityError });
  t.is(e2.reason, 'wrong-authority');
  const ws = await certified('workshop', other);
  const e3 = t.throws(() => verifyStatus(signStatus({ batteryId: BATTERY, status: 'waste', time: 1 }, ws.key, ws.cert), fleet.publicKey), { instanceOf: IdentityError });
  t.is(e3.reason, 'wrong-authority');
});

test('statuses refuse what the regulation does not know', (t) => {
  t.throws(() => signStatus({ batteryId: BATTERY, status: 'scrapped' as never, time: 1 }, PrivateKey.generate()), { instanceOf: RangeError, message: /status/ });
  t.throws(() => signStatus({ batteryId: 'PK-1', status: 'waste', time: 1 }, PrivateKey.generate()), { instanceOf: RangeError, message: /battery id/ });
});
