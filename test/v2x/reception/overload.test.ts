// The pipeline under twice its verification capacity, deterministically: a verifier that
// checks only 4 jobs per 10 ms step (for real, inline) stands for the CPU, and 80 vehicles
// plus a hazard every step offer twice that and more. The queue stays within its bound,
// every hazard is verified and accepted within the step it arrived in, the load that is shed
// is awareness from far away first, and every message is accounted for under one reason.
import test from 'ava';
import { ReceptionPipeline } from '../../../v2x/reception/reception-pipeline.ts';
import type { AcceptedMessage, DroppedMessage } from '../../../v2x/reception/reception-pipeline.ts';
import type { SignatureCheck } from '../../../v2x/reception/signature-check.ts';
import { verifyCheck } from '../../../v2x/reception/signature-check.ts';
import type { SignatureVerifier } from '../../../v2x/reception/signature-verifier.ts';
import { OpensslSealer } from '../../../v2x/sim/openssl-sealer.ts';
import { ManualClock } from '../../../hal/clock.ts';
import { makeAuthority, makePool } from '../../helpers/v2x-fixtures.ts';
import { cam, EXAMPLES, T0 } from './reception-fixtures.ts';

/** Verifies for real, but only `perStep` jobs each time the test calls `step()`. */
class SteppedVerifier implements SignatureVerifier {
  readonly parallelism = 1;
  #waiting: { jobs: readonly (readonly SignatureCheck[])[]; resolve: (r: boolean[]) => void }[] = [];
  verify(jobs: readonly (readonly SignatureCheck[])[]): Promise<boolean[]> {
    return new Promise((resolve) => this.#waiting.push({ jobs, resolve }));
  }
  step(): void {
    const w = this.#waiting.shift();
    w?.resolve(w.jobs.map((c) => c.every(verifyCheck)));
  }
  async close(): Promise<void> {}
}

const tick = () => new Promise<void>((r) => setImmediate(r));

test('at twice the verification capacity: bounded queue, hazards first and all accepted, far awareness shed', async (t) => {
  const clock = new ManualClock(T0);
  const authority = makeAuthority();
  const vehicles = makePool(authority, 80).map((cred) => new OpensslSealer(cred));
  const perStep = 4;
  const verifier = new SteppedVerifier();
  const accepted: AcceptedMessage[] = [];
  const dropped: DroppedMessage[] = [];
  const own = { latitude: 481_000_000, longitude: 115_000_000 };
  const pipeline = new ReceptionPipeline({
    clock,
    authorities: authority.ring.lookup,
    verifier,
    batchSize: perStep,
    queue: { capacity: 64 },
    onAccepted: (m) => accepted.push(m),
    onDropped: (d) => dropped.push(d),
  });
  pipeline.setOwnPosition(own);
  // Vehicle i stands i * 15 m north of this station (0 to 1200 m), still.
  const latOf = (i: number) => own.latitude + Math.round((i * 15 * 1e7) / 111_195);
  let hazards = 0;
  let offered = 0;
  for (let step = 0; step < 100; step++) {
    const now = clock.now();
    // 8 CAMs a step (each vehicle every 100 ms) ...
    for (let k = 0; k < 8; k++) {
      const i = (step % 10) * 8 + k;
      pipeline.receive(vehicles[i]!.seal('cam', { ...cam(latOf(i), 0, own.longitude), stationId: i }, now, step < 10));
      offered++;
    }
    // ... and a hazard from a far vehicle every step, at its own position.
    if (step >= 10) {
      const i = 40 + (step % 40);
      const denm = { ...EXAMPLES.denm, actionId: { originatingStationId: i, sequenceNumber: step }, eventPosition: { latitude: latOf(i), longitude: own.longitude }, detectionTime: now - 100, referenceTime: now };
      pipeline.receive(vehicles[i]!.seal('denm', denm, now, true));
      hazards++;
      offered++;
    }
    await tick();
    verifier.step();
    await tick();
    t.true(pipeline.queue.size <= 64);
    clock.advance(10);
  }
  while (pipeline.pending > 0) {
    verifier.step();
    await tick();
  }
  const c = pipeline.counters;
  t.is(c.received, offered);
  t.is(c.accepted + c.droppedTotal, offered, JSON.stringify(c.snapshot()));
  t.true(pipeline.queue.highWater <= 64);
  const acceptedHazards = accepted.filter((m) => m.type === 'denm');
  t.is(acceptedHazards.length, hazards, JSON.stringify(c.snapshot()));
  t.true(acceptedHazards.every((m) => m.latencyMs <= 10), 'a hazard waited more than one step');
  const shed = dropped.filter((d) => d.reason === 'shed-overload' || d.reason === 'shed-late');
  t.true(shed.length > offered / 4, `${shed.length} shed of ${offered}`);
  t.true(shed.every((d) => d.type === 'cam'));
  // The vehicles within the action radius (300 m: the first 21) kept being verified.
  const near = new Set(accepted.filter((m) => m.type === 'cam' && m.priorityClass === 1).map((m) => m.signerId));
  t.true(near.size >= 20, `${near.size} near vehicles verified`);
  const farShare = accepted.filter((m) => m.priorityClass === 2).length / Math.max(1, accepted.length);
  t.true(farShare < 0.5);
});

test('certificates waiting in the queue stay pending for as many signers as the queue holds (300 > the old bound of 256)', async (t) => {
  // 300 vehicles attach their certificate once, then send without it 100 ms later, while the
  // verifier is held: every certificate is still waiting in the queue when its signer's next
  // message arrives, which must ride on it (not be refused as unknown-signer).
  const SIGNERS = 300;
  const clock = new ManualClock(T0);
  const authority = makeAuthority();
  const sealers = makePool(authority, SIGNERS).map((c) => new OpensslSealer(c));
  const verifier = new SteppedVerifier();
  const accepted: AcceptedMessage[] = [];
  const dropped: DroppedMessage[] = [];
  // Batches of 16 (the default with one slot; with several it is 64) keep 40 CAMs in 3 batches.
  const pipeline = new ReceptionPipeline({ clock, authorities: authority.ring.lookup, verifier, batchSize: 16, onAccepted: (m) => accepted.push(m), onDropped: (d) => dropped.push(d) });
  const lat = (i: number) => 481_372_160 + i * 100;
  for (let i = 0; i < SIGNERS; i++) pipeline.receive(sealers[i]!.seal('cam', cam(lat(i), 0), clock.now(), true));
  await tick();
  clock.advance(100);
  for (let i = 0; i < SIGNERS; i++) pipeline.receive(sealers[i]!.seal('cam', cam(lat(i), 0), clock.now(), false));
  t.deepEqual(dropped.map((d) => d.reason), []);
  while (pipeline.pending > 0) {
    verifier.step();
    await tick();
  }
  t.deepEqual(dropped.map((d) => d.reason), []);
  t.is(accepted.length, 2 * SIGNERS);
});

/** Holds every batch it is given (for real verification on `release`), and counts them. */
class HeldVerifier implements SignatureVerifier {
  readonly held: { jobs: readonly (readonly SignatureCheck[])[]; resolve: (r: boolean[]) => void }[] = [];
  constructor(readonly parallelism: number) {}
  verify(jobs: readonly (readonly SignatureCheck[])[]): Promise<boolean[]> {
    return new Promise((resolve) => this.held.push({ jobs, resolve }));
  }
  release(): void {
    for (const w of this.held.splice(0)) w.resolve(w.jobs.map((c) => c.every(verifyCheck)));
  }
  async close(): Promise<void> {}
}

function heldRig(parallelism: number) {
  const clock = new ManualClock(T0);
  const authority = makeAuthority();
  const sealers = makePool(authority, 40).map((c) => new OpensslSealer(c));
  const verifier = new HeldVerifier(parallelism);
  const accepted: AcceptedMessage[] = [];
  const dropped: DroppedMessage[] = [];
  // Batches of 16 (the default with one slot; with several it is 64) keep 40 CAMs in 3 batches.
  const pipeline = new ReceptionPipeline({ clock, authorities: authority.ring.lookup, verifier, batchSize: 16, onAccepted: (m) => accepted.push(m), onDropped: (d) => dropped.push(d) });
  const lat = (i: number) => 481_372_160 + i * 100;
  const cams = () => sealers.forEach((s, i) => pipeline.receive(s.seal('cam', cam(lat(i), 0), clock.now(), true)));
  return { clock, sealers, verifier, pipeline, accepted, dropped, lat, cams };
}

test('the verifier gets as many batches at once as its parallelism (batches, not jobs, are counted)', async (t) => {
  // 40 CAMs make 3 batches of up to 16; a verifier of parallelism 2 (one worker thread's worth
  // each) must be handed 2 of them at once, or a second worker idles.
  const r = heldRig(2);
  r.cams();
  await tick();
  t.is(r.verifier.held.length, 2);
  t.deepEqual(r.verifier.held.map((h) => h.jobs.length), [16, 16]);
  while (r.pipeline.pending > 0) {
    r.verifier.release();
    await tick();
  }
  t.is(r.accepted.length, 40);
  t.deepEqual(r.dropped, []);
});

test('a hazard arriving while every verifier slot is busy is verified at once, not behind the batches in flight', async (t) => {
  const r = heldRig(1);
  r.cams();
  await tick();
  t.is(r.verifier.held.length, 1);
  const now = r.clock.now();
  const denm = { ...EXAMPLES.denm, actionId: { originatingStationId: 7, sequenceNumber: 1 }, eventPosition: { latitude: r.lat(7), longitude: 115_754_870 }, detectionTime: now - 100, referenceTime: now };
  r.pipeline.receive(r.sealers[7]!.seal('denm', denm, now, true));
  await tick();
  // Accepted while the CAM batch is still held; the verifier was not given it.
  t.deepEqual(r.accepted.map((m) => m.type), ['denm']);
  t.is(r.verifier.held.length, 1);
  // A forged hazard (another key's signature) is refused on that path too.
  const forged = r.sealers[8]!.seal('denm', { ...denm, actionId: { originatingStationId: 8, sequenceNumber: 2 } }, now, false);
  const bytes = new Uint8Array(forged);
  bytes[bytes.length - 5]! ^= 0x01;
  r.pipeline.receive(bytes);
  await tick();
  t.deepEqual(r.dropped.map((d) => d.reason), ['bad-signature']);
  while (r.pipeline.pending > 0) {
    r.verifier.release();
    await tick();
  }
  t.is(r.accepted.length, 41);
});

test('batches answered out of order are settled in the order handed out', async (t) => {
  const r = heldRig(2);
  r.cams();
  await tick();
  const [first, second] = r.verifier.held.splice(0);
  second!.resolve(second!.jobs.map((c) => c.every(verifyCheck)));
  await tick();
  t.is(r.accepted.length, 0);
  first!.resolve(first!.jobs.map((c) => c.every(verifyCheck)));
  await tick();
  t.deepEqual(r.accepted.map((m) => (m.body as { position: { latitude: number } }).position.latitude), Array.from({ length: 32 }, (_, i) => r.lat(i)));
  while (r.pipeline.pending > 0) {
    r.verifier.release();
    await tick();
  }
  t.is(r.accepted.length, 40);
});

test('waitBelow resolves once at most n messages are pending, and at once when already so', async (t) => {
  const r = heldRig(2);
  r.cams();
  await tick();
  t.is(r.pipeline.pending, 40);
  let below24 = false;
  const w = r.pipeline.waitBelow(24).then(() => (below24 = true));
  await r.pipeline.waitBelow(40);
  t.false(below24);
  // Answering the first batch of 16 leaves 24 pending.
  const first = r.verifier.held.shift()!;
  first.resolve(first.jobs.map((c) => c.every(verifyCheck)));
  await w;
  t.true(below24);
  t.true(r.pipeline.pending <= 24);
  while (r.pipeline.pending > 0) {
    r.verifier.release();
    await tick();
  }
  await r.pipeline.waitBelow(0);
  t.is(r.accepted.length, 40);
});
