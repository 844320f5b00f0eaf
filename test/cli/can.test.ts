// `voltrail can dump` and `voltrail can send`, run as a user would, against an emulated slcan
// adapter on real ptys (two adapters on one simulated bus), and against a replayed log.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCandumpLog } from '../../hal/can/candump-log.ts';
import { canFrame } from '../../hal/can/frame.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import { SlcanAdapter } from '../../sim-hardware/slcan-adapter.ts';
import { runCli, VOLTRAIL } from '../helpers/cli.ts';
import { ptyPair } from '../helpers/pty.ts';
import type { PtyPair } from '../helpers/pty.ts';

// Generous: a CLI process start can take many seconds on a busy shared machine.
const cli = (args: string[], opts: Parameters<typeof runCli>[1] = {}) => runCli(args, { timeoutMs: 55_000, ...opts });

async function plugAdapter(hub: VirtualCanHub): Promise<{ pair: PtyPair; adapter: SlcanAdapter; close(): Promise<void> }> {
  const pair = await ptyPair();
  const bus = hub.open();
  const adapter = await SlcanAdapter.open({ path: pair.a, bus });
  return {
    pair,
    adapter,
    close: async () => {
      await adapter.close();
      await bus.close();
      await pair.close();
    },
  };
}

test('can send puts frames on a simulated bus that can dump, on another adapter, prints and logs', async (t) => {
  const hub = new VirtualCanHub('cli');
  const watcher = hub.open();
  const dumpSide = await plugAdapter(hub);
  const sendSide = await plugAdapter(hub);
  const log = join(mkdtempSync(join(tmpdir(), 'voltrail-can-cli-')), 'dump.log');
  const dumping = cli(['can', 'dump', '--bus', `slcan:${dumpSide.pair.b}@500000`, '--count', '3', '--json', '--log', log, '--timeout', '50s']);
  await dumpSide.adapter.waitForState('listen-only');
  const sent = await cli(['can', 'send', '--bus', `slcan:${sendSide.pair.b}@500000`, '--transmit', '123#DEADBEEF', '1ABCDEF0#', '7DF#R8']);
  t.is(sent.code, 0, sent.stderr);
  const d = await dumping;
  t.is(d.code, 0, d.stderr);
  const rows = d.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.deepEqual(
    rows.map(({ t: _t, ...rest }) => rest),
    [
      { id: 0x123, ext: false, data: 'deadbeef' },
      { id: 0x1abcdef0, ext: true, data: '' },
      { id: 0x7df, ext: false, data: '', rtr: true, dlc: 8 },
    ],
  );
  t.true(rows.every((r) => typeof r.t === 'number' && Math.abs((r.t as number) - Date.now() / 1000) < 60));
  const { records, issues } = parseCandumpLog(readFileSync(log, 'utf8'));
  t.deepEqual(issues, []);
  t.deepEqual(records.map((r) => `${r.iface} ${r.frame.id.toString(16)}`), ['slcan0 123', 'slcan0 1abcdef0', 'slcan0 7df']);
  t.is((await watcher.receive(1000)).id, 0x123);
  await watcher.close();
  await dumpSide.close();
  await sendSide.close();
});

test('can send refuses a real bus without --transmit, and nothing reaches the adapter', async (t) => {
  const hub = new VirtualCanHub('cli');
  const side = await plugAdapter(hub);
  const r = await cli(['can', 'send', '--bus', `slcan:${side.pair.b}@500000`, '123#01']);
  t.is(r.code, 1);
  t.regex(r.stderr, /real bus and opens listen-only.*add --transmit/);
  t.is(side.adapter.stats.commands, 0, 'the port was not even opened');
  t.is(side.adapter.stats.toBus, 0);
  await side.close();
});

test('a bad bus spec or frame is explained', async (t) => {
  // Spec and port errors in detail are unit-tested (can-spec, can-slcan); here: the CLI shows them.
  const [spec, frame, usage, dbc] = await Promise.all([
    cli(['can', 'dump', '--bus', 'canbus:can0']),
    cli(['can', 'send', '--bus', 'virtual:x', '12#00']),
    cli(['can', 'dump']),
    cli(['can', 'dump', '--bus', 'virtual:x', '--dbc', 'pack.dbc']),
  ]);
  t.is(spec.code, 1);
  t.regex(spec.stderr, /bus spec 'canbus:can0': unknown bus kind 'canbus'\. Allowed forms: slcan:PATH.*socketcan:IFACE.*virtual:NAME.*replay:FILE/);
  t.is(frame.code, 1);
  t.regex(frame.stderr, /frame '12#00': id "12" must be 3 hex digits.*cansend/);
  t.is(usage.code, 2);
  t.regex(usage.stderr, /required option '--bus <spec>'/);
  // --dbc reads the DBC with devices/dbc: a missing file is a user error naming it.
  t.is(dbc.code, 1);
  t.regex(dbc.stderr, /no DBC file at pack\.dbc/);
});

test('can dump plays a candump log like candump prints, and reports its bad lines', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'voltrail-can-cli-'));
  const log = join(dir, 'in.log');
  writeFileSync(
    log,
    ['(1700000000.000001) can0 123#0102', 'this is not a frame', '(1700000000.500000) can0 18FF50E5#R3', '(1700000001.000000) can0 100##1' + '00'.repeat(12)].join('\n') + '\n',
  );
  const r = await cli(['can', 'dump', '--bus', `replay:${log}?timing=fast`]);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), [
    '(1700000000.000001)  replay0       123   [2]  01 02',
    '(1700000000.500000)  replay0  18FF50E5   [3]  remote request',
    '(1700000001.000000)  replay0       100  [12]  00 00 00 00 00 00 00 00 00 00 00 00  BRS',
  ]);
  t.regex(r.stderr, /in\.log:2: skipped: does not start with a \(seconds\.microseconds\) timestamp/);
  t.regex(r.stderr, /1 malformed/);
  const sendToLog = await cli(['can', 'send', '--bus', `replay:${log}`, '123#00']);
  t.regex(sendToLog.stderr, /recorded log: nothing can be sent/);
});

test('can dump --reconnect carries on when the adapter is unplugged and plugged back in', async (t) => {
  const links = { linkA: join(tmpdir(), `voltrail-cli-${process.pid}-dev`), linkB: join(tmpdir(), `voltrail-cli-${process.pid}-host`) };
  const hub = new VirtualCanHub('cli');
  const node = hub.open();
  let pair = await ptyPair(links);
  let adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open() });
  // Spawned here rather than with runCli: the test must see the first frame printed before it unplugs.
  const child = spawn(process.execPath, [VOLTRAIL, 'can', 'dump', '--bus', `slcan:${links.linkB}@500000`, '--count', '2', '--reconnect', '--timeout', '50s']);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  // Bounded waits: a step that never comes fails with what the command said so far.
  const until = async (what: string, ok: () => boolean) => {
    const deadline = Date.now() + 40_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; adapter ${adapter.state}; stdout: ${stdout}; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until('the first open', () => adapter.state === 'listen-only');
  await node.send(canFrame({ id: 0x101, data: [1] }));
  await until('the first frame', () => stdout.includes(' 101 '));
  await adapter.close();
  await pair.close();
  await until('the disconnect', () => stderr.includes('waiting for the adapter'));
  // Plug back in as udev would: the host's path appears only once the adapter behind it runs.
  const staging = `${links.linkB}-new`;
  pair = await ptyPair({ linkA: links.linkA, linkB: staging });
  adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open() });
  renameSync(staging, links.linkB);
  await until('the reopen', () => adapter.state === 'listen-only');
  await node.send(canFrame({ id: 0x102, data: [2] }));
  t.is(await exited, 0, stderr);
  t.deepEqual(stdout.trim().split('\n').map((l) => l.split(/\s+/)[2]), ['101', '102']);
  t.regex(stderr, /disconnected[\s\S]*waiting for the adapter[\s\S]*reopened after 1 frames/);
  await adapter.close();
  await node.close();
  await pair.close();
  rmSync(links.linkB, { force: true });
});
