// `voltrail bms read` as a user runs it: against the simulator's JBD and Daly faces on ptys,
// a foxBMS (plus IVT-S and iso165) recorded on CAN and replayed, a custom BMS with a mapping
// file, and the mistakes a technician makes (wrong driver, port, bus; a BMS that does not answer).
import test from 'ava';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeMessage, loadDbc, type DbcDatabase } from '../../devices/dbc/index.ts';
import { formatCandumpLine } from '../../hal/can/candump-log.ts';
import type { CanFrame } from '../../hal/can/frame.ts';
import { startSimRig } from '../../sim-hardware/sim-rig.ts';
import { runCli } from '../helpers/cli.ts';
import { dbcPath } from '../helpers/dbc-files.ts';
import { ptyPair } from '../helpers/pty.ts';

const zeros = (db: DbcDatabase, message: string, mux?: number) =>
  Object.fromEntries(db.messageByName(message)!.signals.filter((s) => s.multiplexerIds === undefined || mux === undefined || s.multiplexerIds.includes(mux)).map((s) => [s.name, 0]));

async function logFile(frames: CanFrame[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'voltrail-bms-'));
  const path = join(dir, 'bus.log');
  await writeFile(path, frames.map((frame, i) => formatCandumpLine({ timeUs: 1_700_000_000_000_000 + i * 1000, iface: 'can0', frame })).join('\n') + '\n');
  return path;
}

for (const driver of ['jbd', 'daly'] as const) {
  test.serial(`bms read --driver ${driver} --json reads the simulated BMS on a pty`, async (t) => {
    const rig = await startSimRig({ bms: driver, cells: 12, serialPty: true });
    try {
      rig.sim.advance(5);
      const m = rig.bms.measure();
      const r = await runCli(['bms', 'read', '--driver', driver, '--port', rig.serialPty!, '--json']);
      t.is(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as Record<string, unknown>;
      t.deepEqual(Object.keys(s), ['t', 'packVoltageV', 'currentA', 'socPct', 'sohPct', 'cellVoltagesMv', 'temperaturesC', 'remainingCapacityAh', 'fullCapacityAh', 'cycleCount', 'balancing', 'faults', 'contactorClosed', 'insulationOhm', 'meta']);
      t.deepEqual(s.cellVoltagesMv, m.cellVoltageV.map((v) => Math.round(v * 1000)));
      t.is(s.sohPct, null);
    } finally {
      await rig.close();
    }
  });
}

test.serial('bms read prints a readable view without --json', async (t) => {
  const rig = await startSimRig({ bms: 'jbd', cells: 8, serialPty: true });
  try {
    const r = await runCli(['bms', 'read', '--driver', 'jbd', '--port', rig.serialPty!]);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /^pack \d+\.\d\d V {2}current -?\d+\.\d\d A \(\+ = discharge\) {2}SoC \d+\.\d % {2}SoH not reported/);
    t.regex(r.stdout, /cells \d+\.\.\d+ mV \(8 cells\)/);
  } finally {
    await rig.close();
  }
});

test.serial('bms read --watch --json prints one snapshot per refresh until --duration', async (t) => {
  const rig = await startSimRig({ bms: 'daly', cells: 4, serialPty: true });
  try {
    const r = await runCli(['bms', 'read', '--driver', 'daly', '--port', rig.serialPty!, '--watch', '--json', '--interval', '200ms', '--duration', '3s']);
    t.is(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    t.true(lines.length >= 2, `${lines.length} refreshes`);
    for (const l of lines) t.is((JSON.parse(l) as { cellVoltagesMv: number[] }).cellVoltagesMv.length, 4);
  } finally {
    await rig.close();
  }
});

test.serial('bms read --driver foxbms with IVT-S and iso165 from a recorded bus, values exact and merged', async (t) => {
  const [fox, ivt, imd] = await Promise.all([loadDbc(dbcPath('foxbms.dbc')), loadDbc(dbcPath('IVT-S_12082020.dbc')), loadDbc(dbcPath('iso165_IMD.dbc'))]);
  const cells = (mux: number, mv: number[]) => {
    const v: Record<string, number> = { ...zeros(fox, 'f_CellVoltages', mux), f_CellVoltages_Mux: mux };
    mv.forEach((x, k) => (v[`CellVoltage_${String(mux * 4 + k).padStart(3, '0')}`] = x));
    return encodeMessage(fox, 'f_CellVoltages', v);
  };
  const log = await logFile([
    encodeMessage(fox, 'f_PackValuesP0', { BatteryVoltage: 352.1, BusVoltage: 351.9, Current: 40.1, Power: 14.1 }),
    encodeMessage(fox, 'f_PackStateEstimation', { MinimumSoc: 71.3, MaximumSoc: 72.1, MinimumSoe: 70, MaximumSoe: 71, Energy: 40.2, Soh: 96.5 }),
    encodeMessage(fox, 'f_BmsState', { ...zeros(fox, 'f_BmsState'), BmsState: 'NORMAL' }),
    cells(0, [3701, 3702, 3703, 3704]),
    encodeMessage(ivt, 'IVT_Msg_Result_I', { ...zeros(ivt, 'IVT_Msg_Result_I'), IVT_ID_Result_I: 1, IVT_Result_I: 40_237 }),
    encodeMessage(imd, 'IMD_Info', { ...zeros(imd, 'IMD_Info'), II_IMC_R_ISO: 2150 }),
  ]);
  const r = await runCli(['bms', 'read', '--driver', 'foxbms', '--bus', `replay:${log}?timing=fast`, '--dbc', dbcPath('foxbms.dbc'), '--ivt-dbc', dbcPath('IVT-S_12082020.dbc'), '--imd-dbc', dbcPath('iso165_IMD.dbc'), '--json']);
  t.is(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { packVoltageV: number; currentA: number; socPct: number; sohPct: number; insulationOhm: number; cellVoltagesMv: number[]; contactorClosed: boolean; meta: Record<string, { source: string }> };
  t.is(s.packVoltageV, 352.1);
  t.is(s.currentA, 40.237);
  t.is(s.meta.currentA!.source, 'ivt-s');
  t.is(s.socPct, 71.3);
  t.is(s.sohPct, 96.5);
  t.is(s.insulationOhm, 2_150_000);
  t.deepEqual(s.cellVoltagesMv, [3701, 3702, 3703, 3704]);
  t.true(s.contactorClosed);
});

test.serial('bms read --driver dbc with a mapping file; a mapping mistake names the file, line and field', async (t) => {
  const fixture = (n: string) => fileURLToPath(new URL(`../devices/bms/fixtures/${n}`, import.meta.url));
  const db = await loadDbc(fixture('custom-bms.dbc'));
  const log = await logFile([
    encodeMessage(db, 'Pack_Status', { Pack_Inst_Voltage: 402.7, Pack_Current: 15.3, Pack_SOC: 64.5, Pack_Health: 100, Relay_State: 'CLOSED', Fault_HighCell: 0, Fault_LowCell: 0, Fault_Thermistor: 0 }),
    encodeMessage(db, 'Cell_Broadcast', { Cell_Page: 0, Cell_1_Voltage: 3612.5, Cell_2_Voltage: 3613, Cell_3_Voltage: 3600.1 }),
    encodeMessage(db, 'Cell_Broadcast', { Cell_Page: 1, Cell_4_Voltage: 3599.9, Cell_5_Voltage: 3610, Cell_6_Voltage: 3611 }),
  ]);
  const ok = await runCli(['bms', 'read', '--driver', 'dbc', '--bus', `replay:${log}?timing=fast`, '--dbc', fixture('custom-bms.dbc'), '--map', fixture('custom-bms.yaml'), '--json']);
  t.is(ok.code, 0, ok.stderr);
  const s = JSON.parse(ok.stdout) as { currentA: number; cellVoltagesMv: number[]; meta: { sohPct: { measured: boolean; source: string } } };
  t.is(s.currentA, -15.3);
  t.deepEqual(s.cellVoltagesMv, [3612.5, 3613, 3600.1, 3599.9, 3610, 3611]);
  t.is(s.meta.sohPct.measured, false);
  t.is(s.meta.sohPct.source, 'custom');
  const dir = await mkdtemp(join(tmpdir(), 'voltrail-map-'));
  await writeFile(join(dir, 'bad.yaml'), 'signals:\n  - signal: Pack_SOC\n    field: soc\n');
  const bad = await runCli(['bms', 'read', '--driver', 'dbc', '--bus', `replay:${log}`, '--dbc', fixture('custom-bms.dbc'), '--map', join(dir, 'bad.yaml')]);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /--map: .*bad\.yaml:3: signals\[0\]\.field: /);
});

test.serial('bms read: wrong driver, missing port, CAN options on a UART driver, a bad bus spec', async (t) => {
  const wrong = await runCli(['bms', 'read', '--driver', 'orion', '--port', '/dev/null']);
  t.is(wrong.code, 2);
  t.regex(wrong.stderr, /Allowed choices are jbd, daly, foxbms, dbc, voltrail/);
  const noPort = await runCli(['bms', 'read', '--driver', 'daly']);
  t.is(noPort.code, 2);
  t.regex(noPort.stderr, /--driver daly reads a serial port: give --port DEV/);
  const badBus = await runCli(['bms', 'read', '--driver', 'voltrail', '--bus', 'can0']);
  t.is(badBus.code, 1);
  t.regex(badBus.stderr, /--bus can0: bus spec 'can0'.*Allowed forms/);
  const noPortFile = await runCli(['bms', 'read', '--driver', 'jbd', '--port', '/dev/ttyUSB-voltrail-missing']);
  t.is(noPortFile.code, 1);
  t.regex(noPortFile.stderr, /--port \/dev\/ttyUSB-voltrail-missing: cannot open serial port .*check the device path/);
});

test.serial('bms read: a BMS that does not answer is named, with what to check', async (t) => {
  const pair = await ptyPair(); // nothing answers on the other end
  try {
    const r = await runCli(['bms', 'read', '--driver', 'jbd', '--port', pair.b]);
    t.is(r.code, 1);
    t.regex(r.stderr, new RegExp(`no answer from the JBD BMS on ${pair.b} to hardware version \\(0x05\\) after 3 tries .*wiring`));
  } finally {
    await pair.close();
  }
});
