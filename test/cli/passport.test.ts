// `voltrail passport` as a user runs it: export a board's passport, verify it against the fleet
// key given with --trust (exit 0) or another key (exit 1), show it with its chart, make its QR
// code, record a status change; and python3-cbor2, an independent decoder, reads the bundle.
import test from 'ava';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { runPython } from '../helpers/python.ts';
import { makeWorld, makeFleet, PASS } from '../helpers/passport-world.ts';

type World = Awaited<ReturnType<typeof makeWorld>>;
let world: World;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test.before(async () => {
  world = await makeWorld(3);
});
test.after.always(async () => {
  if (world) await rm(world.root, { recursive: true, force: true });
});

test('export, verify, show, qr and status through the CLI', async (t) => {
  const out = join(world.root, 'battery.passport');
  const pass = join(world.root, 'pass.txt');
  await writeFile(pass, PASS + '\n', { mode: 0o600 });
  const st = await runCli(['passport', 'status', '--data-dir', world.board, '--set', 'repurposed', '--fleet-dir', join(world.root, 'acme-fleet'), '--passphrase-file', pass, '--note', 'second life: home storage']);
  t.is(st.code, 0, st.stderr);
  t.regex(st.stdout, /is now 'repurposed'/);

  const ex = await runCli(['passport', 'export', '--data-dir', world.board, '--out', out, '--json']);
  t.is(ex.code, 0, ex.stderr);
  const info = JSON.parse(ex.stdout) as { bytes: number; batteryId: string };
  t.is(info.batteryId, 'urn:voltrail:battery:ACME:PK-0001');
  t.is((await stat(out)).size, info.bytes);

  const key = hex(world.fleet.publicKey.publicKey);
  const ok = await runCli(['passport', 'verify', out, '--trust', key, '--json']);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  const view = JSON.parse(ok.stdout) as Record<string, Record<string, unknown>>;
  t.is(view.verification!.result, 'valid');
  t.is(view.identification!.batteryStatus, 'repurposed');
  t.is((view.materialComposition as { batteryChemistry: string }).batteryChemistry, 'NMC');
  t.deepEqual(view.technicalProperties!.ratedCapacity, { value: 75, unit: 'A.h' });
  const cycles = view.performanceAndDurability!.numberOfFullCycles as { value: number; unit: string; dataSource: string };
  t.is(cycles.unit, '1');
  t.is(cycles.dataSource, 'derived');
  t.true(cycles.value > 0);

  const other = await makeFleet(world.root, 'someone-else');
  const bad = await runCli(['passport', 'verify', out, '--trust', hex(other.publicKey.publicKey)]);
  t.is(bad.code, 1);
  t.regex(bad.stdout, /INVALID[\s\S]*wrong-authority/);
  const none = await runCli(['passport', 'verify', out], { env: { VOLTRAIL_TRUST: '' } });
  t.is(none.code, 2);
  t.regex(none.stderr, /--trust/);
  const pinned = await runCli(['passport', 'verify', out], { env: { VOLTRAIL_TRUST: key } });
  t.is(pinned.code, 0, pinned.stdout);

  const show = await runCli(['passport', 'show', out, '--trust', join(world.root, 'acme-fleet')]);
  t.is(show.code, 0, show.stdout + show.stderr);
  t.regex(show.stdout, /VALID/);
  t.regex(show.stdout, /ACME Cells PK-75, NMC, 75\.0 Ah/);
  t.regex(show.stdout, /status\s+repurposed/);
  t.regex(show.stdout, /numberOfFullCycles/);
  t.regex(show.stdout, /% \|.*\*/);

  const png = join(world.root, 'qr.png');
  const qr = await runCli(['passport', 'qr', out, '--png', png, '--base-url', 'https://passport.example.com/v1/']);
  t.is(qr.code, 0, qr.stderr);
  t.regex(qr.stdout, /^https:\/\/passport\.example\.com\/v1\/battery\/ACME\/PK-0001\n/);
  const head = (await readFile(png)).subarray(0, 8);
  t.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const term = await runCli(['passport', 'qr', out]);
  t.is(term.code, 0);
  t.true(term.stdout.split('\n').length > 12 && term.stdout.includes('█'), 'a QR code drawn in the terminal');

  // An independent decoder reads the bundle: its structure, tier, battery id and log sizes.
  const py = await runPython<{ version: number; tier: string; battery: string; logs: number; records: number; checkpoints: number }>(
    `import sys, json, cbor2
b = cbor2.loads(open(json.load(sys.stdin)['file'], 'rb').read())
print(json.dumps({'version': b[1], 'tier': b[2], 'battery': b[3], 'logs': len(b[8]), 'records': len(b[8][0][1]), 'checkpoints': len(b[8][0][2])}))`,
    { file: out },
  );
  t.is(py.version, 1);
  t.is(py.tier, 'full');
  t.is(py.battery, 'urn:voltrail:battery:ACME:PK-0001');
  t.is(py.logs, 1);
  t.true(py.records > 3 && py.checkpoints >= 1);
});

test('the public tier exports no usage data', async (t) => {
  const out = join(world.root, 'public.passport');
  const ex = await runCli(['passport', 'export', '--data-dir', world.board, '--out', out, '--tier', 'public']);
  t.is(ex.code, 0, ex.stderr);
  const ok = await runCli(['passport', 'verify', out, '--trust', hex(world.fleet.publicKey.publicKey), '--json']);
  t.is(ok.code, 0, ok.stdout);
  const view = JSON.parse(ok.stdout) as Record<string, unknown>;
  t.is(view.performanceAndDurability, undefined);
  t.is(view.negativeEvents, undefined);
  t.is(view.usageHistory, undefined);
});
