import test from 'ava';
import { Command } from 'commander';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { formatCandumpLine } from '../../hal/can/candump-log.ts';
import { canFrame, type CanFrame } from '../../hal/can/frame.ts';
import { decodeFrame, encodeMessage, loadDbc } from '../../devices/dbc/index.ts';
import { dbcFrameDecoder, registerCanDecode, runCanDecode } from '../../firmware-ts/cli/commands/can-decode.ts';
import { UserError } from '../../firmware-ts/cli/errors.ts';
import { dbcPath } from '../helpers/dbc-files.ts';

const fox = await loadDbc(dbcPath('foxbms.dbc'));

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString('utf8')));
  return { stream, text: () => text };
}

async function withLog(lines: string[], fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'voltrail-can-decode-'));
  try {
    const path = join(dir, 'bus.log');
    await writeFile(path, lines.join('\n') + '\n');
    await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function line(timeUs: number, frame: CanFrame): string {
  return formatCandumpLine({ timeUs, iface: 'can0', frame });
}

const cellValues = { f_CellVoltages_Mux: 'CellVoltages_004_007', CellVoltage_004_invalidFlag: 'Valid', CellVoltage_005_invalidFlag: 'Valid', CellVoltage_006_invalidFlag: 'Invalid', CellVoltage_007_invalidFlag: 'Valid', CellVoltage_004: 3712, CellVoltage_005: 3650, CellVoltage_006: 0, CellVoltage_007: 4100 };

test('--json: one object per frame, unknown ids reported, bad lines skipped with their line number', async (t) => {
  const cells = encodeMessage(fox, 'f_CellVoltages', cellValues);
  const lines = [
    line(1_700_000_000_000_001, cells),
    line(1_700_000_000_100_000, canFrame({ id: 0x7ee, data: [1, 2] })),
    'this is not a candump line',
    line(1_700_000_000_200_000, canFrame({ id: 592, data: [1, 2, 3] })),
    line(1_700_000_000_300_000, canFrame({ id: 0x1abcdef0, extended: true, data: [] })),
  ];
  await withLog(lines, async (log) => {
    const out = collect();
    const err = collect();
    const summary = await runCanDecode({ dbc: dbcPath('foxbms.dbc'), log, json: true }, out.stream, err.stream);
    t.deepEqual(summary, { frames: 4, decoded: 1, unknown: 2, errors: 1, badLines: 1 });
    const objs = out.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    t.is(objs.length, 4);
    t.deepEqual(objs[0], { t: 1_700_000_000.000001, id: 592, ext: false, name: 'f_CellVoltages', signals: cellValues });
    t.deepEqual(objs[0]!.signals, decodeFrame(fox, cells)!.signals);
    t.deepEqual(objs[1], { t: 1_700_000_000.1, id: 0x7ee, ext: false, unknown: true });
    t.like(objs[2], { id: 592, name: 'f_CellVoltages' });
    t.regex(String(objs[2]!.error), /8 bytes; the frame holds 3/);
    t.deepEqual(objs[3], { t: 1_700_000_000.3, id: 0x1abcdef0, ext: true, unknown: true });
    t.regex(err.text(), /bus\.log:3: .*line skipped/);
  });
});

test('text output names signals with units and value names', async (t) => {
  await withLog([line(1_000_000, encodeMessage(fox, 'f_CellVoltages', cellValues))], async (log) => {
    const out = collect();
    await runCanDecode({ dbc: dbcPath('foxbms.dbc'), log }, out.stream, collect().stream);
    t.is(out.text(), '(1.000000) 250 f_CellVoltages: f_CellVoltages_Mux="CellVoltages_004_007", CellVoltage_004_invalidFlag="Valid", CellVoltage_005_invalidFlag="Valid", CellVoltage_006_invalidFlag="Invalid", CellVoltage_007_invalidFlag="Valid", CellVoltage_004=3712 mV, CellVoltage_005=3650 mV, CellVoltage_006=0 mV, CellVoltage_007=4100 mV\n');
    const raw = collect();
    await runCanDecode({ dbc: dbcPath('foxbms.dbc'), log, json: true, raw: true }, raw.stream, collect().stream);
    t.is((JSON.parse(raw.text()) as { signals: Record<string, unknown> }).signals.f_CellVoltages_Mux, 1);
  });
});

test('a missing file or a broken DBC is a user error that says which and where', async (t) => {
  await withLog([''], async (log) => {
    await t.throwsAsync(runCanDecode({ dbc: '/nonexistent.dbc', log }, collect().stream, collect().stream), { instanceOf: UserError, message: /no DBC file at \/nonexistent\.dbc/ });
    await t.throwsAsync(runCanDecode({ dbc: dbcPath('foxbms.dbc'), log: '/nonexistent.log' }, collect().stream, collect().stream), { instanceOf: UserError, message: /no candump log at \/nonexistent\.log/ });
    const broken = log.replace(/bus\.log$/, 'broken.dbc');
    await writeFile(broken, 'BO_ 1 M: 8 N\n SG_ S : 0|8@1+ (1,0) [0|0 "" N\n');
    await t.throwsAsync(runCanDecode({ dbc: broken, log }, collect().stream, collect().stream), { instanceOf: UserError, message: /broken\.dbc:2:28: expected '\]' after the maximum of signal S/ });
  });
});

test('registerCanDecode adds `decode` with its options to a `can` command', (t) => {
  const can = new Command('can');
  registerCanDecode(can);
  const decode = can.commands.find((c) => c.name() === 'decode')!;
  t.truthy(decode);
  t.deepEqual(decode.options.map((o) => o.long), ['--dbc', '--log', '--json', '--raw']);
});

test('dbcFrameDecoder gives can dump a name and signals per known frame', async (t) => {
  const decode = await dbcFrameDecoder(dbcPath('foxbms.dbc'), collect().stream);
  t.deepEqual(decode(encodeMessage(fox, 'f_CellVoltages', cellValues)), { name: 'f_CellVoltages', signals: cellValues });
  t.is(decode(canFrame({ id: 0x7ee, data: [] })), undefined);
  t.is(decode(canFrame({ id: 592, data: [1] })), undefined);
  await t.throwsAsync(dbcFrameDecoder('/nonexistent.dbc'), { instanceOf: UserError });
});
