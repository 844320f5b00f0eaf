// The passport server without a browser: access tokens (stored hashed, checked in constant
// time, never written in clear), the bench certificate made by the real openssl (key 0600,
// subjectAltName with the hosts), the QR link form, the HTTP routes over a real bundle, and the
// chart ticks.
import test from 'ava';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessTokens, addToken, bearerToken, listTokens, revokeToken, TokenFileError } from '../../firmware-ts/passport-page/server/access-tokens.ts';
import { makeBenchCertificate } from '../../firmware-ts/passport-page/server/bench-certificate.ts';
import { niceTicks } from '../../firmware-ts/passport-page/browser/svg-chart.ts';
import { BundleIndex } from '../../firmware-ts/passport-page/server/bundle-index.ts';
import { bundleInfoReader } from '../../firmware-ts/passport-page/server/bundle-info.ts';
import type { PageAssets } from '../../firmware-ts/passport-page/server/page-assets.ts';
import { listen, type RequestLogEntry } from '../../firmware-ts/passport-page/server/passport-server.ts';
import { passportUrl } from '../../ledger/passport/passport-url.ts';
import { BATTERY, makePageWorld } from '../helpers/passport-page-world.ts';
import { runCli } from '../helpers/cli.ts';

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

test('passportUrl: {base}/battery/{manufacturer-id}/{serial}; a base path prefix is kept', (t) => {
  t.is(passportUrl('urn:voltrail:battery:ACME:PK-0001', 'https://passport.example.com'), 'https://passport.example.com/battery/ACME/PK-0001');
  t.is(passportUrl('ACME:PK-0001', 'https://h.example:8443/recyclers/'), 'https://h.example:8443/recyclers/battery/ACME/PK-0001');
  t.throws(() => passportUrl('urn:voltrail:battery:ACME:PK 1', 'https://h.example'), { instanceOf: RangeError, message: /battery id/ });
  t.throws(() => passportUrl('ACME:PK-1', 'ftp://h.example'), { instanceOf: RangeError, message: /https/ });
});

test('the server: tiers by token, content negotiation on the QR link, search, redirects, security headers, and a bad file skipped by name', async (t) => {
  t.timeout(120_000);
  const world = await makePageWorld(1);
  t.teardown(() => rm(world.root, { recursive: true, force: true }));
  const dir = await tempDir(t, 'vt-served-');
  await writeFile(join(dir, 'a-public.cbor'), world.public);
  await writeFile(join(dir, 'not-a-bundle.cbor'), 'hello');
  const tokensFile = join(dir, '.tokens.json');
  const token = await addToken(tokensFile, 'recycler');
  const trust = world.fleet.publicKey;
  const index = await BundleIndex.open(dir, bundleInfoReader([trust]));
  t.deepEqual(index.skipped.map((s) => s.file), [join(dir, 'not-a-bundle.cbor')], 'the unreadable file is named, the tokens file (hidden) is not read');
  const logged: RequestLogEntry[] = [];
  let origin = '';
  const assets: PageAssets = { html: '<meta name="voltrail-battery" content="{{battery}}">', files: new Map(), shimmed: [] };
  const s = await listen(
    { index, tokens: await AccessTokens.load(tokensFile), assets, trust: [{ publicKey: Buffer.from(trust.publicKey).toString('hex'), curve: trust.curve }], linkFor: (id) => passportUrl(id, origin), log: (e) => logged.push(e) },
    0,
    '127.0.0.1',
  );
  origin = s.origin;
  t.teardown(() => s.close());
  const link = passportUrl(BATTERY, origin);

  const page = await fetch(link);
  t.is(page.status, 200);
  t.is(await page.text(), `<meta name="voltrail-battery" content="${BATTERY}">`);
  t.regex(page.headers.get('content-security-policy') ?? '', /default-src 'self'.*frame-ancestors 'none'/);
  t.is(page.headers.get('x-content-type-options'), 'nosniff');

  const cbor = await fetch(link, { headers: { accept: 'application/cbor' } });
  t.is(cbor.headers.get('content-type'), 'application/cbor');
  t.is(cbor.headers.get('voltrail-tier'), 'public');
  t.deepEqual(new Uint8Array(await cbor.arrayBuffer()), world.public);

  const api = `${origin}/api/passports/${encodeURIComponent(BATTERY)}/bundle`;
  t.is((await fetch(api, { headers: { authorization: `Bearer ${token}` } })).headers.get('voltrail-tier'), 'public', 'only the public tier is here yet');
  // A new export dropped into the folder is served without a restart.
  await writeFile(join(dir, 'a-full.cbor'), world.full);
  await new Promise((r) => setTimeout(r, 1100));
  const full = await fetch(api, { headers: { authorization: `Bearer ${token}` } });
  t.is(full.headers.get('voltrail-tier'), 'full');
  t.is(full.headers.get('cache-control'), 'private, no-store');
  t.regex(full.headers.get('vary') ?? '', /Authorization/);
  t.deepEqual(new Uint8Array(await full.arrayBuffer()), world.full);
  t.is((await fetch(api)).headers.get('voltrail-tier'), 'public', 'no token, public tier');

  const bad = await fetch(api, { headers: { authorization: 'Bearer vtp_wrong' } });
  t.is(bad.status, 401);
  t.regex(bad.headers.get('www-authenticate') ?? '', /^Bearer/);
  t.regex(((await bad.json()) as { error: string }).error, /not valid/);

  const found = (await (await fetch(`${origin}/api/passports?q=${encodeURIComponent('acme nmc')}`)).json()) as { results: { batteryId: string; url: string; label: string; tiers: string[] }[] };
  t.deepEqual(found.results.map((r) => [r.batteryId, r.url, r.tiers.sort()]), [[BATTERY, link, ['full', 'public']]]);
  t.regex(found.results[0]!.label, /ACME Cells PK-75, NMC, 75 Ah/);
  t.deepEqual(((await (await fetch(`${origin}/api/passports?q=zzz`)).json()) as { results: unknown[] }).results, []);

  const redirect = await fetch(`${origin}/?id=${encodeURIComponent(BATTERY)}`, { redirect: 'manual' });
  t.is(redirect.status, 303);
  t.is(redirect.headers.get('location'), new URL(link).pathname);
  t.is((await fetch(`${origin}/battery/ACME/NOPE`)).status, 404);
  t.is((await fetch(`${origin}/api/passports/%E0%A4%A/bundle`)).status, 400);
  t.is((await fetch(link, { method: 'POST' })).status, 405);
  t.is((await fetch(`${origin}/api/config`).then((r) => r.json()) as { trust: { publicKey: string }[] }).trust[0]!.publicKey, Buffer.from(trust.publicKey).toString('hex'));

  // Guessing tokens: after 20 failures a minute the address gets 429.
  const codes: number[] = [];
  for (let i = 0; i < 21; i++) codes.push((await fetch(`${origin}/api/whoami`, { headers: { authorization: `Bearer vtp_guess${i}` } })).status);
  t.is(codes[codes.length - 1], 429);
  t.true(codes.slice(0, 18).every((c) => c === 401));

  t.false(JSON.stringify(logged).includes(token), 'the token is never logged');
  t.true(logged.some((e) => e.holder === 'recycler' && e.tier === 'full'));
});

test('the CLI: token add/list/revoke, cert, and serve refusing to start without a trust anchor or without TLS', async (t) => {
  t.timeout(180_000, 'several CLI starts on a loaded machine');
  const dir = await tempDir(t, 'vt-cli-');
  const tokens = join(dir, 'state', 'tokens.json');
  const add = await runCli(['passport', 'token', 'add', 'yard-7', '--tokens', tokens]);
  t.is(add.code, 0, add.stderr);
  t.regex(add.stdout.trim(), /^vtp_[A-Za-z0-9_-]{43}$/);
  t.regex(add.stderr, /shown only now/);
  const list = await runCli(['passport', 'token', 'list', '--tokens', tokens, '--json']);
  t.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((x) => x.name), ['yard-7']);
  t.false(list.stdout.includes(add.stdout.trim()));
  const again = await runCli(['passport', 'token', 'add', 'yard-7', '--tokens', tokens]);
  t.is(again.code, 1);
  t.regex(again.stderr, /exists already/);
  t.is((await runCli(['passport', 'token', 'revoke', 'yard-7', '--tokens', tokens])).code, 0);
  const gone = await runCli(['passport', 'token', 'revoke', 'yard-7', '--tokens', tokens]);
  t.is(gone.code, 1);
  t.regex(gone.stderr, /no token named 'yard-7'/);

  const cert = await runCli(['passport', 'cert', '--out', join(dir, 'tls'), '--host', 'bench.lan', '127.0.0.1']);
  t.is(cert.code, 0, cert.stderr);
  t.regex(cert.stdout, /made .*cert\.pem.*DNS:bench\.lan, IP:127\.0\.0\.1/);
  t.is((await stat(join(dir, 'tls', 'key.pem'))).mode & 0o777, 0o600);

  const noTrust = await runCli(['passport', 'serve', '--dir', dir, '--self-signed', join(dir, 'tls')]);
  t.is(noTrust.code, 2);
  t.regex(noTrust.stderr, /--trust HEX/);
  const key = '02' + 'ab'.repeat(32);
  const noTls = await runCli(['passport', 'serve', '--dir', dir, '--trust', key]);
  t.is(noTls.code, 2);
  t.regex(noTls.stderr, /needs HTTPS/);
  const badKey = await runCli(['passport', 'serve', '--dir', dir, '--trust', 'xyz', '--http']);
  t.is(badKey.code, 2);
  t.regex(badKey.stderr, /not a public key/);
  const noDir = await runCli(['passport', 'serve', '--dir', join(dir, 'nope'), '--trust', key, '--http', '--port', '0']);
  t.is(noDir.code, 1);
  t.regex(noDir.stderr, /no such folder/);
});
