// An install without a compiler (issue 10): scripts/build-native.mjs, npm's postinstall, never
// fails for want of one and says that the pure-JavaScript signer is used (`--strict`, npm run
// build:native, fails only a build that was tried and broke). The CLI then runs and signs with noble (status-cli.test.ts and
// runtime.test.ts cover the runtime without the addon).
import test from 'ava';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/build-native.mjs', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    // A compiler that is not there: the probe fails before node-gyp is ever run.
    const child = spawn(process.execPath, [SCRIPT, ...args], { env: { ...process.env, CC: '/nonexistent/cc' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

test('without a C compiler the native addons are skipped with one line and exit 0, also with --strict (nothing was tried)', async (t) => {
  const install = await run([]);
  t.is(install.code, 0);
  t.is(install.stdout, 'voltrail native: not built: no C compiler (/nonexistent/cc) found; using the pure-JavaScript signer and node:crypto for Merkle hashes.\n');
  const strict = await run(['--strict']);
  t.is(strict.code, 0);
  t.regex(strict.stdout, /no C compiler/);
});
