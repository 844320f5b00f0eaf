// The pipeline's stages one by one: the verification queue's order and bounds, plausibility,
// the local map's events and expiry, the busy-ratio estimate and the reactive DCC states.
import test from 'ava';
import { VerifyQueue } from '../../../v2x/reception/verify-queue.ts';
import { messagePriority, distanceM } from '../../../v2x/reception/message-priority.ts';
import { PlausibilityChecker } from '../../../v2x/reception/plausibility.ts';
import { LocalMap } from '../../../v2x/reception/local-map.ts';
import { airtimeMs, CbrEstimator } from '../../../v2x/reception/channel-busy-ratio.ts';
import { ReactiveDcc } from '../../../v2x/reception/reactive-dcc.ts';
import { CamGenerationRules } from '../../../v2x/senders/cam-generation.ts';
import type { DecodedPayload } from '../../../v2x/security/envelope.ts';
import { cam, EXAMPLES, T0 } from './reception-fixtures.ts';

interface Item {
  cls: number;
  bucket: number;
  enqueuedAt: number;
  id: string;
}

test('the queue gives hazards first, near before far, oldest first, and sheds the worst when full', (t) => {
  const shed: [string, string][] = [];
  const q = new VerifyQueue<Item>((it, why) => shed.push([it.id, why]), { capacity: 4, maxWaitMs: [Infinity, 500, 300] });
  q.push({ cls: 2, bucket: 5, enqueuedAt: 0, id: 'far-cam' });
  q.push({ cls: 1, bucket: 3, enqueuedAt: 0, id: 'mid-cam' });
  q.push({ cls: 1, bucket: 0, enqueuedAt: 0, id: 'near-cam-a' });
  q.push({ cls: 1, bucket: 0, enqueuedAt: 1, id: 'near-cam-b' });
  q.push({ cls: 0, bucket: 6, enqueuedAt: 2, id: 'hazard' }); // full: the far CAM goes
  q.push({ cls: 2, bucket: 6, enqueuedAt: 3, id: 'farther-cam' }); // full, and itself the worst: refused
  t.deepEqual(shed, [
    ['far-cam', 'shed-overload'],
    ['farther-cam', 'shed-overload'],
  ]);
  t.is(q.size, 4);
  const order = [q.take(10), q.take(10), q.take(10), q.take(10), q.take(10)].map((x) => x?.id);
  t.deepEqual(order, ['hazard', 'near-cam-a', 'near-cam-b', 'mid-cam', undefined]);
  t.is(q.highWater, 4);
});

test('items that waited past their class deadline are shed late; hazards never are', (t) => {
  const shed: string[] = [];
  const q = new VerifyQueue<Item>((it, why) => shed.push(`${it.id}:${why}`), { capacity: 10, maxWaitMs: [Infinity, 500, 300] });
  q.push({ cls: 2, bucket: 0, enqueuedAt: 0, id: 'cam-far' });
  q.push({ cls: 1, bucket: 0, enqueuedAt: 0, id: 'cam-near' });
  q.push({ cls: 0, bucket: 0, enqueuedAt: 0, id: 'hazard' });
  t.is(q.take(10_000)?.id, 'hazard');
  t.is(q.take(10_000), undefined);
  t.deepEqual(shed, ['cam-near:shed-late', 'cam-far:shed-late']);
});

const payload = (type: 'cam' | 'denm', body: unknown, generationTime = T0): DecodedPayload => ({ type, body, generationTime, certRequests: [] }) as DecodedPayload;

test('priority classes: hazards, CAMs within the action radius, then far CAMs and charging offers', (t) => {
  const own = { latitude: 481_372_160, longitude: 115_754_870 };
  t.is(messagePriority(payload('denm', EXAMPLES.denm), own, 300).cls, 0);
  t.is(messagePriority(payload('cam', cam(481_372_160 + 9_000)), own, 300).cls, 1); // ~100 m
  t.is(messagePriority(payload('cam', cam(481_372_160 + 90_000)), own, 300).cls, 2); // ~1 km
  t.is(messagePriority(payload('cam', cam(481_372_160 + 90_000)), undefined, 300).cls, 1); // own position unknown
  t.is(messagePriority({ type: 'chargingOffer', body: EXAMPLES.chargingOffer, generationTime: T0, certRequests: [] }, own, 300).cls, 2);
  t.is(messagePriority({ type: 'spat', body: EXAMPLES.spat, generationTime: T0, certRequests: [] }, own, 300).cls, 1);
  // One degree of latitude is about 111.2 km.
  t.true(Math.abs(distanceM({ latitude: 0, longitude: 0 }, { latitude: 10_000_000, longitude: 0 }) - 111_195) < 1);
});

test('plausibility: speed, acceleration, position jumps, beacon interval, range and far hazards', (t) => {
  const own = { latitude: 481_372_160, longitude: 115_754_870 };
  const p = new PlausibilityChecker();
  const id = 'aa';
  const first = payload('cam', cam(481_372_160, 2000), T0);
  t.is(p.check(id, first, own), undefined);
  p.record(id, first);
  // 20 m/s for 100 ms: about 2 m; 1e-7 degree latitude is about 1.1 cm.
  const ok = payload('cam', cam(481_372_160 + 180, 2000), T0 + 100);
  t.is(p.check(id, ok, own), undefined);
  t.is(p.check(id, payload('cam', cam(481_372_160 + 180, 2000), T0 + 50), own)?.reason, 'implausible-interval');
  t.is(p.check(id, payload('cam', cam(481_372_160 + 180, 9000), T0 + 100), own)?.reason, 'implausible-speed'); // +70 m/s in 0.1 s
  t.is(p.check(id, payload('cam', cam(481_372_160 + 180, 9000), T0 + 100), own)?.reason, 'implausible-speed');
  t.is(p.check(id, payload('cam', cam(481_372_160 + 9_000, 2000), T0 + 100), own)?.reason, 'implausible-position'); // 100 m in 0.1 s
  t.is(p.check('bb', payload('cam', cam(481_372_160, 9000), T0), own)?.reason, 'implausible-speed'); // 90 m/s
  t.is(p.check('cc', payload('cam', cam(481_372_160 + 200_000, 2000), T0), own)?.reason, 'implausible-range'); // 2.2 km
  const near = { ...EXAMPLES.denm, eventPosition: { latitude: 481_372_160 + 4_500, longitude: 115_754_870 } };
  const far = { ...EXAMPLES.denm, eventPosition: { latitude: 481_372_160 + 450_000, longitude: 115_754_870 } };
  t.is(p.check(id, payload('denm', near, T0 + 200), own), undefined);
  t.is(p.check(id, payload('denm', far, T0 + 200), own)?.reason, 'implausible-hazard');
  t.is(p.check('unknown', payload('denm', far, T0 + 200), own), undefined); // nothing to judge by
});

test('the local map: neighbours expire, hazards are new, updated, terminated and expire', (t) => {
  const m = new LocalMap({ neighbourTtlMs: 3000 });
  t.like(m.apply('aa', payload('cam', cam(481_372_160)), T0), { kind: 'neighbour', isNew: true });
  t.like(m.apply('aa', payload('cam', cam(481_372_200)), T0 + 100), { kind: 'neighbour', isNew: false });
  t.like(m.apply('bb', payload('denm', EXAMPLES.denm), T0), { kind: 'hazard', change: 'new' });
  t.like(m.apply('bb', payload('denm', EXAMPLES.denm), T0 + 1000), { kind: 'hazard', change: 'update' });
  t.is(m.events.size, 1);
  m.expire(T0 + 3200);
  t.is(m.neighbours.size, 0);
  t.is(m.events.size, 1);
  m.expire(EXAMPLES.denm.detectionTime + 600_001);
  t.is(m.events.size, 0);
  m.apply('bb', payload('denm', EXAMPLES.denm), T0);
  t.like(m.apply('bb', payload('denm', { ...EXAMPLES.denm, termination: 0 }), T0 + 10), { kind: 'hazard', change: 'terminated' });
  t.is(m.events.size, 0);
});

test('the busy ratio: airtime of the frames heard per 100 ms window, smoothed', (t) => {
  const windows: number[] = [];
  const e = new CbrEstimator((c) => windows.push(c));
  // 300-byte frames (about 0.44 ms each): 68 in a window is about 30 % busy.
  t.true(Math.abs(airtimeMs(300) - 0.44) < 1e-9);
  for (let w = 0; w < 4; w++) for (let i = 0; i < 68; i++) e.frame(300, w * 100 + i);
  e.advance(400);
  t.is(windows.length, 4);
  t.true(Math.abs(e.lastWindow - 0.2992) < 1e-3);
  t.true(e.cbr > 0.26 && e.cbr < 0.3); // converging on 30 %: 0.15, 0.22, 0.26, 0.28
  e.measured(0.9, 450);
  e.advance(500);
  t.true(e.cbr > 0.55);
});

test('reactive DCC: up at once, down after a second below, and it sets the CAM generation lower bound', (t) => {
  const rules = new CamGenerationRules();
  const states: string[] = [];
  const dcc = new ReactiveDcc({ onInterval: (ms, s) => ((rules.tGenCamDcc = ms), states.push(s.name)) });
  t.is(dcc.update(0.1, 0).name, 'relaxed');
  t.is(dcc.update(0.45, 100).name, 'active2');
  t.is(rules.tGenCamDcc, 400);
  t.is(dcc.update(0.7, 200).name, 'restrictive');
  t.is(rules.tGenCamDcc, 1000);
  t.is(dcc.update(0.2, 300).name, 'restrictive'); // below, but not for a second yet
  t.is(dcc.update(0.2, 1200).name, 'restrictive');
  t.is(dcc.update(0.2, 1300).name, 'relaxed');
  t.is(rules.tGenCamDcc, 100);
  t.deepEqual(states, ['active2', 'restrictive', 'relaxed']);
});
