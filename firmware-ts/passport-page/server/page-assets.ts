// Builds the passport page for the browser with esbuild, in memory, when the server starts: the
// page script, the verification worker (the ledger's own passport verifier, unchanged), the
// stylesheet and the HTML. Where the ledger imports Node built-ins, a plugin puts small browser
// modules in their place (browser/shims/: SHA-256 on @noble/hashes, randomness from WebCrypto, a
// Uint8Array-based Buffer, noble instead of OpenSSL for ECDSA), so the browser runs the SAME
// verification code as `voltrail passport verify`. Any other Node built-in on that path fails the
// build and names the importer, rather than breaking on a phone.
import { build, type Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';

export interface PageAsset {
  body: Uint8Array;
  type: string;
}

export interface PageAssets {
  /** index.html with a `{{battery}}` slot the server fills (HTML-escaped) with the battery id. */
  html: string;
  /** URL path -> file (`/assets/page.js`, ...). */
  files: Map<string, PageAsset>;
  /** Node built-ins (and Node-only modules) the bundles reached, each with the browser module that stands in for it. */
  shimmed: { module: string; importer: string; shim: string }[];
}

const BROWSER = new URL('../browser/', import.meta.url);
const SHIMS = new URL('../browser/shims/', import.meta.url);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const NODE_SHIMS: Record<string, string> = {
  crypto: 'node-crypto.ts',
  util: 'node-util.ts',
  buffer: 'buffer.ts',
};

/** Swaps Node built-ins (and the OpenSSL verify backend and the native Merkle hasher) for the browser modules in browser/shims/. */
function browserShims(shimmed: PageAssets['shimmed']): Plugin {
  const shim = (name: string) => fileURLToPath(new URL(name, SHIMS));
  return {
    name: 'voltrail-browser-shims',
    setup(b) {
      b.onResolve({ filter: /^(node:)?(crypto|util|buffer|fs|fs\/promises|path|os|zlib|events|worker_threads|child_process|net|http|https|url|stream|module)$/ }, (args) => {
        const name = args.path.replace(/^node:/, '');
        const file = NODE_SHIMS[name];
        const importer = relative(ROOT, args.importer);
        if (!file) {
          return { errors: [{ text: `${importer} imports ${args.path}, which has no browser stand-in: keep it off the passport verification path (the page runs that path in the browser)` }] };
        }
        shimmed.push({ module: args.path, importer, shim: file });
        return { path: shim(file) };
      });
      b.onResolve({ filter: /signers\/openssl-verify\.ts$/ }, (args) => {
        shimmed.push({ module: args.path, importer: relative(ROOT, args.importer), shim: 'openssl-verify.ts' });
        return { path: shim('openssl-verify.ts') };
      });
      b.onResolve({ filter: /(^|\/)native-merkle\.ts$/ }, (args) => {
        shimmed.push({ module: args.path, importer: relative(ROOT, args.importer), shim: 'native-merkle.ts' });
        return { path: shim('native-merkle.ts') };
      });
    },
  };
}

/** Builds every asset of the page; throws with esbuild's messages when the browser code does not build. */
export async function buildPageAssets(opts: { minify?: boolean } = {}): Promise<PageAssets> {
  const shimmed: PageAssets['shimmed'] = [];
  const result = await build({
    entryPoints: {
      page: fileURLToPath(new URL('page.ts', BROWSER)),
      'verify-worker': fileURLToPath(new URL('verify-worker.ts', BROWSER)),
      page_css: fileURLToPath(new URL('page.css', BROWSER)),
    },
    bundle: true,
    write: false,
    outdir: '/assets',
    format: 'iife',
    platform: 'browser',
    // Phones from about 2021 on (Safari 15, Chrome 100): BigInt, class fields, workers; noble needs ES2022.
    target: ['es2022', 'safari15', 'chrome100', 'firefox100'],
    minify: opts.minify ?? true,
    legalComments: 'none',
    logLevel: 'silent',
    inject: [fileURLToPath(new URL('buffer.ts', SHIMS))],
    define: { 'process.env.VOLTRAIL_SIGNER': 'undefined' },
    plugins: [browserShims(shimmed)],
  });
  const files = new Map<string, PageAsset>();
  for (const f of result.outputFiles) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1).replace('page_css.css', 'page.css');
    files.set(`/assets/${name}`, { body: f.contents, type: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8' });
  }
  const icon = await readFile(new URL('icon.svg', BROWSER));
  files.set('/assets/icon.svg', { body: icon, type: 'image/svg+xml' });
  const html = await readFile(new URL('index.html', BROWSER), 'utf8');
  // One entry per module and importer: the plugin sees each import once per build.
  const seen = new Set<string>();
  return { html, files, shimmed: shimmed.filter((s) => !seen.has(s.module + s.importer) && seen.add(s.module + s.importer)) };
}
