// The reception pipeline end to end on a ManualClock: genuine messages are accepted; forged
// signatures, replays, stale and future times, oversized and malformed bytes, unknown signers,
// revoked pseudonyms and forged certificates are never accepted, each counted under its reason.
import test from 'ava';
import { issueRevocationList } from '../../../v2x/reception/revocation-list.ts';
import { makeAuthority, makePool } from '../../helpers/v2x-fixtures.ts';
import { cam, EXAMPLES, rig, seal, T0 } from './reception-fixtures.ts';

test('a genuine CAM is accepted, with its certificate attached and then from the cache', async (t) => {
  const r = rig();
  r.pipeline.receive(seal(r.pool[0]!, 'cam', cam(481_372_160), T0));
  r.clock.advance(100);
  r.pipeline.receive(seal(r.pool[0]!, 'cam', cam(481_372_300), T0 + 100, false));
  await r.pipeline.drain();
  t.is(r.accepted.length, 2, JSON.stringify(r.dropped));
  t.is(r.accepted[0]!.type, 'cam');
  t.deepEqual(r.accepted[1]!.body, cam(481_372_300));
  t.is(r.accepted[0]!.signerId, Buffer.from(r.pool[0]!.info.digest).toString('hex'));
  t.deepEqual(r.pipeline.counters.snapshot(), { received: 2, accepted: 2, dropped: {} });
  t.is(r.pipeline.map.neighbours.size, 1);
});

test('a forged signature is refused as bad-signature', async (t) => {
  const r = rig();
  const good = seal(r.pool[0]!, 'cam', cam(481_372_160), T0);
  const flipped = good.slice();
  flipped[flipped.length - 10]! ^= 0x01;
  r.pipeline.receive(flipped);
  // The body altered after signing (speed), signature kept.
  const altered = seal(r.pool[0]!, 'cam', cam(481_372_160, 1389), T0 + 1, true);
  const i = Buffer.from(altered).indexOf(Buffer.from([0x05, 0x19, 0x05, 0x6d])); // key 5 speed 1389
  t.true(i > 0);
  altered[i + 3] = 0x6e;
  r.pipeline.receive(altered);
  await r.pipeline.drain();
  t.is(r.accepted.length, 0);
  t.deepEqual(r.pipeline.counters.snapshot().dropped, { 'bad-signature': 2 });
});

test('a message signed by another key under a known signer digest is refused', async (t) => {
  const r = rig();
  r.pipeline.receive(seal(r.pool[0]!, 'cam', cam(481_372_160), T0)); // teaches the certificate
  await r.pipeline.drain();
  // The attacker signs with pool[1]'s key but names pool[0]'s digest and certificate.
  const forged = seal({ ...r.pool[1]!, certificate: r.pool[0]!.certificate }, 'cam', cam(481_372_200), T0 + 1, false);
  const kid1 = Buffer.from(r.pool[1]!.info.digest);
  const at = Buffer.from(forged).indexOf(kid1);
  Buffer.from(r.pool[0]!.info.digest).copy(Buffer.from(forged.buffer, forged.byteOffset, forged.length), at);
  r.clock.advance(150);
  r.pipeline.receive(forged);
  await r.pipeline.drain();
  t.is(r.accepted.length, 1);
  t.deepEqual(r.pipeline.counters.snapshot().dropped, { 'bad-signature': 1 });
});

test('the same bytes again are a duplicate within 100 ms and a replay later; an older time from a verified signer is a replay', async (t) => {
  const r = rig();
  const m = seal(r.pool[0]!, 'cam', cam(481_372_160), T0);
  r.pipeline.receive(m);
  await r.pipeline.drain();
  r.clock.advance(50);
  r.pipeline.receive(m);
  r.clock.advance(500);
  r.pipeline.receive(m);
  await r.pipeline.drain();
  // Generated before the accepted one, never seen: reordered or replayed from a recording.
  r.pipeline.receive(seal(r.pool[0]!, 'cam', cam(481_372_100), T0 - 200));
  await r.pipeline.drain();
  t.is(r.accepted.length, 1);
  t.deepEqual(r.pipeline.counters.snapshot().dropped, { duplicate: 1, replay: 2 });
});

test('stale and future generation times are refused by the freshness window (+40 ms / -2 s for awareness)', async (t) => {
  const r = rig();
  r.clock.advance(10_000);
  const now = r.clock.now();
  r.pipeline.receive(seal(r.pool[0]!, 'cam', cam(481_372_160), now - 2001));
  r.pipeline.receive(seal(r.pool[0]!, 'cam', cam(481_372_160), now + 41));
  r.pipeline.receive(seal(r.pool[1]!, 'cam', cam(481_372_160), now - 2000)); // at the edge: fresh
  r.pipeline.receive(seal(r.pool[2]!, 'cam', cam(481_372_160), now + 40));
  await r.pipeline.drain();
  t.deepEqual(r.pipeline.counters.snapshot(), { received: 4, accepted: 2, dropped: { stale: 1, future: 1 } });
});

test('the freshness window is configurable per type', async (t) => {
  const r = rig({ freshness: { chargingOffer: { maxAgeMs: 500 } } });
  r.clock.advance(1000);
  r.pipeline.receive(seal(r.pool[0]!, 'chargingOffer', EXAMPLES.chargingOffer, r.clock.now() - 600));
  r.pipeline.receive(seal(r.pool[1]!, 'cam', cam(481_372_160), r.clock.now() - 600));
  await r.pipeline.drain();
  t.deepEqual(r.pipeline.counters.snapshot().dropped, { stale: 1 });
  t.is(r.accepted[0]!.type, 'cam');
});

test('oversized and malformed messages are counted before any cryptography', async (t) => {
  const r = rig();
  const good = seal(r.pool[0]!, 'cam', cam(481_372_160), T0);
  r.pipeline.receive(new Uint8Array(2049));
  r.pipeline.receive(new Uint8Array(0));
  r.pipeline.receive(good.subarray(0, good.length - 5)); // truncated
  r.pipeline.receive(new Uint8Array([0xd2, 0x83, 0x40, 0xa0, 0x40])); // tag 18, array of 3
  r.pipeline.receive(new TextEncoder().encode('{"not":"cbor"}'));
  const extra = new Uint8Array([...good, 0x00]); // bytes after the message
  r.pipeline.receive(extra);
  await r.pipeline.drain();
  t.is(r.accepted.length, 0);
  t.deepEqual(r.pipeline.counters.snapshot().dropped, { size: 2, malformed: 4 });
  t.is(r.pipeline.queue.highWater, 0);
});

test('an unknown signer is refused and its certificate asked for, once it arrives the signer is accepted', async (t) => {
  const r = rig();
  r.pipeline.receive(seal(r.pool[0]!, 'cam', cam(481_372_160), T0, false));
  await r.pipeline.drain();
  t.deepEqual(r.pipeline.counters.snapshot().dropped, { 'unknown-signer': 1 });
  t.deepEqual(r.requested, [Buffer.from(r.pool[0]!.info.digest).toString('hex')]);
  r.clock.advance(200);
  r.pipeline.receive(seal(r.pool[0]!, 'cam', cam(481_372_200), T0 + 200, true));
  await r.pipeline.drain();
  t.is(r.accepted.length, 1);
});

test('a certificate from another authority, or one for another signer, is refused as bad-certificate', async (t) => {
  const r = rig();
  const rogue = makePool(makeAuthority(), 1)[0]!;
  r.pipeline.receive(seal(rogue, 'cam', cam(481_372_160), T0));
  // pool[0] signs, but attaches pool[1]'s certificate.
  r.pipeline.receive(seal({ ...r.pool[0]!, certificate: r.pool[1]!.certificate }, 'cam', cam(481_372_160), T0));
  await r.pipeline.drain();
  t.deepEqual(r.pipeline.counters.snapshot().dropped, { 'bad-certificate': 2 });
  t.is(r.pipeline.cache.size, 0);
});

test('a certificate whose authority signature was altered is refused, and remembered as bad', async (t) => {
  const r = rig();
  const cert = r.pool[0]!.certificate.slice();
  cert[cert.length - 1]! ^= 0x01;
  const m1 = seal({ ...r.pool[0]!, certificate: cert }, 'cam', cam(481_372_160), T0);
  const m2 = seal({ ...r.pool[0]!, certificate: cert }, 'cam', cam(481_372_300), T0 + 100);
  r.pipeline.receive(m1);
  await r.pipeline.drain();
  r.clock.advance(100);
  r.pipeline.receive(m2);
  await r.pipeline.drain();
  t.deepEqual(r.pipeline.counters.snapshot().dropped, { 'bad-certificate': 2 });
  t.is(r.pipeline.cache.size, 0);
});

test('a revoked pseudonym is refused; an older revocation list does not replace a newer one', async (t) => {
  const r = rig();
  const digest = r.pool[0]!.info.digest;
  const newer = issueRevocationList(r.authority.key, { issued: T0 - 1000, nextUpdate: T0 + 86_400_000, revoked: [digest] });
  const older = issueRevocationList(r.authority.key, { issued: T0 - 100_000, nextUpdate: T0 + 86_400_000, revoked: [] });
  t.true(r.pipeline.loadRevocationList(newer));
  t.false(r.pipeline.loadRevocationList(older));
  r.pipeline.receive(seal(r.pool[0]!, 'cam', cam(481_372_160), T0));
  r.pipeline.receive(seal(r.pool[1]!, 'cam', cam(481_372_160), T0));
  await r.pipeline.drain();
  t.deepEqual(r.pipeline.counters.snapshot(), { received: 2, accepted: 1, dropped: { revoked: 1 } });
  // A list signed by someone else is refused outright.
  const rogue = makeAuthority();
  const forgedList = issueRevocationList(rogue.key, { issued: T0, nextUpdate: T0 + 1000, revoked: [] });
  t.throws(() => r.pipeline.loadRevocationList(forgedList), { message: /revocation list/ });
});

test('a certificate that does not permit the type, or a time outside its validity, is not-permitted', async (t) => {
  const r = rig();
  const camOnly = makePool(r.authority, 1, { permissions: ['cam'] })[0]!;
  r.pipeline.receive(seal(camOnly, 'denm', EXAMPLES.denm, T0));
  const expired = makePool(r.authority, 1, { notBefore: T0 - 7_200_000, notAfter: T0 - 3_600_000 })[0]!;
  r.pipeline.receive(seal(expired, 'cam', cam(481_372_160), T0));
  await r.pipeline.drain();
  t.deepEqual(r.pipeline.counters.snapshot().dropped, { 'not-permitted': 2 });
});

test('the certificate requests of a verified message are passed on to the sealer', async (t) => {
  const asked: string[] = [];
  const r = rig({ certificatesRequested: (ds) => asked.push(...ds.map((d) => Buffer.from(d).toString('hex'))) });
  const { sealMessage } = await import('../../../v2x/security/envelope.ts');
  const { PseudonymSigner } = await import('../../../v2x/security/pseudonym-signer.ts');
  const want = new Uint8Array(8).fill(7);
  r.pipeline.receive(sealMessage({ type: 'cam', body: cam(481_372_160), generationTime: T0, signer: new PseudonymSigner(r.pool[0]!.key), certificate: r.pool[0]!.certificate, certRequests: [want] }));
  await r.pipeline.drain();
  t.deepEqual(asked, ['0707070707070707']);
});

test('a verifier that fails (a worker thread died) leaves messages unverified: dropped, never accepted', async (t) => {
  const broken = { parallelism: 1, verify: () => Promise.reject(new Error('verification worker stopped: exit code 1')), close: async () => undefined };
  const r = rig({ verifier: broken });
  r.pipeline.receive(seal(r.pool[0]!, 'cam', cam(481_372_160), T0));
  await r.pipeline.drain();
  t.is(r.accepted.length, 0);
  t.deepEqual(r.pipeline.counters.snapshot().dropped, { 'shed-overload': 1 });
  t.regex(r.dropped[0]!.detail, /worker stopped/);
});
