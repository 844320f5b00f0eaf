import test from 'ava';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Ledger, type SigningMode } from '../../ledger/log/ledger.ts';
import { verifyLedger } from '../../ledger/log/verify.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { ManualClock } from '../../hal/clock.ts';
import { SEGMENT_HEADER_BYTES, scanFrame } from '../../ledger/log/frame.ts';

const key = PrivateKey.fromBytes(Uint8Array.from({ length: 32 }, (_, i) => i + 7));
const ring = new KeyRing([{ publicKey: key.publicKey, curve: 'secp256k1' }]);

async function makeLedger(t: { teardown(fn: () => Promise<void>): void }, mode: SigningMode, n = 30) {
  const dir = await mkdtemp(join(tmpdir(), 'vt-ledger-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const clock = new ManualClock();
  const ledger = await Ledger.open({ dir, signer: key, mode, clock, checkpointEvery: 10 });
  for (let i = 0; i < n; i++) {
    clock.advance(1000);
    await ledger.append('telemetry', new Map([[1, 350_000 + i], [2, -1200 * i]]));
  }
  await ledger.append('event', new Map([[1, 'restart']]), { signed: true });
  await ledger.close();
  return dir;
}

/** Offsets of every frame in the (single) segment, to tamper with a chosen entry. */
async function frames(dir: string) {
  const name = (await readdir(dir)).find((n) => n.endsWith('.vtl'))!;
  const path = join(dir, name);
  const bytes = await readFile(path);
  const out: { offset: number; payloadStart: number; end: number; kind: number }[] = [];
  let pos = SEGMENT_HEADER_BYTES;
  while (pos < bytes.length) {
    const f = scanFrame(bytes, pos);
    if (!f.ok) break;
    out.push({ offset: pos, payloadStart: pos + 9, end: f.next, kind: f.kind });
    pos = f.next;
  }
  return { path, bytes, frames: out };
}

for (const mode of ['per-record', 'checkpoint'] as const) {
  test(`${mode}: a clean ledger verifies; reopening continues the sequence`, async (t) => {
    const dir = await makeLedger(t, mode);
    const r = await verifyLedger(dir, { keys: ring.lookup });
    t.true(r.ok, r.failure?.reason);
    t.is(r.records, 31);
    t.is(r.uncovered, 0);
    t.is(r.checkpoints, mode === 'checkpoint' ? 4 : 1, 'every 10 records, and the whole tree at close');
    t.is(r.signedRecords, mode === 'checkpoint' ? 1 : 31);
    const again = await Ledger.open({ dir, signer: key, mode, clock: new ManualClock() });
    t.is((await again.append('telemetry', new Map([[1, 1]]))).seq, 31);
    await again.close();
    t.true((await verifyLedger(dir, { keys: ring.lookup })).ok);
  });

  test(`${mode}: a flipped byte is located, with or without a fixed-up checksum`, async (t) => {
    const dir = await makeLedger(t, mode);
    const { path, bytes, frames: fs } = await frames(dir);
    const leaves = fs.map((f, i) => ({ ...f, i })).filter((f) => f.kind === 1 || f.kind === 2);
    for (const [which, target] of [['first', leaves[0]!], ['middle', leaves[15]!], ['last', leaves[leaves.length - 1]!]] as const) {
      const seq = leaves.indexOf(target);
      // 1. A plain flip: the checksum finds it.
      const flipped = Buffer.from(bytes);
      flipped[target.payloadStart + 5]! ^= 0x10;
      await writeFile(path, flipped);
      let r = await verifyLedger(dir, { keys: ring.lookup });
      t.false(r.ok, `${which}: flip detected`);
      t.is(r.failure!.index, target.i, `${which}: names the entry`);
      // 2. A forger who also recomputes the checksum: the signature or the checkpoint root finds it.
      flipped.writeUInt32BE(crc32(flipped.subarray(target.offset + 8, target.end)), target.offset + 4);
      await writeFile(path, flipped);
      r = await verifyLedger(dir, { keys: ring.lookup });
      t.false(r.ok, `${which}: forged flip detected`);
      t.is(r.failure!.seq, mode === 'per-record' ? seq : r.failure!.seq, `${which}: names the record`);
      t.regex(r.failure!.reason, mode === 'per-record' ? /signature does not verify|record/ : /root .* differs|record/);
    }
    await writeFile(path, bytes);
    t.true((await verifyLedger(dir, { keys: ring.lookup })).ok);
  });
}

test('records signed by an unknown key are refused', async (t) => {
  const dir = await makeLedger(t, 'per-record', 3);
  const other = new KeyRing([{ publicKey: PrivateKey.generate().publicKey, curve: 'secp256k1' }]);
  const r = await verifyLedger(dir, { keys: other.lookup });
  t.false(r.ok);
  t.is(r.failure!.seq, 0);
  t.regex(r.failure!.reason, /signature does not verify/);
});
