import test from 'ava';
import { pickBackend, selfTest, loadNative } from '../../../ledger/signers/pick.ts';
import { nobleBackend } from '../../../ledger/signers/noble.ts';
import type { SignerBackend } from '../../../ledger/signers/backend.ts';

const noble = nobleBackend('secp256k1');
/** A real backend under another name: noble itself, so it agrees with noble. */
const renamed = (name: string, b: SignerBackend = noble): SignerBackend => ({
  name,
  curve: b.curve,
  sign: (d, k) => b.sign(d, k),
  verify: (s, d, p) => b.verify(s, d, p),
  publicKey: (k) => b.publicKey(k),
});

test('with no candidate available, noble is picked', async (t) => {
  const r = await pickBackend('secp256k1', { candidates: [() => undefined], prefer: '' });
  t.is(r.backend, noble);
  t.deepEqual(r.skipped, []);
});

test('the first candidate that agrees with noble is picked', async (t) => {
  const fast = renamed('fast');
  const r = await pickBackend('secp256k1', { candidates: [() => undefined, async () => fast], prefer: '' });
  t.is(r.backend, fast);
});

test('candidates that disagree, fail to load, or are for another curve are skipped with a reason', async (t) => {
  const wrongSig = { ...renamed('sloppy'), sign: (d: Uint8Array, k: Uint8Array) => noble.sign(d.map((x) => x ^ 1), k) };
  const acceptsAll = { ...renamed('lax'), verify: () => true };
  const r = await pickBackend('secp256k1', {
    prefer: '',
    candidates: [
      () => {
        throw new Error('addon not built');
      },
      () => renamed('p', nobleBackend('P-256')),
      () => wrongSig,
      () => acceptsAll,
    ],
  });
  t.is(r.backend, noble);
  t.is(r.skipped.length, 4);
  t.regex(r.skipped[0]!, /addon not built/);
  t.regex(r.skipped[1]!, /for P-256, not secp256k1/);
  t.regex(r.skipped[2]!, /signature differs/);
  t.regex(r.skipped[3]!, /corrupted/);
});

test('VOLTRAIL_SIGNER (prefer) forces a backend by name', async (t) => {
  const fast = renamed('fast');
  t.is((await pickBackend('secp256k1', { candidates: [() => fast], prefer: 'noble' })).backend, noble);
  t.is((await pickBackend('secp256k1', { candidates: [() => renamed('other'), () => fast], prefer: 'fast' })).backend, fast);
});

test('selfTest passes noble against itself; loadNative answers without throwing', async (t) => {
  t.is(selfTest(noble, noble), undefined);
  const native = await loadNative('secp256k1');
  if (native !== undefined) t.is(selfTest(native, noble), undefined, `${native.name} must agree with noble`);
  else t.pass('no native backend installed here');
  const picked = await pickBackend('P-256', { prefer: '' });
  t.is(picked.backend.curve, 'P-256');
});
