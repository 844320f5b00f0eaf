import test from 'ava';
import { ManualClock } from '../../hal/clock.ts';
import { CamSender } from '../../v2x/senders/cam-sender.ts';
import { HazardSender } from '../../v2x/senders/hazard-sender.ts';
import { EnvelopeVerifier } from '../../v2x/security/envelope.ts';
import { MessageSealer } from '../../v2x/security/message-sealer.ts';
import { PseudonymManager } from '../../v2x/security/pseudonym-manager.ts';
import type { Cam } from '../../v2x/messages/cam.ts';
import type { Denm } from '../../v2x/messages/denm.ts';
import { braking } from '../helpers/trajectories.ts';
import { makeAuthority, makePool, T0 } from '../helpers/v2x-fixtures.ts';

const authority = makeAuthority();

function station(poolSize = 2) {
  const clock = new ManualClock(T0);
  const pseudonyms = new PseudonymManager(makePool(authority, poolSize), { clock });
  const sealer = new MessageSealer({ pseudonyms, clock });
  const verifier = new EnvelopeVerifier({ authorities: authority.ring.lookup });
  return { clock, pseudonyms, sealer, verifier };
}

test('the CAM sender seals CAMs at the generation times, in fixed-point units, verifiable', (t) => {
  const { clock, pseudonyms, sealer, verifier } = station();
  const traj = braking(3.4, 3, 3000);
  let i = 0;
  const got: { at: number; cam: Cam }[] = [];
  const sender = new CamSender({
    sealer,
    clock,
    state: () => traj[i]!,
    send: (bytes) => {
      const m = verifier.open(bytes);
      got.push({ at: m.generationTime - T0, cam: m.body as Cam });
    },
  });
  for (i = 0; i < traj.length; i++) {
    sender.step();
    clock.advance(100);
  }
  t.deepEqual(
    got.map((g) => g.at),
    [0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 2600],
  );
  const first = got[0]!.cam;
  t.is(first.stationId, pseudonyms.current.stationId);
  t.is(first.speed, 340);
  t.is(first.longitudinalAcceleration, -300);
  t.is(first.position.latitude, 481_000_000);
  t.is(first.length, 469);
  t.is(first.stateOfCharge, 734);
  t.is(got.at(-1)!.cam.speed, 0);
});

test('the CAM sender runs on the injected clock', async (t) => {
  const { clock, sealer } = station();
  const times: number[] = [];
  const sender = new CamSender({ sealer, clock, state: () => braking(0, 1, 0)[0]!, send: () => times.push(clock.now() - T0) });
  const ac = new AbortController();
  const done = sender.run(ac.signal);
  for (let k = 0; k < 30; k++) {
    clock.advance(100);
    await new Promise((r) => setImmediate(r));
  }
  ac.abort();
  await done;
  t.deepEqual(times, [0, 1000, 2000, 3000]);
});

test('a hazard repeats at its interval until its validity ends', (t) => {
  const { clock, sealer, verifier } = station();
  const sent: { at: number; denm: Denm }[] = [];
  const hz = new HazardSender({ sealer, clock, send: (b) => sent.push({ at: clock.now() - T0, denm: verifier.open(b).body as Denm }) });
  const id = hz.trigger({ eventType: { cause: 94, subCause: 0 }, eventPosition: { latitude: 481_000_000, longitude: 115_000_000 }, validity: 5, relevanceDistance: 300, repetitionInterval: 1000 });
  for (let k = 0; k < 80; k++) {
    clock.advance(100);
    hz.step();
  }
  t.deepEqual(sent.map((s) => s.at), [0, 1000, 2000, 3000, 4000]);
  t.true(sent.every((s) => s.denm.actionId.sequenceNumber === id.sequenceNumber && s.denm.referenceTime === T0 && s.denm.termination === undefined));
  t.is(hz.active.length, 0);
});

test('the originator cancels; another station negates; repetitions stop at cancellation', (t) => {
  const a = station();
  const b = station();
  b.clock.advance(0);
  const fromA: { at: number; denm: Denm }[] = [];
  const hz = new HazardSender({ sealer: a.sealer, clock: a.clock, send: (m) => fromA.push({ at: a.clock.now() - T0, denm: a.verifier.open(m).body as Denm }) });
  const id = hz.trigger({ eventType: { cause: 2, subCause: 1 }, eventPosition: { latitude: 481_000_000, longitude: 115_000_000 }, relevanceDistance: 500 });
  for (let k = 0; k < 25; k++) {
    a.clock.advance(100);
    hz.step();
  }
  hz.cancel(id);
  for (let k = 0; k < 30; k++) {
    a.clock.advance(100);
    hz.step();
  }
  t.deepEqual(fromA.map((s) => s.at), [0, 1000, 2000, 2500]);
  t.is(fromA.at(-1)!.denm.termination, 0);
  t.is(fromA.at(-1)!.denm.validity, 600, 'default validity');
  t.throws(() => hz.cancel(id), { instanceOf: RangeError, message: /actionId/ });

  const neg: Denm[] = [];
  const other = new HazardSender({ sealer: b.sealer, clock: b.clock, send: (m) => neg.push(b.verifier.open(m).body as Denm) });
  other.negate(fromA[0]!.denm);
  t.is(neg.length, 1);
  t.is(neg[0]!.termination, 1);
  t.deepEqual(neg[0]!.actionId, id, 'a negation names the original action id');
  t.throws(() => hz.negate({ ...fromA[0]!.denm, actionId: { ...id, originatingStationId: a.pseudonyms.current.stationId } }), { message: /cancel it/ });
});

test('an active hazard defers the scheduled pseudonym change; the change comes once it ends', (t) => {
  const clock = new ManualClock(T0);
  const pseudonyms = new PseudonymManager(makePool(authority, 3), { clock, changeIntervalMs: 2000 });
  const sealer = new MessageSealer({ pseudonyms, clock });
  const hz = new HazardSender({ sealer, clock, send: () => {} });
  const first = pseudonyms.current.stationId;
  hz.trigger({ eventType: { cause: 3, subCause: 0 }, eventPosition: { latitude: 0, longitude: 0 }, relevanceDistance: 100, validity: 4 });
  for (let k = 0; k < 35; k++) {
    clock.advance(100);
    hz.step();
    pseudonyms.tick();
  }
  t.is(pseudonyms.current.stationId, first, 'held at 3.5 s, past the 2 s schedule');
  for (let k = 0; k < 10; k++) {
    clock.advance(100);
    hz.step();
    pseudonyms.tick();
  }
  t.not(pseudonyms.current.stationId, first, 'changed after the hazard ended at 4 s');
});
