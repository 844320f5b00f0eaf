import test from 'ava';
import { FAULT_NAMES } from '../../devices/snapshot.ts';
import { TELEMETRY_KEYS, encodeTelemetryBody, telemetryBody } from '../../firmware-ts/telemetry/telemetry-body.ts';
import type { BatterySnapshot } from '../../devices/snapshot.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { snapshotAt } from '../../bench/suites/telemetry-fixture.ts';

// The body as telemetry.cddl reads, written out the plain way: what telemetryBody must equal.
const round = (x: number) => Math.sign(x) * Math.round(Math.abs(x));
function expected(s: BatterySnapshot): Map<number, CborValue> {
  const m = new Map<number, CborValue>();
  const put = (k: number, v: number | null, scale: number) => {
    if (v !== null && Number.isFinite(v)) m.set(k, round(v * scale));
  };
  put(1, s.packVoltageV, 1000);
  put(2, s.currentA, 1000);
  put(3, s.socPct, 10);
  put(4, s.sohPct, 10);
  if (s.cellVoltagesMv.length) m.set(5, s.cellVoltagesMv.map((v) => round(v)));
  if (s.temperaturesC.length) m.set(6, s.temperaturesC.map((t) => round(t * 10)));
  put(7, s.remainingCapacityAh, 1000);
  put(8, s.fullCapacityAh, 1000);
  if (s.cycleCount !== null) m.set(9, Math.max(0, Math.round(s.cycleCount)));
  m.set(10, FAULT_NAMES.reduce((bits, name, i) => (s.faults[name] ? bits | (1 << i) : bits), 0));
  if (s.contactorClosed !== null) m.set(11, s.contactorClosed);
  if (s.insulationOhm !== null) m.set(12, Math.max(0, Math.round(s.insulationOhm)));
  m.set(13, Object.entries(TELEMETRY_KEYS).reduce((bits, [k, f]) => (s.meta[f]?.stale ? bits | (1 << (Number(k) - 1)) : bits), 0));
  if (s.balancing.length) {
    const bits = new Uint8Array(Math.ceil(s.balancing.length / 8));
    s.balancing.forEach((b, i) => b && (bits[i >> 3]! |= 1 << (i & 7)));
    m.set(14, bits);
  }
  return m;
}

test('telemetryBody gives the body telemetry.cddl describes, faults, stale bits and gaps included', (t) => {
  for (let i = 0; i < 60; i++) {
    const s = snapshotAt(i * 37);
    if (i % 3 === 0) s.faults[FAULT_NAMES[i % FAULT_NAMES.length]!] = true;
    if (i % 4 === 1) s.meta.currentA = { ...(s.meta.currentA ?? {}), stale: true } as never;
    if (i % 4 === 2) s.meta.balancing = { ...(s.meta.balancing ?? {}), stale: true } as never;
    if (i % 5 === 0) {
      s.socPct = null;
      s.cycleCount = null;
      s.temperaturesC = [];
      s.currentA = -12.3456;
    }
    if (i % 7 === 0) s.balancing = [];
    const got = telemetryBody(s);
    t.deepEqual(got, expected(s), `snapshot ${i}`);
    t.deepEqual(encodeCanonical(got), encodeCanonical(expected(s)));
  }
});

test('encodeTelemetryBody writes the bytes of encodeCanonical(telemetryBody(s))', (t) => {
  for (let i = 0; i < 80; i++) {
    const s = snapshotAt(i * 53);
    if (i % 3 === 0) s.faults[FAULT_NAMES[(i * 5) % FAULT_NAMES.length]!] = true;
    if (i % 4 === 1) s.meta.socPct = { stale: true } as never;
    if (i % 5 === 0) {
      s.currentA = -(i * 1.37) - 0.0004; // negative, and -0 after rounding at i = 0
      s.packVoltageV = null;
      s.temperaturesC = [-0.04, -12.5, 55];
      s.insulationOhm = 5_000_000_000;
    }
    if (i % 6 === 0) {
      s.cellVoltagesMv = [];
      s.contactorClosed = false;
    }
    if (i % 7 === 0) {
      s.balancing = [];
      s.sohPct = Number.NaN;
    }
    t.deepEqual(encodeTelemetryBody(s), encodeCanonical(telemetryBody(s)), `snapshot ${i}`);
  }
});
