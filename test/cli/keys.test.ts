import test from 'ava';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runCli, VOLTRAIL } from '../helpers/cli.ts';
import type { CliResult } from '../helpers/cli.ts';
import { loadKeyFile } from '../../ledger/keys/keyfile.ts';

const dir = mkdtempSync(join(tmpdir(), 'voltrail-keys-cli-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const PASS = 'tr0ub4dor&3 voltrail';
const env = { VOLTRAIL_KEY_PASSPHRASE: PASS };
const outputs: CliResult[] = [];
const run = async (args: string[], opts: Parameters<typeof runCli>[1] = {}) => {
  const r = await runCli(args, { cwd: dir, ...opts });
  outputs.push(r);
  return r;
};

/** The secret, read back through the library, to prove the CLI never printed it. */
async function secretForms(file: string): Promise<string[]> {
  const secret = (await loadKeyFile(file, PASS)).exportSecret();
  const b = Buffer.from(secret);
  return [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64'), b.toString('base64url'), [...secret].join(',')];
}

test.serial('keys new writes a 0600 key file; keys show prints its public key and kid', async (t) => {
  const file = join(dir, 'device.key');
  const made = await run(['keys', 'new', '--out', file, '--json'], { env });
  t.is(made.code, 0, made.stderr);
  const id = JSON.parse(made.stdout) as { file: string; curve: string; alg: string; publicKey: string; kid: string };
  t.is(id.curve, 'secp256k1');
  t.is(id.alg, 'ES256K');
  t.regex(id.publicKey, /^0[23][0-9a-f]{64}$/);
  t.regex(id.kid, /^[0-9a-f]{64}$/);
  t.is(statSync(file).mode & 0o777, 0o600);

  const shown = await run(['keys', 'show', '--key', file, '--json']);
  t.is(shown.code, 0, shown.stderr);
  t.deepEqual(JSON.parse(shown.stdout), id);
  const text = await run(['keys', 'show', '--key', file]);
  t.regex(text.stdout, new RegExp(`public key: ${id.publicKey}`));
  t.regex(text.stdout, new RegExp(`kid:\\s+${id.kid}`));
  const verified = await run(['keys', 'show', '--key', file, '--verify'], { env });
  t.is(verified.code, 0, verified.stderr);
  t.regex(verified.stdout, /opened with its passphrase/);

  const key = await loadKeyFile(file, PASS);
  t.is(Buffer.from(key.publicKey).toString('hex'), id.publicKey);
});

test.serial('--curve p256 makes an ES256 key; a passphrase file works', async (t) => {
  const pf = join(dir, 'pass.txt');
  writeFileSync(pf, PASS + '\n', { mode: 0o600 });
  const file = join(dir, 'p256.key');
  const r = await run(['keys', 'new', '--curve', 'p256', '--out', file, '--passphrase-file', pf, '--json'], { env: { VOLTRAIL_KEY_PASSPHRASE: '' } });
  t.is(r.code, 0, r.stderr);
  t.like(JSON.parse(r.stdout), { curve: 'P-256', alg: 'ES256' });
  const v = await run(['keys', 'show', '--key', file, '--verify', '--passphrase-file', pf]);
  t.is(v.code, 0, v.stderr);
});

test.serial('wrong passphrase, world-readable file, existing file, no passphrase: clear errors', async (t) => {
  const file = join(dir, 'device.key');
  const wrong = await run(['keys', 'show', '--key', file, '--verify'], { env: { VOLTRAIL_KEY_PASSPHRASE: 'not it' } });
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /wrong passphrase/);

  chmodSync(file, 0o644);
  const open = await run(['keys', 'show', '--key', file]);
  t.is(open.code, 1);
  t.true(open.stderr.includes(`chmod 600 ${file}`), open.stderr);
  chmodSync(file, 0o600);

  const before = readFileSync(file, 'utf8');
  const again = await run(['keys', 'new', '--out', file], { env });
  t.is(again.code, 1);
  t.regex(again.stderr, /already there; it is never overwritten/);
  t.is(readFileSync(file, 'utf8'), before);

  const none = await run(['keys', 'new', '--out', join(dir, 'none.key')], { env: { VOLTRAIL_KEY_PASSPHRASE: '' } });
  t.is(none.code, 1);
  t.regex(none.stderr, /no passphrase: give --passphrase-file/);

  const missing = await run(['keys', 'show', '--key', join(dir, 'nope.key')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /voltrail keys new/);

  const curve = await run(['keys', 'new', '--curve', 'ed25519']);
  t.is(curve.code, 2);
  t.regex(curve.stderr, /secp256k1.*p256/);
});

test.serial('the interactive prompt does not echo the passphrase (a real terminal)', async (t) => {
  const file = join(dir, 'prompted.key');
  // A pseudo-terminal from Python's pty module: types the passphrase twice, returns all the terminal showed.
  const script = `
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], sys.argv[2], 'keys', 'new', '--out', sys.argv[3]])
out = b''
def read_until(token, timeout=60):
    global out
    end = time.time() + timeout
    while token not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            out += chunk
read_until(b'passphrase: ')
os.write(fd, sys.argv[4].encode() + b'\\r')
read_until(b'Repeat the passphrase: ')
os.write(fd, sys.argv[4].encode() + b'\\r')
read_until(b'kid:')
read_until(b'\\n\\n', 2)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;
  const envNoPass = { ...process.env, VOLTRAIL_KEY_PASSPHRASE: '' };
  const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, process.execPath, VOLTRAIL, file, PASS], { env: envNoPass, timeout: 90_000 });
  t.regex(stdout, /Key passphrase: /);
  t.regex(stdout, /Created a secp256k1 device key/);
  t.false(stdout.includes(PASS), 'the passphrase was echoed');
  outputs.push({ code: 0, signal: null, stdout, stderr: '' });
  t.truthy(await loadKeyFile(file, PASS));
});

test.serial('no output of any command held the private key', async (t) => {
  const forms = [...(await secretForms(join(dir, 'device.key'))), ...(await secretForms(join(dir, 'p256.key'))), ...(await secretForms(join(dir, 'prompted.key')))];
  t.true(outputs.length >= 10);
  for (const o of outputs) for (const f of forms) t.false(o.stdout.includes(f) || o.stderr.includes(f));
});
