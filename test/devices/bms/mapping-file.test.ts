import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeMessage, loadDbc } from '../../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../../devices/bms/can-bms-driver.ts';
import { checkMapping, loadMapping, MappingError, parseMapping } from '../../../devices/bms/mapping-file.ts';
import { VirtualCanHub } from '../../../hal/can/virtual.ts';
import { ManualClock } from '../../../hal/clock.ts';

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const YAML = readFileSync(fixture('custom-bms.yaml'), 'utf8');

test('a DBC plus a mapping file reads a BMS without code, values exact', async (t) => {
  const db = await loadDbc(fixture('custom-bms.dbc'));
  const mapping = await loadMapping(fixture('custom-bms.yaml'));
  checkMapping(mapping, db, 'custom-bms.dbc');
  const driver = new CanBmsDriver({ source: mapping.source, bus: new VirtualCanHub().open(), db, rules: mapping.rules, clock: new ManualClock(), counts: mapping.counts });
  driver.handle(encodeMessage(db, 'Pack_Status', { Pack_Inst_Voltage: 402.7, Pack_Current: 15.3, Pack_SOC: 64.5, Pack_Health: 100, Relay_State: 'CLOSED', Fault_HighCell: 0, Fault_LowCell: 1, Fault_Thermistor: 0 }));
  driver.handle(encodeMessage(db, 'Cell_Broadcast', { Cell_Page: 0, Cell_1_Voltage: 3612.5, Cell_2_Voltage: 3613, Cell_3_Voltage: 3600.1 }));
  driver.handle(encodeMessage(db, 'Cell_Broadcast', { Cell_Page: 1, Cell_4_Voltage: 3599.9, Cell_5_Voltage: 3610, Cell_6_Voltage: 3611 }));
  driver.handle(encodeMessage(db, 'Thermistors', { Therm_1: 23, Therm_2: -4, Cycles: 211, Amphours: 88.4 }));
  const s = driver.snapshot();
  t.is(s.packVoltageV, 402.7);
  t.is(s.currentA, -15.3, 'charge-positive BMS converted: -15.3 A = charging');
  t.is(s.socPct, 64.5);
  t.is(s.sohPct, 100);
  t.is(s.meta.sohPct?.measured, false, 'the placeholder is flagged as not measured');
  t.is(s.contactorClosed, true);
  t.deepEqual(s.cellVoltagesMv, [3612.5, 3613, 3600.1, 3599.9, 3610, 3611]);
  t.deepEqual(s.temperaturesC, [23, -4]);
  t.deepEqual(s.faults, { cellUnderVoltage: true });
  t.is(s.cycleCount, 211);
  t.is(s.remainingCapacityAh, 88.4);
  t.is(s.meta.packVoltageV?.source, 'custom');
  driver.handle(encodeMessage(db, 'Pack_Status', { Pack_Inst_Voltage: 402.7, Pack_Current: 15.3, Pack_SOC: 64.5, Pack_Health: 97, Relay_State: 'OPEN', Fault_HighCell: 0, Fault_LowCell: 0, Fault_Thermistor: 0 }));
  t.is(driver.snapshot().meta.sohPct?.measured, undefined, 'a real value is a measurement');
});

const bad = (edit: (y: string) => string) => () => parseMapping(edit(YAML), 'pack.yaml');

test('mapping errors name the file, the line and the field', (t) => {
  const cases: [string, (y: string) => string, RegExp][] = [
    ['unknown field', (y) => y.replace('field: socPct', 'field: stateOfCharge'), /^pack\.yaml:12: signals\[2\]\.field: Invalid/],
    ['unknown fault name', (y) => y.replace('fault: sensorFailure', 'fault: thermistorBroken'), /^pack\.yaml:32: signals\[9\]\.fault: /],
    ['unknown key', (y) => y.replace('    scale: -1', '    scael: -1'), /^pack\.yaml:10: signals\[1\]\.scael: unknown key 'scael'/],
    ['wrong type', (y) => y.replace('scale: -1', 'scale: minus one'), /^pack\.yaml:10: signals\[1\]\.scale: /],
    ['signal and pattern both', (y) => y.replace('  - signal: Cycles\n', '  - signal: Cycles\n    pattern: Cyc.*\n'), /^pack\.yaml:33: signals\[10\]: give exactly one of 'signal'/],
    ['bad regular expression', (y) => y.replace('Therm_(\\d+)', 'Therm_(\\d+'), /^pack\.yaml:22: signals\[6\]\.pattern: Invalid regular expression/],
    ['pattern without a group for an array', (y) => y.replace('Therm_(\\d+)', 'Therm_\\d+'), /^pack\.yaml:22: signals\[6\]\.pattern: an array field needs a capture group/],
    ['YAML syntax', (y) => y.replace('  cells: 6', '  cells: [6'), /^pack\.yaml:\d+: \(syntax\): /],
    ['missing signals', () => 'source: x\n', /^pack\.yaml:1: signals: /],
  ];
  for (const [what, edit, re] of cases) {
    const err = t.throws(bad(edit), { instanceOf: MappingError }, what);
    t.regex(err!.message, re, what);
  }
});

test('a mapped signal that the DBC lacks is an error naming the line', async (t) => {
  const db = await loadDbc(fixture('custom-bms.dbc'));
  const m = parseMapping(YAML.replace('signal: Cycles', 'signal: Cycle_Count'), 'pack.yaml');
  t.throws(() => checkMapping(m, db, 'custom-bms.dbc'), { instanceOf: MappingError, message: /^pack\.yaml:33: signals\[10\]: signal 'Cycle_Count' matches no signal of custom-bms\.dbc/ });
});

test('JSON mapping files work too, and a missing file is named', async (t) => {
  const m = parseMapping(JSON.stringify({ signals: [{ signal: 'Pack_SOC', field: 'socPct' }] }), 'pack.json');
  t.is(m.source, 'dbc');
  t.is(m.rules.length, 1);
  await t.throwsAsync(loadMapping('/nonexistent/map.yaml'), { instanceOf: MappingError, message: /^\/nonexistent\/map\.yaml: \(file\): cannot read the mapping file: ENOENT/ });
});
