import test from 'ava';
import { readFileSync } from 'node:fs';
import { DbcParseError, dbcText, loadDbc, parseDbc } from '../../../devices/dbc/index.ts';
import { dbcPath } from '../../helpers/dbc-files.ts';

/** Counts straight from the file text, independent of the parser. */
function countLines(file: Parameters<typeof dbcPath>[0], re: RegExp): number {
  return dbcText(readFileSync(dbcPath(file))).split('\n').filter((l) => re.test(l)).length;
}

test('foxBMS: every message and signal, multiplexed cell voltages, cycle times, comments, value tables', async (t) => {
  const db = await loadDbc(dbcPath('foxbms.dbc'));
  t.deepEqual(db.warnings, []);
  t.is(db.messages.length, countLines('foxbms.dbc', /^BO_ /));
  t.is(db.messages.reduce((n, m) => n + m.signals.length, 0), countLines('foxbms.dbc', /^\s*SG_ /));
  t.is(db.messages.length, 41);

  const cv = db.messageByName('f_CellVoltages')!;
  t.is(cv.id, 592);
  t.false(cv.extended);
  t.is(cv.length, 8);
  t.is(db.messageById(592, false), cv);
  const mux = cv.signals.find((s) => s.name === 'f_CellVoltages_Mux')!;
  t.true(mux.multiplexer);
  t.is(mux.byteOrder, 'big_endian');
  t.is(mux.startBit, 7);
  t.is(mux.choices?.get(1), 'CellVoltages_004_007');
  const v5 = cv.signals.find((s) => s.name === 'CellVoltage_005')!;
  t.deepEqual(v5.multiplexerIds, [1]);
  t.is(v5.multiplexerSwitch, 'f_CellVoltages_Mux');
  t.false(v5.multiplexer);

  const temps = db.messageById(640)!;
  t.is(temps.name, 'AFE_CellTemperatures');
  t.is(temps.cycleTimeMs, 4500);
  t.regex(temps.comment ?? '', /^Cell temperature measurement data/);
  const t0 = temps.signals.find((s) => s.name === 'CellTemperature_000')!;
  t.true(t0.signed);
  t.is(t0.min, -128);
  t.is(t0.max, 127);
  t.is(t0.unit, 'degC');
  t.is(t0.comment, 'Temperature of cell 0');
  t.deepEqual(t0.receivers, ['Vector__XXX']);
  t.true(db.attributes.definitions.has('GenMsgCycleTime'));
});

test('IVT-S: Latin-1 text, value tables, the VECTOR__INDEPENDENT_SIG_MSG pseudo-message, signed 32-bit Motorola current', async (t) => {
  const db = await loadDbc(dbcPath('IVT-S_12082020.dbc'));
  t.deepEqual(db.warnings, []);
  const all = db.messages.reduce((n, m) => n + m.signals.length, 0) + db.independentSignals.length;
  t.is(all, countLines('IVT-S_12082020.dbc', /^\s*SG_ /));
  t.is(db.messages.length + 1, countLines('IVT-S_12082020.dbc', /^BO_ /));
  t.false(db.messages.some((m) => m.name === 'VECTOR__INDEPENDENT_SIG_MSG'));
  t.deepEqual(db.independentSignals.map((s) => s.name), ['_B1_Resp_Trigger_Mask', '_B9_Resp_Device_spare']);
  t.is(db.messageById(0, true), undefined, 'the pseudo-message does not answer for extended id 0');

  const i = db.messageByName('IVT_Msg_Result_I')!;
  t.is(i.id, 0x521);
  t.is(i.length, 6);
  t.is(i.sender, 'IVT_Mod');
  const current = i.signals.find((s) => s.name === 'IVT_Result_I')!;
  t.like(current, { startBit: 23, length: 32, byteOrder: 'big_endian', signed: true, unit: 'mA', min: -2147483648, max: 2147483647 });
  t.deepEqual(current.receivers, ['Host']);

  t.deepEqual([...db.nodes.map((n) => n.name)], ['Host', 'IVT_Mod']);
  t.is(db.nodes[1]!.attributes.get('Manufacturer'), 'Isabellenhuette');
  t.is(db.valueTables.get('VtRunMode')?.get(1), 'START');
  const response = db.messageByName('IVT_Msg_Response')!;
  t.is(response.signals.find((s) => s.name === '_B9_Resp_Device_current')?.choices?.get(2500), '2500 A');
  t.is(db.attributes.definitions.get('GenMsgSendType')?.enumValues?.[0], 'Cyclic');
  t.is(db.attributes.definitions.get('BusType')?.defaultValue, 'CAN');
});

test('iso165: Intel signals, many multiplexer values, degree sign read as Latin-1, cycle times', async (t) => {
  const db = await loadDbc(dbcPath('iso165_IMD.dbc'));
  t.deepEqual(db.warnings, []);
  t.is(db.messages.length, countLines('iso165_IMD.dbc', /^BO_ /));
  t.is(db.messages.reduce((n, m) => n + m.signals.length, 0), countLines('iso165_IMD.dbc', /^\s*SG_ /));
  const r = db.messageByName('IMD_Response')!;
  t.is(r.id, 35);
  t.is(r.length, 5);
  const temp = r.signals.find((s) => s.name === 'IG_VIFC_TEMP')!;
  t.is(temp.unit, '\u00b0C');
  t.is(temp.byteOrder, 'little_endian');
  t.deepEqual(temp.multiplexerIds, [225]);
  t.is(db.messageById(55)?.cycleTimeMs, 1000);
});

test('a parse error names the file, the line, the column and what was expected', (t) => {
  const text = ['VERSION ""', '', 'BO_ 100 Msg: 8 Node', ' SG_ Sig : 0|8@2+ (1,0) [0|0] "" Node', ''].join('\n');
  const err = t.throws(() => parseDbc(text, { file: 'broken.dbc' }), { instanceOf: DbcParseError });
  t.is(err.file, 'broken.dbc');
  t.is(err.line, 4);
  t.is(err.column, 16);
  t.regex(err.message, /^broken\.dbc:4:16: expected byte order 0 \(big endian, Motorola\) or 1 \(little endian, Intel\) of signal Sig, found number 2/);

  const e2 = t.throws(() => parseDbc('BO_ 1 M: 8 N\n SG_ S : 0|8@1+ (1,0) [0|0] "" N\nCM_ SG_ 1 S "unterminated;\n', { file: 'x.dbc' }), { instanceOf: DbcParseError });
  t.is(e2.line, 3);
  t.regex(e2.message, /closing "/);

  const e3 = t.throws(() => parseDbc('BO_ 1 M 8 N\n', { file: 'y.dbc' }), { instanceOf: DbcParseError });
  t.regex(e3.message, /^y\.dbc:1:9: expected ':' after message name M, found number 8/);

  const e4 = t.throws(() => parseDbc('BO_ 1 M: 8 N\n SG_ S : 0|8@1+ (1,0) [0|0] "" N\nSIG_VALTYPE_ 1 S : 1;\n'), { instanceOf: DbcParseError });
  t.regex(e4.message, /^<dbc>:3:1: expected a 32-bit signal for value type float32/);
});

test('an unknown section is skipped with a warning naming file and line; the rest is read', (t) => {
  const text = [
    'VERSION "1"',
    'BU_: A B',
    'FOO_BAR_ 12 "whatever" { odd = tokens };',
    '  more of it',
    'BO_ 291 Msg: 2 A',
    ' SG_ S : 0|16@1+ (0.5,-10) [-10|100] "V" B',
    'CM_ SG_ 291 S "a comment',
    'over two lines";',
  ].join('\n');
  const db = parseDbc(text, { file: 'odd.dbc' });
  t.deepEqual(db.warnings, [{ file: 'odd.dbc', line: 3, message: "unknown section 'FOO_BAR_' skipped" }]);
  const m = db.messageById(0x123)!;
  t.is(m.signals[0]!.comment, 'a comment\nover two lines');
  t.is(m.signals[0]!.factor, 0.5);
  t.is(m.signals[0]!.offset, -10);
  t.deepEqual(db.nodes.map((n) => n.name), ['A', 'B']);
});

test('extended ids, CAN FD, SIG_VALTYPE_, SG_MUL_VAL_, BO_TX_BU_, SIG_GROUP_, EV_ and VAL_TABLE_ references', (t) => {
  const text = `VERSION ""
NS_ :
\tCM_
\tSG_MUL_VAL_
BS_:
BU_: ECU GW
VAL_TABLE_ Onoff 0 "Off" 1 "On" ;
BO_ 2147484672 Ext: 8 ECU
 SG_ F32 : 0|32@1- (1,0) [0|0] "" GW
 SG_ U16 : 32|16@1+ (1,0) [0|0] "" GW
BO_ 1280 Fd: 64 ECU
 SG_ F64 : 0|64@1- (1,0) [0|0] "" GW
BO_ 1536 Fdf: 8 ECU
 SG_ A : 0|8@1+ (1,0) [0|0] "" GW
BO_ 1792 Mux: 8 ECU
 SG_ S0 M : 0|8@1+ (1,0) [0|0] "" GW
 SG_ S1 m1M : 8|8@1+ (1,0) [0|0] "" GW
 SG_ X m2 : 16|8@1+ (1,0) [0|0] "" GW
BO_TX_BU_ 1792 : GW,ECU;
EV_ Env1: 0 [0|100] "" 5 1 DUMMY_NODE_VECTOR0 ECU;
SIG_GROUP_ 1792 Grp 1 : S0 S1;
BA_DEF_ BO_ "VFrameFormat" ENUM "StandardCAN","ExtendedCAN","reserved","StandardCAN_FD";
BA_DEF_DEF_ "VFrameFormat" "StandardCAN";
BA_ "VFrameFormat" BO_ 1536 3;
VAL_ 1536 A Onoff ;
SIG_VALTYPE_ 2147484672 F32 : 1;
SIG_VALTYPE_ 1280 F64 : 2;
SG_MUL_VAL_ 1792 S1 S0 1-1;
SG_MUL_VAL_ 1792 X S1 2-2, 4-6, 5-6;
`;
  const db = parseDbc(text);
  t.deepEqual(db.warnings, []);
  const ext = db.messageById(0x400, true)!;
  t.is(ext.name, 'Ext');
  t.true(ext.extended);
  t.is(db.messageById(0x400, false), undefined);
  t.is(ext.signals[0]!.valueType, 'float32');
  t.true(db.messageByName('Fd')!.fd);
  t.is(db.messageByName('Fd')!.signals[0]!.valueType, 'float64');
  t.true(db.messageByName('Fdf')!.fd, 'VFrameFormat StandardCAN_FD makes an 8-byte message CAN FD');
  t.is(db.messageByName('Ext')!.fd, undefined);
  t.is(db.messageByName('Fdf')!.signals[0]!.choices?.get(1), 'On');
  const mux = db.messageByName('Mux')!;
  t.deepEqual(mux.senders, ['ECU', 'GW']);
  t.deepEqual(mux.signalGroups.get('Grp'), ['S0', 'S1']);
  const s1 = mux.signals[1]!;
  t.true(s1.multiplexer);
  t.is(s1.multiplexerSwitch, 'S0');
  const x = mux.signals[2]!;
  t.is(x.multiplexerSwitch, 'S1');
  t.deepEqual(x.multiplexerIds, [2, 4, 5, 6], 'overlapping ranges give each value once');
  t.deepEqual(x.multiplexerRanges, [[2, 2], [4, 6], [5, 6]]);
  t.is(db.envVars[0]!.name, 'Env1');
});

test('sections the model does not carry are read past; node, env-var and database comments and attributes land on their objects', (t) => {
  const text = `VERSION "2.0"
NS_ :
\tBA_DEF_REL_
\tBU_SG_REL_
BS_: 500 : 12,34
BU_: ECU
BO_ 100 M: 8 ECU
 SG_ S : 0|8@1- (1,0) [0|0] "" ECU
EV_ Env: 1 [0|10.5] "V" 0 7 DUMMY_NODE_VECTOR8000 ECU;
ENVVAR_DATA_ Env: 8;
SGTYPE_ T : 8@1+ (1,0) [0|0] "" 0, Vt;
CM_ "the bus";
CM_ BU_ ECU "the node";
CM_ EV_ Env "the variable";
BA_DEF_ "DBName" STRING ;
BA_DEF_ BU_ "NodeLayer" HEX 0 255;
BA_DEF_ SG_ "GenSigStartValue" FLOAT -1E+3 1E+3;
BA_DEF_REL_ BU_SG_REL_ "Rel" INT 0 10;
BA_DEF_DEF_REL_ "Rel" 3;
BA_DEF_DEF_ "DBName" "";
BA_ "DBName" "bus1";
BA_ "NodeLayer" BU_ ECU 16;
BA_ "GenSigStartValue" SG_ 100 S -2.5;
BA_REL_ "Rel" BU_SG_REL_ ECU SG_ 100 S 5;
BU_SG_REL_ ECU SG_ 100 S;
CAT_DEF_ 1 "Cat" 0;
FILTER 0 ;
VAL_ 100 S -1 "minus one" -128 "lowest" ;
VAL_ Env 0 "off" 1 "on" ;
`;
  const db = parseDbc(text, { file: 'many.dbc' });
  t.deepEqual(db.warnings, []);
  t.is(db.version, '2.0');
  t.is(db.comments.database, 'the bus');
  t.is(db.comments.envVars.get('Env'), 'the variable');
  t.is(db.nodes[0]!.comment, 'the node');
  t.is(db.nodes[0]!.attributes.get('NodeLayer'), 16);
  t.is(db.attributes.database.get('DBName'), 'bus1');
  t.like(db.attributes.definitions.get('GenSigStartValue'), { objectType: 'signal', valueType: 'FLOAT', min: -1000, max: 1000 });
  const s = db.messageByName('M')!.signals[0]!;
  t.is(s.initialRaw, -2.5);
  t.is(s.choices?.get(-1), 'minus one');
  t.is(s.choices?.get(-128), 'lowest');
  t.like(db.envVars[0], { name: 'Env', type: 1, min: 0, max: 10.5, unit: 'V', initial: 0, id: 7, accessNodes: ['ECU'] });
});

test('a damaged line in a real DBC is reported with that file and line', (t) => {
  const text = dbcText(readFileSync(dbcPath('foxbms.dbc')));
  const lines = text.split('\n');
  const n = lines.findIndex((l) => l.startsWith('SG_ CellVoltage_005 '));
  lines[n] = lines[n]!.replace('@0+', '@0');
  const err = t.throws(() => parseDbc(lines.join('\n'), { file: 'foxbms.dbc' }), { instanceOf: DbcParseError });
  t.is(err.line, n + 1);
  t.regex(err.message, new RegExp(`^foxbms\\.dbc:${n + 1}:\\d+: expected '\\+' \\(unsigned\\) or '-' \\(signed\\) of signal CellVoltage_005`));
  t.throws(() => parseDbc(' SG_ S : 0|8@1+ (1,0) [0|0] "" N\n', { file: 'z.dbc' }), { message: /^z\.dbc:1:2: expected a BO_ message before its SG_ signals/ });
});
