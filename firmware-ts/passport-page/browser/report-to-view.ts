// Turns the ledger verifier's PassportReport (ledger/passport/verify.ts) into what the page
// shows (passport-view.ts): identity from the device certificate's battery data, the lifecycle
// accounts under their Battery Pass attribute names with units and provenance, the time series
// the charts draw (state of health, remaining capacity, cycles, time at extreme temperatures),
// events by severity (event.cddl: 0 info, 1 warning, 2 fault, 3 critical), status statements,
// and one line per kind of check that passed.
import type { PassportReport } from '../../../ledger/passport/verify.ts';
import type { Quantity } from '../../../ledger/passport/lifecycle-summary.ts';
import { extent, type Point } from './svg-chart.ts';
import type { EventEntry, Fact, PassportView, Tier } from './passport-view.ts';

/** Battery Pass attribute names the charts draw (as firmware-ts/passport/lifecycle-accountant.ts writes them). */
const SERIES_NAMES = {
  soh: ['stateOfCertifiedEnergy'],
  sohBms: ['stateOfHealthBms'],
  capacity: ['remainingCapacity'],
  resistance: ['internalResistanceIncrease'],
  cycles: ['numberOfFullCycles'],
  hotHours: ['timeExtremeHighTemp'],
  coldHours: ['timeExtremeLowTemp'],
} as const;

const UNIT_TEXT: Record<string, string> = { '1': '', 'A.h': 'Ah', 'kW.h': 'kWh', '%': '%', h: 'h', mOhm: 'mΩ', '%/mo': '% per month', s: 's' };

/** `numberOfFullCycles` -> `Number of full cycles`. */
export function attributeLabel(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function formatQuantity(q: Quantity): string {
  const digits = Math.abs(q.value) >= 100 ? 0 : Math.abs(q.value) >= 10 ? 1 : 2;
  const unit = UNIT_TEXT[q.unit] ?? q.unit;
  return `${q.value.toLocaleString('en', { maximumFractionDigits: digits })}${unit ? ` ${unit}` : ''}`;
}

/** Hours from a quantity in hours or seconds. */
function hours(q: Quantity): number {
  return q.unit === 's' ? q.value / 3600 : q.unit === 'min' ? q.value / 60 : q.value;
}

function level(severity: number): number {
  return severity >= 2 ? 2 : severity === 1 ? 1 : 0;
}

function detailText(details: Record<string, string | number>): string | undefined {
  const parts = Object.entries(details).map(([k, v]) => `${k} ${String(v)}`);
  return parts.length ? parts.join(', ') : undefined;
}

export function reportToView(report: PassportReport, servedTier: Tier): PassportView {
  const tier: Tier = report.tier ?? servedTier;
  const identity: Fact[] = [];
  const b = report.battery;
  if (b) {
    identity.push(
      { label: 'Manufacturer', value: b.manufacturer },
      { label: 'Model', value: b.model },
      { label: 'Chemistry', value: b.chemistry },
      { label: 'Rated capacity', value: `${(b.capacityMah / 1000).toLocaleString('en')} Ah` },
      { label: 'Mass', value: `${(b.massG / 1000).toLocaleString('en')} kg` },
    );
    if (b.nominalMv !== undefined) identity.push({ label: 'Nominal voltage', value: `${(b.nominalMv / 1000).toLocaleString('en')} V` });
    if (b.manufactured) identity.push({ label: 'Manufactured', value: b.manufactured });
  }
  if (report.boards.length) identity.push({ label: 'Boards', value: report.boards.map((x) => x.boardId).join(', ') });

  const summaries = report.summaries;
  const latest = summaries[summaries.length - 1]?.summary.quantities ?? {};
  const lifecycle: Fact[] = Object.entries(latest).map(([name, q]) => ({ label: attributeLabel(name), value: formatQuantity(q), note: q.provenance }));

  const series = (names: readonly string[], map: (q: Quantity) => number = (q) => q.value): Point[] => {
    const out: Point[] = [];
    for (const s of summaries) {
      const name = names.find((n) => s.summary.quantities[n] !== undefined);
      if (name) out.push({ t: s.time, v: map(s.summary.quantities[name]!) });
    }
    return out;
  };

  const events: EventEntry[] = report.events.map((e) => ({ time: e.time, type: e.type, level: level(e.severity), detail: detailText(e.details) }));
  const times = [...events.map((e) => e.time), ...summaries.map((s) => s.time), ...report.boards.flatMap((x) => (x.time === undefined ? [] : [x.time]))];

  const checked: string[] = [];
  if (report.ok) {
    const records = report.boards.reduce((s, x) => s + x.records, 0);
    const checkpoints = report.boards.reduce((s, x) => s + x.checkpoints, 0);
    const witnessed = report.boards.reduce((s, x) => s + x.witnessed, 0);
    checked.push('Device certificates chain to the pinned fleet authority key; none revoked' + (report.revocationListNumber !== undefined ? ` (revocation list no. ${report.revocationListNumber})` : ''));
    if (report.boards.length) {
      checked.push(`${records.toLocaleString('en')} records in ${report.boards.length} board log${report.boards.length > 1 ? 's' : ''}: each signed by its certified key and proven in the signed log`);
      checked.push(`${checkpoints.toLocaleString('en')} signed checkpoints, each consistent with the next (nothing removed or rewritten)`);
      checked.push(witnessed ? `${witnessed.toLocaleString('en')} checkpoints countersigned by a witness the fleet endorsed` : 'No witness countersignature in this passport');
    }
    if (summaries.length) checked.push(`${summaries.length.toLocaleString('en')} lifecycle summaries: counters never decrease, every event they count is present`);
    checked.push(`${report.statuses.length} status statement${report.statuses.length === 1 ? '' : 's'} signed by an authorised party`);
  }

  return {
    ok: report.ok,
    failure: report.failure ? { code: report.failure.code, message: `${report.failure.where}: ${report.failure.message}` } : undefined,
    tier,
    batteryId: report.batteryId ?? '(unreadable)',
    identity,
    lifecycle,
    series: {
      soh: series(SERIES_NAMES.soh),
      sohBms: series(SERIES_NAMES.sohBms),
      capacity: series(SERIES_NAMES.capacity),
      resistance: series(SERIES_NAMES.resistance),
      cycles: series(SERIES_NAMES.cycles),
      hotHours: series(SERIES_NAMES.hotHours, hours),
      coldHours: series(SERIES_NAMES.coldHours, hours),
    },
    events,
    statuses: report.statuses.map((s) => ({ status: s.status, time: s.time, signer: s.signer, note: s.note })),
    checked,
    span: times.length ? { from: extent(times)[0], to: extent(times)[1] } : undefined,
  };
}
