import test from 'ava';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MerkleFrontier, hashLeaf } from '../../ledger/log/merkle.ts';
import { loadNativeMerkle, nativeMerkleStatus } from '../../ledger/log/native-merkle.ts';
import { EntryKind, FRAME_HEADER_BYTES, encodeFrame } from '../../ledger/log/frame.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// Lengths around every SHA-256 padding boundary (55/56 bytes of message with the 0x00 prefix,
// 63/64, 119/120, ...), empty leaves, and one leaf of many blocks.
const LENGTHS = [0, 1, 2, 31, 32, 53, 54, 55, 56, 57, 62, 63, 64, 65, 117, 118, 119, 120, 127, 128, 129, 433, 448, 1000, 4096, 100_003];
function leafOf(i: number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let j = 0; j < length; j++) b[j] = (i * 131 + j * 7 + (j >> 8)) & 0xff;
  return b;
}
const leaves = [...LENGTHS, ...Array.from({ length: 300 }, (_, i) => (i * 37) % 700)].map((n, i) => leafOf(i, n));

test('the native hasher, when built, reports which SHA-256 it runs', (t) => {
  const s = nativeMerkleStatus();
  t.log(s.available ? `native Merkle hasher: ${s.sha256}` : `native Merkle hasher unavailable: ${s.reason}`);
  if (s.available) t.true(s.sha256 === 'sha-ni' || s.sha256 === 'portable');
  else t.truthy(s.reason);
});

test('leaf hashes are SHA-256(0x00 || leaf) by node:crypto, at every padding boundary', (t) => {
  const f = new MerkleFrontier();
  const out = new Uint8Array(leaves.length * 32);
  f.appendMany(leaves, out);
  for (let i = 0; i < leaves.length; i++) {
    const want = createHash('sha256').update(Buffer.from([0])).update(leaves[i]!).digest('hex');
    t.is(hex(out.subarray(32 * i, 32 * i + 32)), want, `leaf ${i} of ${leaves[i]!.length} bytes`);
  }
});

test('batch appends (native when built) give the roots of one-by-one node:crypto appends at every size', (t) => {
  const one = new MerkleFrontier({ native: false });
  const roots: string[] = [];
  for (const l of leaves) {
    one.append(l);
    roots.push(hex(one.root()));
  }
  // Batches of uneven sizes, so that every batch boundary meets a different frontier shape.
  const many = new MerkleFrontier();
  let i = 0;
  for (let n = 1; i < leaves.length; n = (n * 3 + 1) % 17) {
    const batch = leaves.slice(i, i + n);
    many.appendMany(batch);
    i += batch.length;
    t.is(many.size, i);
    t.is(hex(many.root()), roots[i - 1], `root after ${i} leaves`);
  }
});

test('appendSpans over one buffer equals appendMany over the same leaves, and refuses spans outside it', (t) => {
  const total = leaves.reduce((a, l) => a + l.length + 3, 0);
  const data = new Uint8Array(total);
  const spans = new Uint32Array(leaves.length * 2);
  let pos = 0;
  leaves.forEach((l, i) => {
    pos += 3; // bytes between leaves (a frame header in a segment file)
    data.set(l, pos);
    spans[2 * i] = pos;
    spans[2 * i + 1] = pos + l.length;
    pos += l.length;
  });
  const a = new MerkleFrontier();
  const ha = new Uint8Array(leaves.length * 32);
  a.appendSpans(data, spans, leaves.length, ha);
  const b = new MerkleFrontier({ native: false });
  const hb = new Uint8Array(leaves.length * 32);
  b.appendSpans(data, spans, leaves.length, hb);
  t.is(hex(a.root()), hex(b.root()));
  t.is(hex(ha), hex(hb));
  t.is(hex(ha.subarray(0, 32)), hex(hashLeaf(leaves[0]!)));
  const bad = Uint32Array.from([0, data.length + 1]);
  for (const f of [new MerkleFrontier(), new MerkleFrontier({ native: false })]) {
    t.throws(() => f.appendSpans(data, bad, 1), { instanceOf: f.native ? TypeError : RangeError });
    t.is(f.size, 0, 'nothing appended from a bad batch');
    t.throws(() => f.appendSpans(data, spans, leaves.length + 1), { instanceOf: RangeError });
  }
});

test('the raw addon refuses wrong argument types instead of reading out of bounds', (t) => {
  const addon = loadNativeMerkle();
  if (!addon) return t.pass('native hasher not built here');
  const front = new Uint8Array(2048);
  t.throws(() => addon.appendLeaves(new Uint8Array(10), 0, []), { instanceOf: TypeError });
  t.throws(() => addon.appendLeaves(front, -1, []), { instanceOf: TypeError });
  t.throws(() => addon.appendLeaves(front, 0, [new Uint16Array(3) as unknown as Uint8Array]), { instanceOf: TypeError });
  t.throws(() => addon.appendLeaves(front, 0, [new Uint8Array(3)], new Uint8Array(31)), { instanceOf: TypeError });
  t.throws(() => addon.appendSpans(front, 0, new Uint8Array(4), new Uint32Array([0, 4]), 2), { instanceOf: TypeError });
  t.is(addon.appendLeaves(front, 0, [new Uint8Array(3)]), 1);
});

test('hashRun (Ledger.open\'s replay) hashes whole leaf frames of both kinds and stops at any other entry, a bad checksum or a cut frame', (t) => {
  const addon = loadNativeMerkle();
  if (!addon) return t.pass('native hasher not built here');
  const payloads = leaves.slice(0, 40);
  // Kinds: unsigned leaves (2) and signed records (1), then a checkpoint (3) after entry 29.
  const kinds = payloads.map((_, i) => (i === 30 ? EntryKind.checkpoint : i % 3 === 0 ? EntryKind.signedRecord : EntryKind.leaf));
  const data = Buffer.concat(payloads.map((p, i) => encodeFrame(kinds[i]!, p)));
  const reference = new MerkleFrontier({ native: false });
  for (let i = 0; i < 30; i++) reference.append(payloads[i]!);
  const front = new Uint8Array(2048);
  const out = new Float64Array(2);
  t.is(addon.hashRun(data, 0, front, 0, out), 30, 'up to the checkpoint');
  const f = new MerkleFrontier({ native: false });
  f.appendInPlace((slots) => (slots.set(front), 30));
  t.is(hex(f.root()), hex(reference.root()));
  t.is(out[0], payloads.slice(0, 30).reduce((a, p) => a + FRAME_HEADER_BYTES + p.length, 0), 'the position after the run');
  t.is(out[1], kinds.slice(0, 30).filter((k) => k === EntryKind.leaf).length, 'unsigned leaves counted');
  // A flipped payload bit (its CRC no longer matches) and a frame cut short stop the run there.
  const damaged = Uint8Array.from(data);
  const third = 2 * FRAME_HEADER_BYTES + payloads[0]!.length + payloads[1]!.length;
  damaged[third + FRAME_HEADER_BYTES] = damaged[third + FRAME_HEADER_BYTES]! ^ 1;
  t.is(addon.hashRun(damaged, 0, new Uint8Array(2048), 0, out), 2);
  t.is(out[0], third);
  t.is(addon.hashRun(data.subarray(0, third + 5), 0, new Uint8Array(2048), 0, out), 2);
  t.throws(() => addon.hashRun(data, 0, front, 0, new Float64Array(1)), { instanceOf: TypeError });
  t.throws(() => addon.hashRun(data, data.length + 1, front, 0, out), { instanceOf: TypeError });
});

test('the portable C SHA-256 (forced by VOLTRAIL_MERKLE_SHA256=portable) gives the same root', (t) => {
  if (!loadNativeMerkle()) return t.pass('native hasher not built here');
  const script = `
import { MerkleFrontier } from './ledger/log/merkle.ts';
import { nativeMerkleStatus } from './ledger/log/native-merkle.ts';
const leaves = ${JSON.stringify(LENGTHS)}.map((n, i) => new Uint8Array(n).map((_, j) => (i * 131 + j * 7 + (j >> 8)) & 0xff));
const f = new MerkleFrontier();
f.appendMany(leaves);
console.log(JSON.stringify({ sha: nativeMerkleStatus().sha256, root: Buffer.from(f.root()).toString('hex') }));
`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    env: { ...process.env, VOLTRAIL_MERKLE_SHA256: 'portable' },
  }).toString();
  const got = JSON.parse(out) as { sha: string; root: string };
  t.is(got.sha, 'portable');
  const f = new MerkleFrontier({ native: false });
  for (let i = 0; i < LENGTHS.length; i++) f.append(leafOf(i, LENGTHS[i]!));
  t.is(got.root, hex(f.root()));
});

test('the native root folds the frontier slots of the set bits of any size below 2^53, as MerkleFrontier.root does in JavaScript', (t) => {
  const native = loadNativeMerkle();
  if (!native) return t.pass('native Merkle hasher not built');
  const slots = Uint8Array.from({ length: 64 * 32 }, (_, i) => (i * 29 + 7) & 0xff);
  for (const size of [1, 2, 3, 5, 1000, 2 ** 32 - 1, 2 ** 32 + 5, 2 ** 40 + 2 ** 20 + 1, 2 ** 53 - 1]) {
    let want: Buffer | undefined;
    for (let k = 0; k < 53; k++) {
      if (Math.floor(size / 2 ** k) % 2 === 0) continue;
      const slot = slots.subarray(32 * k, 32 * k + 32);
      want = want === undefined ? Buffer.from(slot) : createHash('sha256').update(Buffer.from([1])).update(slot).update(want).digest();
    }
    const out = new Uint8Array(32);
    native.root(slots, size, out);
    t.is(hex(out), want!.toString('hex'), `size ${size}`);
  }
  t.throws(() => native.root(slots, 0, new Uint8Array(32)), { instanceOf: TypeError });
  t.throws(() => native.root(slots, 5, new Uint8Array(31)), { instanceOf: TypeError });
  t.throws(() => native.root(slots.subarray(0, 100), 5, new Uint8Array(32)), { instanceOf: TypeError });
});
