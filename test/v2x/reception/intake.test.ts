// The intake in front of the reception pipeline (reception-intake.ts, type-peek.ts): the type
// peek reads what every message claims, hazards are handed on first, the intake is bounded in
// frames and bytes and sheds the worst (counted as shed-overload by the pipeline, so received
// = accepted + dropped still holds), and a forged hazard that peeks as a hazard is still refused.
import test from 'ava';
import { MESSAGE_NAMES } from '../../../v2x/messages/message-types.ts';
import { intakeLaneOf, ReceptionIntake } from '../../../v2x/reception/reception-intake.ts';
import { peekMessageType } from '../../../v2x/reception/type-peek.ts';
import { cam, EXAMPLES, rig, seal, T0 } from './reception-fixtures.ts';

const denm = (station: number) => ({ ...EXAMPLES.denm, actionId: { originatingStationId: station, sequenceNumber: 1 } });

test('the peek reads the type each message claims, with or without its certificate, and nothing from other bytes', (t) => {
  const r = rig({}, 1);
  for (const type of MESSAGE_NAMES) {
    for (const attach of [true, false]) t.is(peekMessageType(seal(r.pool[0]!, type, EXAMPLES[type] as never, T0, attach)), type, `${type} attach=${attach}`);
  }
  const m = seal(r.pool[0]!, 'denm', EXAMPLES.denm, T0);
  t.is(peekMessageType(new Uint8Array(0)), undefined);
  t.is(peekMessageType(new Uint8Array(64).fill(0xd2)), undefined);
  // Every truncation of a genuine message is read safely (no throw): unknown, or the type when the prefix holds it.
  for (let n = 0; n < m.length; n++) t.true([undefined, 'denm'].includes(peekMessageType(m.subarray(0, n))));
  t.is(intakeLaneOf(m), 0);
  t.is(intakeLaneOf(seal(r.pool[0]!, 'spat', EXAMPLES.spat, T0)), 1);
  t.is(intakeLaneOf(seal(r.pool[0]!, 'cam', cam(481_372_160), T0)), 2);
  t.is(intakeLaneOf(new Uint8Array([1, 2, 3])), 2);
});

test('a hazard offered after a backlog of CAMs is handed on, verified and accepted first', async (t) => {
  const r = rig({}, 8);
  const intake = new ReceptionIntake(r.pipeline, { framesPerTurn: 4 });
  for (let i = 0; i < 7; i++) intake.offer(seal(r.pool[i]!, 'cam', cam(481_372_160 + i * 100), T0));
  intake.offer(seal(r.pool[7]!, 'denm', denm(7), T0));
  t.deepEqual(intake.sizes(), [1, 0, 7]);
  await intake.drain();
  t.is(r.accepted.length, 8, JSON.stringify(r.dropped));
  t.is(r.accepted[0]!.type, 'denm');
  t.deepEqual(r.pipeline.counters.snapshot(), { received: 8, accepted: 8, dropped: {} });
  t.is(intake.size, 0);
  t.is(intake.bytes, 0);
});

test('a full intake sheds its oldest awareness frame for a newer one or for a hazard; all counted', async (t) => {
  const r = rig({}, 8);
  const intake = new ReceptionIntake(r.pipeline, { maxFrames: 4 });
  const cams = Array.from({ length: 6 }, (_, i) => seal(r.pool[i]!, 'cam', cam(481_372_160 + i * 100), T0));
  for (const c of cams) intake.offer(c); // two oldest shed by the newer
  t.is(intake.size, 4);
  intake.offer(seal(r.pool[6]!, 'denm', denm(6), T0)); // sheds the oldest CAM left
  intake.offer(seal(r.pool[7]!, 'spat', EXAMPLES.spat, T0)); // sheds the next
  t.deepEqual(intake.sizes(), [1, 1, 2]);
  t.deepEqual(intake.shedByLane, [0, 0, 4]);
  t.is(intake.highWater, 4);
  await intake.drain();
  const c = r.pipeline.counters.snapshot();
  t.is(c.received, 8);
  t.is(c.dropped['shed-overload'], 4);
  t.is(c.received, c.accepted + r.pipeline.counters.droppedTotal);
  // The two newest CAMs survived (oldest shed first), and the hazard went first.
  t.is(r.accepted[0]!.type, 'denm');
  t.deepEqual(r.accepted.filter((m) => m.type === 'cam').map((m) => (m.body as { position: { latitude: number } }).position.latitude), [481_372_160 + 400, 481_372_160 + 500]);
  t.true(r.dropped.filter((d) => d.reason === 'shed-overload').every((d) => d.detail.includes('awareness frame shed by the full intake')));
});

test('the intake is bounded in bytes too; a hazard is shed only when nothing worse is held', async (t) => {
  const r = rig({}, 6);
  const one = seal(r.pool[0]!, 'denm', denm(0), T0);
  const intake = new ReceptionIntake(r.pipeline, { maxBytes: Math.max(2048, one.length * 3 + 10) });
  const bound = Math.floor(intake.maxBytes / one.length);
  for (let i = 0; i < 6; i++) intake.offer(seal(r.pool[i]!, 'denm', denm(i), T0));
  t.true(intake.bytes <= intake.maxBytes);
  t.is(intake.size, Math.min(6, bound));
  t.is(intake.shedByLane[0], 6 - Math.min(6, bound));
  await intake.drain();
  t.is(r.pipeline.counters.received, 6);
  t.is(r.pipeline.counters.accepted + r.pipeline.counters.droppedTotal, 6);
});

test('a forged hazard peeks as a hazard, goes first, and is refused by verification; oversized and malformed frames are refused as before', async (t) => {
  const r = rig({}, 4);
  const intake = new ReceptionIntake(r.pipeline);
  const forged = seal(r.pool[0]!, 'denm', denm(0), T0).slice();
  forged[forged.length - 5]! ^= 0x01;
  intake.offer(seal(r.pool[1]!, 'cam', cam(481_372_160), T0));
  intake.offer(forged);
  t.deepEqual(intake.sizes(), [1, 0, 1]);
  intake.offer(new Uint8Array(4096)); // over the size limit: refused at once, never held
  intake.offer(new Uint8Array([0xd2, 0x84, 0x40, 0xa0, 0x45, 0xa3, 0x01, 0x02, 0x02, 0x00])); // claims a hazard, not an envelope
  await intake.drain();
  t.deepEqual(r.accepted.map((m) => m.type), ['cam']);
  t.deepEqual(r.pipeline.counters.snapshot().dropped, { size: 1, 'bad-signature': 1, malformed: 1 });
  t.is(r.pipeline.counters.received, 4);
});

test('a newcomer worse than everything a full intake holds is itself shed', async (t) => {
  const r = rig({}, 3);
  const intake = new ReceptionIntake(r.pipeline, { maxFrames: 2 });
  intake.offer(seal(r.pool[0]!, 'denm', denm(0), T0));
  intake.offer(seal(r.pool[1]!, 'denm', denm(1), T0));
  intake.offer(seal(r.pool[2]!, 'cam', cam(481_372_160), T0));
  t.deepEqual(intake.sizes(), [2, 0, 0]);
  t.deepEqual(intake.shedByLane, [0, 0, 1]);
  await intake.drain();
  t.deepEqual(r.accepted.map((m) => m.type), ['denm', 'denm']);
  t.deepEqual(r.pipeline.counters.snapshot(), { received: 3, accepted: 2, dropped: { 'shed-overload': 1 } });
});

test('within a class, plain frames are shed before those carrying a certificate, and frames still go on in arrival order', async (t) => {
  const r = rig({}, 4);
  const intake = new ReceptionIntake(r.pipeline, { maxFrames: 3 });
  const withCert = seal(r.pool[0]!, 'cam', cam(481_372_160), T0, true);
  const plainA = seal(r.pool[1]!, 'cam', cam(481_372_260), T0, false);
  const certB = seal(r.pool[2]!, 'cam', cam(481_372_360), T0, true);
  const plainC = seal(r.pool[3]!, 'cam', cam(481_372_460), T0 - 100, false);
  intake.offer(withCert);
  intake.offer(plainA);
  intake.offer(certB);
  intake.offer(plainC); // full: the oldest plain frame (plainA) goes, not the older withCert
  intake.offer(seal(r.pool[3]!, 'cam', cam(481_372_470), T0, false)); // plainC goes
  t.deepEqual(intake.shedByLane, [0, 0, 2]);
  await intake.drain();
  // withCert, certB accepted; the last plain CAM is from pool[3], whose certificate never came.
  t.deepEqual(r.accepted.map((m) => (m.body as { position: { latitude: number } }).position.latitude), [481_372_160, 481_372_360]);
  t.deepEqual(r.pipeline.counters.snapshot(), { received: 5, accepted: 2, dropped: { 'shed-overload': 2, 'unknown-signer': 1 } });
  // Certificates only held: a plain newcomer is the one shed.
  const q = rig({}, 3);
  const full = new ReceptionIntake(q.pipeline, { maxFrames: 2 });
  full.offer(seal(q.pool[0]!, 'cam', cam(481_372_160), T0, true));
  full.offer(seal(q.pool[1]!, 'cam', cam(481_372_260), T0, true));
  full.offer(seal(q.pool[2]!, 'cam', cam(481_372_360), T0, false));
  await full.drain();
  t.deepEqual(q.pipeline.counters.snapshot(), { received: 3, accepted: 2, dropped: { 'shed-overload': 1 } });
});

test('options are checked, naming the field', (t) => {
  const r = rig({}, 1);
  t.throws(() => new ReceptionIntake(r.pipeline, { maxFrames: 0 }), { instanceOf: RangeError, message: /intake\.maxFrames/ });
  t.throws(() => new ReceptionIntake(r.pipeline, { maxBytes: 100 }), { instanceOf: RangeError, message: /intake\.maxBytes/ });
  t.throws(() => new ReceptionIntake(r.pipeline, { framesPerTurn: 1.5 }), { instanceOf: RangeError, message: /intake\.framesPerTurn/ });
});
