// `voltrail can dump` and `voltrail can send`, run as a user would, against an emulated slcan
// adapter on real ptys (two adapters on one simulated bus), and against a replayed log.
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCandumpLog } from '../../hal/can/candump-log.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import { SlcanAdapter } from '../../sim-hardware/slcan-adapter.ts';
import { runCli } from '../helpers/cli.ts';
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
  const [spec, rate, frame, missing, usage, dbc] = await Promise.all([
    cli(['can', 'dump', '--bus', 'canbus:can0']),
    cli(['can', 'dump', '--bus', 'slcan:/dev/ttyACM0@123']),
    cli(['can', 'send', '--bus', 'virtual:x', '12#00']),
    cli(['can', 'dump', '--bus', 'slcan:/dev/voltrail-no-such-tty@500000']),
    cli(['can', 'dump']),
    cli(['can', 'dump', '--bus', 'virtual:x', '--dbc', 'pack.dbc']),
  ]);
  t.is(spec.code, 1);
  t.regex(spec.stderr, /bus spec 'canbus:can0': unknown bus kind 'canbus'\. Allowed forms: slcan:PATH.*socketcan:IFACE.*virtual:NAME.*replay:FILE/);
  t.regex(rate.stderr, /CAN bitrate '123' is not one an slcan adapter can set \(10000, .*1000000\)/);
  t.is(frame.code, 1);
  t.regex(frame.stderr, /frame '12#00': id "12" must be 3 hex digits.*cansend/);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /cannot open \/dev\/voltrail-no-such-tty/);
  t.is(usage.code, 2);
  // --dbc is wired once the DBC codec lands (devices/dbc); until then it says so.
  t.is(dbc.code, 2);
  t.regex(dbc.stderr, /--dbc pack\.dbc: DBC decoding is not yet available/);
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
