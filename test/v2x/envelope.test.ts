import test from 'ava';
import { ManualClock } from '../../hal/clock.ts';
import { sign1 } from '../../ledger/cose/sign1.ts';
import { TYP } from '../../ledger/typ.ts';
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import { Tagged } from '../../ledger/cbor/value.ts';
import { EnvelopeVerifier, HDR_CERTIFICATE, parseEnvelope, sealMessage, encodePayload } from '../../v2x/security/envelope.ts';
import { PseudonymSigner } from '../../v2x/security/pseudonym-signer.ts';
import { V2xError } from '../../v2x/v2x-error.ts';
import { EXAMPLES, makeAuthority, makePool, T0 } from '../helpers/v2x-fixtures.ts';

const authority = makeAuthority();
const [cred, other] = makePool(authority, 2);
const signer = new PseudonymSigner(cred!.key);

function seal(opts: { cert?: boolean; time?: number } = {}) {
  return sealMessage({ type: 'cam', body: EXAMPLES.cam, generationTime: opts.time ?? T0, signer, certificate: opts.cert === false ? undefined : cred!.certificate });
}

const reason = (fn: () => unknown) => {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    if (err instanceof V2xError) return err.reason;
    throw err;
  }
};

test('a sealed message opens to what was sent, with the signer named by its 8-byte digest', (t) => {
  const v = new EnvelopeVerifier({ authorities: authority.ring.lookup });
  const m = v.open(seal());
  t.is(m.type, 'cam');
  t.is(m.generationTime, T0);
  t.deepEqual(m.body, EXAMPLES.cam);
  t.deepEqual([...m.signer], [...cred!.key.kid.subarray(0, 8)]);
  t.true(m.certificateAttached);
  const env = parseEnvelope(seal());
  t.is(env.signer.length, 8);
  t.is(env.typ, TYP.v2xMessage);
});

test('receivers cache certificates: later messages without one verify, strangers without one do not', (t) => {
  const v = new EnvelopeVerifier({ authorities: authority.ring.lookup });
  t.is(reason(() => v.open(seal({ cert: false }))), 'unknown-signer');
  v.open(seal());
  t.is(v.cache.size, 1);
  t.is(v.open(seal({ cert: false, time: T0 + 100 })).generationTime, T0 + 100);
});

test('forged signature, tampered payload, wrong typ, unknown digest, foreign certificate are refused', (t) => {
  const v = new EnvelopeVerifier({ authorities: authority.ring.lookup });
  const good = seal();
  const forged = good.slice();
  forged[forged.length - 5]! ^= 0x40;
  t.is(reason(() => v.open(forged)), 'bad-signature');

  // Tamper: change the speed inside the payload (re-encoded canonically, same length).
  const top = decodeCbor(good) as Tagged;
  const parts = top.value as unknown[];
  const payload = decodeCbor(parts[2] as Uint8Array) as Map<number, unknown>;
  (payload.get(3) as Map<number, unknown>).set(5, 1390);
  const tampered = encodeCanonical(new Tagged(18, [parts[0], parts[1], encodeCanonical(payload as never), parts[3]] as never));
  t.is(reason(() => v.open(tampered)), 'bad-signature');

  const wrongTyp = sign1({ payload: encodePayload('cam', T0, EXAMPLES.cam), typ: TYP.event, signer, unprotected: new Map([[HDR_CERTIFICATE, cred!.certificate]]) });
  t.is(reason(() => v.open(wrongTyp)), 'wrong-typ');

  const stranger = makeAuthority();
  const [foreign] = makePool(stranger, 1);
  const fs = new PseudonymSigner(foreign!.key);
  const msg = sealMessage({ type: 'cam', body: EXAMPLES.cam, generationTime: T0, signer: fs, certificate: foreign!.certificate });
  t.is(reason(() => v.open(msg)), 'bad-certificate', 'certificate signed by an authority we do not trust');
  t.is(reason(() => v.open(sealMessage({ type: 'cam', body: EXAMPLES.cam, generationTime: T0, signer: fs }))), 'unknown-signer');

  const mismatched = sealMessage({ type: 'cam', body: EXAMPLES.cam, generationTime: T0, signer, certificate: other!.certificate });
  t.is(reason(() => v.open(mismatched)), 'bad-certificate', "another pseudonym's certificate attached");
});

test('permissions and validity of the certificate are enforced', (t) => {
  const [camOnly] = makePool(authority, 1, { permissions: ['cam'] });
  const s = new PseudonymSigner(camOnly!.key);
  const v = new EnvelopeVerifier({ authorities: authority.ring.lookup });
  t.is(v.open(sealMessage({ type: 'cam', body: EXAMPLES.cam, generationTime: T0, signer: s, certificate: camOnly!.certificate })).type, 'cam');
  t.is(reason(() => v.open(sealMessage({ type: 'denm', body: EXAMPLES.denm, generationTime: T0, signer: s, certificate: camOnly!.certificate }))), 'not-permitted');
  const [old] = makePool(authority, 1, { notBefore: T0 - 7_200_000, notAfter: T0 - 3_600_000 });
  const so = new PseudonymSigner(old!.key);
  t.is(reason(() => v.open(sealMessage({ type: 'cam', body: EXAMPLES.cam, generationTime: T0, signer: so, certificate: old!.certificate }))), 'expired');
});

test('non-canonical payloads, unknown keys and oversize messages are refused before any trust', (t) => {
  const v = new EnvelopeVerifier({ authorities: authority.ring.lookup });
  const body = EXAMPLES.cam;
  const p = encodePayload('cam', T0, body);
  // Replace the canonical one-byte type (0x01) with a two-byte form 0x18 0x01.
  const nonCanonical = new Uint8Array([p[0]!, p[1]!, 0x18, 0x01, ...p.subarray(3)]);
  const unprot = new Map([[HDR_CERTIFICATE, cred!.certificate]]);
  t.is(reason(() => v.open(sign1({ payload: nonCanonical, typ: TYP.v2xMessage, signer, unprotected: unprot }))), 'not-canonical');
  const extra = decodeCbor(p) as Map<number, unknown>;
  extra.set(9, 1);
  t.is(reason(() => v.open(sign1({ payload: encodeCanonical(extra as never), typ: TYP.v2xMessage, signer, unprotected: unprot }))), 'bad-field');
  t.is(reason(() => v.open(new Uint8Array(3000))), 'malformed');
  t.is(reason(() => v.open(new Uint8Array([0xd2, 0x80]))), 'malformed');
});

test('the sealer attaches the certificate about once a second, on every hazard, and on request', (t) => {
  return import('../../v2x/security/message-sealer.ts').then(async ({ MessageSealer }) => {
    const { PseudonymManager } = await import('../../v2x/security/pseudonym-manager.ts');
    const clock = new ManualClock(T0);
    const pseudonyms = new PseudonymManager(makePool(authority, 2), { clock });
    const sealer = new MessageSealer({ pseudonyms, clock });
    const attached: boolean[] = [];
    for (let i = 0; i < 25; i++) {
      attached.push(parseEnvelope(sealer.seal('cam', (p) => ({ ...EXAMPLES.cam, stationId: p.stationId }))).certificate !== undefined);
      clock.advance(100);
    }
    // t = 0, 1000, 2000 ms.
    t.deepEqual(attached.flatMap((a, i) => (a ? [i * 100] : [])), [0, 1000, 2000]);
    t.truthy(parseEnvelope(sealer.seal('denm', EXAMPLES.denm)).certificate, 'hazards always carry it');
    clock.advance(100);
    t.falsy(parseEnvelope(sealer.seal('cam', EXAMPLES.cam)).certificate);
    sealer.noteCertificateRequests([new Uint8Array(8), pseudonyms.current.digest]);
    t.truthy(parseEnvelope(sealer.seal('cam', EXAMPLES.cam)).certificate, 'asked for');
    const missing = new Uint8Array(8).fill(7);
    sealer.requestCertificate(missing);
    const v = new EnvelopeVerifier({ authorities: authority.ring.lookup });
    v.learnCertificate(pseudonyms.current.certificate);
    t.deepEqual(v.open(sealer.seal('cam', EXAMPLES.cam)).certRequests.map((d) => [...d]), [[...missing]]);
    t.deepEqual(v.open(sealer.seal('cam', EXAMPLES.cam)).certRequests, [], 'asked once');
  });
});

test('ES256K pseudonyms work the same; an ES256-only receiver refuses them', (t) => {
  const [k1] = makePool(authority, 1, { curve: 'secp256k1' });
  const s = new PseudonymSigner(k1!.key);
  const msg = sealMessage({ type: 'denm', body: EXAMPLES.denm, generationTime: T0, signer: s, certificate: k1!.certificate });
  t.is(parseEnvelope(msg).alg, -47);
  t.deepEqual(new EnvelopeVerifier({ authorities: authority.ring.lookup }).open(msg).body, EXAMPLES.denm);
  t.is(reason(() => new EnvelopeVerifier({ authorities: authority.ring.lookup, algs: [-7] }).open(msg)), 'alg-not-allowed');
});
