// Sends cooperative awareness messages: every T_CheckCamGen it reads the vehicle's state,
// asks the ETSI generation rules (cam-generation.ts) whether a CAM is due, and if so builds the
// CAM in fixed-point units, seals it with the current pseudonym (whose station id it carries)
// and hands the bytes to `send`. `step` is one check at the clock's time (tests drive it with a
// ManualClock); `run` loops on the injected clock until aborted.
import type { Clock } from '../../hal/clock.ts';
import type { Cam } from '../messages/cam.ts';
import type { MessageSealer } from '../security/message-sealer.ts';
import { CamGenerationRules } from './cam-generation.ts';
import type { CamTrigger, Kinematics } from './cam-generation.ts';

export interface VehicleState extends Kinematics {
  /** m/s^2, negative when braking. */
  longitudinalAcceleration: number;
  /** degrees/s, positive counter-clockwise. */
  yawRate: number;
  /** ETSI StationType code (5 passenger car). */
  stationType: number;
  /** m. */
  length: number;
  /** m. */
  width: number;
  /** Battery state of charge, %, when the vehicle has a traction battery. */
  stateOfCharge?: number;
}

export interface CamSenderOptions {
  sealer: MessageSealer;
  clock: Clock;
  state: () => VehicleState;
  send: (bytes: Uint8Array, trigger: CamTrigger) => void;
  rules?: CamGenerationRules;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** The CAM body for a vehicle state, converted to the wire's fixed-point units. */
export function camFromState(stationId: number, s: VehicleState): Cam {
  const cam: Cam = {
    stationId,
    stationType: s.stationType,
    position: { latitude: Math.round(s.latitude * 1e7), longitude: Math.round(s.longitude * 1e7) },
    heading: Math.round((((s.heading % 360) + 360) % 360) * 10) % 3600,
    speed: clamp(Math.round(s.speed * 100), 0, 16382),
    longitudinalAcceleration: clamp(Math.round(s.longitudinalAcceleration * 100), -1600, 1600),
    yawRate: clamp(Math.round(s.yawRate * 100), -32766, 32766),
    length: Math.round(s.length * 100),
    width: Math.round(s.width * 100),
  };
  if (s.stateOfCharge !== undefined) cam.stateOfCharge = clamp(Math.round(s.stateOfCharge * 10), 0, 1000);
  return cam;
}

export class CamSender {
  readonly rules: CamGenerationRules;
  readonly #o: CamSenderOptions;

  constructor(opts: CamSenderOptions) {
    this.#o = opts;
    this.rules = opts.rules ?? new CamGenerationRules();
  }

  /** One T_CheckCamGen check at the clock's time: the sealed CAM when one was due. */
  step(): Uint8Array | undefined {
    const state = this.#o.state();
    const trigger = this.rules.check(this.#o.clock.now(), state);
    if (trigger === undefined) return undefined;
    const bytes = this.#o.sealer.seal('cam', (p) => camFromState(p.stationId, state));
    this.#o.send(bytes, trigger);
    return bytes;
  }

  /** Checks every T_CheckCamGen until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.step();
      try {
        await this.#o.clock.sleep(this.rules.checkInterval, signal);
      } catch {
        return;
      }
    }
  }
}
