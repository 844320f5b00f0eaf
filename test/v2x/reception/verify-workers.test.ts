// Verification on worker threads: the same answers as inline, inside the pipeline too; and
// the OpenSSL sealer's messages are ordinary envelopes that EnvelopeVerifier accepts.
import test from 'ava';
import { WorkerVerifier } from '../../../v2x/reception/verify-workers.ts';
import { OpensslSealer } from '../../../v2x/sim/openssl-sealer.ts';
import { EnvelopeVerifier } from '../../../v2x/security/envelope.ts';
import { makeAuthority, makePool } from '../../helpers/v2x-fixtures.ts';
import { cam, rig, T0 } from './reception-fixtures.ts';

test('the OpenSSL sealer makes envelopes the envelope verifier accepts (both curves), low-S', (t) => {
  for (const curve of ['P-256', 'secp256k1'] as const) {
    const authority = makeAuthority();
    const cred = makePool(authority, 1, { curve })[0]!;
    const sealer = new OpensslSealer(cred);
    const v = new EnvelopeVerifier({ authorities: authority.ring.lookup });
    for (let i = 0; i < 20; i++) {
      const opened = v.open(sealer.seal('cam', cam(481_372_160 + i), T0 + i, i === 0));
      t.is(opened.generationTime, T0 + i);
    }
  }
});

test('worker threads verify jobs like the inline verifier, inside the pipeline', async (t) => {
  const workers = new WorkerVerifier(2);
  const r = rig({ verifier: workers });
  await workers.ready;
  const sealer = new OpensslSealer(r.pool[0]!);
  const good = Array.from({ length: 40 }, (_, i) => sealer.seal('cam', cam(481_372_160 + i * 100, 1000), T0 + i * 100, i === 0));
  const bad = sealer.seal('cam', cam(481_372_160), T0 + 4000, false);
  bad[bad.length - 1]! ^= 1;
  for (const [i, m] of good.entries()) {
    r.clock.advance(i === 0 ? 0 : 100);
    r.pipeline.receive(m);
    await r.pipeline.drain();
  }
  r.clock.advance(100);
  r.pipeline.receive(bad);
  await r.pipeline.close();
  t.is(r.accepted.length, 40, JSON.stringify(r.pipeline.counters.snapshot()));
  t.deepEqual(r.pipeline.counters.snapshot().dropped, { 'bad-signature': 1 });
});
