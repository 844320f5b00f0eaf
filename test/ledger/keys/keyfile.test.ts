import test from 'ava';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { KeyFileError, loadKeyFile, parseKeyFile, readKeyFileHeader, sealKey, writeKeyFile } from '../../../ledger/keys/keyfile.ts';
import { PrivateKey } from '../../../ledger/keys/private-key.ts';
import { readPassphrase, PassphraseError } from '../../../ledger/keys/passphrase.ts';

const dir = mkdtempSync(join(tmpdir(), 'voltrail-keyfile-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const key = PrivateKey.fromBytes(new Uint8Array(32).fill(0x42), 'secp256k1');
const secretHex = '42'.repeat(32);
const secretB64 = Buffer.alloc(32, 0x42).toString('base64');
let n = 0;
const fresh = () => join(dir, `k${n++}.key`);

test('write then load gives the same key; the file is 0600 and names no secret', async (t) => {
  const file = fresh();
  await writeKeyFile(file, key, 'correct horse');
  t.is(statSync(file).mode & 0o777, 0o600);
  const text = readFileSync(file, 'utf8');
  t.false(text.includes(secretHex));
  t.false(text.includes(secretB64));
  const back = await loadKeyFile(file, 'correct horse');
  t.deepEqual(back.publicKey, key.publicKey);
  t.deepEqual(back.exportSecret(), key.exportSecret());
  const h = readKeyFileHeader(file);
  t.is(h.kid, Buffer.from(key.kid).toString('hex'));
  t.is(h.kdf.N, 2 ** 15);
  t.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []); // no temporary file left
});

test('P-256 keys too; each seal uses a new salt and nonce', async (t) => {
  const p = PrivateKey.generate('P-256');
  const a = parseKeyFile(await sealKey(p, 'pw'));
  const b = parseKeyFile(await sealKey(p, 'pw'));
  t.not(a.kdf.salt, b.kdf.salt);
  t.not(a.aead.nonce, b.aead.nonce);
  const file = fresh();
  await writeKeyFile(file, p, 'pw');
  t.deepEqual((await loadKeyFile(file, 'pw')).kid, p.kid);
});

test('a wrong passphrase is a clear error', async (t) => {
  const file = fresh();
  await writeKeyFile(file, key, 'right');
  const err = await t.throwsAsync(loadKeyFile(file, 'wrong'), { instanceOf: KeyFileError });
  t.is(err!.reason, 'wrong-passphrase');
  t.regex(err!.message, /wrong passphrase/);
  await t.throwsAsync(loadKeyFile(file, ''), { instanceOf: RangeError, message: /empty/ });
});

test('a file others may read is refused, with the chmod to run', async (t) => {
  const file = fresh();
  await writeKeyFile(file, key, 'pw');
  for (const mode of [0o644, 0o640, 0o604, 0o660]) {
    chmodSync(file, mode);
    const err = await t.throwsAsync(loadKeyFile(file, 'pw'), { instanceOf: KeyFileError });
    t.is(err!.reason, 'permissions');
    t.true(err!.message.includes(`chmod 600 ${file}`));
  }
  chmodSync(file, 0o400);
  t.truthy(await loadKeyFile(file, 'pw'));
  const link = fresh();
  symlinkSync(file, link);
  t.is((await t.throwsAsync(loadKeyFile(link, 'pw'), { instanceOf: KeyFileError }))!.reason, 'permissions');
});

test('an existing key file is never overwritten', async (t) => {
  const file = fresh();
  await writeKeyFile(file, key, 'pw');
  const before = readFileSync(file, 'utf8');
  const err = await t.throwsAsync(writeKeyFile(file, PrivateKey.generate(), 'pw'), { instanceOf: KeyFileError });
  t.is(err!.reason, 'exists');
  t.is(readFileSync(file, 'utf8'), before);
});

test('an altered header or ciphertext does not open', async (t) => {
  const text = await sealKey(key, 'pw');
  const doc = JSON.parse(text) as Record<string, unknown>;
  const other = PrivateKey.generate();
  const altered: [string, Record<string, unknown>, RegExp][] = [
    ['public key swapped (kid too)', { ...doc, publicKey: Buffer.from(other.publicKey).toString('hex'), kid: Buffer.from(other.kid).toString('hex') }, /does not decrypt/],
    ['kid of another key', { ...doc, kid: Buffer.from(other.kid).toString('hex') }, /thumbprint/],
    ['cost lowered', { ...doc, kdf: { ...(doc.kdf as object), N: 2 ** 14 } }, /scrypt cost/],
    ['cost raised beyond the limit', { ...doc, kdf: { ...(doc.kdf as object), N: 2 ** 30 } }, /scrypt cost/],
    ['version', { ...doc, version: 2 }, /version 2 is not supported/],
    ['sealed flipped', { ...doc, sealed: Buffer.from(Buffer.from(doc.sealed as string, 'base64').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64') }, /does not decrypt/],
  ];
  for (const [what, d, msg] of altered) {
    const err = await t.throwsAsync(async () => {
      const { unsealKey } = await import('../../../ledger/keys/keyfile.ts');
      return unsealKey(parseKeyFile(JSON.stringify(d)), 'pw');
    }, { instanceOf: KeyFileError }, what);
    t.regex(err!.message, msg, what);
  }
  for (const junk of ['', 'null', '[]', '{"format":"voltrail-key"}', 'x'.repeat(100)]) t.throws(() => parseKeyFile(junk), { instanceOf: KeyFileError });
  await t.throwsAsync(loadKeyFile(join(dir, 'missing.key'), 'pw'), { instanceOf: KeyFileError, message: /voltrail keys new/ });
  const big = fresh();
  writeFileSync(big, 'x'.repeat(10_000), { mode: 0o600 });
  await t.throwsAsync(loadKeyFile(big, 'pw'), { instanceOf: KeyFileError, message: /too large/ });
});

test('a PrivateKey never shows its secret: inspect, String, JSON, template, errors', (t) => {
  for (const text of [inspect(key), inspect({ nested: { key } }, { depth: 5, showHidden: true }), String(key), `${key}`, JSON.stringify({ key }), JSON.stringify(key)]) {
    t.false(text.toLowerCase().includes(secretHex), text);
    t.false(text.includes(secretB64), text);
    t.regex(text, /[0-9a-f]{64}/); // the kid, the public identity
  }
  t.deepEqual(Object.keys(key).sort(), ['alg', 'curve', 'kid', 'publicKey']);
});

test('passphrase sources: file, environment, prompt (confirmed), none', async (t) => {
  const pf = fresh();
  writeFileSync(pf, 'from file\n', { mode: 0o600 });
  t.is(await readPassphrase({ file: pf, env: { VOLTRAIL_KEY_PASSPHRASE: 'env' } }), 'from file');
  t.is(await readPassphrase({ env: { VOLTRAIL_KEY_PASSPHRASE: 'env' } }), 'env');
  const answers = ['typed', 'typed'];
  t.is(await readPassphrase({ env: {}, prompt: async () => answers.shift()! }, { confirm: true }), 'typed');
  const differ = ['one', 'two'];
  await t.throwsAsync(readPassphrase({ env: {}, prompt: async () => differ.shift()! }, { confirm: true }), { instanceOf: PassphraseError, message: /differ/ });
  await t.throwsAsync(readPassphrase({ env: {} }), { instanceOf: PassphraseError, message: /--passphrase-file/ });
  chmodSync(pf, 0o644);
  await t.throwsAsync(readPassphrase({ file: pf }), { instanceOf: PassphraseError, message: /chmod 600/ });
  await t.throwsAsync(readPassphrase({ file: join(dir, 'nope') }), { instanceOf: PassphraseError, message: /ENOENT/ });
});
