import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SignerPool } from '../../../ledger/signers/pool.ts';
import { nobleBackend } from '../../../ledger/signers/noble.ts';
import { PrivateKey } from '../../../ledger/keys/private-key.ts';
import { malleate } from '../../helpers/signer-contract.ts';

const key = PrivateKey.fromBytes(new Uint8Array(32).fill(0x31), 'secp256k1');
const digests = Array.from({ length: 40 }, (_, i) => new Uint8Array(32).map((_, j) => (i * 13 + j) & 0xff));

test.serial('large batches go to the workers and give the inline signatures; verify agrees', async (t) => {
  const pool = await SignerPool.create({ curve: 'secp256k1', size: 2, backend: nobleBackend('secp256k1') });
  try {
    const small = await pool.sign(key, digests.slice(0, 5));
    t.is(pool.running, 0, 'a small batch is signed inline');
    const sigs = await pool.sign(key, digests);
    t.is(pool.running, 2);
    t.is(sigs.length, digests.length);
    sigs.forEach((s, i) => t.deepEqual(new Uint8Array(s), key.signDigest(digests[i]!)));
    t.deepEqual(small.map((s) => new Uint8Array(s)), sigs.slice(0, 5).map((s) => new Uint8Array(s)));

    const items = digests.map((d, i) => ({ signature: sigs[i]!, digest: d, publicKey: key.publicKey }));
    items[3] = { ...items[3]!, signature: malleate(sigs[3]!, 'secp256k1') }; // high-S
    items[7] = { ...items[7]!, digest: digests[8]! }; // wrong digest
    items[9] = { ...items[9]!, signature: sigs[9]!.subarray(0, 63) }; // malformed
    const ok = await pool.verify(items);
    t.deepEqual(
      ok.map((v, i) => (v ? -1 : i)).filter((i) => i >= 0),
      [3, 7, 9],
    );
  } finally {
    await pool.close();
  }
  await t.throwsAsync(pool.sign(key, digests), { message: /closed/ });
});

test('refuses a key of another curve and digests of the wrong size', async (t) => {
  const pool = await SignerPool.create({ curve: 'P-256', size: 0 });
  await t.throwsAsync(pool.sign(key, digests), { instanceOf: RangeError, message: /secp256k1 key, the pool is for P-256/ });
  const p = PrivateKey.fromBytes(new Uint8Array(32).fill(2), 'P-256');
  await t.throwsAsync(pool.sign(p, [new Uint8Array(31)]), { instanceOf: RangeError, message: /32 bytes/ });
  t.is((await pool.sign(p, digests)).length, 40); // size 0: everything inline
  await pool.close();
});

test('workers also start when the TypeScript loader was registered through the tsx API (as bin/voltrail.js does)', async (t) => {
  const probe = fileURLToPath(new URL('./fixtures/pool-probe.ts', import.meta.url));
  const script = `const { register } = await import('tsx/esm/api'); register(); await import(${JSON.stringify(probe)});`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../../../', import.meta.url)),
    timeout: 90_000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  t.deepEqual(JSON.parse(stdout), { same: true, running: 2, count: 8 });
});
