import test from 'ava';
import { FAULT_NAMES } from '../../devices/snapshot.ts';
import { MAX_TELEMETRY_ENTRIES, TELEMETRY_KEYS, encodeTelemetryBody, telemetryBody, writeTelemetryBody } from '../../firmware-ts/telemetry/telemetry-body.ts';
import { CborWriter } from '../../ledger/cbor/cbor-writer.ts';
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

test('writeTelemetryBody writes what encodeCanonical(telemetryBody(s)) writes for odd values too, in place after other bytes', (t) => {
  // Values that are no safe integer once scaled (a failed thermistor's NaN, infinities, huge
  // numbers) take the generic path; fractions, halves, -0, every size of head and balancing
  // bitmaps of every length take the fast one.
  const odd: Array<(s: BatterySnapshot) => void> = [
    (s) => (s.temperaturesC = [24.1, Number.NaN, 23.9]),
    (s) => (s.cellVoltagesMv = [3650, Number.POSITIVE_INFINITY]),
    (s) => (s.cellVoltagesMv = [-Number.MAX_VALUE, 3650]),
    (s) => (s.cycleCount = 2 ** 60),
    (s) => (s.cycleCount = Number.NaN),
    (s) => (s.insulationOhm = Number.POSITIVE_INFINITY),
    (s) => (s.currentA = 1e300),
    (s) => (s.cellVoltagesMv = [0, -0, -0.4, 0.5, -0.5, 1.5, 23, 23.5, 24, 255, 255.5, 256, 65535, 65535.5, 65536, 2 ** 32, -1, -24, -25, -257]),
    (s) => (s.temperaturesC = [-40.05, -0.05, 0.05, 6553.5, 6553.45]),
    (s) => (s.balancing = Array.from({ length: 13 }, (_, i) => i % 3 === 0)),
    (s) => (s.balancing = [true]),
    (s) => (s.faults = Object.fromEntries(FAULT_NAMES.map((n) => [n, true]))),
    (s) => (s.meta = Object.fromEntries(Object.values(TELEMETRY_KEYS).map((f) => [f, { stale: true }])) as never),
    // Scalars around every head size and the edges of the one-store path (0.5 .. 2^32 - 0.5 once scaled).
    ...[0, -0, 0.0004, 0.0005, -0.0005, 0.023, 0.0235, 0.024, 0.255, 0.2555, 0.256, 65.535, 65.5355, 65.536, 4_294_967.295, 4_294_967.2954, 4_294_967.2955, 4_294_967.296, -42.5, 1e9].map(
      (v) => (s: BatterySnapshot) => {
        s.packVoltageV = v;
        s.currentA = -v;
        s.remainingCapacityAh = v;
      },
    ),
    ...[0, -0, 0.4, 0.5, 23.5, 24, 255.5, 256, 65_535.5, 65_536, 4_294_967_295.4, 4_294_967_295.5, 2 ** 32, -3].map((v) => (s: BatterySnapshot) => {
      s.cycleCount = v;
      s.insulationOhm = v;
      s.socPct = v / 10;
    }),
  ];
  const w = new CborWriter(8);
  for (const [i, change] of odd.entries()) {
    const s = snapshotAt(i);
    change(s);
    const want = encodeCanonical(telemetryBody(s));
    w.reset().raw(Uint8Array.of(1, 2, 3));
    writeTelemetryBody(w, s);
    t.deepEqual(w.view().slice(3), want, `case ${i}`);
    t.deepEqual(w.view().slice(0, 3), Uint8Array.of(1, 2, 3), `case ${i}: the bytes before stay`);
  }
  t.true(writeTelemetryBody.canonical);
});

test('telemetry bodies refuse arrays longer than a record may hold, naming the field', (t) => {
  const s = snapshotAt(0);
  s.cellVoltagesMv = new Array<number>(MAX_TELEMETRY_ENTRIES + 1).fill(3650);
  t.throws(() => encodeTelemetryBody(s), { instanceOf: RangeError, message: /cellVoltagesMv has 4097 entries/ });
  t.throws(() => telemetryBody(s), { instanceOf: RangeError, message: /cellVoltagesMv has 4097 entries/ });
  s.cellVoltagesMv = new Array<number>(MAX_TELEMETRY_ENTRIES).fill(3650);
  t.deepEqual(encodeTelemetryBody(s), encodeCanonical(telemetryBody(s)));
});
