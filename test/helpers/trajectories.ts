// Vehicle trajectories for the CAM generation tests, sampled every 100 ms like a recorded
// drive log: kinematics from closed-form motion (constant speed, constant yaw rate, constant
// deceleration to a stop) so every sample is exact and the expected send times can be worked
// out by hand.
import type { VehicleState } from '../../v2x/senders/cam-sender.ts';

const R = 6_371_008.8;
const M_PER_DEG_LAT = (R * Math.PI) / 180;

export interface Sample extends VehicleState {
  t: number;
}

const base = { longitudinalAcceleration: 0, yawRate: 0, stationType: 5, length: 4.69, width: 1.85, stateOfCharge: 73.4 };

/** Moves north `d` metres from a fixed origin (48.1 N, 11.5 E): exact at this scale. */
function north(d: number) {
  return { latitude: 48.1 + d / M_PER_DEG_LAT, longitude: 11.5 };
}

/** Samples `fn(t)` for t = 0, 100, ..., durationMs. */
export function sample(durationMs: number, fn: (t: number) => Omit<Sample, 't'>): Sample[] {
  const out: Sample[] = [];
  for (let t = 0; t <= durationMs; t += 100) out.push({ t, ...fn(t) });
  return out;
}

export const straight = (speed: number, durationMs: number) =>
  sample(durationMs, (t) => ({ ...base, ...north((speed * t) / 1000), heading: 0, speed }));

/** Turning at `yawDegS` for `turnMs`, then straight on, at constant speed (heading only matters). */
export const turning = (speed: number, yawDegS: number, turnMs: number, durationMs: number) =>
  sample(durationMs, (t) => ({
    ...base,
    ...north((speed * t) / 1000),
    heading: (yawDegS * Math.min(t, turnMs)) / 1000,
    yawRate: t < turnMs ? yawDegS : 0,
    speed,
  }));

/** Braking from `v0` at `decel` m/s^2 to a standstill, then standing. */
export const braking = (v0: number, decel: number, durationMs: number) =>
  sample(durationMs, (t) => {
    const s = t / 1000;
    const stop = v0 / decel;
    const tt = Math.min(s, stop);
    return { ...base, ...north(v0 * tt - (decel * tt * tt) / 2), heading: 0, speed: s < stop ? v0 - decel * s : 0, longitudinalAcceleration: s < stop ? -decel : 0 };
  });

/** Constant slow speed with one heading step (a lane change) at `atMs`. */
export const headingStep = (speed: number, stepDeg: number, atMs: number, durationMs: number) =>
  sample(durationMs, (t) => ({ ...base, ...north((speed * t) / 1000), heading: t >= atMs ? stepDeg : 0, speed }));
