import test from 'ava';
import fc from 'fast-check';
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import type { CborValue, Tagged } from '../../ledger/cbor/value.ts';
import type { FieldType, Schema } from '../../v2x/codec/schema.ts';
import { bodyToCbor, decodeBody, encodeBody, MESSAGE_NAMES, MESSAGE_SCHEMA } from '../../v2x/messages/message-types.ts';
import type { MessageBodies, MessageName } from '../../v2x/messages/message-types.ts';
import { receiptTotal } from '../../v2x/messages/charging.ts';
import { decodePayload, encodePayload } from '../../v2x/security/envelope.ts';
import { V2xError } from '../../v2x/v2x-error.ts';
import { check, loadCddl } from '../helpers/cddl-check.ts';
import { EXAMPLES, T0 } from '../helpers/v2x-fixtures.ts';

const CDDL = loadCddl(new URL('../../v2x/cddl/', import.meta.url));
const RULE: Record<MessageName, string> = {
  cam: 'cam',
  denm: 'denm',
  spat: 'spat',
  chargingOffer: 'charging-offer',
  reservation: 'reservation',
  receipt: 'receipt',
  attestationChallenge: 'attestation-challenge',
  attestation: 'attestation',
};

// Arbitrary values over each field's whole range (ends included), from the field table.
function arb(type: FieldType): fc.Arbitrary<unknown> {
  switch (type.kind) {
    case 'int':
      return fc.oneof(fc.constantFrom(type.min, type.max), fc.integer({ min: type.min, max: type.max }));
    case 'enum':
      return fc.constantFrom(...Object.keys(type.values).map(Number));
    case 'bytes':
      return fc.uint8Array({ minLength: type.minSize, maxLength: type.maxSize });
    case 'text':
      return type.pattern ? fc.constantFrom('EUR', 'USD', 'CHF', 'SEK') : fc.string({ minLength: type.minLength, maxLength: type.maxLength, unit: 'grapheme-ascii' });
    case 'struct':
      return arbStruct(type.schema);
    case 'array':
      return fc.array(arb(type.item), { minLength: type.minItems, maxLength: Math.min(type.maxItems, 4) });
  }
}

function arbStruct(schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of schema.fields) model[f.name] = arb(f.type);
  const optional = schema.fields.filter((f) => f.optional).map((f) => f.name);
  return fc.record(model, { requiredKeys: schema.fields.filter((f) => !f.optional).map((f) => f.name) }).map((r) => {
    for (const k of optional) if (r[k] === undefined) delete r[k];
    return r;
  });
}

// Cross-field rules the table cannot express: bring random values into line with them.
const sortTimes = (o: Record<string, number>, ...keys: string[]) => {
  const v = keys.map((k) => o[k]!).sort((a, b) => a - b);
  keys.forEach((k, i) => (o[k] = v[i]!));
};
type Loose = Record<string, never>;
const REPAIR: Partial<Record<MessageName, (b: Loose) => void>> = {
  denm: (b: Record<string, number>) => {
    sortTimes(b, 'detectionTime', 'referenceTime');
    if (b.repetitionInterval! > 0 && b.repetitionInterval! < 100) b.repetitionInterval = 100;
  },
  spat: (b: { signalGroups: { signalGroupId: number; current: Record<string, number>; next: Record<string, number>[] }[] }) => {
    b.signalGroups.forEach((g, i) => {
      g.signalGroupId = i + 1;
      for (const p of [g.current, ...g.next]) {
        const present = ['minEndTime', 'likelyTime', 'maxEndTime'].filter((k) => p[k] !== undefined);
        sortTimes(p, ...present);
      }
    });
  },
  chargingOffer: (b: { connectors: Record<string, number>[] }) => b.connectors.forEach((c) => sortTimes(c, 'availableFrom', 'availableUntil')),
  reservation: (b: Record<string, number>) => sortTimes(b, 'from', 'until'),
  receipt: (b: Record<string, number>) => {
    sortTimes(b, 'start', 'end');
    b.totalPrice = receiptTotal(b.energyDelivered!, b.pricePerKwh!);
  },
} as never;

function arbMessage(name: MessageName): fc.Arbitrary<MessageBodies[MessageName]> {
  return arbStruct(MESSAGE_SCHEMA[name]).map((b) => {
    REPAIR[name]?.(b as Loose);
    return b as unknown as MessageBodies[MessageName];
  });
}

for (const name of MESSAGE_NAMES) {
  test(`${name}: encode -> decode round-trips over the whole ranges, and the bytes conform to the CDDL`, (t) => {
    fc.assert(
      fc.property(arbMessage(name), fc.integer({ min: T0, max: T0 + 86_400_000 }), (body, time) => {
        const bytes = encodeBody(name, body as never);
        const back = decodeBody(name, bytes);
        if (JSON.stringify(back, replacer) !== JSON.stringify(body, replacer)) throw new Error(`round trip differs: ${JSON.stringify(body, replacer)}`);
        const cddl = check(CDDL, RULE[name], decodeCbor(bytes));
        if (cddl) throw new Error(`CDDL: ${cddl}`);
        const payload = encodePayload(name, time, body as never);
        const p = check(CDDL, 'v2x-payload', decodeCbor(payload));
        if (p) throw new Error(`CDDL payload: ${p}`);
        if (decodePayload(payload).type !== name) throw new Error('payload type');
      }),
      { numRuns: 150 },
    );
    t.pass();
  });

  test(`${name}: decode refuses non-canonical bytes, unknown keys and missing fields`, (t) => {
    const map = bodyToCbor(name, EXAMPLES[name] as never);
    const canonical = encodeCanonical(map);
    // Same map, keys in reverse order (not RFC 8949 section 4.2.1 bytewise order).
    const entries = [...map];
    const head = canonical[0]!;
    const reversed = new Uint8Array([head, ...entries.reverse().flatMap(([k, v]) => [...encodeCanonical(k), ...encodeCanonical(v)])]);
    if (entries.length > 1) t.is(catchReason(() => decodeBody(name, reversed)), 'not-canonical');
    // The map length in a two-byte head: not the shortest form.
    const long = new Uint8Array([0xb8, head & 0x1f, ...canonical.subarray(1)]);
    t.is(catchReason(() => decodeBody(name, long)), 'not-canonical');
    const extra = new Map<number, CborValue>(map);
    extra.set(99, 1);
    const e = t.throws(() => decodeBody(name, encodeCanonical(extra)), { instanceOf: V2xError });
    t.regex(e!.message, /unknown field key 99/);
    const firstKey = [...map.keys()][0]!;
    const fewer = new Map<number, CborValue>(map);
    fewer.delete(firstKey);
    const field = MESSAGE_SCHEMA[name].fields.find((f) => f.key === firstKey)!.name;
    const m = t.throws(() => decodeBody(name, encodeCanonical(fewer)), { instanceOf: V2xError });
    t.regex(m!.message, new RegExp(`${field}: missing`));
    t.is(catchReason(() => decodeBody(name, new Uint8Array([0xa1, 0x01]))), 'malformed');
  });
}

function replacer(_k: string, v: unknown) {
  return v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
}

function catchReason(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    return err instanceof V2xError ? err.reason : `threw ${(err as Error).name}`;
  }
}

/** Every integer field's range ends, one past each end, named in the error. */
function intFields(schema: Schema, prefix: string): { path: string[]; min: number; max: number; label: string }[] {
  const out: { path: string[]; min: number; max: number; label: string }[] = [];
  for (const f of schema.fields) {
    if (f.type.kind === 'int') out.push({ path: [f.name], min: f.type.min, max: f.type.max, label: `${prefix}.${f.name}` });
    if (f.type.kind === 'struct') for (const sub of intFields(f.type.schema, `${prefix}.${f.name}`)) out.push({ ...sub, path: [f.name, ...sub.path] });
  }
  return out;
}

function withField(body: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(body) as Record<string, unknown>;
  let o = copy;
  for (const p of path.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[path.at(-1)!] = value;
  return copy;
}

for (const name of MESSAGE_NAMES.filter((n) => intFields(MESSAGE_SCHEMA[n], n).length > 0)) {
  test(`${name}: every integer field out of range is a RangeError naming it; wrong types a TypeError`, (t) => {
    for (const f of intFields(MESSAGE_SCHEMA[name], MESSAGE_SCHEMA[name].name)) {
      for (const bad of [f.min - 1, f.max + 1]) {
        if (!Number.isSafeInteger(bad)) continue;
        const err = t.throws(() => encodeBody(name, withField(EXAMPLES[name], f.path, bad) as never), { instanceOf: RangeError }, `${f.label} = ${bad}`);
        t.true(err!.message.startsWith(`${f.label}: ${bad} is out of range`), err!.message);
      }
      const err = t.throws(() => encodeBody(name, withField(EXAMPLES[name], f.path, 1.5) as never), { instanceOf: TypeError });
      t.regex(err!.message, new RegExp(`^${f.label.replace(/\./g, '\\.')}: expected an integer`));
    }
  });
}

test('cross-field and enum rules name the field', (t) => {
  const cases: [MessageName, unknown, RegExp][] = [
    ['cam', { ...EXAMPLES.cam, stationType: 12 }, /^cam\.stationType: 12 is not a known code/],
    ['cam', { ...EXAMPLES.cam, colour: 'red' }, /^cam\.colour: not a field of cam/],
    ['cam', { ...EXAMPLES.cam, heading: undefined }, /^cam\.heading: missing/],
    ['denm', { ...EXAMPLES.denm, referenceTime: EXAMPLES.denm.detectionTime - 1 }, /^denm\.referenceTime: .* is before denm\.detectionTime/],
    ['denm', { ...EXAMPLES.denm, repetitionInterval: 50 }, /^denm\.repetitionInterval: 50 ms/],
    ['denm', { ...EXAMPLES.denm, termination: 2 }, /^denm\.termination: 2 is not a known code/],
    ['spat', { ...EXAMPLES.spat, signalGroups: [EXAMPLES.spat.signalGroups[0], EXAMPLES.spat.signalGroups[0]] }, /^spat\.signalGroups\[1\]\.signalGroupId: 1 appears twice/],
    ['spat', { ...EXAMPLES.spat, signalGroups: [] }, /^spat\.signalGroups: 0 items, expected 1 to 64/],
    ['spat', { ...EXAMPLES.spat, signalGroups: [{ ...EXAMPLES.spat.signalGroups[0]!, current: { phase: 6, minEndTime: T0 + 10, maxEndTime: T0 } }] }, /^spat\.signalGroups\[0\]\.current\.maxEndTime: .* is before/],
    ['chargingOffer', { ...EXAMPLES.chargingOffer, currency: 'eur' }, /^chargingOffer\.currency: 'eur' is not an ISO 4217 code/],
    ['reservation', { ...EXAMPLES.reservation, reservationId: new Uint8Array(4) }, /^reservation\.reservationId: 4 bytes, expected 8 to 16/],
    ['reservation', { ...EXAMPLES.reservation, until: EXAMPLES.reservation.from - 1 }, /^reservation\.until: .* is before reservation\.from/],
    ['receipt', { ...EXAMPLES.receipt, totalPrice: 1 }, /^receipt\.totalPrice: 1 does not match energyDelivered x pricePerKwh \/ 1000 = 227221/],
    ['receipt', { ...EXAMPLES.receipt, vehicle: 'abc' }, /^receipt\.vehicle: expected bytes/],
    ['attestationChallenge', { ...EXAMPLES.attestationChallenge, nonce: new Uint8Array(8) }, /^attestationChallenge\.nonce: 8 bytes, expected 16 to 32/],
  ];
  for (const [name, body, re] of cases) {
    const err = t.throws(() => encodeBody(name, body as never));
    t.true(err instanceof RangeError || err instanceof TypeError);
    t.regex(err!.message, re);
  }
});

test('payload: generation time and certificate requests are checked; unknown type codes refused', (t) => {
  t.throws(() => encodePayload('cam', 1_700_000_000, EXAMPLES.cam), { instanceOf: RangeError, message: /^generationTime: 1700000000 is out of range/ });
  t.throws(() => encodePayload('cam', T0, EXAMPLES.cam, [new Uint8Array(7)]), { instanceOf: RangeError, message: /certRequests\[0\]/ });
  const p = decodeCbor(encodePayload('cam', T0, EXAMPLES.cam)) as Map<number, CborValue>;
  p.set(1, 42);
  const err = t.throws(() => decodePayload(encodeCanonical(p)), { instanceOf: V2xError });
  t.regex(err!.message, /type: 42 is not a known message type/);
});

test('the CDDL checker itself catches what it should (a check that can fail)', (t) => {
  const cam = bodyToCbor('cam', EXAMPLES.cam);
  t.is(check(CDDL, 'cam', cam), undefined);
  const bad = new Map(cam);
  bad.set(4, 3600);
  t.regex(check(CDDL, 'cam', bad)!, /cam\.4: 3600 not in 0\.\.3599/);
  bad.set(4, 10).set(11, 0);
  t.regex(check(CDDL, 'cam', bad)!, /key 11 is not in the spec/);
  const noSoc = new Map(cam);
  noSoc.delete(10);
  t.is(check(CDDL, 'cam', noSoc), undefined, 'the state of charge is optional');
  noSoc.delete(1);
  t.regex(check(CDDL, 'cam', noSoc)!, /required key 1 missing/);
});

test('sealed envelopes, pseudonym certificates, attestation statements and identity statements conform to the CDDL', async (t) => {
  const { PrivateKey } = await import('../../ledger/keys/private-key.ts');
  const { sealMessage } = await import('../../v2x/security/envelope.ts');
  const { PseudonymSigner } = await import('../../v2x/security/pseudonym-signer.ts');
  const { signAttestation } = await import('../../v2x/attestation/attestation.ts');
  const { issueVehicleIdentity } = await import('../../v2x/attestation/vehicle-identity.ts');
  const { makeAuthority, makePool } = await import('../helpers/v2x-fixtures.ts');
  const authority = makeAuthority();
  const [cred] = makePool(authority, 1);
  const signer = new PseudonymSigner(cred!.key);
  for (const name of MESSAGE_NAMES) {
    for (const certificate of [undefined, cred!.certificate]) {
      const msg = sealMessage({ type: name, body: EXAMPLES[name] as never, generationTime: T0, signer, certificate });
      t.is(check(CDDL, 'v2x-message', decodeCbor(msg)), undefined, name);
    }
  }
  const claims = ((decodeCbor(cred!.certificate) as Tagged).value as Uint8Array[])[2]!;
  t.is(check(CDDL, 'pseudonym-claims', decodeCbor(claims)), undefined);
  const identityKey = PrivateKey.generate('secp256k1');
  const identity = issueVehicleIdentity(authority.key, { vehicleId: 'V1', publicKey: identityKey.publicKey, curve: 'secp256k1', notBefore: T0, notAfter: T0 + 1000 });
  t.is(check(CDDL, 'vehicle-identity', decodeCbor(((decodeCbor(identity) as Tagged).value as Uint8Array[])[2]!)), undefined);
  const st = signAttestation({ challenge: EXAMPLES.attestationChallenge, challengeTime: T0, pseudonym: signer.kid, identityKey, identityStatement: identity, now: T0 + 5 });
  t.is(check(CDDL, 'attestation-statement', decodeCbor(((decodeCbor(st) as Tagged).value as Uint8Array[])[2]!)), undefined);
  t.is(check(CDDL, 'attestation', decodeCbor(encodeBody('attestation', { statement: st }))), undefined);
});
