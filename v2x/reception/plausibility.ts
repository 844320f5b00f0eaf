// Stage 8 of reception: plausibility of verified content, in the spirit of ETSI TS 103 759
// (misbehaviour detection): a valid signature proves who sent a message, not that it is true.
// Per signer, the last accepted CAM is kept, and each new message is checked against it and
// against physics:
//   implausible-speed    a speed above maxSpeed, or a change faster than maxAccel allows;
//   implausible-position a position jump farther than the speeds allow in the elapsed time
//                        (plus GNSS error);
//   implausible-interval CAMs closer together than T_GenCamMin (100 ms, EN 302 637-2) less a
//                        tolerance: a station that beacons faster than the rules is flooding;
//   implausible-range    a sender farther from this station than radio can reach;
//   implausible-hazard   a hazard reported far from the sender's last known position.
// Checks run only where the data to judge exists (a first CAM has nothing to jump from).
import type { Position } from '../messages/field-types.ts';
import type { Cam } from '../messages/cam.ts';
import type { Denm } from '../messages/denm.ts';
import type { DecodedPayload } from '../security/envelope.ts';
import type { DropReason } from './drop-reason.ts';
import { distanceM } from './message-priority.ts';

export interface PlausibilityOptions {
  /** m/s (default 83.3: 300 km/h). */
  maxSpeed?: number;
  /** m/s^2, either sign (default 12: beyond any road vehicle's braking). */
  maxAccel?: number;
  /** m of position error allowed on top of the kinematics (default 10: GNSS). */
  positionToleranceM?: number;
  /** Shortest CAM interval, ms (default 90: T_GenCamMin 100 ms less 10 ms of jitter). */
  minIntervalMs?: number;
  /** Farthest plausible sender, m (default 1500: beyond ITS-G5 / C-V2X range). */
  maxRangeM?: number;
  /** Farthest a hazard may be from its sender's last position, m (default 1000). */
  maxHazardDistanceM?: number;
  /** How long a sender's last CAM counts for the hazard check, ms (default 5000). */
  trackTtlMs?: number;
  /** Senders tracked (default 8192, least recently seen goes first). */
  capacity?: number;
}

interface Track {
  time: number;
  position: Position;
  speed: number;
}

export class PlausibilityChecker {
  readonly #o: Required<PlausibilityOptions>;
  readonly #tracks = new Map<string, Track>();

  constructor(opts: PlausibilityOptions = {}) {
    this.#o = {
      maxSpeed: opts.maxSpeed ?? 83.3,
      maxAccel: opts.maxAccel ?? 12,
      positionToleranceM: opts.positionToleranceM ?? 10,
      minIntervalMs: opts.minIntervalMs ?? 90,
      maxRangeM: opts.maxRangeM ?? 1500,
      maxHazardDistanceM: opts.maxHazardDistanceM ?? 1000,
      trackTtlMs: opts.trackTtlMs ?? 5000,
      capacity: opts.capacity ?? 8192,
    };
  }

  get tracked(): number {
    return this.#tracks.size;
  }

  /** Checks a verified message from `signerId`; `own` is this station's position when known. */
  check(signerId: string, p: DecodedPayload, own: Position | undefined): { reason: DropReason; detail: string } | undefined {
    if (p.type === 'cam') return this.#cam(signerId, p.generationTime, p.body as Cam, own);
    if (p.type === 'denm') return this.#denm(signerId, p.generationTime, p.body as Denm);
    return undefined;
  }

  /** Remembers an accepted CAM (call after `check` passed). */
  record(signerId: string, p: DecodedPayload): void {
    if (p.type !== 'cam') return;
    const cam = p.body as Cam;
    this.#tracks.delete(signerId);
    if (this.#tracks.size >= this.#o.capacity) this.#tracks.delete(this.#tracks.keys().next().value!);
    this.#tracks.set(signerId, { time: p.generationTime, position: cam.position, speed: cam.speed / 100 });
  }

  #cam(signerId: string, time: number, cam: Cam, own: Position | undefined) {
    const o = this.#o;
    const v = cam.speed / 100;
    if (v > o.maxSpeed) return { reason: 'implausible-speed' as const, detail: `speed ${v} m/s is above ${o.maxSpeed} m/s` };
    if (own !== undefined) {
      const d = distanceM(own, cam.position);
      if (d > o.maxRangeM) return { reason: 'implausible-range' as const, detail: `sender ${d.toFixed(0)} m away, beyond radio range (${o.maxRangeM} m)` };
    }
    const last = this.#tracks.get(signerId);
    if (last === undefined) return undefined;
    const dtMs = time - last.time;
    if (dtMs < o.minIntervalMs) return { reason: 'implausible-interval' as const, detail: `CAMs ${dtMs} ms apart, below ${o.minIntervalMs} ms` };
    const dt = dtMs / 1000;
    if (Math.abs(v - last.speed) > o.maxAccel * dt + 0.5) {
      return { reason: 'implausible-speed' as const, detail: `speed changed ${last.speed} -> ${v} m/s in ${dtMs} ms` };
    }
    const moved = distanceM(last.position, cam.position);
    const reach = Math.max(v, last.speed) * dt + 0.5 * o.maxAccel * dt * dt + o.positionToleranceM;
    if (moved > reach) return { reason: 'implausible-position' as const, detail: `moved ${moved.toFixed(1)} m in ${dtMs} ms (at most ${reach.toFixed(1)} m)` };
    return undefined;
  }

  #denm(signerId: string, time: number, denm: Denm) {
    if (denm.termination !== undefined) return undefined; // a cancellation or negation names the event, not where the sender is
    const last = this.#tracks.get(signerId);
    if (last === undefined || time - last.time > this.#o.trackTtlMs) return undefined;
    const d = distanceM(last.position, denm.eventPosition);
    if (d > this.#o.maxHazardDistanceM) {
      return { reason: 'implausible-hazard' as const, detail: `hazard ${d.toFixed(0)} m from its sender's last position (at most ${this.#o.maxHazardDistanceM} m)` };
    }
    return undefined;
  }
}
