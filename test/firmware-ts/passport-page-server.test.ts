// The passport server's parts that need no browser: access tokens (stored hashed, checked in
// constant time, never written in clear), the bench certificate made by the real openssl (key
// 0600, subjectAltName with the hosts), the page build (esbuild with the browser shims), and the
// chart ticks.
import test from 'ava';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessTokens, addToken, bearerToken, listTokens, revokeToken, TokenFileError } from '../../firmware-ts/passport-page/server/access-tokens.ts';
import { makeBenchCertificate } from '../../firmware-ts/passport-page/server/bench-certificate.ts';
import { niceTicks } from '../../firmware-ts/passport-page/browser/svg-chart.ts';

async function tempDir(t: { teardown(f: () => Promise<void>): void }, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('tokens: the file keeps only the SHA-256 of each token (mode 0600); verify names the holder; revoke removes it', async (t) => {
  const dir = await tempDir(t, 'vt-tokens-');
  const file = join(dir, 'tokens.json');
  const alice = await addToken(file, 'alice@recycler');
  const bob = await addToken(file, 'bob');
  t.regex(alice, /^vtp_[A-Za-z0-9_-]{43}$/);
  const text = await readFile(file, 'utf8');
  t.false(text.includes(alice) || text.includes(alice.slice(4)), 'the token itself is never stored');
  t.true(text.includes(createHash('sha256').update(alice).digest('hex')));
  t.is((await stat(file)).mode & 0o777, 0o600);

  const tokens = await AccessTokens.load(file);
  t.is(tokens.size, 2);
  t.deepEqual(tokens.verify(alice), { name: 'alice@recycler' });
  t.deepEqual(tokens.verify(bob), { name: 'bob' });
  t.is(tokens.verify(alice.slice(0, -1) + (alice.endsWith('A') ? 'B' : 'A')), undefined, 'one character off is refused');
  t.is(tokens.verify(''), undefined);
  t.is(AccessTokens.none().verify(alice), undefined);

  await t.throwsAsync(addToken(file, 'bob'), { instanceOf: TokenFileError, message: /exists already.*revoke/ });
  await t.throwsAsync(addToken(file, 'no spaces please'), { instanceOf: RangeError, message: /token name/ });
  t.true(await revokeToken(file, 'bob'));
  t.false(await revokeToken(file, 'bob'));
  t.deepEqual((await listTokens(file)).map((x) => x.name), ['alice@recycler']);
  t.is((await AccessTokens.load(file)).verify(bob), undefined, 'a revoked token no longer opens anything');
});

test('tokens: a damaged tokens file is refused with the file and the field named', async (t) => {
  const dir = await tempDir(t, 'vt-tokens-');
  const file = join(dir, 'tokens.json');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(file, '{"format":"voltrail-passport-tokens","version":1,"tokens":[{"name":"x","sha256":"zz"}]}');
  await t.throwsAsync(AccessTokens.load(file), { instanceOf: TokenFileError, message: /tokens\.json: tokens\[0\]\.sha256/ });
  await writeFile(file, 'not json');
  await t.throwsAsync(AccessTokens.load(file), { message: /not JSON/ });
});

test('bearerToken reads RFC 6750 Authorization headers only', (t) => {
  t.is(bearerToken('Bearer vtp_abc-_'), 'vtp_abc-_');
  t.is(bearerToken('bearer   vtp_x'), 'vtp_x');
  t.is(bearerToken('Basic dXNlcjpwYXNz'), undefined);
  t.is(bearerToken('Bearer two words'), undefined);
  t.is(bearerToken(undefined), undefined);
});

test('bench certificate: openssl makes a P-256 certificate for the hosts, the key is 0600, and a second call keeps both files', async (t) => {
  const dir = join(await tempDir(t, 'vt-cert-'), 'tls');
  const made = await makeBenchCertificate(dir, { hosts: ['localhost', '127.0.0.1', 'bench.lan'], days: 30 });
  t.true(made.created);
  t.is((await stat(made.keyFile)).mode & 0o777, 0o600);
  const cert = new X509Certificate(await readFile(made.certFile));
  t.regex(cert.subjectAltName ?? '', /DNS:localhost/);
  t.regex(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  t.regex(cert.subjectAltName ?? '', /DNS:bench\.lan/);
  t.is(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  t.true(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(await readFile(made.keyFile))));
  const again = await makeBenchCertificate(dir);
  t.false(again.created);
  t.deepEqual(await readFile(again.certFile), await readFile(made.certFile));
  await t.throwsAsync(makeBenchCertificate(join(dir, 'x'), { hosts: ['bad host;rm'] }), { instanceOf: RangeError, message: /not a host name/ });
});

test('chart ticks are round numbers that cover the range', (t) => {
  t.deepEqual(niceTicks(81.3, 99.2), [80, 85, 90, 95, 100]);
  t.deepEqual(niceTicks(0, 7), [0, 2, 4, 6, 8]);
  const flat = niceTicks(50, 50);
  t.true(flat[0]! < 50 && flat[flat.length - 1]! > 50, 'a flat series still gets an axis around it');
});
