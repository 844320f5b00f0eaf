// Stage 4 of reception: duplicates and replays. Every message that passed the freshness window
// is remembered by the SHA-256 of its bytes until it would be stale anyway (the window's
// horizon), in a bounded table. The same bytes again within `duplicateWindowMs` of the first
// reception are a duplicate (a radio repeat or a relay: benign, counted apart); the same bytes
// later are a replay. Independently, each signer's last accepted generation time is kept
// (after verification only, so a forgery cannot move it): a verified signer never signs two
// messages with times going backwards, so an older time from it is a replay too (this holds
// even when a flood has pushed the first copy out of the bounded table).
import { hash } from 'node:crypto';
import type { DropReason } from './drop-reason.ts';

export interface ReplayCacheOptions {
  /** How long a message is remembered, ms (the freshness window's horizon). */
  horizonMs: number;
  /** Repeats within this long are duplicates, later ones replays (default 100 ms). */
  duplicateWindowMs?: number;
  /** Most messages remembered (default 65536: 2 s at 32,000 messages/s). */
  capacity?: number;
  /** Most signers whose last time is remembered (default 16384). */
  signerCapacity?: number;
}

export class ReplayCache {
  readonly #horizon: number;
  readonly #dupWindow: number;
  readonly #capacity: number;
  readonly #signerCapacity: number;
  /** hash -> first reception time, in insertion (= time) order. */
  readonly #seen = new Map<string, number>();
  /** signer:type -> last accepted generation time. */
  readonly #last = new Map<string, number>();

  constructor(opts: ReplayCacheOptions) {
    this.#horizon = opts.horizonMs;
    this.#dupWindow = opts.duplicateWindowMs ?? 100;
    this.#capacity = opts.capacity ?? 65_536;
    this.#signerCapacity = opts.signerCapacity ?? 16_384;
    if (!(this.#capacity >= 1)) throw new RangeError(`replay.capacity: ${this.#capacity}; expected >= 1`);
  }

  get size(): number {
    return this.#seen.size;
  }

  /** Checks and remembers a message's bytes at reception time `now`. */
  check(bytes: Uint8Array, now: number): DropReason | undefined {
    this.#expire(now);
    const id = hash('sha256', bytes, 'base64');
    const first = this.#seen.get(id);
    if (first !== undefined) return now - first <= this.#dupWindow ? 'duplicate' : 'replay';
    if (this.#seen.size >= this.#capacity) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(id, now);
    return undefined;
  }

  /** Before acceptance: is this time after the signer's last accepted one for the type? */
  checkOrder(signerId: string, type: string, generationTime: number): DropReason | undefined {
    const last = this.#last.get(`${signerId}:${type}`);
    return last !== undefined && generationTime <= last ? 'replay' : undefined;
  }

  /** After verification: remembers the signer's time (bounded; oldest signers go first). */
  accepted(signerId: string, type: string, generationTime: number): void {
    const key = `${signerId}:${type}`;
    this.#last.delete(key);
    if (this.#last.size >= this.#signerCapacity) this.#last.delete(this.#last.keys().next().value!);
    this.#last.set(key, generationTime);
  }

  #expire(now: number): void {
    for (const [id, t] of this.#seen) {
      if (now - t <= this.#horizon) break;
      this.#seen.delete(id);
    }
  }
}
