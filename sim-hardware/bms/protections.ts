// Protection state machines of the simulated BMS: each watches one measured quantity, trips
// after its condition has held for a delay, and releases after the quantity has come back past a
// release threshold (hysteresis) for a release delay, or never (latched) until reset. This is
// how commercial BMSs (JBD, Daly, foxBMS) behave: a threshold, a delay against noise, and a
// separate recovery threshold so the output does not chatter.
import type { Chemistry } from '../plant/ocv.ts';

/** Fault names, the same strings as devices/snapshot.ts FAULT_NAMES (so drivers map 1:1). */
export type ProtectionName =
  | 'cellOverVoltage'
  | 'cellUnderVoltage'
  | 'packOverVoltage'
  | 'packUnderVoltage'
  | 'chargeOverCurrent'
  | 'dischargeOverCurrent'
  | 'shortCircuit'
  | 'overTemperature'
  | 'underTemperature'
  | 'chargeOverTemperature'
  | 'chargeUnderTemperature'
  | 'sensorFailure'
  | 'contactorFault';

export interface ProtectionLimit {
  /** Trip when the watched value is beyond this (above for 'high', below for 'low'). */
  trip: number;
  /** Release once the value is back past this. */
  release: number;
  /** Seconds the trip condition must hold before tripping. */
  tripDelayS: number;
  /** Seconds the release condition must hold before releasing; Infinity = latched until reset(). */
  releaseDelayS: number;
}

export interface ProtectionConfig {
  /** Highest cell voltage, V. */
  cellOverVoltage: ProtectionLimit;
  /** Lowest cell voltage, V. */
  cellUnderVoltage: ProtectionLimit;
  /** Pack voltage (the separate pack measurement), V. */
  packOverVoltage: ProtectionLimit;
  packUnderVoltage: ProtectionLimit;
  /** Discharge current, A (positive). */
  dischargeOverCurrent: ProtectionLimit;
  /** Charge current, A (as a positive number). */
  chargeOverCurrent: ProtectionLimit;
  /** Discharge current of a short circuit, A: trips fast and latches. */
  shortCircuit: ProtectionLimit;
  /** Hottest sensor, degC, at any time. */
  overTemperature: ProtectionLimit;
  /** Coldest sensor, degC, at any time. */
  underTemperature: ProtectionLimit;
  /** Hottest sensor while charging, degC. */
  chargeOverTemperature: ProtectionLimit;
  /** Coldest sensor while charging, degC (lithium plating below freezing). */
  chargeUnderTemperature: ProtectionLimit;
  /** Contactor feedback: 1 while the auxiliary contact says closed although the BMS commands it
   * open (welded contacts), else 0. Latched: a welded contactor needs a technician. */
  contactorFault: ProtectionLimit;
}

const lim = (trip: number, release: number, tripDelayS: number, releaseDelayS: number): ProtectionLimit => ({ trip, release, tripDelayS, releaseDelayS });

/** Defaults per chemistry, scaled to the cell capacity and the number of series cells:
 * thresholds from the cells' usual safe windows. The pack limits are the cell limits times the
 * cell count, measured by the separate pack divider: a second line of defence that trips only
 * when the cell channels have missed it (an average at a cell limit means some cell is past it). */
export function defaultProtections(chemistry: Chemistry, capacityAh: number, cells: number): ProtectionConfig {
  const common = {
    dischargeOverCurrent: lim(3 * capacityAh, 3 * capacityAh, 2, 30),
    chargeOverCurrent: lim(1.2 * capacityAh, 1.2 * capacityAh, 2, 30),
    shortCircuit: lim(10 * capacityAh, 10 * capacityAh, 0, Infinity),
    overTemperature: lim(60, 50, 2, 10),
    underTemperature: lim(-20, -15, 2, 10),
    chargeOverTemperature: lim(45, 40, 2, 10),
    chargeUnderTemperature: lim(0, 3, 2, 10),
    // Debounces the auxiliary contact (its bounce and the armature's travel, tens of ms).
    contactorFault: lim(0.5, 0.5, 0.2, Infinity),
  };
  const [ov, ovRel, uv, uvRel] = chemistry === 'lfp' ? [3.65, 3.4, 2.5, 2.9] : [4.25, 4.15, 2.8, 3.1];
  return {
    ...common,
    cellOverVoltage: lim(ov, ovRel, 2, 2),
    cellUnderVoltage: lim(uv, uvRel, 2, 2),
    packOverVoltage: lim(cells * ov, cells * ovRel, 2, 2),
    packUnderVoltage: lim(cells * uv, cells * uvRel, 2, 2),
  };
}

/** One protection's state: tripped or not, and how long its pending condition has held. */
export class Protection {
  readonly name: ProtectionName;
  readonly limit: ProtectionLimit;
  readonly high: boolean;
  tripped = false;
  #held = 0;

  constructor(name: ProtectionName, limit: ProtectionLimit, high: boolean) {
    this.name = name;
    this.limit = limit;
    this.high = high;
  }

  /** Feeds one measurement. `canTrip` false (e.g. charge limits while not charging) stops a new
   * trip but still lets a tripped protection release. Returns true when the state changed. */
  update(value: number, dtS: number, canTrip = true): boolean {
    const l = this.limit;
    const beyond = this.high ? value > l.trip : value < l.trip;
    const back = this.high ? value < l.release : value > l.release;
    const pending = this.tripped ? !back : canTrip && beyond;
    if (this.tripped === pending) {
      this.#held = 0;
      return false;
    }
    this.#held += dtS;
    const delay = this.tripped ? l.releaseDelayS : l.tripDelayS;
    if (this.#held + 1e-9 >= delay) {
      this.tripped = !this.tripped;
      this.#held = 0;
      return true;
    }
    return false;
  }

  reset(): void {
    this.tripped = false;
    this.#held = 0;
  }
}
