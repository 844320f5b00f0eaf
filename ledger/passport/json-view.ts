// A JSON view of a verified passport in the Battery Pass data model's vocabulary (attribute names
// of its GeneralProductInformation, MaterialComposition and PerformanceAndDurability aspect
// models, units as UCUM codes), for systems that speak that model. Mapping (README.md):
//   batteryIdentifier        <- the battery URN (certificate sub)
//   manufacturerIdentification, batteryModel? (model), manufacturingDate, batteryMass (kg),
//   batteryChemistry, ratedCapacity (A.h), nominalVoltage (V)  <- the certificate's battery data
//   batteryStatus            <- the newest status statement ("original" if none)
//   each PerformanceAndDurability attribute (numberOfFullCycles, capacityThroughput,
//   energyThroughput, remainingCapacity, capacityFade, stateOfCertifiedEnergy, remainingEnergy,
//   internalResistanceIncrease, currentSelfDischargingRate, timeExtremeHighTemp, ...,
//   numberOfDeepDischargeEvents, numberOfOverchargeEvents) <- the newest lifecycle summary:
//   { value, unit, lastUpdate (ISO 8601), dataSource: measured | reported | derived }
//   negativeEvents           <- the fault and abuse event records
// The public view (Annex XIII 1) carries only identification, composition and status; the
// legitimate-interest view adds performance, usage history and events.
import type { PassportReport } from './verify.ts';

const NEGATIVE = new Set(['fault-raised', 'deep-discharge', 'over-temperature', 'under-temperature', 'contactor-opened', 'storage-error', 'clock-jump']);

export function passportJson(r: PassportReport, view: 'public' | 'full' = r.tier ?? 'public'): Record<string, unknown> {
  const b = r.battery;
  const status = r.statuses[r.statuses.length - 1];
  const out: Record<string, unknown> = {
    verification: r.ok ? { result: 'valid' } : { result: 'invalid', code: r.failure?.code, where: r.failure?.where, reason: r.failure?.message },
    identification: {
      batteryIdentifier: r.batteryId,
      batteryStatus: status?.status ?? 'original',
      ...(status ? { statusLastUpdate: new Date(status.time).toISOString(), statusSignedBy: status.signer } : {}),
      ...(status?.predecessor ? { predecessorBatteryIdentifier: status.predecessor.batteryId, predecessorVerified: r.predecessor !== undefined } : {}),
      ...(status?.successor ? { successorBatteryIdentifier: status.successor } : {}),
    },
    generalProductInformation: b
      ? {
          manufacturerIdentification: b.manufacturer,
          batteryModel: b.model,
          ...(b.manufactured ? { manufacturingDate: b.manufactured } : {}),
          batteryMass: { value: b.massG / 1000, unit: 'kg' },
        }
      : undefined,
    materialComposition: b ? { batteryChemistry: b.chemistry } : undefined,
    technicalProperties: b
      ? {
          ratedCapacity: { value: b.capacityMah / 1000, unit: 'A.h' },
          ...(b.nominalMv ? { nominalVoltage: { value: b.nominalMv / 1000, unit: 'V' } } : {}),
        }
      : undefined,
  };
  if (view === 'public') return out;
  const last = r.summaries[r.summaries.length - 1];
  const perf: Record<string, unknown> = {};
  if (last) {
    for (const [name, q] of Object.entries(last.summary.quantities)) {
      perf[name] = { value: q.value, unit: q.unit, lastUpdate: new Date(q.updated).toISOString(), dataSource: q.provenance };
    }
  }
  out.performanceAndDurability = perf;
  out.negativeEvents = r.events.filter((e) => NEGATIVE.has(e.type)).map((e) => ({ negativeEvent: e.type, lastUpdate: new Date(e.time).toISOString(), details: e.details, recordSeq: e.seq }));
  out.usageHistory = r.summaries.map((s) => ({
    time: new Date(s.time).toISOString(),
    ...(s.summary.quantities.stateOfCertifiedEnergy ? { stateOfCertifiedEnergy: s.summary.quantities.stateOfCertifiedEnergy.value } : {}),
    ...(s.summary.quantities.numberOfFullCycles ? { numberOfFullCycles: s.summary.quantities.numberOfFullCycles.value } : {}),
  }));
  out.boards = r.boards.map((x) => ({ boardId: x.boardId, records: x.records, treeSize: x.size, finalCheckpointHash: x.finalCheckpointHash, checkpoints: x.checkpoints, witnessed: x.witnessed, ...(x.lastWitnessTime ? { lastWitnessed: new Date(x.lastWitnessTime).toISOString() } : {}) }));
  return out;
}
