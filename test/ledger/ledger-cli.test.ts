import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../../ledger/log/ledger.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { ManualClock } from '../../hal/clock.ts';
import { writeIdentity } from '../../firmware-ts/runtime/data-dir.ts';
import { runCli } from '../helpers/cli.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function dataDir(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'vt-lcli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const key = PrivateKey.generate();
  await writeIdentity(dir, { format: 'voltrail-identity/1', simulated: true, keys: [{ curve: 'secp256k1', publicKey: hex(key.publicKey), kid: hex(key.kid), since: '2026-01-01T00:00:00Z' }] });
  const clock = new ManualClock();
  const ledger = await Ledger.open({ dir: join(dir, 'ledger'), signer: key, mode: 'checkpoint', checkpointEvery: 8, checkpointIntervalMs: 3_600_000, clock, simulated: true });
  for (let i = 0; i < 21; i++) {
    clock.advance(10_000);
    await ledger.append('telemetry', new Map([[1, i]]));
  }
  await ledger.append('event', new Map([[1, 'fault-raised']]), { signed: true });
  await ledger.close();
  return { dir, key };
}

test('ledger inspect summarises records, checkpoints and bytes per record', async (t) => {
  const { dir } = await dataDir(t);
  const r = await runCli(['ledger', 'inspect', dir, '--json']);
  t.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.is(j.records, 22);
  t.deepEqual(j.types, { telemetry: 21, event: 1 });
  t.is(j.checkpoints, 3);
  t.is(j.lastCheckpoint.size, 22);
  t.true(j.bytesPerRecord > 10);
  const text = await runCli(['ledger', 'inspect', dir]);
  t.true(text.stdout.includes("records  22 (1 signed, 22 simulated): telemetry 21, event 1"), text.stdout);
});

test('ledger prove gives an inclusion proof that an independent RFC 9162 verifier (Python) accepts', async (t) => {
  const { dir } = await dataDir(t);
  for (const index of [0, 7, 13, 21]) {
    const r = await runCli(['ledger', 'prove', dir, '--index', String(index)]);
    t.is(r.code, 0, r.stderr);
    const proof = JSON.parse(r.stdout);
    t.truthy(proof.checkpoint, 'anchored to a signed checkpoint');
    const ok = execFileSync('/usr/bin/python3', ['-c', PY_VERIFY], { input: r.stdout }).toString().trim();
    t.is(ok, 'ok', `record ${index}: ${ok}`);
  }
  const bad = await runCli(['ledger', 'prove', dir, '--index', '99']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /--index 99: record 99 is not in the ledger \(it holds 22 records\)/);
});

test('ledger export writes a CBOR sequence that python3-cbor2 reads item by item', async (t) => {
  const { dir } = await dataDir(t);
  const out = join(dir, 'export.cbor');
  const r = await runCli(['ledger', 'export', dir, '--out', out]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /wrote 25 items/);
  const py = `
import cbor2, sys
data = open(sys.argv[1], 'rb').read()
import io
f = io.BytesIO(data); kinds = []
while f.tell() < len(data):
    x = cbor2.load(f)
    kinds.append('cose' if isinstance(x, cbor2.CBORTag) and x.tag == 18 else 'leaf' if isinstance(x, dict) else '?')
print(kinds.count('cose'), kinds.count('leaf'), kinds.count('?'))`;
  const counts = execFileSync('/usr/bin/python3', ['-c', py, out]).toString().trim();
  t.is(counts, '4 21 0', '3 checkpoints + 1 signed event; 21 unsigned leaves');
  t.true((await readFile(out)).length > 0);
});

// RFC 9162 section 2.1.3.2, written independently in Python.
const PY_VERIFY = `
import hashlib, json, sys
p = json.load(sys.stdin)
def node(l, r): return hashlib.sha256(b"\\x01" + l + r).digest()
fn, sn = p["index"], p["treeSize"] - 1
r = hashlib.sha256(b"\\x00" + bytes.fromhex(p["leaf"])).digest()
assert r.hex() == p["leafHash"], "leaf hash"
for h in p["path"]:
    h = bytes.fromhex(h)
    if sn == 0: print("path too long"); sys.exit()
    if fn & 1 or fn == sn:
        r = node(h, r)
        while not fn & 1 and fn != 0:
            fn >>= 1; sn >>= 1
    else:
        r = node(r, h)
    fn >>= 1; sn >>= 1
print("ok" if sn == 0 and r.hex() == p["root"] else "mismatch")
`;
