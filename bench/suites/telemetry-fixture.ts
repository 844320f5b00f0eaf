// A realistic telemetry record for the ledger benchmarks: the snapshot of a 96-cell pack with 16
// temperature sensors (the simulator's default pack), its fixed-point body (telemetryBody, the
// body the runtime signs) and the ledger record around it. Deterministic: record i of a run
// always has the same bytes, and neighbouring records differ as a real pack's readings do.
import { emptySnapshot, type BatterySnapshot } from '../../devices/snapshot.ts';
import { telemetryBody } from '../../firmware-ts/telemetry/telemetry-body.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { encodeRecordWithBody, type LedgerRecord } from '../../ledger/log/record.ts';

export const CELLS = 96;
export const TEMPERATURES = 16;
/** A fixed boot id, so that fixture bytes are the same in every run. */
export const BOOT_ID = new Uint8Array(16).map((_, i) => 0xa0 + i);
/** 2026-01-01T00:00:00Z: the wall clock of record 0. */
export const T0 = 1_767_225_600_000;

/** The snapshot of record `i`: one reading every 10 s of a pack discharging slowly. */
export function snapshotAt(i: number): BatterySnapshot {
  const s = emptySnapshot(T0 + i * 10_000);
  const phase = i % 1000;
  s.cellVoltagesMv = Array.from({ length: CELLS }, (_, c) => 3650 + ((c * 7 + i) % 23) - (phase >> 4));
  s.temperaturesC = Array.from({ length: TEMPERATURES }, (_, t) => 24 + ((t * 3 + i) % 11) / 10);
  s.packVoltageV = s.cellVoltagesMv.reduce((a, b) => a + b, 0) / 1000;
  s.currentA = 42.5 + (i % 17) / 8;
  s.socPct = 80 - phase / 50;
  s.sohPct = 97.3;
  s.remainingCapacityAh = 180 - phase / 10;
  s.fullCapacityAh = 225;
  s.cycleCount = 412;
  s.contactorClosed = true;
  s.insulationOhm = 2_400_000;
  s.balancing = Array.from({ length: CELLS }, (_, c) => (c + i) % 13 === 0);
  return s;
}

/** The ledger record of snapshot `i` (checkpoint or per-record mode alike). */
export function recordAt(i: number): LedgerRecord {
  const s = snapshotAt(i);
  return { seq: i, time: s.t, type: 'telemetry', body: telemetryBody(s), simulated: true, mono: i * 10_000, boot: BOOT_ID };
}

/** The record as the CBOR value encodeRecord writes: { 1: seq, 2: time, 3: type, 4: body, 5: true, 6: mono, 7: boot }. */
export function recordValue(r: LedgerRecord): Map<number, CborValue> {
  const m = new Map<number, CborValue>([
    [1, r.seq],
    [2, r.time],
    [3, r.type],
    [4, r.body],
    [6, r.mono],
    [7, r.boot],
  ]);
  if (r.simulated) m.set(5, true);
  return m;
}

/**
 * The stored leaves of a long fixture ledger, fast: leaf(i, seq) is record i's bytes (at ledger
 * sequence number `seq`, default i) with the body of record i % `bodies`, each body encoded once
 * and wrapped by encodeRecordWithBody (the bytes encodeRecord gives, checked as stored records are).
 */
export function fixtureLeaves(bodies = 64): (i: number, seq?: number) => Uint8Array {
  const bodyBytes = Array.from({ length: bodies }, (_, i) => encodeCanonical(recordAt(i).body));
  return (i, seq = i) => encodeRecordWithBody({ seq, time: T0 + i * 10_000, type: 'telemetry', simulated: true, mono: i * 10_000, boot: BOOT_ID }, bodyBytes[i % bodies]!);
}
