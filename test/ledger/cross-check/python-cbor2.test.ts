// Our canonical CBOR against python3-cbor2, an independent implementation: it must decode our
// bytes and, re-encoding them with canonical=True, give the same bytes back. cbor2 5.4 sorts
// map keys length-first (the RFC 7049 rule), which agrees with RFC 8949's bytewise order only
// when no shorter key sorts after a longer one (TOOLCHAIN.md): the round trip uses maps whose
// keys are all of one kind (all unsigned, all negative, all text, all bytes); for maps of
// mixed keys, Python checks the bytewise order directly on each key's own encoding.
import test from 'ava';
import fc from 'fast-check';
import { encodeCanonical } from '../../../ledger/cbor/canonical-encode.ts';
import { decodeCbor } from '../../../ledger/cbor/decode.ts';
import { Tagged } from '../../../ledger/cbor/value.ts';
import type { CborValue } from '../../../ledger/cbor/value.ts';
import { runPython } from '../../helpers/python.ts';

const SCRIPT = String.raw`
import sys, json, cbor2
def ordered(x):
    if isinstance(x, cbor2.CBORTag):
        return ordered(x.value)
    if isinstance(x, (list, tuple)):
        return all(ordered(v) for v in x)
    if isinstance(x, dict):
        keys = [cbor2.dumps(k, canonical=True) for k in x.keys()]
        return keys == sorted(keys) and all(ordered(v) for v in x.values())
    return True
out = []
for h in json.load(sys.stdin):
    obj = cbor2.loads(bytes.fromhex(h))
    out.append({'again': cbor2.dumps(obj, canonical=True).hex(), 'ordered': ordered(obj)})
print(json.dumps(out))
`;

const leaf: fc.Arbitrary<CborValue> = fc.oneof(
  fc.integer(),
  fc.integer({ min: -30, max: 300 }),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
  fc.double({ noDefaultInfinity: false }).filter((d) => !Number.isInteger(d) || Object.is(d, -0) || Math.abs(d) > 2 ** 64),
  fc.float().map((f) => (Number.isInteger(f) ? f + 0.5 : f)),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.uint8Array({ maxLength: 40 }),
  fc.boolean(),
  fc.constant(null),
);

function uniformMap(value: fc.Arbitrary<CborValue>): fc.Arbitrary<CborValue> {
  const keyKinds: fc.Arbitrary<CborValue>[] = [
    fc.integer({ min: 0, max: 2 ** 40 }),
    fc.integer({ min: -(2 ** 40), max: -1 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.uint8Array({ maxLength: 30 }),
  ];
  return fc.oneof(
    ...keyKinds.map((k) =>
      fc.uniqueArray(fc.tuple(k, value), { maxLength: 8, selector: ([key]) => (key instanceof Uint8Array ? Buffer.from(key).toString('hex') : String(key)) }).map((entries) => new Map(entries) as CborValue),
    ),
  );
}

const { tree } = fc.letrec<{ tree: CborValue; node: CborValue }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('node')),
  node: fc.oneof(
    fc.array(tie('tree'), { maxLength: 6 }),
    uniformMap(tie('tree')),
    fc.tuple(fc.integer({ min: 1000, max: 50000 }), tie('tree')).map(([tag, v]) => new Tagged(tag, v)),
  ),
}));

const mixedKey = fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.uint8Array({ maxLength: 30 }));
const mixedMap = fc
  .uniqueArray(fc.tuple(mixedKey, leaf), { minLength: 2, maxLength: 12, selector: ([k]) => (k instanceof Uint8Array ? 'b' + Buffer.from(k).toString('hex') : typeof k + String(k)) })
  .map((entries) => new Map(entries));

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('cbor2 decodes our canonical bytes and re-encodes them identically (uniform key kinds)', async (t) => {
  const samples = fc.sample(tree, { numRuns: 400, seed: 8949 });
  const ours = samples.map((v) => hex(encodeCanonical(v)));
  const theirs = await runPython<{ again: string; ordered: boolean }[]>(SCRIPT, ours);
  ours.forEach((h, i) => {
    t.is(theirs[i]!.again, h, `sample ${i}`);
    t.true(theirs[i]!.ordered);
    // and our own strict decoder accepts it as canonical and gives the bytes back
    t.is(hex(encodeCanonical(decodeCbor(Buffer.from(h, 'hex'), { canonical: true }))), h);
  });
});

test('maps of mixed keys come out in bytewise order of each key encoding (checked in Python)', async (t) => {
  const samples = fc.sample(mixedMap, { numRuns: 200, seed: 4221 });
  const ours = samples.map((m) => hex(encodeCanonical(m)));
  const theirs = await runPython<{ again: string; ordered: boolean }[]>(SCRIPT, ours);
  let disagreements = 0;
  ours.forEach((h, i) => {
    t.true(theirs[i]!.ordered, `sample ${i}: ${h}`);
    if (theirs[i]!.again !== h) disagreements++;
  });
  // The mixed samples do exercise the case where cbor2's length-first order differs from ours.
  t.true(disagreements > 0);
  // RFC 8949 section 4.2.1's example: bytewise puts 24 before -1; cbor2 puts -1 first.
  t.is(hex(encodeCanonical(new Map([[-1, 2], [24, 1]]))), 'a21818012002');
  const [again] = await runPython<{ again: string }[]>(SCRIPT, ['a21818012002']);
  t.is(again!.again, 'a22002181801');
});
