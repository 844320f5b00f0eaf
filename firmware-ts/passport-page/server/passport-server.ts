// The recycler's passport server: answers the URL in a battery's QR code (an IEC 61406
// identification link) with the passport page, and serves each battery's bundle in the tier the
// caller may see (EU Battery Regulation 2023/1542 Annex XIII: the public view to anyone, the
// legitimate-interest view only with a bearer token, RFC 6750). The server never vouches for a
// bundle: the page verifies it in the browser against the trust anchors the operator pinned.
// HTTPS (node:https) on a real site and on a bench (a phone camera needs a secure context);
// plain HTTP only when asked for, for a reverse proxy in front.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { bearerToken, type AccessTokens, type TokenHolder } from './access-tokens.ts';
import type { BundleIndex, IndexedBattery, Tier } from './bundle-index.ts';
import type { PageAssets } from './page-assets.ts';
import type { Curve } from '../../../ledger/signers/backend.ts';

export interface TrustAnchor {
  /** Compressed or uncompressed public key, hex. */
  publicKey: string;
  curve: Curve;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  tier?: Tier;
  /** The name of the token's holder, never the token. */
  holder?: string;
  ms: number;
}

export interface PassportServerOptions {
  index: BundleIndex;
  tokens: AccessTokens;
  assets: PageAssets;
  /** The URL a battery's QR code carries (passportUrl with the operator's base URL). */
  linkFor: (batteryId: string) => string;
  /** The fleet authority keys the page verifies against. */
  trust: TrustAnchor[];
  /** Signed revocation lists the operator holds (voltrail fleet crl), given to the page beside the bundle's own: the newest counts. */
  revocationLists?: Uint8Array[];
  /** Key and certificate (PEM); without them the server speaks plain HTTP. */
  tls?: { key: Buffer; cert: Buffer };
  log?: (entry: RequestLogEntry) => void;
  now?: () => number;
}

export interface RunningServer {
  server: Server;
  /** Origin the server listens on, e.g. https://127.0.0.1:8443 */
  origin: string;
  close(): Promise<void>;
}

/** Failed token checks allowed per client address and minute before it gets 429 (guessing a 256-bit token is hopeless; this keeps logs and CPU quiet). */
const AUTH_FAILURES_PER_MINUTE = 20;

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Creates the request handler; `listen` wraps it in an HTTP(S) server. */
export function passportHandler(opts: PassportServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const now = opts.now ?? Date.now;
  const failures = new Map<string, { since: number; count: number }>();
  const hsts = opts.tls ? { 'strict-transport-security': 'max-age=31536000' } : {};

  const send = (res: ServerResponse, status: number, body: Uint8Array | string, type: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, ...hsts, 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
    res.end(body);
  };
  const sendJson = (res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}) =>
    send(res, status, JSON.stringify(value), 'application/json; charset=utf-8', { 'cache-control': 'no-store', ...extra });

  const revocationLists = (opts.revocationLists ?? []).map((b) => Buffer.from(b).toString('hex'));
  const pathOf = (id: string): string => new URL(opts.linkFor(id)).pathname;

  async function batteryAtPath(pathname: string): Promise<IndexedBattery | undefined> {
    await opts.index.refresh();
    return opts.index.all().find((b) => pathOf(b.batteryId) === pathname);
  }

  function describe(b: IndexedBattery) {
    return { batteryId: b.batteryId, label: b.label, url: opts.linkFor(b.batteryId), tiers: Object.keys(b.files) };
  }

  /** Who the caller is: undefined without a token; throws 401 for a token that is not valid. */
  function authenticate(req: IncomingMessage): TokenHolder | undefined {
    const header = req.headers.authorization;
    if (header === undefined) return undefined;
    const addr = req.socket.remoteAddress ?? '?';
    const f = failures.get(addr);
    if (f && now() - f.since < 60_000 && f.count >= AUTH_FAILURES_PER_MINUTE) throw new HttpError(429, 'too many failed token checks from this address; wait a minute');
    const token = bearerToken(header);
    const holder = token === undefined ? undefined : opts.tokens.verify(token);
    if (!holder) {
      const g = f && now() - f.since < 60_000 ? f : { since: now(), count: 0 };
      g.count++;
      failures.set(addr, g);
      if (failures.size > 10_000) failures.clear();
      throw new HttpError(401, 'the access token is not valid (ask the passport operator for one: voltrail passport token add NAME)');
    }
    return holder;
  }

  function page(res: ServerResponse, batteryId: string | undefined) {
    const html = opts.assets.html.replace('{{battery}}', batteryId ? escapeHtml(batteryId) : '');
    send(res, 200, html, 'text/html; charset=utf-8', { 'cache-control': 'no-cache' });
  }

  async function bundle(req: IncomingMessage, res: ServerResponse, b: IndexedBattery, entry: Partial<RequestLogEntry>) {
    const holder = authenticate(req);
    entry.holder = holder?.name;
    const tier: Tier | undefined = holder && b.files.full ? 'full' : b.files.public ? 'public' : undefined;
    if (!tier) {
      throw new HttpError(404, holder ? `no bundle of ${b.batteryId} is on this server` : `only the legitimate-interest view of ${b.batteryId} is on this server; sign in with an access token, or export the public tier (voltrail passport export --tier public)`);
    }
    entry.tier = tier;
    const bytes = await readFile(b.files[tier]!.file);
    send(res, 200, bytes, 'application/cbor', {
      'voltrail-tier': tier,
      'voltrail-full-available': b.files.full ? 'yes' : 'no',
      vary: 'Authorization',
      // The full tier is personal to its holder: never kept by a shared cache.
      'cache-control': tier === 'full' ? 'private, no-store' : 'no-cache',
      'content-disposition': `attachment; filename="passport-${tier}.cbor"`,
    });
  }

  async function route(req: IncomingMessage, res: ServerResponse, entry: Partial<RequestLogEntry>): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'only GET is answered here');
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    const asset = opts.assets.files.get(p);
    if (asset) return send(res, 200, asset.body, asset.type, { 'cache-control': 'no-cache' });
    if (p === '/' || p === '/index.html') {
      const id = url.searchParams.get('id');
      if (id !== null) {
        const b = await opts.index.get(id.trim());
        // The search box lands here: go to the battery's own link, the one its QR code carries.
        if (b) {
          res.writeHead(303, { ...SECURITY_HEADERS, location: pathOf(b.batteryId) + url.search.replace(/([?&])id=[^&]*&?/, '$1').replace(/[?&]$/, '') });
          res.end();
          return;
        }
      }
      return page(res, undefined);
    }
    if (p === '/api/config') return sendJson(res, 200, { trust: opts.trust, revocationLists: revocationLists, batteries: opts.index.size });
    if (p === '/api/whoami') {
      const holder = authenticate(req);
      entry.holder = holder?.name;
      return sendJson(res, 200, { authenticated: !!holder, name: holder?.name ?? null });
    }
    if (p === '/api/passports') {
      const found = await opts.index.search(url.searchParams.get('q') ?? '');
      return sendJson(res, 200, { results: found.map(describe) });
    }
    const m = /^\/api\/passports\/([^/]+)\/(bundle|info)$/.exec(p);
    if (m) {
      let id: string;
      try {
        id = decodeURIComponent(m[1]!);
      } catch {
        throw new HttpError(400, 'the battery id in the path is not valid percent-encoding');
      }
      const b = await opts.index.get(id);
      if (!b) throw new HttpError(404, `no passport of battery '${id}' is on this server`);
      if (m[2] === 'info') return sendJson(res, 200, describe(b));
      return bundle(req, res, b, entry);
    }
    const b = await batteryAtPath(p);
    if (b) {
      // GS1 Digital Link style content negotiation: a machine asking for CBOR gets the bundle itself.
      const accept = req.headers.accept ?? '';
      if (/application\/cbor/.test(accept) && !/text\/html/.test(accept)) return bundle(req, res, b, entry);
      return page(res, b.batteryId);
    }
    throw new HttpError(404, 'nothing here: scan a battery QR code, or search by battery id on the front page');
  }

  return (req, res) => {
    const t0 = performance.now();
    const entry: Partial<RequestLogEntry> = { method: req.method ?? '?', path: (req.url ?? '/').split('?')[0] };
    route(req, res, entry)
      .catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        const message = err instanceof HttpError ? err.message : 'internal error (see the server log)';
        if (!(err instanceof HttpError)) process.stderr.write(`passport server: ${(err as Error)?.stack ?? String(err)}\n`);
        if (!res.headersSent) sendJson(res, status, { error: message }, status === 401 ? { 'www-authenticate': 'Bearer realm="voltrail-passport"' } : {});
        else res.destroy();
      })
      .finally(() => opts.log?.({ ...entry, status: res.statusCode, ms: Math.round(performance.now() - t0) } as RequestLogEntry));
  };
}

/** Starts the server on `port` (0: any free port) and `host`. */
export async function listen(opts: PassportServerOptions, port: number, host = '0.0.0.0'): Promise<RunningServer> {
  const handler = passportHandler(opts);
  const server: Server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : createHttpServer(handler);
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is in use; pick another with --port`, { cause: err }) : err),
    );
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    server,
    origin: `${opts.tls ? 'https' : 'http'}://${shown}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
