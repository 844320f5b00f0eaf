// The intake in front of the reception pipeline (v2x/README.md "Reception", stage 0): what a
// receiver does with every frame the moment it comes off the radio, at a cost of a few
// microseconds, so that the radio's buffer never overflows unseen and a hazard never waits
// behind awareness traffic. Each frame is classified by a peek at its first bytes
// (type-peek.ts: hazard, action, awareness; unreadable frames go with awareness) and held in a
// FIFO lane per class, bounded in frames and in bytes; when full, the oldest frame of the worst
// lane is shed (counted as `shed-overload` by the pipeline; plain frames before those that carry
// their signer's certificate), or the newcomer if it is itself the worst. Each turn of the event loop it first pulls what the source has (`poll`), then hands at
// most `framesPerTurn` frames to the full pipeline, hazards first; the other classes only while
// the pipeline holds fewer than `feedBelow` messages, so that frames the verifiers could not
// reach anyway are shed here, before any decoding, instead of after. The peek only orders and
// sheds: every frame handed on goes through every check of the pipeline, and nothing is accepted
// here.
import { MAX_MESSAGE_SIZE } from '../security/envelope.ts';
import type { ReceptionPipeline } from './reception-pipeline.ts';
import { peekFrame, peekMessageType } from './type-peek.ts';
import type { MessageName } from '../messages/message-types.ts';

export const INTAKE_LANES = ['hazard', 'action', 'awareness'] as const;
const HAZARD = 0;
const AWARENESS = 2;

export interface IntakeOptions {
  /** Most frames held (default 1024). */
  maxFrames?: number;
  /** Most bytes held (default 512 KiB). */
  maxBytes?: number;
  /** Frames handed to the pipeline per turn of the event loop (default 64: a worker batch). */
  framesPerTurn?: number;
  /** Non-hazard frames are handed on only while the pipeline has fewer messages pending (default 1536: three quarters of its queue's default capacity, enough to keep every worker busy). */
  feedBelow?: number;
  /** Called at the start of every turn to pull the frames waiting at the source (a radio's buffer) with `offer`. */
  poll?: () => void;
}

/** A FIFO (a growable ring: no shifting of arrays). */
class Fifo<T> {
  #buf: (T | undefined)[] = new Array(64);
  #head = 0;
  size = 0;
  push(v: T): void {
    if (this.size === this.#buf.length) {
      const next = new Array<T | undefined>(this.#buf.length * 2);
      for (let i = 0; i < this.size; i++) next[i] = this.#buf[(this.#head + i) % this.#buf.length];
      this.#buf = next;
      this.#head = 0;
    }
    this.#buf[(this.#head + this.size) % this.#buf.length] = v;
    this.size++;
  }
  peek(): T | undefined {
    return this.size === 0 ? undefined : this.#buf[this.#head];
  }
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const v = this.#buf[this.#head];
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#buf.length;
    this.size--;
    return v;
  }
}

interface Held {
  frame: Uint8Array;
  /** Arrival order. */
  seq: number;
}

/**
 * One class's frames, in arrival order, split in two FIFOs: plain frames and frames carrying
 * their signer's certificate. They are taken in arrival order across both (a signer's
 * messages must reach the pipeline in order, or a later one accepted first makes the earlier
 * a replay), but shed plain first: a frame with a certificate unlocks its signer's next
 * messages, which would all be dropped as from an unknown signer without it.
 */
class Lane {
  readonly #plain = new Fifo<Held>();
  readonly #certified = new Fifo<Held>();
  get size(): number {
    return this.#plain.size + this.#certified.size;
  }
  get plainSize(): number {
    return this.#plain.size;
  }
  push(h: Held, certificate: boolean): void {
    (certificate ? this.#certified : this.#plain).push(h);
  }
  /** The oldest frame. */
  shift(): Uint8Array | undefined {
    const a = this.#plain.peek();
    const b = this.#certified.peek();
    if (b === undefined || (a !== undefined && a.seq < b.seq)) return this.#plain.shift()?.frame;
    return this.#certified.shift()!.frame;
  }
  /** The oldest plain frame, else the oldest with a certificate. */
  shed(): Uint8Array | undefined {
    return (this.#plain.size > 0 ? this.#plain : this.#certified).shift()?.frame;
  }
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const n = v ?? dflt;
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`intake.${name}: ${String(v)}; expected a whole number >= 1`);
  return n;
}

export function intakeLaneOf(frame: Uint8Array): number {
  return laneOfType(peekMessageType(frame));
}

function laneOfType(type: MessageName | undefined): number {
  switch (type) {
    case 'denm':
      return HAZARD;
    case 'cam':
    case 'chargingOffer':
    case undefined:
      return AWARENESS;
    default:
      return 1;
  }
}

export class ReceptionIntake {
  readonly maxFrames: number;
  readonly maxBytes: number;
  readonly framesPerTurn: number;
  readonly feedBelow: number;
  readonly #p: ReceptionPipeline;
  readonly #poll: (() => void) | undefined;
  readonly #lanes = INTAKE_LANES.map(() => new Lane());
  #frames = 0;
  #bytes = 0;
  #seq = 0;
  #turnScheduled = false;
  #waitingForRoom = false;
  #idle: (() => void)[] = [];
  /** Most frames ever held at once. */
  highWater = 0;
  /** Frames shed here, by lane (also counted as `shed-overload` by the pipeline). */
  readonly shedByLane = INTAKE_LANES.map(() => 0);

  constructor(pipeline: ReceptionPipeline, opts: IntakeOptions = {}) {
    this.#p = pipeline;
    this.maxFrames = positiveInt('maxFrames', opts.maxFrames, 1024);
    this.maxBytes = positiveInt('maxBytes', opts.maxBytes, 512 * 1024);
    if (this.maxBytes < MAX_MESSAGE_SIZE) throw new RangeError(`intake.maxBytes: ${this.maxBytes}; expected at least one message (${MAX_MESSAGE_SIZE} bytes)`);
    this.framesPerTurn = positiveInt('framesPerTurn', opts.framesPerTurn, 64);
    this.feedBelow = positiveInt('feedBelow', opts.feedBelow, 1536);
    this.#poll = opts.poll;
  }

  /** Frames held. */
  get size(): number {
    return this.#frames;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Frames held per lane (hazard, action, awareness). */
  sizes(): number[] {
    return this.#lanes.map((l) => l.size);
  }

  /** A frame off the air: classified and held (or shed), to be handed on in a later turn. The intake keeps `frame`: pass a copy. */
  offer(frame: Uint8Array): void {
    // Over the size limit: the pipeline refuses it at once, before any decoding; nothing to hold.
    if (frame.length > MAX_MESSAGE_SIZE) return this.#p.receive(frame);
    const peek = peekFrame(frame);
    const lane = laneOfType(peek.type);
    while (this.#frames >= this.maxFrames || this.#bytes + frame.length > this.maxBytes) {
      let worst = AWARENESS;
      while (this.#lanes[worst]!.size === 0) worst--;
      // Everything held is better than the newcomer (a higher class, or a plain frame against certificates only): it goes.
      if (worst < lane || (worst === lane && !peek.certificate && this.#lanes[lane]!.plainSize === 0)) return this.#shed(frame, lane);
      const old = this.#lanes[worst]!.shed()!;
      this.#frames--;
      this.#bytes -= old.length;
      this.#shed(old, worst);
    }
    this.#lanes[lane]!.push({ frame, seq: this.#seq++ }, peek.certificate);
    this.#frames++;
    this.#bytes += frame.length;
    if (this.#frames > this.highWater) this.highWater = this.#frames;
    this.#schedule();
  }

  /** Asks for a turn (a source has frames waiting: the turn polls them). */
  poke(): void {
    this.#schedule();
  }

  /** Resolves once nothing is held here and the pipeline has decided everything handed to it. */
  async drain(): Promise<void> {
    while (this.#frames > 0) {
      this.#schedule();
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    await this.#p.drain();
  }

  #shed(frame: Uint8Array, lane: number): void {
    this.shedByLane[lane]!++;
    this.#p.shed(frame, `${INTAKE_LANES[lane]} frame shed by the full intake (${this.maxFrames} frames, ${this.maxBytes} bytes)`);
  }

  #schedule(): void {
    if (this.#turnScheduled) return;
    this.#turnScheduled = true;
    setImmediate(() => {
      this.#turnScheduled = false;
      this.#turn();
    });
  }

  #turn(): void {
    this.#poll?.();
    let handed = 0;
    const hazards = this.#lanes[HAZARD]!;
    while (handed < this.framesPerTurn && hazards.size > 0) {
      this.#handOn(hazards.shift()!);
      handed++;
    }
    for (let lane = HAZARD + 1; lane <= AWARENESS; lane++) {
      const l = this.#lanes[lane]!;
      while (handed < this.framesPerTurn && l.size > 0 && this.#p.pending < this.feedBelow) {
        this.#handOn(l.shift()!);
        handed++;
      }
    }
    if (this.#frames === 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const r of idle) r();
      return;
    }
    // More to hand on: another turn now if it can be handed on, else when the pipeline has room
    // (a source with new frames pokes meanwhile, so hazards are not held up by the wait).
    if (hazards.size > 0 || this.#p.pending < this.feedBelow) this.#schedule();
    else if (!this.#waitingForRoom) {
      this.#waitingForRoom = true;
      void this.#p.waitBelow(this.feedBelow - 1).then(() => {
        this.#waitingForRoom = false;
        this.#schedule();
      });
    }
  }

  #handOn(frame: Uint8Array): void {
    this.#frames--;
    this.#bytes -= frame.length;
    this.#p.receive(frame);
  }
}
