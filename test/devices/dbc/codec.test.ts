import test from 'ava';
import { canFrame } from '../../../hal/can/frame.ts';
import { decodeFrame, decodeSignals, encodeMessage, loadDbc, parseDbc } from '../../../devices/dbc/index.ts';
import { dbcPath } from '../../helpers/dbc-files.ts';

const fox = await loadDbc(dbcPath('foxbms.dbc'));
const ivt = await loadDbc(dbcPath('IVT-S_12082020.dbc'));
const iso = await loadDbc(dbcPath('iso165_IMD.dbc'));

test('foxBMS cell voltages: a 13-bit Motorola signal crossing three bytes, worked out by hand', (t) => {
  // f_CellVoltages mux 1: CellVoltage_004 is 11|13@0+, MSB at byte 1 bit 3: byte 1 bits 3..0,
  // byte 2, byte 3 bit 7 -> 0b0010_00110100_0 = 0x468 = 1128.
  const d = decodeFrame(fox, canFrame({ id: 592, data: [1, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde] }))!;
  t.is(d.name, 'f_CellVoltages');
  t.is(d.signals.CellVoltage_004, 1128);
  t.is(d.signals.f_CellVoltages_Mux, 'CellVoltages_004_007');
  t.false('CellVoltage_000' in d.signals, 'signals of other multiplexer values are absent');
  t.deepEqual(Object.keys(d.signals).length, 9);
  const raw = decodeFrame(fox, canFrame({ id: 592, data: [1, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde] }), { choices: false })!;
  t.is(raw.signals.f_CellVoltages_Mux, 1);
  t.deepEqual(encodeMessage(fox, 'f_CellVoltages', d.signals).data, Uint8Array.from([1, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde]));
});

test('IVT-S current: signed 32-bit Motorola, negative values', (t) => {
  // IVT_Result_I is 23|32@0-: bytes 2..5, most significant first. 0xFFFFFC18 = -1000 mA.
  const d = decodeFrame(ivt, canFrame({ id: 0x521, data: [0x00, 0x5f, 0xff, 0xff, 0xfc, 0x18] }))!;
  t.is(d.signals.IVT_Result_I, -1000);
  t.is(d.signals.IVT_MsgCount_Result_I, 0xf);
  t.is(d.signals.IVT_Result_I_System_Error, 0);
  t.is(d.signals.IVT_Result_I_OCS, 1);
  const f = encodeMessage(ivt, 0x521, d.signals);
  t.deepEqual([...f.data], [0x00, 0x5f, 0xff, 0xff, 0xfc, 0x18]);
  t.false(f.extended);
});

test('iso165: Intel 16-bit little endian under a multiplexer', (t) => {
  const d = decodeFrame(iso, canFrame({ id: 35, data: [225, 0x34, 0x12, 0, 0] }), { choices: false })!;
  t.is(d.signals.IG_VIFC_TEMP, 0x1234);
  t.false('IG_IMC_R_ISO_CNT' in d.signals);
});

test('strict encode: missing, unknown, unselected, out of range and unrepresentable values name message and signal', (t) => {
  const values = { f_CellVoltages_Mux: 1, CellVoltage_004_invalidFlag: 0, CellVoltage_005_invalidFlag: 0, CellVoltage_006_invalidFlag: 0, CellVoltage_007_invalidFlag: 0, CellVoltage_004: 3700, CellVoltage_005: 3701, CellVoltage_006: 3702, CellVoltage_007: 3703 };
  t.notThrows(() => encodeMessage(fox, 'f_CellVoltages', values));
  const { CellVoltage_006: _, ...missing } = values;
  t.throws(() => encodeMessage(fox, 'f_CellVoltages', missing), { instanceOf: RangeError, message: /signal CellVoltage_006 of message f_CellVoltages .* is missing/ });
  t.throws(() => encodeMessage(fox, 'f_CellVoltages', { ...values, Nope: 1 }), { instanceOf: RangeError, message: /message f_CellVoltages .*has no signal Nope/ });
  t.throws(() => encodeMessage(fox, 'f_CellVoltages', { ...values, CellVoltage_000: 1 }), { instanceOf: RangeError, message: /signal CellVoltage_000 .* is not present when f_CellVoltages_Mux is 1/ });
  t.throws(() => encodeMessage(fox, 'f_CellVoltages', { ...values, CellVoltage_004: 8192 }), { instanceOf: RangeError, message: /signal CellVoltage_004 of message f_CellVoltages.*8192 is outside its range \[0, 8191\] mV/ });
  t.throws(() => encodeMessage(fox, 'f_CellVoltages', { ...values, CellVoltage_004: 'high' }), { instanceOf: RangeError, message: /CellVoltage_004.*'high' is not one of its value names/ });
  t.throws(() => encodeMessage(fox, 'f_CellVoltages', { ...values, CellVoltage_004: true as unknown as number }), { instanceOf: TypeError, message: /CellVoltage_004/ });
  t.throws(() => encodeMessage(fox, 'NoSuchMessage', {}), { instanceOf: RangeError, message: /no message named NoSuchMessage/ });
  // No range given (0|0): the raw field's width is the limit.
  const db = parseDbc('BO_ 1 M: 1 N\n SG_ S : 0|4@1- (1,0) [0|0] "" N\n');
  t.is(encodeMessage(db, 'M', { S: -8 }).data[0], 0x08);
  t.throws(() => encodeMessage(db, 'M', { S: 8 }), { instanceOf: RangeError, message: /signal S of message M.*raw value 8 is not representable in 4 signed bits \(-8\.\.7\)/ });
});

test('value-table names are accepted as encode input and decoded back as names', (t) => {
  const values = { f_CellVoltages_Mux: 'CellVoltages_008_011', CellVoltage_008_invalidFlag: 'Invalid', CellVoltage_009_invalidFlag: 'Valid', CellVoltage_010_invalidFlag: 0, CellVoltage_011_invalidFlag: 1, CellVoltage_008: 3300, CellVoltage_009: 3301, CellVoltage_010: 3302, CellVoltage_011: 3303 };
  const f = encodeMessage(fox, 'f_CellVoltages', values);
  t.is(f.data[0], 2);
  const back = decodeFrame(fox, f)!.signals;
  t.deepEqual(back, { ...values, CellVoltage_010_invalidFlag: 'Invalid', CellVoltage_011_invalidFlag: 'Valid' }, 'VAL_ of the file: 0 "Invalid" 1 "Valid"');
});

test('a frame shorter than its message is refused, or decoded partially when asked', (t) => {
  const m = ivt.messageByName('IVT_Msg_Result_I')!;
  t.throws(() => decodeSignals(m, Uint8Array.from([0, 0, 0])), { instanceOf: RangeError, message: /IVT_Msg_Result_I .* 6 bytes; the frame holds 3/ });
  const partial = decodeSignals(m, Uint8Array.from([0, 0x01, 0]), { allowTruncated: true });
  t.is(partial.IVT_MsgCount_Result_I, 1);
  t.false('IVT_Result_I' in partial);
});

test('unknown ids, remote and error frames decode to undefined', (t) => {
  t.is(decodeFrame(fox, canFrame({ id: 0x7ff, data: [] })), undefined);
  t.is(decodeFrame(fox, canFrame({ id: 592, extended: true, data: new Uint8Array(8) })), undefined);
  t.is(decodeFrame(fox, canFrame({ id: 592, remote: true, dlc: 8 })), undefined);
});

test('extended multiplexing: a switch selected by a switch, and ranges too wide to list value by value', (t) => {
  const db = parseDbc(`BO_ 2564489217 Ext: 8 N
 SG_ SW M : 0|20@1+ (1,0) [0|0] "" N
 SG_ SUB m7M : 20|4@1+ (1,0) [0|0] "" N
 SG_ A m0 : 24|8@1+ (1,0) [0|0] "" N
 SG_ WIDE m0 : 32|16@1- (0.5,0) [0|0] "" N
 SG_ DEEP m0 : 55|16@0+ (1,0) [0|0] "" N
 SG_ OUTSIDE m0 : 48|16@0+ (1,0) [0|0] "" N
SG_MUL_VAL_ 2564489217 SUB SW 7-7;
SG_MUL_VAL_ 2564489217 A SUB 1-3;
SG_MUL_VAL_ 2564489217 WIDE SW 0-99999;
SG_MUL_VAL_ 2564489217 DEEP SUB 3-3, 9-12;
SG_MUL_VAL_ 2564489217 OUTSIDE SUB 15-15;
`, { file: 'ext.dbc' });
  // OUTSIDE: Motorola MSB at byte 6 bit 0, so its 16 bits run into a ninth byte.
  t.deepEqual(db.warnings, [{ file: 'ext.dbc', line: 7, message: 'signal OUTSIDE reaches byte 9 of message Ext, which is 8 bytes long' }]);
  t.throws(() => encodeMessage(db, 'Ext', { SW: 7, SUB: 15, WIDE: 0, OUTSIDE: 1 }), { instanceOf: RangeError, message: /signal OUTSIDE of message Ext .*reaches byte 9 of a 8-byte message/ });
  const m = db.messageByName('Ext')!;
  t.true(m.extended);
  t.is(m.id, 0x18db0001);
  const wide = m.signals.find((s) => s.name === 'WIDE')!;
  t.is(wide.multiplexerIds, undefined, 'a 100000-value range is kept as a range');
  t.deepEqual(wide.multiplexerRanges, [[0, 99999]]);
  const enc = (v: Record<string, number>) => encodeMessage(db, 'Ext', v);
  t.deepEqual(decodeFrame(db, enc({ SW: 7, SUB: 3, A: 200, WIDE: -3.5, DEEP: 0xbeef }))!.signals, { SW: 7, SUB: 3, A: 200, WIDE: -3.5, DEEP: 0xbeef });
  t.deepEqual(decodeFrame(db, enc({ SW: 7, SUB: 10, WIDE: 12, DEEP: 1 }))!.signals, { SW: 7, SUB: 10, WIDE: 12, DEEP: 1 });
  t.deepEqual(decodeFrame(db, enc({ SW: 70000, WIDE: 1 }))!.signals, { SW: 70000, WIDE: 1 });
  t.deepEqual(decodeFrame(db, enc({ SW: 100000 }))!.signals, { SW: 100000 });
  t.throws(() => enc({ SW: 8, SUB: 1, WIDE: 0 }), { instanceOf: RangeError, message: /signal SUB of message Ext .*is not present when SW is 8/ });
  t.throws(() => enc({ SW: 7, SUB: 5, A: 1, WIDE: 0 }), { instanceOf: RangeError, message: /signal A of message Ext .*is not present when SUB is 5/ });
});
