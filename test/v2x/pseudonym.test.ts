import test from 'ava';
import { ManualClock } from '../../hal/clock.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import type { Tagged } from '../../ledger/cbor/value.ts';
import { CamSender } from '../../v2x/senders/cam-sender.ts';
import { HazardSender } from '../../v2x/senders/hazard-sender.ts';
import { EnvelopeVerifier, HDR_CERTIFICATE } from '../../v2x/security/envelope.ts';
import { MessageSealer } from '../../v2x/security/message-sealer.ts';
import { PseudonymManager } from '../../v2x/security/pseudonym-manager.ts';
import type { ChangeReason } from '../../v2x/security/pseudonym-manager.ts';
import { straight } from '../helpers/trajectories.ts';
import { makeAuthority, makePool, T0 } from '../helpers/v2x-fixtures.ts';

const authority = makeAuthority();

/** Every leaf of a sealed message, by path: header, certificate, payload and body fields. */
function fields(bytes: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  const put = (path: string, v: unknown): void => {
    if (v instanceof Map) for (const [k, x] of v) put(`${path}.${String(k)}`, x);
    else if (Array.isArray(v)) v.forEach((x, i) => put(`${path}[${i}]`, x));
    else if (v instanceof Uint8Array) out.set(path, Buffer.from(v).toString('hex'));
    else out.set(path, String(v));
  };
  const [prot, unprot, payload, sig] = (decodeCbor(bytes) as Tagged).value as [Uint8Array, Map<number, unknown>, Uint8Array, Uint8Array];
  put('protected', decodeCbor(prot));
  put('unprotected', unprot);
  if (unprot.has(HDR_CERTIFICATE)) {
    const cert = (decodeCbor(unprot.get(HDR_CERTIFICATE) as Uint8Array) as Tagged).value as [Uint8Array, unknown, Uint8Array, Uint8Array];
    put('cert.protected', decodeCbor(cert[0]));
    put('cert.claims', decodeCbor(cert[2]));
    put('cert.signature', cert[3]);
  }
  put('payload', decodeCbor(payload));
  put('signature', sig);
  return out;
}

// Payload labels (v2x/cddl): 1 type, 2 time, 3 body. CAM body 1 stationId, 2 stationType,
// 8 length, 9 width; DENM body 1 actionId; header 1 alg, 4 kid, 16 typ.
const PHYSICAL_OR_CONSTANT = new Set([
  'protected.1', // alg: every vehicle uses ES256
  'protected.16', // typ: every V2X message
  'payload.1', // message type
  'payload.3.2', // station type: passenger car (a class, shared by millions)
  'payload.3.3.2', // longitude of a northbound car: physics, not an identifier
  'payload.3.4', // heading
  'payload.3.5', // speed
  'payload.3.6', // acceleration
  'payload.3.7', // yaw rate
  'payload.3.8', // length
  'payload.3.9', // width
  'payload.3.10', // state of charge
  'cert.protected.1', // the authority's alg
  'cert.protected.4', // the authority's kid (one authority for the whole fleet)
  'cert.protected.16', // the certificate typ
  'cert.claims.-65537[0]', // permissions: the same for every car
  'cert.claims.-65537[1]',
  'cert.claims.-65537[2]',
  'cert.claims.-65537[3]',
  'cert.claims.-65537[4]',
  'cert.claims.-65537[5]',
  'cert.claims.-65537[6]',
  'cert.claims.-65537[7]',
  'cert.claims.4', // validity: issued in batches with the same window
  'cert.claims.5',
  'cert.claims.8.1.1', // kty
  'cert.claims.8.1.-1', // crv
]);

test('after a pseudonym change no field links the old messages to the new ones', (t) => {
  const clock = new ManualClock(T0);
  const pseudonyms = new PseudonymManager(makePool(authority, 2), { clock, changeIntervalMs: 60_000 });
  const sealer = new MessageSealer({ pseudonyms, clock });
  const traj = straight(3, 200_000);
  let i = 0;
  const cams: Uint8Array[] = [];
  const cam = new CamSender({ sealer, clock, state: () => traj[i]!, send: (b) => cams.push(b) });
  const denms: Uint8Array[] = [];
  const hz = new HazardSender({ sealer, clock, send: (b) => denms.push(b) });
  // Two different hazards (an obstacle, then a stationary vehicle elsewhere): event content is
  // an observation anyone may share; what must not carry over is who reported it.
  const hazard = (n: number) =>
    hz.trigger({ eventType: { cause: 10 + n, subCause: n }, eventPosition: { latitude: 481_000_000 + n, longitude: 115_000_000 + n }, relevanceDistance: 100, repetitionInterval: 0 });
  const reasons: ChangeReason[] = [];
  pseudonyms.onChange((_p, why) => reasons.push(why));

  for (i = 0; i < 600; i++) {
    if (i === 550) hazard(0);
    cam.step();
    clock.advance(100);
  }
  const before = { cam: cams.at(-1)!, certCam: cams.filter((b) => fields(b).has('unprotected.-65537')).at(-1)!, denm: denms.at(-1)! };
  cams.length = 0;
  for (; i < 700; i++) {
    if (i === 650) hazard(1);
    cam.step();
    clock.advance(100);
  }
  t.deepEqual(reasons, ['start', 'schedule'], 'one scheduled change at 60 s');
  const after = { cam: cams[0]!, certCam: cams[0]!, denm: denms.at(-1)! };

  const v = new EnvelopeVerifier({ authorities: authority.ring.lookup });
  for (const m of [before.certCam, before.cam, before.denm, after.cam, after.denm]) t.truthy(v.open(m), 'all still verify');

  for (const kind of ['cam', 'certCam', 'denm'] as const) {
    const a = fields(before[kind]);
    const b = fields(after[kind]);
    const linking = [...a].filter(([path, value]) => b.get(path) === value && !PHYSICAL_OR_CONSTANT.has(path)).map(([p]) => p);
    t.deepEqual(linking, [], `${kind}: fields equal before and after the change`);
  }
  // And the identifiers in particular:
  const fa = fields(before.certCam);
  const fb = fields(after.certCam);
  for (const p of ['protected.4', 'payload.3.1', 'unprotected.-65537', 'cert.claims.8.1.-2', 'cert.claims.8.1.-3', 'cert.signature']) {
    t.true(fa.has(p) && fb.has(p) && fa.get(p) !== fb.get(p), `${p} changed`);
  }
  const da = fields(before.denm);
  const db = fields(after.denm);
  t.not(da.get('payload.3.1.1'), db.get('payload.3.1.1'), 'DENM originating station id changed');
  t.not(Number(db.get('payload.3.1.2')), Number(da.get('payload.3.1.2')) + 1, 'DENM sequence restarted at a random value');
});

test('pseudonym and station id change together: on schedule, on request, before expiry', (t) => {
  const clock = new ManualClock(T0);
  const pool = makePool(authority, 3, { notAfter: T0 + 600_000 });
  const m = new PseudonymManager(pool, { clock, changeIntervalMs: 120_000, expiryMarginMs: 60_000 });
  const seen = new Set<string>();
  const note = () => {
    const c = m.current;
    t.false(seen.has(`${c.stationId}`), 'station id not reused');
    t.false(seen.has(Buffer.from(c.digest).toString('hex')));
    seen.add(`${c.stationId}`);
    seen.add(Buffer.from(c.digest).toString('hex'));
  };
  note();
  clock.advance(119_000);
  t.is(m.tick(), undefined);
  clock.advance(1000);
  t.is(m.tick(), 'schedule');
  note();
  m.change();
  note();
  t.is(m.remaining, 0);
  clock.advance(430_000); // 550 s: within 60 s of the certificate's end
  t.throws(() => m.tick(), { instanceOf: RangeError, message: /pool: none of the 0 remaining/ });
});

test('a pool with nothing valid now is refused with what to do', (t) => {
  const clock = new ManualClock(T0);
  const pool = makePool(authority, 1, { notBefore: T0 + 3_600_000, notAfter: T0 + 7_200_000 });
  t.throws(() => new PseudonymManager(pool, { clock }).current, { instanceOf: RangeError, message: /ask the fleet authority/ });
  t.throws(() => new PseudonymManager([], { clock }), { instanceOf: RangeError, message: /pool/ });
});

test('a pseudonym certificate carries only key, validity and permissions', (t) => {
  const [cred] = makePool(authority, 1);
  const [, , payload] = (decodeCbor(cred!.certificate) as Tagged).value as [Uint8Array, unknown, Uint8Array];
  const claims = decodeCbor(payload) as Map<number, unknown>;
  t.deepEqual([...claims.keys()].sort((a, b) => a - b), [-65537, 4, 5, 8]);
  const cnf = claims.get(8) as Map<number, Map<number, unknown>>;
  t.deepEqual([...cnf.get(1)!.keys()], [1, -1, -2, -3], 'a bare COSE_Key: no kid, no name');
});
