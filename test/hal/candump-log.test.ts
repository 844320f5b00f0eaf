import test from 'ava';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CandumpLogWriter,
  formatCandumpLine,
  parseCandumpLine,
  parseCandumpLog,
  readCandumpFile,
} from '../../hal/can/candump-log.ts';
import type { CandumpIssue } from '../../hal/can/candump-log.ts';
import { canFrame, FD_LENGTHS } from '../../hal/can/frame.ts';

// Lines as candump -L writes them, one of each kind.
const CANDUMP_LINES = [
  '(1436509052.249713) vcan0 044#2A366C2BBA',
  '(1436509052.449847) vcan0 0F6#',
  '(1436509052.650004) vcan0 1ABCDEF0#0011223344556677',
  '(1436509052.850123) vcan0 00000123#FF',
  '(1436509053.050000) vcan0 123#R',
  '(1436509053.250000) vcan0 123#R5',
  '(1436509053.450000) vcan0 12345678#R8',
  '(1436509053.650000) can1 123##0',
  '(1436509053.850000) can1 123##1' + '00112233445566778899AABBCCDDEEFF'.repeat(4),
  '(1436509054.050000) can1 1FFFFFFF##3DEADBEEFDEADBEEF',
  '(1436509054.250000) can1 123##5DEADBEEFDEADBEEFDEADBEEF',
  '(1436509054.450000) can0 20000080#0000000000000000',
  '(0000000001.000001) can0 7FF#01 R',
  '(1700000000.999999) can0 000#00 T',
];

test('every line candump writes reads back and writes out byte for byte', (t) => {
  for (const line of CANDUMP_LINES) t.is(formatCandumpLine(parseCandumpLine(line)), line, line);
});

test('lines are read into the right frames', (t) => {
  const [std, empty, ext, extLow, rtr, rtr5, , fd0, fd64, fdBrsEsi, fdf, err, rx] = CANDUMP_LINES.map(parseCandumpLine);
  t.is(std!.frame.id, 0x44);
  t.false(std!.frame.extended);
  t.deepEqual([...std!.frame.data], [0x2a, 0x36, 0x6c, 0x2b, 0xba]);
  t.is(std!.timeUs, 1436509052249713);
  t.is(std!.frame.timestamp, 1436509052.249713);
  t.is(std!.iface, 'vcan0');
  t.is(empty!.frame.data.length, 0);
  t.true(ext!.frame.extended);
  t.is(ext!.frame.id, 0x1abcdef0);
  t.true(extLow!.frame.extended, 'an 8-digit id is extended whatever its value');
  t.is(extLow!.frame.id, 0x123);
  t.true(rtr!.frame.remote);
  t.is(rtr!.frame.dlc, 0);
  t.is(rtr5!.frame.dlc, 5);
  t.true(fd0!.frame.fd);
  t.is(fd64!.frame.data.length, 64);
  t.true(fd64!.frame.brs);
  t.true(fdBrsEsi!.frame.brs && fdBrsEsi!.frame.esi && fdBrsEsi!.frame.extended);
  t.is(fdf!.fdFlags, 5, 'the FDF bit is kept for an exact round trip');
  t.true(err!.frame.error);
  t.is(err!.frame.id, 0x80);
  t.is(rx!.direction, 'R');
});

test('bad lines are reported with their line number and skipped', (t) => {
  const text = [
    CANDUMP_LINES[0],
    'garbage',
    '(1436509052.2497) vcan0 044#00',
    '(1436509052.249713) vcan0 44#00',
    '(1436509052.249713) vcan0 800#00',
    '(1436509052.249713) vcan0 044#0',
    '(1436509052.249713) vcan0 044#001122334455667788',
    '(1436509052.249713) vcan0 044##10011223344556677889900',
    '(1436509052.249713) vcan0 044#R9',
    '(1436509052.249713) vcan0 044',
    '',
    CANDUMP_LINES[1],
    '(1436509052.249713) vcan0 044#ZZ',
  ].join('\n');
  const { records, issues } = parseCandumpLog(text);
  t.is(records.length, 2);
  t.deepEqual(
    issues.map((i) => i.line),
    [2, 3, 4, 5, 6, 7, 8, 9, 10, 13],
  );
  const reasons = Object.fromEntries(issues.map((i) => [i.line, i.reason]));
  t.regex(reasons[2]!, /timestamp/);
  t.regex(reasons[3]!, /6 digits/);
  t.regex(reasons[4]!, /3 hex digits/);
  t.regex(reasons[5]!, /0x7FF/);
  t.regex(reasons[6]!, /pairs of hex/);
  t.regex(reasons[7]!, /at most 8/);
  t.regex(reasons[8]!, /CAN FD length/);
  t.regex(reasons[9]!, /DLC/);
  t.regex(reasons[10]!, /no '#'/);
});

test('the file reader streams records and reports issues as it goes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'voltrail-candump-'));
  const path = join(dir, 'x.log');
  writeFileSync(path, CANDUMP_LINES.slice(0, 3).join('\n') + '\nnot a frame\r\n' + CANDUMP_LINES[3] + '\n');
  const issues: CandumpIssue[] = [];
  const lines: string[] = [];
  for await (const r of readCandumpFile(path, { onIssue: (i) => issues.push(i) })) lines.push(formatCandumpLine(r));
  t.deepEqual(lines, CANDUMP_LINES.slice(0, 4));
  t.deepEqual(issues.map((i) => i.line), [4]);
});

const arbFrame = fc.oneof(
  fc.record({ id: fc.integer({ min: 0, max: 0x7ff }), extended: fc.constant(false), data: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ id: fc.integer({ min: 0, max: 0x1fffffff }), extended: fc.constant(true), data: fc.uint8Array({ maxLength: 8 }) }),
  fc.record({ id: fc.integer({ min: 0, max: 0x7ff }), remote: fc.constant(true), dlc: fc.integer({ min: 0, max: 8 }) }),
  fc
    .record({ id: fc.integer({ min: 0, max: 0x1fffffff }), len: fc.constantFrom(...FD_LENGTHS), brs: fc.boolean(), esi: fc.boolean() })
    .map(({ id, len, brs, esi }) => ({ id, extended: true, fd: true, brs, esi, data: new Uint8Array(len).fill(id & 0xff) })),
);

test('any frame written is read back equal (property)', (t) => {
  fc.assert(
    fc.property(arbFrame, fc.integer({ min: 0, max: 4_102_444_800_000_000 }), (init, timeUs) => {
      const record = { timeUs, iface: 'can0', frame: canFrame(init) };
      const line = formatCandumpLine(record);
      const back = parseCandumpLine(line);
      t.is(formatCandumpLine(back), line);
      return back.timeUs === timeUs && back.frame.id === record.frame.id && Buffer.from(back.frame.data).equals(record.frame.data) && back.frame.dlc === record.frame.dlc;
    }),
  );
});

const PYTHON_LOG = `
import can, sys
msgs = [
  can.Message(timestamp=1700000000.25, arbitration_id=0x123, is_extended_id=False, data=b'\\xde\\xad\\xbe\\xef'),
  can.Message(timestamp=1700000000.5, arbitration_id=0x1abcdef, is_extended_id=True, data=b''),
  can.Message(timestamp=1700000001.0, arbitration_id=0x7ff, is_extended_id=False, is_remote_frame=True, dlc=3),
  can.Message(timestamp=1700000001.5, arbitration_id=0x10, is_extended_id=True, is_fd=True, bitrate_switch=True, data=bytes(range(12))),
]
w = can.CanutilsLogWriter(sys.argv[1], channel='vcan0')
for m in msgs: w.on_message_received(m)
w.stop()
`;

test('logs written by python-can read here, and logs written here read in python-can', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'voltrail-candump-'));
  const fromPython = join(dir, 'py.log');
  execFileSync('/usr/bin/python3', ['-c', PYTHON_LOG, fromPython]);
  const { records, issues } = parseCandumpLog(readFileSync(fromPython, 'utf8'));
  t.deepEqual(issues, []);
  t.deepEqual(
    records.map((r) => [r.frame.id, r.frame.extended, r.frame.remote, r.frame.fd, r.frame.brs, Buffer.from(r.frame.data).toString('hex'), r.timeUs]),
    [
      [0x123, false, false, false, false, 'deadbeef', 1700000000250000],
      [0x1abcdef, true, false, false, false, '', 1700000000500000],
      [0x7ff, false, true, false, false, '', 1700000001000000],
      [0x10, true, false, true, true, '000102030405060708090a0b', 1700000001500000],
    ],
  );
  // python-can 4.1 writes a remote frame as `7FF#R R`: its DLC is not in the file, so 0 here.
  t.is(records[2]!.direction, 'R');

  const ours = join(dir, 'ours.log');
  const writer = new CandumpLogWriter(ours, { iface: 'can1' });
  for (const line of CANDUMP_LINES.slice(0, 11)) await writer.write(parseCandumpLine(line).frame);
  await writer.close();
  const read = execFileSync('/usr/bin/python3', [
    '-c',
    `import can, sys\nfor m in can.CanutilsLogReader(sys.argv[1]): print('%x %d %d %d %d %d %s %.6f %s' % (m.arbitration_id, m.is_extended_id, m.is_remote_frame, m.is_fd, m.bitrate_switch, m.dlc, m.data.hex(), m.timestamp, m.channel))`,
    ours,
  ]).toString();
  const rows = read.trim().split('\n');
  t.is(rows.length, 11);
  t.is(rows[0], '44 0 0 0 0 5 2a366c2bba 1436509052.249713 can1');
  t.is(rows[5], '123 0 1 0 0 5  1436509053.250000 can1');
  t.regex(rows[8]!, /^123 0 0 1 1 64 /);
});
