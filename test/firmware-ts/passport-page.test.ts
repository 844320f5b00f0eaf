// The recycler's page end to end in headless Chromium (Debian's, driven by playwright-core):
// a real `voltrail passport serve` over HTTPS with a self-signed bench certificate; the URL the
// battery's QR code carries, encoded by the qrcode package and read back by an independent
// decoder (zbarimg); the public view without a token, the full view with one; a green verdict
// and charts for a good bundle, a red verdict naming the reason for each kind of tampering the
// passport verifier names (the same reason as the verifier in Node gives for the same bytes).
// Screenshots of both verdicts go to test-output/passport-page/ (git-ignored).
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import QRCode from 'qrcode';
import { chromium, type Browser, type Page } from 'playwright-core';
import { VOLTRAIL, runCli } from '../helpers/cli.ts';
import { BATTERY, makePageWorld, type PageWorld } from '../helpers/passport-page-world.ts';
import { makeFleet } from '../helpers/passport-world.ts';
import { decodeBundle, encodeBundle, type PassportBundle } from '../../ledger/passport/bundle.ts';
import { verifyPassport, type PassportFailureCode } from '../../ledger/passport/verify.ts';
import { passportUrl } from '../../ledger/passport/passport-url.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { sign1 } from '../../ledger/cose/sign1.ts';
import { peekSign1Payload } from '../../ledger/identity/cose-peek.ts';
import { TYP } from '../../ledger/typ.ts';
import type { PublicKeyRef } from '../../ledger/identity/device-cert.ts';
import { AccessTokens, addToken } from '../../firmware-ts/passport-page/server/access-tokens.ts';
import { makeBenchCertificate } from '../../firmware-ts/passport-page/server/bench-certificate.ts';
import { BundleIndex } from '../../firmware-ts/passport-page/server/bundle-index.ts';
import { bundleInfoReader } from '../../firmware-ts/passport-page/server/bundle-info.ts';
import { buildPageAssets, type PageAssets } from '../../firmware-ts/passport-page/server/page-assets.ts';
import { listen, type RunningServer } from '../../firmware-ts/passport-page/server/passport-server.ts';

const run = promisify(execFile);
const SHOTS = fileURLToPath(new URL('../../test-output/passport-page/', import.meta.url));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

let world: PageWorld;
let browser: Browser;
let assets: PageAssets;
let tls: { key: Buffer; cert: Buffer };
let tmp: string;
const servers: RunningServer[] = [];

function chromiumPath(): string {
  const found = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
  if (!found) throw new Error("no Chromium: install the Debian package 'chromium' (scripts/setup.sh does), or set CHROMIUM_PATH");
  return found;
}

/** The URL a scanner reads off the battery's QR code: encoded by qrcode, decoded by zbarimg. */
async function scanQr(url: string): Promise<string> {
  const png = join(tmp, `qr-${Math.random().toString(36).slice(2)}.png`);
  await QRCode.toFile(png, url, { errorCorrectionLevel: 'M', margin: 4, scale: 6 });
  const { stdout } = await run('zbarimg', ['--quiet', '--raw', png]);
  return stdout.trim();
}

/** Serves `bundles` from a folder of their own, in process, over HTTPS, trusting `trust`. */
async function serveBundles(bundles: Uint8Array[], trust: PublicKeyRef, tokens = AccessTokens.none(), revocationLists: Uint8Array[] = []): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmp, 'bundles-'));
  await Promise.all(bundles.map((b, i) => writeFile(join(dir, `passport-${i}.cbor`), b)));
  const index = await BundleIndex.open(dir, bundleInfoReader([trust]));
  let origin = '';
  const s = await listen(
    { index, tokens, assets, tls, revocationLists, trust: [{ publicKey: hex(trust.publicKey), curve: trust.curve }], linkFor: (id) => passportUrl(id, origin) },
    0,
    '127.0.0.1',
  );
  origin = s.origin;
  servers.push(s);
  return s;
}

async function openPage(url: string, token?: string): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  if (token) await context.addInitScript((t) => localStorage.setItem('voltrail-passport-token', t), token);
  // Records every progress text the page shows while the worker verifies.
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { progressSeen: string[] }).progressSeen = seen;
    new MutationObserver(() => {
      const text = document.getElementById('progress-text')?.textContent;
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('#verdict[data-state="ok"], #verdict[data-state="fail"]', { timeout: 60_000 });
  return page;
}

test.before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'vt-page-'));
  await mkdir(SHOTS, { recursive: true });
  const cert = await makeBenchCertificate(join(tmp, 'tls'), { hosts: ['127.0.0.1', 'localhost'] });
  tls = { key: await readFile(cert.keyFile), cert: await readFile(cert.certFile) };
  [world, assets, browser] = await Promise.all([makePageWorld(5), buildPageAssets(), chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] })]);
});

test.after.always(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await browser?.close();
  if (world) await rm(world.root, { recursive: true, force: true });
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('the page build bundles the ledger verifier for the browser, Node built-ins replaced by browser modules', (t) => {
  const js = new TextDecoder().decode(assets.files.get('/assets/verify-worker.js')!.body);
  t.true(js.length > 10_000);
  t.false(/require\(["']node:/.test(js) || /from ?["']node:/.test(js), 'no Node import is left in the browser bundle');
  t.true(assets.shimmed.some((s) => s.module === 'node:crypto'), 'node:crypto is replaced');
  t.true(assets.shimmed.some((s) => s.shim === 'openssl-verify.ts'), 'ECDSA checks run on noble in the browser');
  t.log(`verifier bundle ${(js.length / 1024).toFixed(0)} KiB; replaced: ${[...new Set(assets.shimmed.map((s) => s.module))].join(', ')}`);
});

test('voltrail passport serve: the QR link opens the public view (green, no usage data) and, with a token, the full view with its charts', async (t) => {
  t.timeout(180_000);
  const dir = join(tmp, 'served');
  await mkdir(dir);
  await writeFile(join(dir, 'pk-0001-public.cbor'), world.public);
  await writeFile(join(dir, 'pk-0001-full.cbor'), world.full);
  const tokensFile = join(tmp, 'tokens.json');
  const added = await runCli(['passport', 'token', 'add', 'recycler-1', '--tokens', tokensFile]);
  t.is(added.code, 0, added.stderr);
  const token = added.stdout.trim();
  const child = spawn(
    process.execPath,
    [VOLTRAIL, 'passport', 'serve', '--dir', dir, '--trust', hex(world.fleet.publicKey.publicKey), '--self-signed', join(tmp, 'cli-tls'), '--host', '127.0.0.1', '--port', '0', '--tokens', tokensFile, '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.teardown(() => void child.kill('SIGTERM'));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.on('close', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  const started = JSON.parse(line) as { origin: string; batteries: { batteryId: string; url: string; tiers: string[] }[]; tokens: number };
  t.is(started.tokens, 1);
  t.deepEqual(started.batteries.map((b) => [b.batteryId, b.tiers.sort()]), [[BATTERY, ['full', 'public']]]);
  t.is(started.batteries[0]!.url, passportUrl(BATTERY, started.origin), 'the link is the one passportUrl makes for this server');

  const url = await scanQr(started.batteries[0]!.url);
  t.is(url, started.batteries[0]!.url, 'the QR code carries the link');

  // Not signed in: the public tier, verified, without usage data.
  const pub = await openPage(url);
  t.is(await pub.getAttribute('#verdict', 'data-state'), 'ok', await pub.textContent('#verdict') ?? '');
  t.is(await pub.getAttribute('#passport', 'data-tier'), 'public');
  t.regex((await pub.textContent('#identity')) ?? '', /ACME Cells[\s\S]*PK-75[\s\S]*NMC/);
  t.true(await pub.isVisible('#public-note'));
  t.is(await pub.locator('#chart-soh, #chart-capacity, #chart-temperature, #chart-events, #lifecycle').count(), 0, 'no usage data in the public view');
  const bundleAnon = await pub.evaluate(async (id) => {
    const r = await fetch(`/api/passports/${encodeURIComponent(id)}/bundle`);
    return { tier: r.headers.get('voltrail-tier'), bytes: Array.from(new Uint8Array(await r.arrayBuffer())) };
  }, BATTERY);
  t.is(bundleAnon.tier, 'public');
  t.is(decodeBundle(Uint8Array.from(bundleAnon.bytes)).logs.length, 0, 'the bytes an anonymous caller gets hold no log');
  const wrong = await pub.evaluate(async () => (await fetch('/api/whoami', { headers: { authorization: 'Bearer vtp_not-a-token' } })).status);
  t.is(wrong, 401);
  await pub.screenshot({ path: join(SHOTS, 'verified-public.png'), fullPage: true });

  // Signing in on the page: the full tier, verified, with its charts.
  await pub.evaluate(() => void ((window as unknown as { progressSeen: string[] }).progressSeen.length = 0));
  await pub.fill('#token', token);
  await pub.click('#token-form button[type="submit"]');
  await pub.waitForSelector('#passport[data-tier="full"]', { timeout: 60_000 });
  await pub.waitForSelector('#verdict[data-state="ok"]');
  t.is(await pub.textContent('#verdict-title'), 'Verified');
  const browserMs = Number(await pub.getAttribute('#passport', 'data-verify-ms'));
  const t0 = performance.now();
  t.true(verifyPassport(world.full, { trust: world.fleet.publicKey }).ok);
  const nodeMs = performance.now() - t0;
  t.log(`verifying the ${(world.full.length / 1024).toFixed(0)} KiB full bundle: browser worker (noble) ${browserMs.toFixed(0)} ms, Node (OpenSSL verify) ${nodeMs.toFixed(0)} ms: ratio ${(browserMs / nodeMs).toFixed(1)}`);
  const progress = await pub.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
  const pcts = progress.map((p) => /checking signatures (\d+) %/.exec(p)?.[1]).filter((p) => p !== undefined).map(Number);
  t.true(pcts.some((p) => p > 0 && p < 100), `progress was shown while verifying: ${progress.join(' | ')}`);
  t.deepEqual(pcts, [...pcts].sort((a, b) => a - b), 'progress only goes forward');
  for (const id of ['chart-soh', 'chart-capacity', 'chart-temperature']) {
    t.true((await pub.locator(`#${id} svg polyline`).count()) >= 1, `${id} draws a line`);
  }
  t.true((await pub.locator('#chart-events svg rect.mark').count()) >= 4, 'the events are marked on the strip');
  t.regex((await pub.textContent('#event-list')) ?? '', /over-temperature[\s\S]*deep-discharge|deep-discharge[\s\S]*over-temperature/);
  t.regex((await pub.textContent('#status-history')) ?? '', /original/);
  t.regex((await pub.textContent('#checked')) ?? '', /countersigned by a witness/);
  t.regex((await pub.textContent('#who')) ?? '', /recycler-1/);
  const width = await pub.evaluate(() => document.documentElement.scrollWidth);
  t.true(width <= 390, `the page fits a 390 px screen (scroll width ${width})`);
  const shot = join(SHOTS, 'verified-full.png');
  await pub.screenshot({ path: shot, fullPage: true });
  t.log(`screenshots: ${join(SHOTS, 'verified-public.png')}, ${shot}`);
  t.false(stderr.includes(token) || stderr.includes(token.slice(4)), 'the token never reaches the request log');
  t.regex(stderr, /"holder":"recycler-1"/);
  await pub.context().close();
});

/** The kinds of tampering the passport verifier names, each made from the good full bundle. */
function tamperings(crl: Uint8Array): { kind: string; code: PassportFailureCode; bytes: Uint8Array; trust?: 'attacker'; crl?: Uint8Array }[] {
  const edit = (f: (b: PassportBundle) => void): Uint8Array => {
    const b = decodeBundle(world.full);
    f(b);
    return encodeBundle(b);
  };
  const mallory = PrivateKey.generate();
  return [
    { kind: 'substituted authority', code: 'wrong-authority', bytes: world.full, trust: 'attacker' },
    // The board's key was reported compromised on day 3; the operator holds the fleet's newest list.
    { kind: 'board key revoked (revocation list held by the operator)', code: 'revoked', bytes: world.full, crl },
    {
      kind: 'record re-signed by an uncertified key',
      code: 'uncertified',
      bytes: edit((b) => {
        const r = b.logs[0]!.records[2]!;
        r.leaf = sign1({ payload: peekSign1Payload(r.leaf), typ: TYP.event, signer: mallory });
      }),
    },
    {
      kind: 'missing record',
      code: 'missing-record',
      bytes: edit((b) => {
        const recs = b.logs[0]!.records;
        recs.splice(recs.findIndex((r, k) => k > 0 && new TextDecoder().decode(r.leaf).includes('deep-discharge')), 1);
      }),
    },
    {
      kind: 'reordered records',
      code: 'reordered',
      bytes: edit((b) => {
        const recs = b.logs[0]!.records;
        [recs[2], recs[3]] = [recs[3]!, recs[2]!];
      }),
    },
    {
      kind: 'truncated history',
      code: 'truncated',
      bytes: edit((b) => {
        const l = b.logs[0]!;
        l.checkpoints.pop();
        l.consistency.pop();
        l.witnesses = [];
      }),
    },
    {
      kind: 'altered inclusion proof',
      code: 'bad-inclusion',
      bytes: edit((b) => {
        b.logs[0]!.records[1]!.path[0]![0]! ^= 0x01;
      }),
    },
    {
      kind: 'altered consistency proof between checkpoints',
      code: 'bad-consistency',
      bytes: edit((b) => {
        b.logs[0]!.consistency[0]![0]![0]! ^= 0x01;
      }),
    },
    {
      kind: 'flipped byte in a signed record',
      code: 'bad-signature',
      bytes: edit((b) => {
        const leaf = b.logs[0]!.records[4]!.leaf;
        leaf[leaf.length - 10]! ^= 0x01;
      }),
    },
  ];
}

test('each kind of tampering: the page shows the red verdict and the reason, the same as the verifier in Node', async (t) => {
  t.timeout(240_000);
  const attacker = await makeFleet(world.root, 'attacker-fleet');
  const tokensFile = join(tmp, 'tamper-tokens.json');
  const token = await addToken(tokensFile, 'recycler-2');
  const tokens = await AccessTokens.load(tokensFile);
  await world.fleet.revoke(world.boardKid, 'compromised', Date.UTC(2026, 2, 3));
  const crl = (await world.fleet.revocationList(Date.UTC(2026, 2, 10))).bytes;
  let first = true;
  for (const c of tamperings(crl)) {
    const trust = c.trust === 'attacker' ? attacker.publicKey : world.fleet.publicKey;
    const revocationLists = c.crl ? [c.crl] : [];
    const node = verifyPassport(c.bytes, { trust, revocationLists });
    t.false(node.ok, `${c.kind}: the Node verifier refuses it`);
    t.is(node.failure?.code, c.code, `${c.kind}: ${node.failure?.message}`);
    const s = await serveBundles([c.bytes], trust, tokens, revocationLists);
    const page = await openPage(await scanQr(passportUrl(BATTERY, s.origin)), token);
    t.is(await page.getAttribute('#verdict', 'data-state'), 'fail', c.kind);
    t.is(await page.textContent('#verdict-title'), 'Not verified');
    t.true(((await page.textContent('#verdict-meaning')) ?? '').length > 10, `${c.kind}: a plain-language meaning is shown`);
    const reason = (await page.textContent('#verdict-reason')) ?? '';
    t.is(reason, `${node.failure!.where}: ${node.failure!.message} (${node.failure!.code})`, `${c.kind}: the browser names the same reason`);
    if (first) {
      const shot = join(SHOTS, 'not-verified.png');
      await page.screenshot({ path: shot, fullPage: true });
      t.log(`screenshot of a red verdict (${c.kind}): ${shot}`);
      first = false;
    }
    t.log(`${c.kind}: ${reason}`);
    await page.context().close();
  }
});

test('the front page finds a battery by id, manufacturer or model, and its result link is the QR link', async (t) => {
  const s = await serveBundles([world.public], world.fleet.publicKey);
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(s.origin + '/');
  t.true(await page.isHidden('#verdict'));
  await page.fill('#search-q', 'acme pk-75');
  await page.click('#search-form button[type="submit"]');
  const link = page.locator('#search-results a');
  await link.first().waitFor();
  t.is(await link.count(), 1);
  t.is(await link.textContent(), BATTERY);
  t.is(new URL(await link.getAttribute('href') ?? '', s.origin).pathname, new URL(passportUrl(BATTERY, s.origin)).pathname);
  await link.click();
  await page.waitForSelector('#verdict[data-state="ok"]', { timeout: 60_000 });
  await page.fill('#search-q', 'no-such-battery');
  await page.click('#search-form button[type="submit"]');
  await page.waitForSelector('#search-results li');
  t.regex((await page.textContent('#search-results')) ?? '', /no passport matches/);
  const missing = await page.evaluate(async () => (await fetch('/api/passports/urn%3Avoltrail%3Abattery%3AX%3AY/bundle')).status);
  t.is(missing, 404);
  await context.close();
});
