// What every simulated CAN device does between encoding a frame and the bus: the wire faults of
// the fault injector's `can` state (frame loss, corruption, bus-off) and the counters tests read,
// plus the schedule that sends each cyclic message at its period in simulated time, so rates
// hold at any simulation speed. Shared by the BMS faces and the sensors (IVT-S, iso165).
import type { CanBus } from '../../hal/can/bus.ts';
import { canFrame, type CanFrame } from '../../hal/can/frame.ts';
import { Rng } from '../rng.ts';
import type { CanFaultState } from '../faults.ts';

export interface CanFaceCounters {
  sent: number;
  /** Frames not sent: lost (frameLossProbability) or held back during bus-off. */
  dropped: number;
  corrupted: number;
  sendErrors: number;
}

export class CanWire {
  readonly counters: CanFaceCounters = { sent: 0, dropped: 0, corrupted: 0, sendErrors: 0 };
  /** Wire faults, usually the fault injector's `can` state. */
  readonly faults: CanFaultState;
  readonly #bus: CanBus;
  readonly #rng: Rng;

  constructor(bus: CanBus, opts: { seed?: number; stream: number; faults?: CanFaultState }) {
    this.#bus = bus;
    this.faults = opts.faults ?? { frameLossProbability: 0, corruptionProbability: 0, busOff: false };
    this.#rng = new Rng(opts.seed ?? 1).fork(opts.stream);
  }

  /** Sends a frame through the faults: nothing during bus-off, a lost frame, or one flipped bit
   * (a frame that passed the CRC with a wrong bit) or a frame one byte short. */
  transmit(frame: CanFrame): void {
    if (this.faults.busOff) {
      this.counters.dropped++;
      return;
    }
    if (this.faults.frameLossProbability > 0 && this.#rng.next() < this.faults.frameLossProbability) {
      this.counters.dropped++;
      return;
    }
    let out = frame;
    if (this.faults.corruptionProbability > 0 && this.#rng.next() < this.faults.corruptionProbability) {
      this.counters.corrupted++;
      const data = Uint8Array.from(frame.data);
      if (this.#rng.next() < 0.5 && data.length > 1) {
        out = canFrame({ id: frame.id, extended: frame.extended, data: data.subarray(0, data.length - 1) });
      } else {
        const bit = Math.floor(this.#rng.next() * data.length * 8);
        data[bit >> 3]! ^= 1 << (bit & 7);
        out = canFrame({ id: frame.id, extended: frame.extended, data });
      }
    }
    this.#bus.send(out).then(
      () => this.counters.sent++,
      () => this.counters.sendErrors++,
    );
  }
}

/** Cyclic messages due in simulated time: `due(dtS)` lists those whose period has come round.
 * A long step sends each message once and resumes its rate (no catch-up burst). */
export class CyclicSchedule {
  readonly #left = new Map<string, number>();
  readonly #period = new Map<string, number>();

  constructor(periodsMs: Iterable<readonly [string, number]>) {
    for (const [name, ms] of periodsMs) {
      if (!(ms > 0)) throw new RangeError(`cycle time of ${name}: must be > 0 ms, got ${ms}`);
      this.#period.set(name, ms / 1000);
      this.#left.set(name, 0);
    }
  }

  due(dtS: number): string[] {
    const out: string[] = [];
    for (const [name, left] of this.#left) {
      const next = left - dtS;
      if (next > 1e-9) {
        this.#left.set(name, next);
        continue;
      }
      const period = this.#period.get(name)!;
      this.#left.set(name, next + period > 0 ? next + period : period);
      out.push(name);
    }
    return out;
  }

  periodS(name: string): number | undefined {
    return this.#period.get(name);
  }
}
