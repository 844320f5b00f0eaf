// `voltrail sim` as a user runs it: one JSON ready line with the pty paths, a serialport client
// querying the emulated BMS on it, Ctrl-C stopping it cleanly; CAN kinds answer "not yet".
import test from 'ava';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { VOLTRAIL, runCli } from '../helpers/cli.ts';
import { closePort, exchange, openHostPort } from '../helpers/serial-collect.ts';
import { jbdRequest } from '../../sim-hardware/uart/jbd-protocol.ts';
import { dalyRequest } from '../../sim-hardware/uart/daly-protocol.ts';

interface Ready {
  ready: boolean;
  bms: string;
  serialPty: string | null;
  firmataPty: string | null;
  cells: number;
}

async function startSim(args: string[]) {
  const child = spawn(process.execPath, [VOLTRAIL, 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 20 s; stderr: ${stderr}`)), 20_000);
    lines.once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`voltrail sim exited ${code} before ready: ${stderr}`)));
  });
  return { child, ready: JSON.parse(first) as Ready, exited, stderr: () => stderr };
}

test('voltrail sim --bms jbd prints its ready line; a serialport client reads the pack; SIGINT stops it', async (t) => {
  const s = await startSim(['--bms', 'jbd', '--cells', '12', '--seed', '7', '--profile', 'cc:20', '--speed', '10']);
  t.true(s.ready.ready);
  t.is(s.ready.bms, 'jbd');
  t.regex(s.ready.serialPty ?? '', /^\/dev\/pts\/\d+$/);
  t.is(s.ready.firmataPty, null);
  const host = await openHostPort(s.ready.serialPty!);
  try {
    const basic = await exchange(host, jbdRequest(0x03), 7 + 23 + 2 * 3);
    t.is(basic[0], 0xdd);
    t.is(basic[4 + 21], 12, 'cell count');
    const voltage = basic.readUInt16BE(4) / 100;
    t.true(voltage > 12 * 3.5 && voltage < 12 * 4.2, `pack ${voltage} V`);
    t.true(basic.readInt16BE(6) < 0, 'discharging: JBD current negative');
  } finally {
    await closePort(host);
  }
  s.child.kill('SIGINT');
  t.is(await s.exited, 0, s.stderr());
});

test('voltrail sim --bms daly --firmata-pty serves both ptys', async (t) => {
  const s = await startSim(['--bms', 'daly', '--serial-pty', '--firmata-pty', '--chemistry', 'lfp']);
  t.regex(s.ready.serialPty ?? '', /^\/dev\/pts\/\d+$/);
  t.regex(s.ready.firmataPty ?? '', /^\/dev\/pts\/\d+$/);
  const host = await openHostPort(s.ready.serialPty!);
  try {
    const f = await exchange(host, dalyRequest(0x94), 13);
    t.is(f[4], 16, 'default 16 cells');
  } finally {
    await closePort(host);
  }
  s.child.kill('SIGTERM');
  t.is(await s.exited, 0);
});

test('CAN kinds, the slcan pty and oversize packs get plain errors', async (t) => {
  const fox = await runCli(['sim', '--bms', 'foxbms']);
  t.is(fox.code, 2);
  t.regex(fox.stderr, /not yet available/);
  const slcan = await runCli(['sim', '--slcan-pty']);
  t.is(slcan.code, 2);
  t.regex(slcan.stderr, /slcan.*not yet available/);
  const big = await runCli(['sim', '--bms', 'jbd', '--cells', '96']);
  t.is(big.code, 1);
  t.regex(big.stderr, /at most 32 cells/);
  const bad = await runCli(['sim', '--profile', 'zoom:3']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /profile part 1 'zoom:3'/);
});
