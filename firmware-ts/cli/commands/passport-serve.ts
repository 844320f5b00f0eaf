// `voltrail passport serve | token | cert`: the recycler's page. `serve` answers the URL in each
// battery's QR code (passportUrl) over HTTPS with the passport page, which verifies the bundle in
// the browser; `token` manages the bearer tokens of the legitimate-interest view; `cert` makes a
// self-signed bench certificate with openssl. Guide: firmware-ts/PASSPORT-PAGE.md.
// Registers under the `passport` command group (made here when the group is not there yet).
import { InvalidArgumentError, type Command } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { parseNonNegativeInt } from '../parse.ts';
import { AccessTokens, addToken, listTokens, revokeToken, TokenFileError } from '../../passport-page/server/access-tokens.ts';
import { defaultHostNames, makeBenchCertificate } from '../../passport-page/server/bench-certificate.ts';
import { BundleIndex } from '../../passport-page/server/bundle-index.ts';
import { bundleInfoReader } from '../../passport-page/server/bundle-info.ts';
import { buildPageAssets } from '../../passport-page/server/page-assets.ts';
import { listen, type RunningServer, type TrustAnchor } from '../../passport-page/server/passport-server.ts';
import { passportUrl } from '../../../ledger/passport/passport-url.ts';
import type { Curve } from '../../../ledger/signers/backend.ts';
import { fleetPublicKey, readFleetFile } from '../../../ledger/identity/fleet-authority.ts';
import { TRUST_ENV } from './passport.ts';

const DEFAULT_TOKENS = '.voltrail-passport/tokens.json';
const DEFAULT_TLS_DIR = '.voltrail-passport/tls';

const KEY = /^(?:(secp256k1|p256|P-256):)?((?:02|03)[0-9a-fA-F]{64}|04[0-9a-fA-F]{128})$/;

/**
 * A fleet authority public key, as `voltrail passport verify --trust` takes it: hex (secp256k1,
 * the fleet's curve; `p256:HEX` for P-256), a fleet authority folder, or a file holding the hex.
 */
export function parseTrustKey(text: string, previous: TrustAnchor[] = []): TrustAnchor[] {
  const t = text.trim();
  let m = KEY.exec(t);
  if (!m && existsSync(t) && statSync(t).isDirectory()) {
    try {
      const k = fleetPublicKey(readFleetFile(t));
      return [...previous, { publicKey: Buffer.from(k.publicKey).toString('hex'), curve: k.curve }];
    } catch (err) {
      throw new InvalidArgumentError(`${t}: ${(err as Error).message}`);
    }
  }
  if (!m && existsSync(t) && statSync(t).isFile()) m = KEY.exec(readFileSync(t, 'utf8').slice(0, 4096).trim().split(/\s+/)[0] ?? '');
  if (!m) throw new InvalidArgumentError(`'${text}' is not a public key: give the fleet authority's key as hex (33 bytes compressed or 65 uncompressed; 'voltrail fleet init' prints it; 'p256:' before a P-256 key), its fleet folder, or a file holding the hex`);
  const curve: Curve = m[1] === 'p256' || m[1] === 'P-256' ? 'P-256' : 'secp256k1';
  return [...previous, { publicKey: m[2]!.toLowerCase(), curve }];
}

function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

function passportGroup(program: Command): Command {
  return program.commands.find((c) => c.name() === 'passport') ?? program.command('passport').description('battery passport: export, verify, show, qr, serve');
}

interface ServeFlags {
  dir: string;
  port: number;
  host: string;
  tlsCert?: string;
  tlsKey?: string;
  selfSigned?: string | true;
  http?: boolean;
  tokens: string;
  trust?: TrustAnchor[];
  crl?: string[];
  baseUrl?: string;
  json?: boolean;
  quiet?: boolean;
}

async function serve(flags: ServeFlags): Promise<void> {
  const pinned = (process.env[TRUST_ENV] ?? '').split(',').filter((k) => k.trim() !== '');
  if (!flags.trust?.length && pinned.length) flags.trust = pinned.reduce<TrustAnchor[]>((acc, k) => parseTrustKey(k, acc), []);
  if (!flags.trust?.length) throw new UserError(`give the fleet authority key(s) the page verifies against with --trust HEX ('voltrail fleet init' prints it) or pin them in ${TRUST_ENV}: a passport is never trusted on its own keys`, 2);
  const modes = [flags.tlsCert || flags.tlsKey ? 'tls' : '', flags.selfSigned ? 'self' : '', flags.http ? 'http' : ''].filter(Boolean);
  if (modes.length > 1) throw new UserError('choose one of --tls-cert/--tls-key, --self-signed and --http', 2);
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UserError('--tls-cert and --tls-key go together', 2);
  if (modes.length === 0) throw new UserError('the page needs HTTPS (a phone camera and WebCrypto need a secure context): give --tls-cert FILE --tls-key FILE, or --self-signed for a bench certificate; --http only behind a TLS-terminating proxy', 2);

  let tls: { key: Buffer; cert: Buffer } | undefined;
  if (flags.selfSigned) {
    const dir = flags.selfSigned === true ? DEFAULT_TLS_DIR : flags.selfSigned;
    const c = await makeBenchCertificate(dir).catch((err: Error) => {
      throw new UserError(err.message);
    });
    tls = { key: await readFile(c.keyFile), cert: await readFile(c.certFile) };
    if (!flags.json && !flags.quiet) process.stderr.write(`${c.created ? 'made' : 'using'} the self-signed certificate ${c.certFile} for ${c.names.join(', ')}: a phone asks once whether to trust it\n`);
  } else if (flags.tlsCert && flags.tlsKey) {
    const read = (f: string, what: string) =>
      readFile(f).catch((err: NodeJS.ErrnoException) => {
        throw new UserError(`${what} ${f}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
      });
    tls = { key: await read(flags.tlsKey, '--tls-key'), cert: await read(flags.tlsCert, '--tls-cert') };
  }

  let tokens = AccessTokens.none();
  try {
    tokens = await AccessTokens.load(flags.tokens);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError((err as Error).message);
  }
  const trust = flags.trust;
  const index = await BundleIndex.open(resolve(flags.dir), bundleInfoReader(trust.map((a) => ({ publicKey: fromHex(a.publicKey), curve: a.curve })))).catch((err: Error) => {
    throw new UserError(err.message);
  });
  const revocationLists = await Promise.all(
    (flags.crl ?? []).map((f) =>
      readFile(f).then(
        (b) => new Uint8Array(b),
        (err: NodeJS.ErrnoException) => {
          throw new UserError(`--crl ${f}: ${err.code === 'ENOENT' ? "no such file (make one with 'voltrail fleet crl --out FILE')" : err.message}`);
        },
      ),
    ),
  );
  const assets = await buildPageAssets();
  let base = flags.baseUrl;
  const log = flags.quiet
    ? undefined
    : (e: { method: string; path: string; status: number; tier?: string; holder?: string; ms: number }) =>
        process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n');
  let origin = '';
  const running: RunningServer = await listen(
    { index, tokens, assets, trust, revocationLists, tls, log, linkFor: (id: string): string => passportUrl(id, base ?? origin) },
    flags.port,
    flags.host,
  ).catch((err: Error) => {
    throw new UserError(err.message);
  });
  origin = running.origin;
  if (!base) {
    // The URL a phone on the LAN can reach, unless the operator names the public one.
    const lan = defaultHostNames().find((h) => /^\d+\.\d+\.\d+\.\d+$/.test(h) && h !== '127.0.0.1');
    base = flags.host === '0.0.0.0' && lan ? running.origin.replace('127.0.0.1', lan) : running.origin;
  }
  const batteries = index.all().map((b) => ({ batteryId: b.batteryId, url: passportUrl(b.batteryId, base!), tiers: Object.keys(b.files) }));
  if (flags.json) {
    process.stdout.write(JSON.stringify({ origin: running.origin, baseUrl: base, tls: !!tls, tokens: tokens.size, batteries, skipped: index.skipped }) + '\n');
  } else {
    process.stdout.write(`passport page on ${running.origin} (QR links: ${base}); ${batteries.length} batteries, ${tokens.size} access tokens\n`);
    for (const b of batteries) process.stdout.write(`  ${b.url}  ${b.batteryId} (${b.tiers.join(', ')})\n`);
    for (const s of index.skipped) process.stdout.write(`  skipped ${s.file}: ${s.reason}\n`);
    if (tokens.size === 0) process.stdout.write(`  no access tokens (${flags.tokens}): only public views are served; add one with 'voltrail passport token add NAME'\n`);
  }
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void running.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerPassportServe(program: Command): void {
  const passport = passportGroup(program);
  passport
    .command('serve')
    .description("serve the recycler's page: each battery's QR link opens its passport, verified in the browser (guide: firmware-ts/PASSPORT-PAGE.md)")
    .requiredOption('--dir <folder>', "folder of passport bundles ('voltrail passport export --out DIR/NAME.cbor', public and/or full tier)")
    .option('--trust <key>', `fleet authority public key the page verifies against: hex ('p256:HEX' for P-256), a fleet folder, or a file holding the key; repeat for more (default: ${TRUST_ENV})`, parseTrustKey)
    .option('--crl <file...>', "the fleet's signed revocation lists ('voltrail fleet crl --out FILE'), checked by the page beside the bundle's own; the newest counts")
    .option('--port <n>', 'TCP port', parseNonNegativeInt, 8443)
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--tls-cert <file>', 'TLS certificate chain (PEM)')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--self-signed [dir]', `make (once) and use a self-signed bench certificate in dir (default ${DEFAULT_TLS_DIR})`)
    .option('--http', 'plain HTTP, only behind a reverse proxy that terminates TLS')
    .option('--tokens <file>', 'access tokens of the legitimate-interest view', DEFAULT_TOKENS)
    .option('--base-url <url>', 'the URL the QR codes carry (default: this server on its LAN address)')
    .option('--json', 'print the start-up summary as one JSON line')
    .option('--quiet', 'no request log on stderr')
    .action(serve);

  const token = passport.command('token').description('access tokens for the legitimate-interest view (shown once; stored as SHA-256)');
  token
    .command('add <name>')
    .description('make a token for NAME (e.g. a recycler) and print it once')
    .option('--tokens <file>', 'tokens file', DEFAULT_TOKENS)
    .action(async (name: string, flags: { tokens: string }) => {
      const { mkdir } = await import('node:fs/promises');
      const { dirname } = await import('node:path');
      await mkdir(dirname(resolve(flags.tokens)), { recursive: true, mode: 0o700 });
      try {
        const t = await addToken(flags.tokens, name);
        process.stdout.write(`${t}\n`);
        process.stderr.write(`token for '${name}' added to ${flags.tokens}; it is shown only now: hand it to ${name} over a private channel\n`);
      } catch (err) {
        if (err instanceof TokenFileError || err instanceof RangeError) throw new UserError(err.message);
        throw err;
      }
    });
  token
    .command('list')
    .description('names and creation times of the tokens')
    .option('--tokens <file>', 'tokens file', DEFAULT_TOKENS)
    .option('--json', 'as JSON')
    .action(async (flags: { tokens: string; json?: boolean }) => {
      const list = await listTokens(flags.tokens).catch((err: Error) => {
        throw new UserError(err.message);
      });
      if (flags.json) process.stdout.write(JSON.stringify(list) + '\n');
      else process.stdout.write(list.length ? list.map((t) => `${t.name}\t${t.created}`).join('\n') + '\n' : `no tokens in ${flags.tokens}\n`);
    });
  token
    .command('revoke <name>')
    .description("remove NAME's token (a running server picks it up on restart)")
    .option('--tokens <file>', 'tokens file', DEFAULT_TOKENS)
    .action(async (name: string, flags: { tokens: string }) => {
      if (!(await revokeToken(flags.tokens, name).catch((err: Error) => { throw new UserError(err.message); }))) throw new UserError(`${flags.tokens}: no token named '${name}'`);
      process.stdout.write(`revoked the token of '${name}'\n`);
    });

  passport
    .command('cert')
    .description('make a self-signed TLS certificate for a bench (openssl; key 0600)')
    .option('--out <dir>', 'folder for key.pem and cert.pem', DEFAULT_TLS_DIR)
    .option('--host <name...>', 'host names and IP addresses the phone will use (default: localhost and this machine\'s addresses)')
    .option('--days <n>', 'validity in days', parseNonNegativeInt, 825)
    .action(async (flags: { out: string; host?: string[]; days: number }) => {
      const c = await makeBenchCertificate(flags.out, { hosts: flags.host, days: flags.days }).catch((err: Error) => {
        throw new UserError(err.message);
      });
      process.stdout.write(`${c.created ? 'made' : 'kept the existing'} ${c.certFile} and ${c.keyFile} (${c.names.join(', ')})\n`);
    });
}
