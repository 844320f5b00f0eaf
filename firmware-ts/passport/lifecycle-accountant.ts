// On-board lifecycle accounting from BMS snapshots: the values EU Battery Regulation 2023/1542
// Annex VII part A and Annex XIII 1(c)-(d) ask a battery's passport to carry, named as the Battery
// Pass data model's PerformanceAndDurability attributes (README.md in this folder maps each one),
// each with its unit, last update and provenance (measured, reported by the BMS, or derived).
//
// How each is obtained (documented choices, as Battery Pass asks):
// - capacityThroughput / energyThroughput: coulomb and energy counting of the snapshot current
//   and pack voltage, trapezoidal between snapshots, both directions added (measured);
// - numberOfFullCycles: equivalent full cycles = Ah throughput / (2 x rated capacity), i.e. one
//   full discharge plus one full charge is one cycle (derived);
// - remainingCapacity: Ah delivered from a full charge (cells at the full voltage with the
//   charge current tapered) down to the empty voltage, net of any charge in between; each
//   complete measurement replaces the previous (measured). Until one exists: the BMS's full
//   capacity (reported), else the rated capacity;
// - capacityFade = 1 - remaining / rated; stateOfCertifiedEnergy = energy of the last complete
//   discharge / rated energy (rated Ah x nominal V), else remaining / rated (derived);
// - internalResistanceIncrease: pack resistance from dV/dI at steps from rest to a load
//   (consecutive snapshots at most `resistanceStepMs` (2 s) apart, 15..35 degC), per direction:
//   the median of the first 8 as the reference, an exponential average since (derived);
// - currentSelfDischargingRate: SoC lost per 30 days over rests of a day or more (derived);
// - timeExtremeHighTemp / LowTemp (+Charging): hours with the hottest (coldest) sensor beyond
//   the boundary (measured);
// - numberOfDeepDischargeEvents: SoC below the deep-discharge threshold, counted once per
//   excursion (2 % hysteresis); numberOfOverchargeEvents: a cell over-voltage fault raised;
//   numberOfNegativeEvents: any fault raised (measured).
// Gaps longer than `maxGapMs` between snapshots (the board was off) are not integrated.
import type { BatterySnapshot } from '../../devices/snapshot.ts';
import { FAULT_NAMES } from '../../devices/snapshot.ts';
import { SUMMARY_VERSION, type LifecycleSummary, type Provenance, type Quantity } from '../../ledger/passport/lifecycle-summary.ts';

export interface AccountingLimits {
  ratedCapacityAh: number;
  /** Rated pack voltage, V (for the state of certified energy); optional. */
  nominalVoltageV?: number;
  /** A charge is full when the highest cell reaches this with the current tapered below fullCurrentA. */
  fullCellV: number;
  fullCurrentA: number;
  /** A discharge is complete when the lowest cell falls to this. */
  emptyCellV: number;
  highTempC: number;
  lowTempC: number;
  deepDischargeSocPct: number;
  maxGapMs: number;
  /** Longest time between two snapshots whose dV/dI counts as a resistance step (ms). */
  resistanceStepMs: number;
}

/** Limits for a chemistry (from the certificate's battery data), overridable. */
export function accountingLimits(battery: { chemistry: string; capacityAh: number; nominalV?: number }, over: Partial<AccountingLimits> = {}): AccountingLimits {
  if (!(battery.capacityAh > 0)) throw new RangeError(`rated capacity: must be positive, got ${battery.capacityAh}`);
  const lfp = /lfp|lifepo/i.test(battery.chemistry);
  const d: AccountingLimits = {
    ratedCapacityAh: battery.capacityAh,
    ...(battery.nominalV ? { nominalVoltageV: battery.nominalV } : {}),
    // Just under the usual CV targets (4.2 V NMC/NCA, 3.65 V LFP) and just over the cut-offs.
    fullCellV: lfp ? 3.55 : 4.15,
    fullCurrentA: battery.capacityAh / 10,
    emptyCellV: lfp ? 2.6 : 3.05,
    // Battery Pass leaves the boundaries to the manufacturer; these are typical cell limits.
    highTempC: 45,
    lowTempC: 0,
    deepDischargeSocPct: 5,
    maxGapMs: 60_000,
    resistanceStepMs: 2000,
  };
  return { ...d, ...over };
}

const RESISTANCE_REF_SAMPLES = 8;
const SOC_HYSTERESIS = 2;
const DAY_MS = 86_400_000;

interface Q {
  value: number;
  unit: string;
  updated: number;
  provenance: Provenance;
}

export class LifecycleAccountant {
  readonly limits: AccountingLimits;
  #q = new Map<string, Q>();
  #prev: BatterySnapshot | undefined;
  #deep = false;
  #faults = new Set<string>();
  /** Ah net discharged since the last full charge, and whether the empty voltage was reached. */
  #cycle: { ah: number; wh: number; empty: boolean } | undefined;
  /** Reference resistances (first samples) and running averages, per direction: 0 discharge, 1 charge. */
  #rRef: number[][] = [[], []];
  #rNow: (number | undefined)[] = [undefined, undefined];
  #rest: { since: number; soc: number } | undefined;
  /** Events counted in this log before the next summary (restored, then counted as appended). */
  events = 0;

  constructor(limits: AccountingLimits, restored?: LifecycleSummary) {
    this.limits = limits;
    if (restored) {
      for (const [name, q] of Object.entries(restored.quantities)) this.#q.set(name, { ...q });
      this.events = restored.events;
      // The resistance reference survives as initialInternalResistance (discharge direction) and the increase.
      const ref = restored.quantities.initialInternalResistance;
      const inc = restored.quantities.internalResistanceIncrease;
      if (ref) {
        this.#rRef = [Array<number>(RESISTANCE_REF_SAMPLES).fill(ref.value / 1000), []];
        if (inc) this.#rNow[0] = (ref.value / 1000) * (1 + inc.value / 100);
      }
    }
  }

  #get(name: string): number {
    return this.#q.get(name)?.value ?? 0;
  }
  #set(name: string, value: number, unit: string, t: number, provenance: Provenance): void {
    const q = this.#q.get(name);
    if (q && q.value === value) return;
    this.#q.set(name, { value, unit, updated: t, provenance });
  }
  #add(name: string, delta: number, unit: string, t: number, provenance: Provenance = 'measured'): void {
    if (delta === 0 && this.#q.has(name)) return;
    this.#set(name, this.#get(name) + delta, unit, t, provenance);
  }

  /** A lifecycle event record was appended to the ledger (the summary counts them). */
  noteEvent(): void {
    this.events++;
  }

  /** Feeds one snapshot; snapshots with the time of the previous one are ignored. */
  observe(s: BatterySnapshot): void {
    const p = this.#prev;
    if (p && s.t <= p.t) return;
    if (s.currentA === null || s.packVoltageV === null) return;
    this.#prev = s;
    const t = s.t;
    const L = this.limits;
    this.#events(s, t);
    if (!p || p.currentA === null || p.packVoltageV === null) return;
    const dtMs = s.t - p.t;
    if (dtMs > L.maxGapMs) {
      this.#cycle = undefined; // a full-to-empty measurement across a gap is not a measurement
      this.#rest = undefined;
      return;
    }
    const h = dtMs / 3_600_000;
    const iMean = (p.currentA + s.currentA) / 2;
    const pMeanW = (p.currentA * p.packVoltageV + s.currentA * s.packVoltageV) / 2;
    const ah = iMean * h;
    const wh = pMeanW * h;
    this.#add('operatingTime', h, 'h', t);
    if (ah !== 0) {
      this.#add('capacityThroughput', Math.abs(ah), 'A.h', t);
      this.#add(ah > 0 ? 'capacityThroughputDischarge' : 'capacityThroughputCharge', Math.abs(ah), 'A.h', t);
      this.#add('energyThroughput', Math.abs(wh) / 1000, 'kW.h', t);
      this.#set('numberOfFullCycles', this.#get('capacityThroughput') / (2 * L.ratedCapacityAh), '1', t, 'derived');
    }
    const temps = s.temperaturesC;
    if (temps.length && !s.meta.temperaturesC?.stale) {
      const charging = s.currentA < -0.01 * L.ratedCapacityAh;
      if (Math.max(...temps) > L.highTempC) {
        this.#add('timeExtremeHighTemp', h, 'h', t);
        if (charging) this.#add('timeExtremeHighTempCharging', h, 'h', t);
      }
      if (Math.min(...temps) < L.lowTempC) {
        this.#add('timeExtremeLowTemp', h, 'h', t);
        if (charging) this.#add('timeExtremeLowTempCharging', h, 'h', t);
      }
    }
    this.#capacity(s, ah, wh, t);
    this.#resistance(p, s, t);
    this.#selfDischarge(s, t);
  }

  #events(s: BatterySnapshot, t: number): void {
    for (const name of FAULT_NAMES) {
      const on = s.faults[name] === true;
      if (on && !this.#faults.has(name)) {
        this.#faults.add(name);
        this.#add('numberOfNegativeEvents', 1, '1', t);
        if (name === 'cellOverVoltage' || name === 'packOverVoltage') this.#add('numberOfOverchargeEvents', 1, '1', t);
      } else if (!on) this.#faults.delete(name);
    }
    if (s.socPct !== null && !s.meta.socPct?.stale) {
      if (!this.#deep && s.socPct < this.limits.deepDischargeSocPct) {
        this.#deep = true;
        this.#add('numberOfDeepDischargeEvents', 1, '1', t);
      } else if (this.#deep && s.socPct >= this.limits.deepDischargeSocPct + SOC_HYSTERESIS) this.#deep = false;
    }
  }

  #capacity(s: BatterySnapshot, ah: number, wh: number, t: number): void {
    const L = this.limits;
    const cells = s.cellVoltagesMv;
    const i = s.currentA!;
    if (cells.length) {
      const max = Math.max(...cells) / 1000;
      const min = Math.min(...cells) / 1000;
      if (max >= L.fullCellV && i <= 0 && -i < L.fullCurrentA) this.#cycle = { ah: 0, wh: 0, empty: false };
      else if (this.#cycle) {
        this.#cycle.ah += ah;
        this.#cycle.wh += wh;
        if (min <= L.emptyCellV && i > 0) this.#cycle.empty = true;
        // The discharge that reached empty has stopped: that is one capacity measurement.
        if (this.#cycle.empty && i <= 0.01 * L.ratedCapacityAh) {
          const cap = this.#cycle.ah;
          if (cap > 0.3 * L.ratedCapacityAh && cap < 1.5 * L.ratedCapacityAh) {
            this.#set('remainingCapacity', cap, 'A.h', t, 'measured');
            this.#set('remainingEnergy', this.#cycle.wh / 1000, 'kW.h', t, 'measured');
            if (L.nominalVoltageV) this.#set('stateOfCertifiedEnergy', (100 * this.#cycle.wh) / (L.ratedCapacityAh * L.nominalVoltageV), '%', t, 'derived');
          }
          this.#cycle = undefined;
        }
      }
    }
    let remaining = this.#q.get('remainingCapacity');
    if (!remaining || remaining.provenance !== 'measured') {
      if (s.fullCapacityAh !== null && s.fullCapacityAh > 0) this.#set('remainingCapacity', s.fullCapacityAh, 'A.h', t, 'reported');
      remaining = this.#q.get('remainingCapacity');
    }
    if (remaining) {
      const fade = 100 * (1 - remaining.value / L.ratedCapacityAh);
      this.#set('capacityFade', fade, '%', remaining.updated, 'derived');
      if (!L.nominalVoltageV || !this.#q.has('stateOfCertifiedEnergy') || this.#q.get('stateOfCertifiedEnergy')!.updated < remaining.updated) {
        if (!L.nominalVoltageV) this.#set('stateOfCertifiedEnergy', 100 - fade, '%', remaining.updated, 'derived');
      }
    }
    if (s.sohPct !== null && s.meta.sohPct?.measured !== false) this.#set('stateOfHealthBms', s.sohPct, '%', t, 'reported');
  }

  #resistance(p: BatterySnapshot, s: BatterySnapshot, t: number): void {
    const L = this.limits;
    // Only steps from rest to a load (a DC internal-resistance pulse), one reference per
    // direction: the state of charge at which each kind happens differs, and so does the result.
    if (s.t - p.t > L.resistanceStepMs || Math.abs(p.currentA!) > 0.01 * L.ratedCapacityAh || Math.abs(s.currentA!) < 0.2 * L.ratedCapacityAh) return;
    const temps = s.temperaturesC;
    if (!temps.length || Math.min(...temps) < 15 || Math.max(...temps) > 35) return;
    const di = s.currentA! - p.currentA!;
    const r = -(s.packVoltageV! - p.packVoltageV!) / di;
    if (!(r > 0) || !Number.isFinite(r)) return;
    const k = di > 0 ? 0 : 1;
    const ref = this.#rRef[k]!;
    if (ref.length < RESISTANCE_REF_SAMPLES) {
      ref.push(r);
      if (ref.length === RESISTANCE_REF_SAMPLES && k === 0) this.#set('initialInternalResistance', median(ref) * 1000, 'mOhm', t, 'derived');
    }
    const avg = this.#rNow[k] === undefined ? r : 0.8 * this.#rNow[k]! + 0.2 * r;
    this.#rNow[k] = avg;
    if (k === 0) this.#set('internalResistance', avg * 1000, 'mOhm', t, 'measured');
    const ratios = [0, 1].filter((j) => this.#rRef[j]!.length === RESISTANCE_REF_SAMPLES && this.#rNow[j] !== undefined).map((j) => this.#rNow[j]! / median(this.#rRef[j]!));
    if (ratios.length) this.#set('internalResistanceIncrease', 100 * (ratios.reduce((a, b) => a + b) / ratios.length - 1), '%', t, 'derived');
  }

  #selfDischarge(s: BatterySnapshot, t: number): void {
    const atRest = Math.abs(s.currentA!) < 0.005 * this.limits.ratedCapacityAh && s.socPct !== null;
    if (!atRest) {
      this.#rest = undefined;
      return;
    }
    if (!this.#rest) {
      this.#rest = { since: t, soc: s.socPct! };
      return;
    }
    const days = (t - this.#rest.since) / DAY_MS;
    if (days >= 1) {
      this.#set('currentSelfDischargingRate', Math.max(0, ((this.#rest.soc - s.socPct!) / days) * 30), '%/mo', t, 'derived');
      this.#rest = { since: t, soc: s.socPct! };
    }
  }

  /** The accounts now, for a `lifecycle-summary` record. */
  summary(): LifecycleSummary {
    const quantities: Record<string, Quantity> = {};
    for (const [name, q] of [...this.#q].sort((a, b) => (a[0] < b[0] ? -1 : 1))) quantities[name] = { ...q };
    return { version: SUMMARY_VERSION, quantities, events: this.events };
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
