#!/usr/bin/env node
// Entry point of the `voltrail` command. By default it runs the TypeScript sources through tsx,
// so development and tests always run the current code. With VOLTRAIL_BUNDLE=1 (a board: the
// systemd unit sets it) it runs the prebuilt bundle, dist/voltrail.mjs (`npm run build`), which
// starts faster and holds far less memory than compiling the sources in the process; but only
// while no source it was built from is newer than it: else it says so and runs the sources.
// VOLTRAIL_BUNDLE=DIR runs a bundle built elsewhere (`npm run build -- --outdir DIR`).
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const setting = process.env.VOLTRAIL_BUNDLE ?? '';
const wanted = setting !== '' && setting !== '0';
const dist = setting === '1' ? new URL('../dist/', import.meta.url) : pathToFileURL(`${resolve(setting || '.')}/`);

/** Why the bundle cannot be used, or undefined when it is there and up to date. */
function staleBundle() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('voltrail.sources.json', dist), 'utf8'));
    statSync(new URL('voltrail.mjs', dist));
  } catch {
    return `${new URL('voltrail.mjs', dist).pathname} is not built`;
  }
  const root = new URL(`${manifest.root}/`, dist);
  for (const file of manifest.sources) {
    let mtime;
    try {
      mtime = statSync(new URL(file, root)).mtimeMs;
    } catch {
      return `${file} is gone since the bundle was built`;
    }
    if (mtime > manifest.builtAt) return `${file} changed after the bundle was built`;
  }
  return undefined;
}

const why = wanted ? staleBundle() : 'not asked for';
if (wanted && why) process.stderr.write(`voltrail: running the TypeScript sources, not the bundle: ${why} (run npm run build)\n`);
if (!why) {
  await import(new URL('voltrail.mjs', dist).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../firmware-ts/cli/main.ts');
}
