// One walk through the real CLI: fleet init, provision with flags against a local authority,
// re-run (kept), rotate, a replacement board through the request / sign / install round trip,
// revoke the old board's key, sign the revocation list, and verify the battery's history with
// only the fleet public key. (The edge cases are tested in process: test/ledger/identity.test.ts.)
import test, { type ExecutionContext } from 'ava';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.ts';
import { startSimRig, type SimRig } from '../../sim-hardware/sim-rig.ts';

// Serial steps sharing one bench: each finishes well inside ava's inactivity timeout on a loaded machine.
let root = '';
let pass = '';
let fleetDir = '';
let a = '';
let b = '';
let fleetKey = '';
let rotatedKid = '';
// The board's BMS: the simulator's JBD on a pty, so that provisioning ends with doctor all green.
let rig: SimRig | undefined;
let port = '';
const battery = ['--battery-id', 'ACME:PK-7', '--manufacturer', 'ACME', '--model', 'PK', '--chemistry', 'LFP', '--capacity-ah', '100', '--mass-kg', '520.5'];

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'voltrail-fleet-cli-'));
  pass = join(root, 'pass');
  await writeFile(pass, 'bench passphrase\n', { mode: 0o600 });
  fleetDir = join(root, 'fleet');
  a = join(root, 'board-a');
  b = join(root, 'board-b');
  rig = await startSimRig({ bms: 'jbd', serialPty: true, cells: 8 });
  port = rig.serialPty!;
});
test.after.always(async () => {
  await rig?.close();
  await rm(root, { recursive: true, force: true });
});

function cliFor(t: ExecutionContext) {
  return async (args: string[], code = 0) => {
    const r = await runCli(args, { timeoutMs: 120_000, env: { VOLTRAIL_KEY_PASSPHRASE: '' } });
    t.is(r.code, code, `voltrail ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
    return r;
  };
}

test.serial('fleet init, provision with flags, re-run keeps everything, rotate', async (t) => {
  const cli = cliFor(t);

  const init = JSON.parse((await cli(['fleet', 'init', '--dir', fleetDir, '--name', 'Bench fleet', '--passphrase-file', pass, '--json'])).stdout) as { publicKey: string; kid: string };
  t.regex(init.publicKey, /^0[23][0-9a-f]{64}$/);
  t.is(statSync(join(fleetDir, 'fleet.key')).mode & 0o777, 0o600);

  fleetKey = init.publicKey;
  const first = await cli(['provision', '--data-dir', a, ...battery, '--bms', 'jbd', '--port', port, '--passphrase-file', pass, '--fleet-dir', fleetDir, '--fleet-passphrase-file', pass, '--board-id', 'pi-a']);
  t.regex(first.stdout, /generated a new device key/);
  t.regex(first.stdout, /logged a signed "provisioned" record/);
  t.regex(first.stdout, /voltrail doctor/);
  t.deepEqual(parse(readFileSync(join(a, 'voltrail.yaml'), 'utf8')), { dataDir: a, bms: { driver: 'jbd', port } });
  t.is(statSync(join(a, 'device.key')).mode & 0o777, 0o600);
  const idA = JSON.parse(readFileSync(join(a, 'identity.json'), 'utf8')) as { simulated: boolean; batteryId: string; keyFile: string; certificate: string; fleetPublicKey: string };
  t.like(idA, { simulated: false, batteryId: 'urn:voltrail:battery:ACME:PK-7', keyFile: 'device.key', fleetPublicKey: init.publicKey });

  const again = await cli(['provision', '--data-dir', a, ...battery, '--bms', 'jbd', '--port', port, '--passphrase-file', pass, '--fleet-dir', fleetDir, '--fleet-passphrase-file', pass]);
  t.regex(again.stdout, /already provisioned .* kept/);

  const rot = await cli(['provision', '--rotate', '--data-dir', a, '--passphrase-file', pass, '--fleet-dir', fleetDir, '--fleet-passphrase-file', pass]);
  t.regex(rot.stdout, /Rotated: /);
  rotatedKid = (JSON.parse(readFileSync(join(a, 'identity.json'), 'utf8')) as { keys: { kid: string }[] }).keys[1]!.kid;
});

test.serial('a replacement board: request, fleet sign, install with --replaces', async (t) => {
  const cli = cliFor(t);
  const req = join(root, 'b.req');
  await cli(['provision', '--data-dir', b, ...battery, '--bms', 'jbd', '--port', port, '--passphrase-file', pass, '--request-out', req, '--board-id', 'pi-b']);
  t.true(existsSync(req));
  const cert = join(root, 'b.cert');
  await cli(['fleet', 'sign', req, '--dir', fleetDir, '--out', cert, '--valid-days', '365', '--passphrase-file', pass]);
  const inst = await cli(['provision', '--data-dir', b, '--install-cert', cert, '--fleet-key', fleetKey, '--replaces', a, '--passphrase-file', pass]);
  t.regex(inst.stdout, /board-replaced/);
});

test.serial('revoke the old key, sign the list, verify the history with only the fleet key', async (t) => {
  const cli = cliFor(t);
  await cli(['fleet', 'revoke', '--kid', rotatedKid, '--reason', 'lost', '--dir', fleetDir, '--passphrase-file', pass]);
  const crl = join(root, 'crl.cose');
  await cli(['fleet', 'crl', '--out', crl, '--dir', fleetDir, '--passphrase-file', pass]);

  const ok = await cli(['ledger', 'verify', b, '--boards', a, '--fleet-key', fleetKey, '--crl', crl]);
  t.regex(ok.stdout, /OK {2}battery urn:voltrail:battery:ACME:PK-7: 2 board\(s\)/);
  t.regex(ok.stdout, /revoked .* \(lost\)/);
  t.regex(ok.stdout, /continues log/);
});
