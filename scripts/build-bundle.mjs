#!/usr/bin/env node
// Builds the JavaScript bundle a board runs (`npm run build`): firmware-ts/cli/main.ts and
// everything it imports, compiled by esbuild into dist/voltrail.mjs plus chunks that load only
// when a subcommand asks for them (the simulator, the bench, each command group). Most packages
// stay in node_modules (native and optional ones must, and those that start worker threads from
// their own files); the small pure-JavaScript ones every run loads (BUNDLED) are compiled in, only
// the parts voltrail uses: loading zod's 100-odd module files (60 locales) and noble's and
// commander's through Node's module loader costs a board about 10 MB of resident memory.
// Without it every start compiles the TypeScript sources in the process (tsx: esbuild, the
// loader and source maps held in memory), which costs a board tens of MB and seconds.
//
// The bundle stays beside the sources it was built from: files the code finds next to itself
// (package.json, DBC files, the native addon) are found where the sources are, so each
// `import.meta.url` is rewritten to the URL of its own source file. dist/voltrail.sources.json
// lists those sources; bin/voltrail.js uses the bundle only when asked (VOLTRAIL_BUNDLE=1) and
// when no source is newer than it. `--outdir DIR` builds elsewhere inside the project (packages
// resolve from its node_modules); the bench and the tests do, under the git-ignored tmp/.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--outdir');
const outdir = resolve(at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : join(root, 'dist'));
const posix = (p) => p.split(sep).join('/');
/** Pure-JavaScript packages compiled into the bundle; every other dependency stays external. */
const BUNDLED = new Set(['zod', '@noble/curves', '@noble/hashes', 'commander']);
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const external = Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })
  .filter((name) => !BUNDLED.has(name))
  .flatMap((name) => [name, `${name}/*`]);
if (relative(root, outdir).startsWith('..')) {
  process.stderr.write(`voltrail bundle: --outdir ${outdir} is outside the project: the bundle finds its packages in the project's node_modules, so build it inside (e.g. dist/ or tmp/NAME)\n`);
  process.exit(2);
}

/** Each project source sees `import.meta.url` as its own file's URL, reached from the bundle. */
const sourceUrls = {
  name: 'voltrail-source-urls',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
      const fromOut = posix(relative(outdir, args.path));
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromOut)}, import.meta.url).href`), loader: 'ts' };
    });
  },
};

const started = Date.now();
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { voltrail: 'firmware-ts/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  // commander is CommonJS: its require() of Node's built-ins needs a require in each ES module.
  banner: { js: "import { createRequire as __voltrailRequire } from 'node:module'; const require = __voltrailRequire(import.meta.url);" },
  outExtension: { '.js': '.mjs' },
  // Chunks sit beside voltrail.mjs: the rewritten URLs are relative to that one folder.
  chunkNames: '[name]-[hash]',
  metafile: true,
  minifyWhitespace: true,
  logLevel: 'warning',
  plugins: [sourceUrls],
});
const sources = Object.keys(result.metafile.inputs)
  .map((p) => posix(relative(root, resolve(root, p))))
  .filter((p) => !p.startsWith('..') && !p.includes('node_modules/'))
  .sort();
// The lock file too where there is one: a new install of a bundled package makes the bundle stale.
const lock = existsSync(join(root, 'package-lock.json')) ? ['package-lock.json'] : [];
await writeFile(
  join(outdir, 'voltrail.sources.json'),
  JSON.stringify({ builtAt: started, root: posix(relative(outdir, root)) || '.', sources: ['package.json', ...lock, ...sources] }, null, 1) + '\n',
);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`voltrail bundle: ${posix(relative(process.cwd(), join(outdir, 'voltrail.mjs')))} (${Object.keys(result.metafile.outputs).length} files, ${(bytes / 1024).toFixed(0)} KiB, from ${sources.length} sources)\n`);
