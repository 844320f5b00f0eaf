// The board's bundle (scripts/build-bundle.mjs) and how bin/voltrail.js chooses between it and
// the TypeScript sources (VOLTRAIL_BUNDLE). Bundles are built under the project's git-ignored
// tmp/ (inside the project, so that their packages resolve), never into dist/.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD = join(ROOT, 'scripts', 'build-bundle.mjs');

function node(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let built: Promise<string> | undefined;
/** One bundle for the whole file, under tmp/. */
function bundle(): Promise<string> {
  built ??= (async () => {
    await mkdir(join(ROOT, 'tmp'), { recursive: true });
    const dir = await mkdtemp(join(ROOT, 'tmp', 'test-bundle-'));
    const r = await node([BUILD, '--outdir', join(dir, 'dist')]);
    if (r.code !== 0) throw new Error(`build failed: ${r.stderr}`);
    return join(dir, 'dist');
  })();
  return built;
}

test.after.always(async () => {
  if (built) await rm(join(await built, '..'), { recursive: true, force: true });
});

const pkgVersion = async () => (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

test('the bundle runs a simulated run through bin/voltrail.js: records signed, files found beside the sources (package.json, the DBC)', async (t) => {
  const dist = await bundle();
  const manifest = JSON.parse(await readFile(join(dist, 'voltrail.sources.json'), 'utf8')) as { sources: string[] };
  t.true(manifest.sources.includes('firmware-ts/cli/main.ts'));
  t.true(manifest.sources.includes('ledger/signers/native.ts'), 'the optional native signer is in the bundle (its addon stays optional)');
  const env = { VOLTRAIL_BUNDLE: dist };
  const version = await runCli(['--version'], { env });
  t.is(version.code, 0, version.stderr);
  t.is(version.stdout.trim(), await pkgVersion());
  t.notRegex(version.stderr, /not the bundle/);
  const dataDir = await mkdtemp(join(tmpdir(), 'vt-bundle-run-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const r = await runCli(['run', '--sim', '--speed', '20', '--period', '500ms', '--duration', '3s', '--json', '--data-dir', dataDir], { env });
  t.is(r.code, 0, r.stderr);
  t.notRegex(r.stderr, /not the bundle/);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { records: number; framesDecoded: number; framesRejected: number };
  t.true(summary.records > 0, `records: ${summary.records}`);
  t.true(summary.framesDecoded > 0);
  t.is(summary.framesRejected, 0);
  const verify = await runCli(['ledger', 'verify', join(dataDir, 'ledger')], { env });
  t.is(verify.code, 0, verify.stdout + verify.stderr);
});

test('bin/voltrail.js runs a fresh bundle only when VOLTRAIL_BUNDLE asks for it; a stale or missing one is named, and the sources run', async (t) => {
  const dist = await bundle();
  // A stand-in bundle beside the real one's manifest: it says so when it runs.
  const fake = await mkdtemp(join(ROOT, 'tmp', 'test-fake-bundle-'));
  t.teardown(() => rm(fake, { recursive: true, force: true }));
  const built = JSON.parse(await readFile(join(dist, 'voltrail.sources.json'), 'utf8')) as { builtAt: number; root: string; sources: string[] };
  const manifest = { ...built, root: relative(fake, ROOT) };
  await writeFile(join(fake, 'voltrail.mjs'), "process.stdout.write('the bundle ran\\n');\n");
  await writeFile(join(fake, 'voltrail.sources.json'), JSON.stringify(manifest));
  const version = await pkgVersion();

  const fresh = await runCli(['--version'], { env: { VOLTRAIL_BUNDLE: fake } });
  t.is(fresh.stdout, 'the bundle ran\n');
  t.is(fresh.stderr, '');

  const notAsked = await runCli(['--version'], { env: { VOLTRAIL_BUNDLE: '0' } });
  t.is(notAsked.stdout.trim(), version, 'without VOLTRAIL_BUNDLE the sources run');
  t.is(notAsked.stderr, '');

  await writeFile(join(fake, 'voltrail.sources.json'), JSON.stringify({ ...manifest, builtAt: 0 }));
  const stale = await runCli(['--version'], { env: { VOLTRAIL_BUNDLE: fake } });
  t.is(stale.stdout.trim(), version);
  t.regex(stale.stderr, /running the TypeScript sources, not the bundle: package\.json changed after the bundle was built \(run npm run build\)/);

  await writeFile(join(fake, 'voltrail.sources.json'), JSON.stringify({ ...manifest, sources: [...manifest.sources, 'firmware-ts/gone.ts'] }));
  const gone = await runCli(['--version'], { env: { VOLTRAIL_BUNDLE: fake } });
  t.is(gone.stdout.trim(), version);
  t.regex(gone.stderr, /firmware-ts\/gone\.ts is gone since the bundle was built/);

  const missing = await runCli(['--version'], { env: { VOLTRAIL_BUNDLE: join(fake, 'nowhere') } });
  t.is(missing.stdout.trim(), version);
  t.regex(missing.stderr, /nowhere\/voltrail\.mjs is not built/);
});

test('a bundle is built only inside the project (its packages resolve from there)', async (t) => {
  const r = await node([BUILD, '--outdir', join(tmpdir(), 'vt-outside')]);
  t.is(r.code, 2);
  t.regex(r.stderr, /is outside the project/);
});
