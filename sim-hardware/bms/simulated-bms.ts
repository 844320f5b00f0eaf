// The simulated BMS: measures the plant through noisy, quantised sensors (with any injected
// sensor faults), estimates SoC and capacity, balances passively, runs its protections and opens
// the contactor when one trips. Protocol faces (JBD and Daly UART, CAN) never touch the plant:
// they read `measure()`, the values a BMS would report, and the status around it.
import { Rng } from '../rng.ts';
import type { Pack } from '../plant/pack.ts';
import type { SimDevice, Simulation } from '../simulation.ts';
import { Protection, defaultProtections, type ProtectionConfig, type ProtectionName } from './protections.ts';
import { SensorFaults } from './sensor-faults.ts';
import { SocEstimator } from './soc-estimator.ts';

export interface SensorConfig {
  /** Cell-voltage ADC step, V (default 1 mV). */
  cellVoltageResolutionV: number;
  /** Cell-voltage noise, one sigma, V. */
  cellVoltageNoiseV: number;
  /** Pack-voltage measurement step, V (a separate divider, as most BMSs have). */
  packVoltageResolutionV: number;
  packVoltageNoiseV: number;
  /** Current step, A, noise (sigma) and a fixed offset (what makes coulomb counting drift). */
  currentResolutionA: number;
  currentNoiseA: number;
  currentOffsetA: number;
  temperatureResolutionC: number;
  temperatureNoiseC: number;
  /** Number of thermistors; each reads the mean temperature of its share of the cells. */
  temperatureSensors: number;
}

export interface BalancingConfig {
  /** Balance only cells above this voltage. */
  startV: number;
  /** ... and more than this above the lowest cell. */
  deltaV: number;
  /** Only while charging or at rest: discharge currents above this (A) stop balancing. */
  maxDischargeA: number;
}

export interface BmsOptions {
  seed?: number;
  sensors?: Partial<SensorConfig>;
  protections?: Partial<ProtectionConfig>;
  balancing?: Partial<BalancingConfig> | false;
  /** Interval between measurements, simulated s (default 0.1; at most one per plant step). */
  sampleIntervalS?: number;
  /** Initial SoC estimate, 0..1 (default: from the first measured OCV). */
  socEstimate?: number;
  /** Cycle count the BMS already has in its EEPROM. */
  cycles?: number;
  /** Rest before an OCV correction, s (default 1200). */
  restTimeS?: number;
  /** Hardware version string (JBD 0x05, Daly info). */
  hardwareVersion?: string;
  /** Manufacture date (JBD 0x03). */
  productionDate?: { year: number; month: number; day: number };
}

/** What the BMS reports: quantised, noisy, possibly wrong (faults), never the plant's truth. */
export interface BmsReadings {
  /** Simulated seconds of the sample. */
  timeS: number;
  packVoltageV: number;
  /** A, positive = discharge. */
  currentA: number;
  cellVoltageV: number[];
  temperatureC: number[];
  /** 0..100. */
  socPct: number;
  sohPct: number;
  remainingAh: number;
  fullCapacityAh: number;
  nominalCapacityAh: number;
  cycles: number;
  balancing: boolean[];
  faults: Partial<Record<ProtectionName, boolean>>;
  contactorClosed: boolean;
  /** What the BMS allows, as JBD/Daly report their charge and discharge MOSFETs: a charge-only
   * fault (over-voltage, charge over-current or temperature) leaves discharge allowed and the
   * reverse. The single contactor of the plant opens on any fault. */
  chargeEnabled: boolean;
  dischargeEnabled: boolean;
}

export const DEFAULT_SENSORS: SensorConfig = {
  cellVoltageResolutionV: 0.001,
  cellVoltageNoiseV: 0.0008,
  packVoltageResolutionV: 0.01,
  packVoltageNoiseV: 0.02,
  currentResolutionA: 0.01,
  currentNoiseA: 0.05,
  currentOffsetA: 0.03,
  temperatureResolutionC: 0.1,
  temperatureNoiseC: 0.15,
  temperatureSensors: 0,
};

const CHARGE_FAULTS: ReadonlySet<ProtectionName> = new Set(['cellOverVoltage', 'packOverVoltage', 'chargeOverCurrent', 'chargeOverTemperature', 'chargeUnderTemperature']);
const DISCHARGE_FAULTS: ReadonlySet<ProtectionName> = new Set(['cellUnderVoltage', 'packUnderVoltage', 'dischargeOverCurrent', 'shortCircuit']);

const quantise = (v: number, step: number) => Math.round(v / step) * step;

export class SimulatedBms implements SimDevice {
  readonly pack: Pack;
  readonly sensors: SensorConfig;
  readonly balancingConfig: BalancingConfig | null;
  readonly sensorFaults: SensorFaults;
  readonly estimator: SocEstimator;
  readonly protections: Protection[];
  readonly hardwareVersion: string;
  readonly productionDate: { year: number; month: number; day: number };
  readonly sampleIntervalS: number;
  /** False while the board has no power: no samples, no answers, contactor open. */
  #powered = true;
  contactorClosed = true;
  /** Welded contacts (the contactorWeld fault): the current path stays closed whatever the BMS
   * commands, and the auxiliary contact reports closed, so the BMS raises contactorFault once
   * it commands the contactor open. */
  contactorWelded = false;
  /** Ah discharged as the BMS counted it (for the cycle counter). */
  dischargedAh = 0;
  readonly #initialCycles: number;
  readonly #rng: Rng;
  #sinceSample = Infinity;
  #last: BmsReadings;
  #listeners = new Set<(r: BmsReadings) => void>();

  constructor(pack: Pack, o: BmsOptions = {}) {
    this.pack = pack;
    const n = pack.n;
    this.sensors = { ...DEFAULT_SENSORS, ...o.sensors };
    if (!this.sensors.temperatureSensors) this.sensors.temperatureSensors = Math.min(n, Math.max(1, Math.ceil(n / 4)));
    if (!Number.isInteger(this.sensors.temperatureSensors) || this.sensors.temperatureSensors < 1 || this.sensors.temperatureSensors > n) {
      throw new RangeError(`sensors.temperatureSensors: must be 1..${n} (one per cell at most), got ${this.sensors.temperatureSensors}`);
    }
    const p = pack.params;
    this.balancingConfig = o.balancing === false ? null : { startV: p.chemistry === 'lfp' ? 3.4 : 4.0, deltaV: 0.01, maxDischargeA: 0.05 * pack.nominalAh, ...o.balancing };
    this.sampleIntervalS = o.sampleIntervalS ?? 0.1;
    this.sensorFaults = new SensorFaults(n, this.sensors.temperatureSensors);
    this.#rng = new Rng(o.seed ?? 1).fork(100);
    this.#initialCycles = o.cycles ?? Math.floor(pack.equivalentCycles);
    this.hardwareVersion = o.hardwareVersion ?? 'voltrail-sim-bms 1.0';
    this.productionDate = o.productionDate ?? { year: 2025, month: 6, day: 1 };
    const lim = { ...defaultProtections(p.chemistry, pack.nominalAh, n), ...o.protections };
    this.protections = [
      new Protection('cellOverVoltage', lim.cellOverVoltage, true),
      new Protection('cellUnderVoltage', lim.cellUnderVoltage, false),
      new Protection('packOverVoltage', lim.packOverVoltage, true),
      new Protection('packUnderVoltage', lim.packUnderVoltage, false),
      new Protection('dischargeOverCurrent', lim.dischargeOverCurrent, true),
      new Protection('chargeOverCurrent', lim.chargeOverCurrent, true),
      new Protection('shortCircuit', lim.shortCircuit, true),
      new Protection('overTemperature', lim.overTemperature, true),
      new Protection('underTemperature', lim.underTemperature, false),
      new Protection('chargeOverTemperature', lim.chargeOverTemperature, true),
      new Protection('chargeUnderTemperature', lim.chargeUnderTemperature, false),
      new Protection('contactorFault', lim.contactorFault, true),
    ];
    this.#last = this.#sample(0);
    const meanCell = this.#last.cellVoltageV.reduce((a, b) => a + b, 0) / n;
    this.estimator = new SocEstimator({
      curve: pack.curve,
      nominalAh: pack.nominalAh,
      soc: o.socEstimate ?? pack.curve.socAt(meanCell),
      restTimeS: o.restTimeS,
    });
    this.#last = this.#sample(0);
  }

  /** The latest sample: what every protocol face reports. */
  measure(): BmsReadings {
    return this.#last;
  }

  /** Called with every new sample (a CAN face sending cyclic frames, a status line). */
  onSample(listener: (r: BmsReadings) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get faults(): Partial<Record<ProtectionName, boolean>> {
    return this.#last.faults;
  }

  get powered(): boolean {
    return this.#powered;
  }

  /** Cuts or restores the board's supply. On power-up the BMS boots: protections start clear
   * (a latched fault must be found again), the SoC estimate and counters survive (EEPROM). */
  setPowered(on: boolean): void {
    if (on && !this.#powered) {
      this.#powered = true;
      this.resetProtections();
      this.#sinceSample = Infinity;
    } else if (!on) {
      this.#powered = false;
      this.contactorClosed = false;
    }
  }

  /** Clears latched protections (a BMS reset or a host command) and closes the contactor if clear. */
  resetProtections(): void {
    for (const p of this.protections) p.reset();
    this.contactorClosed = this.#powered;
  }

  conducts(): boolean {
    return this.contactorWelded || (this.#powered && this.contactorClosed);
  }

  afterStep(dtS: number, sim: Simulation): void {
    this.sensorFaults.advance(dtS);
    if (!this.#powered) {
      this.contactorClosed = false;
      this.pack.balancing.fill(0);
      return;
    }
    this.#sinceSample += dtS;
    if (this.#sinceSample >= this.sampleIntervalS - 1e-9) {
      const dt = Number.isFinite(this.#sinceSample) ? this.#sinceSample : dtS;
      this.#sinceSample = 0;
      this.#update(dt, sim.timeS);
    }
  }

  #update(dtS: number, timeS: number): void {
    const r = this.#sample(timeS);
    const n = this.pack.n;
    let maxV = -Infinity;
    let minV = Infinity;
    let sumV = 0;
    for (const v of r.cellVoltageV) {
      if (v > maxV) maxV = v;
      if (v < minV) minV = v;
      sumV += v;
    }
    const maxT = Math.max(...r.temperatureC);
    const minT = Math.min(...r.temperatureC);
    const i = r.currentA;
    const charging = i < -0.01 * this.pack.nominalAh;
    // Feedback mismatch: commanded open (since the last sample) but the aux contact reads closed.
    const feedbackMismatch = !this.contactorClosed && this.contactorWelded ? 1 : 0;

    this.estimator.update(i, dtS, sumV / n, maxV);
    if (i > 0) this.dischargedAh += (i * dtS) / 3600;

    for (const p of this.protections) {
      switch (p.name) {
        case 'cellOverVoltage': p.update(maxV, dtS); break;
        case 'cellUnderVoltage': p.update(minV, dtS); break;
        case 'packOverVoltage': p.update(r.packVoltageV, dtS); break;
        case 'packUnderVoltage': p.update(r.packVoltageV, dtS); break;
        case 'dischargeOverCurrent': p.update(Math.max(0, i), dtS); break;
        case 'shortCircuit': p.update(Math.max(0, i), dtS); break;
        case 'chargeOverCurrent': p.update(Math.max(0, -i), dtS); break;
        case 'overTemperature': p.update(maxT, dtS); break;
        case 'underTemperature': p.update(minT, dtS); break;
        case 'chargeOverTemperature': p.update(maxT, dtS, charging); break;
        case 'chargeUnderTemperature': p.update(minT, dtS, charging); break;
        case 'contactorFault': p.update(feedbackMismatch, dtS); break;
        default: break;
      }
    }
    const tripped = this.protections.filter((p) => p.tripped);
    this.contactorClosed = tripped.length === 0;

    // Passive balancing on measured voltages, never while a protection holds the pack open.
    const b = this.balancingConfig;
    for (let k = 0; k < n; k++) {
      const v = r.cellVoltageV[k]!;
      const on = b !== null && tripped.length === 0 && i < b.maxDischargeA && v >= b.startV && v - minV > b.deltaV;
      this.pack.balancing[k] = on ? 1 : 0;
    }
    this.#last = this.#sample(timeS, r);
    for (const l of this.#listeners) l(this.#last);
  }

  /** Reads the sensors; with `raw` given, only refreshes the derived fields (SoC, faults, switches). */
  #sample(timeS: number, raw?: BmsReadings): BmsReadings {
    const s = this.sensors;
    const f = this.sensorFaults;
    const pack = this.pack;
    const n = pack.n;
    let cells: number[];
    let temps: number[];
    let packV: number;
    let current: number;
    if (raw) {
      cells = raw.cellVoltageV;
      temps = raw.temperatureC;
      packV = raw.packVoltageV;
      current = raw.currentA;
    } else {
      const rng = this.#rng;
      const trueV = Array.from(pack.vCell);
      // An open sense wire above cell k: the AFE sees 0 on k and the sum of k and k+1 on k+1.
      for (let k = 0; k < n; k++) {
        if (f.cellOpenWire[k]) {
          if (k + 1 < n) trueV[k + 1] = trueV[k + 1]! + trueV[k]!;
          trueV[k] = 0;
        }
      }
      cells = new Array<number>(n);
      for (let k = 0; k < n; k++) {
        let v = trueV[k]! + f.cellOffsetV[k]! + rng.normal(0, s.cellVoltageNoiseV);
        if (!Number.isNaN(f.cellStuckV[k]!)) v = f.cellStuckV[k]!;
        cells[k] = Math.max(0, quantise(v, s.cellVoltageResolutionV));
      }
      const m = s.temperatureSensors;
      temps = new Array<number>(m);
      for (let j = 0; j < m; j++) {
        const lo = Math.floor((j * n) / m);
        const hi = Math.floor(((j + 1) * n) / m);
        let sum = 0;
        for (let k = lo; k < hi; k++) sum += pack.tempC[k]!;
        let tC = sum / (hi - lo) + f.tempOffsetC[j]! + rng.normal(0, s.temperatureNoiseC);
        if (!Number.isNaN(f.tempStuckC[j]!)) tC = f.tempStuckC[j]!;
        if (f.tempOpen[j]) tC = -40;
        temps[j] = quantise(tC, s.temperatureResolutionC);
      }
      packV = Math.max(0, quantise(pack.packVoltageV + rng.normal(0, s.packVoltageNoiseV), s.packVoltageResolutionV));
      current = quantise(pack.currentA + s.currentOffsetA + f.currentOffsetA + rng.normal(0, s.currentNoiseA), s.currentResolutionA);
    }
    const faults: Partial<Record<ProtectionName, boolean>> = {};
    let chargeOk = this.#powered;
    let dischargeOk = this.#powered;
    for (const p of this.protections) {
      if (!p.tripped) continue;
      faults[p.name] = true;
      if (!DISCHARGE_FAULTS.has(p.name)) chargeOk = false;
      if (!CHARGE_FAULTS.has(p.name)) dischargeOk = false;
    }
    // A thermistor reading at the end of its range is a broken sensor, not a temperature.
    if (temps.some((t) => t <= -39.5 || t >= 125)) faults.sensorFailure = true;
    // The constructor samples once before the estimator exists (to seed it from the first OCV).
    const est = this.estimator as SocEstimator | undefined;
    const full = est ? est.fullCapacityAh : pack.nominalAh;
    const soc = est ? est.soc : 0;
    return {
      timeS,
      packVoltageV: packV,
      currentA: current,
      cellVoltageV: cells,
      temperatureC: temps,
      socPct: soc * 100,
      sohPct: Math.min(100, (full / pack.nominalAh) * 100),
      remainingAh: soc * full,
      fullCapacityAh: full,
      nominalCapacityAh: pack.nominalAh,
      cycles: this.#initialCycles + Math.floor(this.dischargedAh / pack.nominalAh),
      balancing: Array.from(pack.balancing, (x) => x === 1),
      faults,
      contactorClosed: this.contactorClosed && this.#powered,
      chargeEnabled: chargeOk,
      dischargeEnabled: dischargeOk,
    };
  }
}
