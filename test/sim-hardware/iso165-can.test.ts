// The simulated iso165C: IMD_Info decoded with Bender's real DBC reports the configured
// insulation and, after an insulationFault, the fault (and the foxBMS face passes it on); the
// request/response service answers a host as the DBC lays it out.
import test from 'ava';
import { decodeFrame, encodeMessage, loadDbc, type DbcDatabase } from '../../devices/dbc/index.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import type { CanBus } from '../../hal/can/bus.ts';
import { canFrame, type CanFrame } from '../../hal/can/frame.ts';
import { ManualClock } from '../../hal/clock.ts';
import { startSimRig } from '../../sim-hardware/sim-rig.ts';
import { parseFaultSpec } from '../../sim-hardware/fault-spec.ts';
import { dbcPath } from '../helpers/dbc-files.ts';

const IMD = dbcPath('iso165_IMD.dbc');
const FOX = dbcPath('foxbms.dbc');
const settle = () => new Promise((r) => setImmediate(r));

function collect(bus: CanBus): CanFrame[] {
  const got: CanFrame[] = [];
  void (async () => {
    for await (const f of bus.frames()) got.push(f);
  })().catch(() => {});
  return got;
}

const info = (db: DbcDatabase, frames: CanFrame[]) => decodeFrame(db, frames.filter((f) => f.id === 0x37).at(-1)!, { choices: false })!.signals;

test('IMD_Info reports the healthy insulation, then an insulation fault below the error threshold', async (t) => {
  const db = await loadDbc(IMD);
  const fox = await loadDbc(FOX);
  const hub = new VirtualCanHub();
  const rig = await startSimRig({
    bms: 'foxbms',
    dbcPath: FOX,
    imdDbcPath: IMD,
    canBus: hub.open(),
    clock: new ManualClock(),
    cells: 8,
    seed: 11,
    faults: [parseFaultSpec('insulationFault:ohms=50000@20')],
  });
  const rx = hub.open({ queueCapacity: 100_000 });
  t.teardown(async () => (await rx.close(), await rig.close()));
  const frames = collect(rx);
  for (let i = 0; i < 15; i++) {
    rig.sim.advance(1);
    await settle();
  }
  const healthy = info(db, frames);
  t.true(Math.abs((healthy.II_IMC_R_ISO as number) - 5000) < 300, `healthy R_ISO ${healthy.II_IMC_R_ISO} kOhm`);
  t.is(healthy.II_IMC_STATUS_00_IsoFailure, 0);
  t.is(healthy.II_IMC_STATUS_05_IsoWarning, 0);
  t.is(healthy.II_VIFC_STATUS_00_IsoMeasurement, 0, '0 = "Activated"');
  const infoCount = frames.filter((f) => f.id === 0x37).length;
  t.true(Math.abs(infoCount - rig.sim.timeS) <= 1.5, `IMD_Info once a second: ${infoCount} in ${rig.sim.timeS} s`);
  for (let i = 0; i < 45; i++) {
    rig.sim.advance(1);
    await settle();
  }
  t.true(rig.faults.log.some((e) => e.fault.kind === 'insulationFault' && e.event === 'start'));
  const bad = info(db, frames);
  t.true(Math.abs((bad.II_IMC_R_ISO as number) - 50) < 5, `faulted R_ISO ${bad.II_IMC_R_ISO} kOhm`);
  t.is(bad.II_IMC_STATUS_00_IsoFailure, 1);
  t.is(bad.II_IMC_STATUS_05_IsoWarning, 1);
  // The foxBMS face passes on what its IMD reported.
  const st = decodeFrame(fox, frames.filter((f) => f.id === 544).at(-1)!)!.signals;
  t.is(st.InsulationError, 'Error');
  t.true(Math.abs((st.InsulationResistance as number) - 0) <= 200, `foxBMS InsulationResistance ${st.InsulationResistance} kOhm (200 kOhm steps)`);
  const p1 = decodeFrame(fox, frames.filter((f) => f.id === 564).at(-1)!)!.signals;
  t.true(Math.abs((p1.InsulationResistance as number) - 50) <= 7);
});

test('the request/response service answers a host per the DBC, and refuses what it must', async (t) => {
  const db = await loadDbc(IMD);
  const hub = new VirtualCanHub();
  const rig = await startSimRig({ bms: 'voltrail', imdDbcPath: IMD, canBus: hub.open(), clock: new ManualClock(), cells: 8, seed: 12 });
  const host = hub.open({ queueCapacity: 10_000 });
  t.teardown(async () => (await host.close(), await rig.close()));
  const frames = collect(host);
  const ask = async (values: Record<string, number> | CanFrame) => {
    const before = frames.length;
    await host.send('id' in values ? (values as CanFrame) : encodeMessage(db, 'IMD_Request', values));
    for (let i = 0; i < 20 && !frames.slice(before).some((f) => f.id === 0x23); i++) await settle();
    return decodeFrame(db, frames.slice(before).find((f) => f.id === 0x23)!, { choices: false })!.signals;
  };
  rig.sim.advance(5);
  const unlock = await ask({ IMD_Request_Command: 202, MC_VIFC_LOCK_MODE: 0, MC_VIFC_LOCK_PWD: 0x0000 });
  t.is(unlock.IMD_Response_Command, 202);
  t.is(unlock.IC_VIFC_LOCK_MODE, 0);
  const thr = await ask({ IMD_Request_Command: 40, MS_IMC_R_ISO_ERR_THR: 250 });
  t.is(thr.IS_IMC_R_ISO_ERR_THR, 250);
  t.is((await ask({ IMD_Request_Command: 50 })).IG_IMC_R_ISO_ERR_THR, 250);
  const riso = await ask({ IMD_Request_Command: 53 });
  t.is(riso.IMD_Response_Command, 53);
  t.true(Math.abs((riso.IG_IMC_R_ISO as number) - 5000) < 300, `R_ISO ${riso.IG_IMC_R_ISO}`);
  t.true((riso.IG_IMC_R_ISO_CNT as number) > 0);
  const status = await ask({ IMD_Request_Command: 55 });
  t.is(status.IG_IMC_STATUS_00_IsoFailure, 0);
  const off = await ask({ IMD_Request_Command: 203, MC_VIFC_MEASURE_MODE: 0 });
  t.is(off.IC_VIFC_MEASURE_MODE, 0);
  t.false(rig.imd!.measuring);
  const vifc = await ask({ IMD_Request_Command: 220 });
  t.is(vifc.IG_VIFC_STATUS_00_IsoMeasurement, 1, '1 = "Deactivated"');
  t.is(vifc.IG_VIFC_STATUS_08_Outdated, 1);
  // A threshold outside the DBC's range (30..1000 kOhm; the codec would not encode it) is
  // refused with the error frame.
  const refused = await ask(canFrame({ id: 0x22, data: Uint8Array.of(40, 0, 0, 0, 0) }));
  t.is(refused.IMD_Response_Command, 255);
  t.is(refused.IG_IMD_ERROR_CODE, 34);
  t.is(refused.IG_IMD_FAILED_CMD, 40);
  t.is(rig.imd!.errorThresholdKohm, 250);
  const unknown = await ask({ IMD_Request_Command: 61, MG_IMC_MANUFACT_INDEX: 0 });
  t.is(unknown.IG_IMD_ERROR_CODE, 35);
  t.is(rig.imd!.requests.answered, 7);
  t.is(rig.imd!.requests.refused, 2);
});
