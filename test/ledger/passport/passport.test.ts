// The passport bundle end to end: export from a board's ledger, verify offline against the
// pinned fleet key only, and one refusal per kind of tampering, each named by its code.
import test from 'ava';
import { rm } from 'node:fs/promises';
import { ledgerDir } from '../../../firmware-ts/runtime/data-dir.ts';
import { exportPassport } from '../../../ledger/passport/export.ts';
import { decodeBundle, encodeBundle, type PassportBundle } from '../../../ledger/passport/bundle.ts';
import { verifyPassport } from '../../../ledger/passport/verify.ts';
import { makeWorld, makeFleet, type PassportWorld } from '../../helpers/passport-world.ts';

type World = Awaited<ReturnType<typeof makeWorld>>;
let world: World;
let full: Uint8Array;

test.before(async () => {
  world = await makeWorld(4);
  full = encodeBundle((await exportPassport({ ledgers: [ledgerDir(world.board)], tier: 'full', now: world.clock.now() })).bundle);
});
test.after.always(async () => {
  if (world) await rm(world.root, { recursive: true, force: true });
});

const trust = () => ({ trust: world.fleet.publicKey });
const edit = (f: (b: PassportBundle) => void): Uint8Array => {
  const b = decodeBundle(full);
  f(b);
  return encodeBundle(b);
};

test('a full passport verifies against the pinned fleet key alone', (t) => {
  const r = verifyPassport(full, trust());
  t.true(r.ok, r.failure && `${r.failure.code} ${r.failure.where}: ${r.failure.message}`);
  t.is(r.batteryId, 'urn:voltrail:battery:ACME:PK-0001');
  t.is(r.battery?.chemistry, 'NMC');
  t.is(r.boards.length, 1);
  t.true(r.boards[0]!.witnessed >= 3, 'the daily countersignatures are checked');
  t.is(r.events.filter((e) => e.type === 'deep-discharge').length, 4);
  t.true(r.summaries.length >= 4);
  const last = r.summaries[r.summaries.length - 1]!.summary;
  t.is(last.events, world.state.events);
});

test('the public tier holds identity and model data and no usage history', async (t) => {
  const pub = encodeBundle((await exportPassport({ ledgers: [ledgerDir(world.board)], tier: 'public' })).bundle);
  const r = verifyPassport(pub, trust());
  t.true(r.ok, r.failure?.message);
  t.is(r.tier, 'public');
  t.is(r.battery?.model, 'PK-75');
  t.deepEqual(r.events, []);
  t.deepEqual(r.summaries, []);
  t.is(decodeBundle(pub).logs.length, 0);
  t.true(pub.length < full.length / 10);
});

test('substituted key: a bundle under another fleet authority is refused', async (t) => {
  const other = await makeFleet(world.root, 'attacker-fleet');
  const r = verifyPassport(full, { trust: other.publicKey });
  t.false(r.ok);
  t.is(r.failure?.code, 'wrong-authority');
  t.regex(r.failure!.message, /substituted|another fleet/);
});

test('substituted key: a record re-signed by a key no certificate binds is refused', async (t) => {
  const { PrivateKey } = await import('../../../ledger/keys/private-key.ts');
  const { sign1 } = await import('../../../ledger/cose/sign1.ts');
  const { peekSign1Payload } = await import('../../../ledger/identity/cose-peek.ts');
  const { TYP } = await import('../../../ledger/typ.ts');
  const mallory = PrivateKey.generate();
  const bad = edit((b) => {
    const r = b.logs[0]!.records[2]!;
    r.leaf = sign1({ payload: peekSign1Payload(r.leaf), typ: TYP.event, signer: mallory });
  });
  const r = verifyPassport(bad, trust());
  t.false(r.ok);
  t.is(r.failure?.code, 'uncertified', r.failure?.message);
  t.regex(r.failure!.where, /record 2/);
});

test('missing record: an event dropped from the bundle is named by the summary that counted it', (t) => {
  const bad = edit((b) => {
    const recs = b.logs[0]!.records;
    const i = recs.findIndex((r, k) => k > 0 && r.leaf.length < 400 && new TextDecoder().decode(r.leaf).includes('deep-discharge'));
    recs.splice(i, 1);
  });
  const r = verifyPassport(bad, trust());
  t.false(r.ok);
  t.is(r.failure?.code, 'missing-record');
  t.regex(r.failure!.message, /1 removed/);
});

test('reordered records are refused', (t) => {
  const bad = edit((b) => {
    const recs = b.logs[0]!.records;
    [recs[2], recs[3]] = [recs[3]!, recs[2]!];
  });
  const r = verifyPassport(bad, trust());
  t.false(r.ok);
  t.is(r.failure?.code, 'reordered');
  t.regex(r.failure!.where, /record 3/);
});

test.serial('rolled-back history: an older export is refused once a witness has seen more', async (t) => {
  // The seller shows a passport exported two days ago; the verifier holds the collector's
  // newest countersignature (out of band), of a larger tree.
  const { cp, mkdtemp: mk } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const older = await mk(join(world.root, 'old-'));
  await cp(world.board, older, { recursive: true });
  const w: PassportWorld = { ...world, board: older, countersigned: [] };
  // Both copies share the past; only the real board goes on.
  await (await import('../../helpers/passport-world.ts')).runBoard({ ...world, countersigned: world.countersigned }, 1, { ...world.state });
  const stale = encodeBundle((await exportPassport({ ledgers: [ledgerDir(w.board)], tier: 'full' })).bundle);
  t.true(verifyPassport(stale, trust()).ok, 'alone, the old export is self-consistent');
  const newest = world.countersigned[world.countersigned.length - 1]!;
  const r = verifyPassport(stale, { ...trust(), witnesses: [newest] });
  t.false(r.ok);
  t.is(r.failure?.code, 'rolled-back');
  t.regex(r.failure!.message, /older state/);
});

test('truncated history: records beyond the last checkpoint left in the bundle are refused', (t) => {
  const bad = edit((b) => {
    const l = b.logs[0]!;
    l.checkpoints.pop();
    l.consistency.pop();
    l.witnesses = [];
  });
  const r = verifyPassport(bad, trust());
  t.false(r.ok);
  t.is(r.failure?.code, 'truncated', r.failure?.message);
});

test('truncated file: a bundle cut short is refused as unreadable', (t) => {
  const r = verifyPassport(full.subarray(0, full.length - 100), trust());
  t.false(r.ok);
  t.is(r.failure?.code, 'malformed');
});

test('a flipped byte anywhere is detected', (t) => {
  // A spread of positions through the file: headers, certificates, leaves, proofs, checkpoints.
  const n = 60;
  for (let k = 0; k < n; k++) {
    const pos = Math.floor(((k + 0.5) * full.length) / n);
    const bad = Uint8Array.from(full);
    bad[pos]! ^= 0x01;
    const r = verifyPassport(bad, trust());
    t.false(r.ok, `byte ${pos} flipped was not detected`);
    t.truthy(r.failure?.code && r.failure.where, `byte ${pos}`);
  }
});

test.serial('a repurposed battery links to the old passport: checked when the old one is given', async (t) => {
  const { provisionBoard, runBoard } = await import('../../helpers/passport-world.ts');
  const { join } = await import('node:path');
  const { sha256 } = await import('../../../ledger/log/merkle.ts');
  const NEW = 'urn:voltrail:battery:ACME:PK-0001-R1';
  const board = join(world.root, 'second-life');
  const key = await provisionBoard(world.clock, world.fleet, board, 'pi-2nd', NEW);
  await runBoard({ ...world, board, key, countersigned: [] }, 1, { events: 1, efc: 0 });
  const old = decodeBundle(full);
  const finalOld = old.logs[0]!.checkpoints[old.logs[0]!.checkpoints.length - 1]!;
  const status = await world.fleet.signStatement({ batteryId: NEW, status: 'repurposed', time: world.clock.now(), predecessor: { batteryId: old.batteryId, checkpointHash: sha256(finalOld) } });
  const bytes = encodeBundle((await exportPassport({ ledgers: [ledgerDir(board)], tier: 'full', statuses: [status] })).bundle);
  const alone = verifyPassport(bytes, trust());
  t.true(alone.ok, alone.failure?.message);
  t.is(alone.statuses[0]!.predecessor?.batteryId, old.batteryId);
  const linked = verifyPassport(bytes, { ...trust(), predecessor: full });
  t.true(linked.ok, linked.failure?.message);
  t.is(linked.predecessor?.batteryId, old.batteryId);
  // Another passport (here: the new battery's own) given as the predecessor does not match.
  const wrong = verifyPassport(bytes, { ...trust(), predecessor: bytes });
  t.false(wrong.ok);
  t.is(wrong.failure?.code, 'bad-link');
});
