// `voltrail sim` as a user runs it: one JSON ready line with the pty paths, a serialport client
// querying the emulated BMS on it, Ctrl-C stopping it cleanly; python-can reading the CAN kinds
// through the emulated slcan adapter.
import test from 'ava';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { VOLTRAIL, runCli } from '../helpers/cli.ts';
import { closePort, exchange, openHostPort } from '../helpers/serial-collect.ts';
import { jbdRequest } from '../../sim-hardware/uart/jbd-protocol.ts';
import { dalyRequest } from '../../sim-hardware/uart/daly-protocol.ts';
import { decodeFrame, loadDbc } from '../../devices/dbc/index.ts';
import { canFrame } from '../../hal/can/frame.ts';
import { dbcPath } from '../helpers/dbc-files.ts';

const FOX_DBC = dbcPath('foxbms.dbc');
const IVT_DBC = dbcPath('IVT-S_12082020.dbc');
const IMD_DBC = dbcPath('iso165_IMD.dbc');

interface Ready {
  ready: boolean;
  bms: string;
  serialPty: string | null;
  firmataPty: string | null;
  slcanPty: string | null;
  cells: number;
}

async function startSim(args: string[]) {
  const child = spawn(process.execPath, [VOLTRAIL, 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within 40 s; stderr: ${stderr}`));
    }, 40_000);
    lines.once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`voltrail sim exited ${code} before ready: ${stderr}`)));
  });
  return { child, ready: JSON.parse(first) as Ready, exited, stderr: () => stderr };
}

test.serial('voltrail sim --bms jbd prints its ready line; a serialport client reads the pack; SIGINT stops it', async (t) => {
  const s = await startSim(['--bms', 'jbd', '--cells', '12', '--seed', '7', '--profile', 'cc:20', '--speed', '10']);
  t.true(s.ready.ready);
  t.is(s.ready.bms, 'jbd');
  t.regex(s.ready.serialPty ?? '', /^\/dev\/pts\/\d+$/);
  t.is(s.ready.firmataPty, null);
  const host = await openHostPort(s.ready.serialPty!).catch((err: unknown) => {
    s.child.kill('SIGKILL');
    throw err;
  });
  try {
    const basic = await exchange(host, jbdRequest(0x03), 7 + 23 + 2 * 3);
    t.is(basic[0], 0xdd);
    t.is(basic[4 + 21], 12, 'cell count');
    const voltage = basic.readUInt16BE(4) / 100;
    t.true(voltage > 12 * 3.5 && voltage < 12 * 4.2, `pack ${voltage} V`);
    t.true(basic.readInt16BE(6) < 0, 'discharging: JBD current negative');
  } finally {
    await closePort(host);
    s.child.kill('SIGINT');
  }
  t.is(await s.exited, 0, s.stderr());
});

test.serial('voltrail sim --bms daly --firmata-pty serves both ptys', async (t) => {
  const s = await startSim(['--bms', 'daly', '--serial-pty', '--firmata-pty', '--chemistry', 'lfp', '--fault', 'cellSensorOffset:cell=2,offsetV=0.5']);
  t.regex(s.ready.serialPty ?? '', /^\/dev\/pts\/\d+$/);
  t.regex(s.ready.firmataPty ?? '', /^\/dev\/pts\/\d+$/);
  const host = await openHostPort(s.ready.serialPty!).catch((err: unknown) => {
    s.child.kill('SIGKILL');
    throw err;
  });
  try {
    const f = await exchange(host, dalyRequest(0x94), 13);
    t.is(f[4], 16, 'default 16 cells');
    const max = await exchange(host, dalyRequest(0x91), 13);
    t.is(max[6], 2, 'the offset fault makes cell 2 the highest');
    t.true(max.readUInt16BE(4) > 3700, `cell 2 reads ${max.readUInt16BE(4)} mV`);
  } finally {
    await closePort(host);
    s.child.kill('SIGTERM');
  }
  t.is(await s.exited, 0);
});

test.serial('voltrail sim --bms voltrail --slcan-pty: python-can reads the simulated BMS through the emulated adapter', async (t) => {
  const s = await startSim(['--bms', 'voltrail', '--slcan-pty', '--cells', '12', '--seed', '3', '--profile', 'cc:20']);
  try {
    t.regex(s.ready.slcanPty ?? '', /^\/dev\/pts\/\d+$/);
    t.is(s.ready.serialPty, null);
    // python-can (Debian python3-can) opens the pty as a slcan adapter and reads frames for a second.
    const py = `
import can, sys, time
bus = can.Bus(interface='slcan', channel=sys.argv[1], bitrate=500000, sleep_after_open=0)
ids = set(); end = time.time() + 3
status = None
while time.time() < end and len(ids) < 4:
    m = bus.recv(0.5)
    if m is None: continue
    ids.add(m.arbitration_id)
    if m.arbitration_id == 0x610: status = m.data
bus.shutdown()
v = int.from_bytes(status[0:2], 'little') * 0.01 if status else 0
print(sorted(ids), round(v, 2))`;
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn('/usr/bin/python3', ['-c', py, s.ready.slcanPty!], { stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      let e = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => (o += d));
      p.stderr.setEncoding('utf8').on('data', (d: string) => (e += d));
      p.on('close', (code) => (code === 0 ? resolve(o.trim()) : reject(new Error(e))));
    });
    const [, ids, volts] = /^\[(.*)\] (\S+)$/.exec(out)!;
    t.true(ids!.split(', ').map(Number).includes(0x610), `ids seen: ${ids}`);
    const v = Number(volts);
    t.true(v > 12 * 3.5 && v < 12 * 4.2, `pack voltage decoded by python: ${v} V`);
  } finally {
    s.child.kill('SIGINT');
  }
  t.is(await s.exited, 0, s.stderr());
});

test.serial('voltrail sim --bms foxbms --dbc with IVT-S and iso165: python-can reads foxBMS frames through the emulated adapter', async (t) => {
  const s = await startSim(['--bms', 'foxbms', '--dbc', FOX_DBC, '--ivt-dbc', IVT_DBC, '--imd-dbc', IMD_DBC, '--slcan-pty', '--cells', '10', '--seed', '4', '--profile', 'cc:15', '--speed', '2']);
  try {
    t.regex(s.ready.slcanPty ?? '', /^\/dev\/pts\/\d+$/);
    t.like(s.ready as unknown as Record<string, unknown>, { bms: 'foxbms', ivt: true, imd: true });
    // python-can (Debian python3-can) reads raw frames; it decodes the pack voltage itself
    // (f_PackValuesP0, Motorola bits 7..-8: 15-bit signed, 0.1 V) and hands the rest back.
    const py = `
import can, sys, time, json
bus = can.Bus(interface='slcan', channel=sys.argv[1], bitrate=500000, sleep_after_open=0)
frames = []; muxes = set(); ids = set(); volts = None
end = time.time() + 45
while time.time() < end and not ({0x233, 0x521, 0x37} <= ids and {0, 1, 2} <= muxes):
    m = bus.recv(0.5)
    if m is None: continue
    ids.add(m.arbitration_id)
    frames.append([m.arbitration_id, m.data.hex()])
    if m.arbitration_id == 0x250: muxes.add(m.data[0])
    if m.arbitration_id == 0x233:
        raw = ((m.data[0] << 8 | m.data[1]) >> 1) & 0x7fff
        if raw >= 0x4000: raw -= 0x8000
        volts = raw * 0.1
bus.shutdown()
print(json.dumps({"volts": volts, "frames": frames, "muxes": sorted(muxes)}))`;
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn('/usr/bin/python3', ['-c', py, s.ready.slcanPty!], { stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      let e = '';
      p.stdout.setEncoding('utf8').on('data', (d: string) => (o += d));
      p.stderr.setEncoding('utf8').on('data', (d: string) => (e += d));
      p.on('close', (code) => (code === 0 ? resolve(o.trim()) : reject(new Error(e))));
    });
    const got = JSON.parse(out) as { volts: number | null; frames: [number, string][]; muxes: number[] };
    t.deepEqual(got.muxes, [0, 1, 2], `cell-voltage mux values seen in ${got.frames.length} frames`);
    t.true(got.volts !== null && got.volts > 10 * 3.4 && got.volts < 10 * 4.2, `pack voltage decoded by python: ${got.volts} V`);
    const db = await loadDbc(FOX_DBC);
    const decoded = got.frames.map(([id, hex]) => decodeFrame(db, canFrame({ id, data: Buffer.from(hex, 'hex') }), { choices: false })).filter((d) => d !== undefined);
    const p0 = decoded.filter((d) => d.name === 'f_PackValuesP0').at(-1)!;
    t.true((p0.signals.Current as number) > 14 && (p0.signals.Current as number) < 16, `current ${p0.signals.Current} A`);
    const cells = new Map<string, number>();
    for (const d of decoded.filter((d) => d.name === 'f_CellVoltages')) {
      for (const [k, v] of Object.entries(d.signals)) if (/^CellVoltage_\d{3}$/.test(k)) cells.set(k, v as number);
    }
    for (let i = 0; i < 10; i++) {
      const mv = cells.get(`CellVoltage_${String(i).padStart(3, '0')}`);
      t.true(mv !== undefined && mv > 3400 && mv < 4200, `cell ${i}: ${mv} mV`);
    }
    t.true(got.frames.some(([id]) => id === 0x521), 'the IVT-S current result is on the bus');
    t.true(got.frames.some(([id]) => id === 0x37), 'the iso165 IMD_Info is on the bus');
  } finally {
    s.child.kill('SIGINT');
  }
  t.is(await s.exited, 0, s.stderr());
});

test.serial('CAN kinds, the slcan pty and oversize packs get plain errors', async (t) => {
  const [fox, slcan, big, bad, fault, uartIvt, missing] = await Promise.all([
    runCli(['sim', '--bms', 'foxbms']),
    runCli(['sim', '--slcan-pty']),
    runCli(['sim', '--bms', 'jbd', '--cells', '96']),
    runCli(['sim', '--profile', 'zoom:3']),
    runCli(['sim', '--cells', '4', '--fault', 'openWire:cell=9']),
    runCli(['sim', '--bms', 'jbd', '--ivt-dbc', IVT_DBC]),
    runCli(['sim', '--bms', 'foxbms', '--dbc', '/nonexistent/foxbms.dbc']),
  ]);
  t.is(uartIvt.code, 2);
  t.regex(uartIvt.stderr, /--ivt-dbc: .*the jbd BMS speaks UART/);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /--dbc \/nonexistent\/foxbms.dbc: no such file/);
  t.is(fox.code, 2);
  t.regex(fox.stderr, /--bms foxbms .*add --dbc FILE/);
  t.is(slcan.code, 2);
  t.regex(slcan.stderr, /--slcan-pty: the jbd BMS speaks UART; use --serial-pty/);
  t.is(big.code, 1);
  t.regex(big.stderr, /at most 32 cells/);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /profile part 1 'zoom:3'/);
  t.is(fault.code, 1);
  t.regex(fault.stderr, /openWire: .*cells 1..4.*\(cell 9\)/);
});
