// Drive-cycle tables for the plant: vehicle speed traces turned into battery power with a simple
// road-load model, so a profile can say "drive the urban cycle" rather than list powers.
//
// ECE-15: the elementary urban cycle of UN ECE Regulation No. 83 (the urban part of the NEDC),
// 195 s, maximum 50 km/h. The break points below are the regulation's operations (idle, constant
// acceleration, cruise, deceleration), with the gear-change pauses folded into the accelerations.
import { driveCycle, type DriveCycleOptions, type Profile } from './profiles.ts';

/** [seconds, km/h] break points of the ECE-15 elementary urban cycle. */
export const ECE15_SPEED_KMH: readonly (readonly [number, number])[] = [
  [0, 0], [11, 0], [15, 15], [23, 15], [28, 0], [49, 0], [61, 32], [85, 32], [96, 0], [117, 0],
  [143, 50], [155, 50], [163, 35], [176, 35], [188, 0], [195, 0],
];

export interface Vehicle {
  massKg: number;
  /** Rolling resistance coefficient. */
  crr: number;
  /** Drag area Cd x A, m^2. */
  cdA: number;
  /** Battery-to-wheel efficiency when driving, 0..1. */
  driveEfficiency: number;
  /** Wheel-to-battery efficiency when braking regeneratively, 0..1 (0 = no regeneration). */
  regenEfficiency: number;
  /** Constant auxiliary load (electronics, climate), W. */
  auxW: number;
}

export const SMALL_CAR: Vehicle = { massKg: 1500, crr: 0.01, cdA: 0.65, driveEfficiency: 0.9, regenEfficiency: 0.6, auxW: 300 };

const G = 9.81;
const AIR = 1.2;

/** Battery power (W, positive = discharge) over a speed trace, one point per second. */
export function speedToPower(speedKmh: readonly (readonly [number, number])[], v: Vehicle = SMALL_CAR): [number, number][] {
  const end = speedKmh[speedKmh.length - 1]![0];
  const speedAt = (t: number): number => {
    let k = 0;
    while (k < speedKmh.length - 2 && speedKmh[k + 1]![0] <= t) k++;
    const [t0, s0] = speedKmh[k]!;
    const [t1, s1] = speedKmh[k + 1]!;
    return ((s0 + ((s1 - s0) * (t - t0)) / (t1 - t0)) * 1000) / 3600;
  };
  const out: [number, number][] = [];
  for (let t = 0; t <= end; t++) {
    // Mid-point speed and acceleration over the second starting at t.
    const s0 = speedAt(t);
    const s1 = speedAt(Math.min(end, t + 1));
    const speed = (s0 + s1) / 2;
    const accel = s1 - s0;
    const force = v.massKg * accel + (speed > 0 ? v.massKg * G * v.crr : 0) + 0.5 * AIR * v.cdA * speed * speed;
    const wheel = force * speed;
    const battery = wheel >= 0 ? wheel / v.driveEfficiency : wheel * v.regenEfficiency;
    out.push([t, battery + v.auxW]);
  }
  return out;
}

/** The ECE-15 urban cycle as a battery power profile for the given vehicle. */
export function urbanCycle(opts: Partial<Omit<DriveCycleOptions, 'kind'>> & { vehicle?: Vehicle } = {}): Profile {
  return driveCycle(speedToPower(ECE15_SPEED_KMH, opts.vehicle), { ...opts, kind: 'power', interpolation: 'step', name: opts.name ?? 'ECE-15 urban cycle' });
}
