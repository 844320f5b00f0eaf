// Sends hazard notifications (ETSI EN 302 637-3 section 6.1.2-ish semantics): `trigger` starts
// an event under a new action id (this station's id + its next sequence number) and sends it;
// `step` repeats each active event every repetition interval until its validity ends
// (detection time + validity) or it is cancelled; `cancel` sends the originator's
// cancellation and stops; `negate` tells others that another station's event is not there.
// While events are active the sender holds the pseudonym manager, so a scheduled pseudonym
// change cannot split an event across two station ids; a forced change (request, expiry)
// stops their repetition, since repeating the old action id would link the pseudonyms.
// Sequence numbers start at a random value for each pseudonym for the same reason.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../hal/clock.ts';
import type { ActionId, Denm } from '../messages/denm.ts';
import { CANCELLATION, DEFAULT_VALIDITY_S, NEGATION } from '../messages/denm.ts';
import type { Position } from '../messages/field-types.ts';
import type { MessageSealer } from '../security/message-sealer.ts';

export interface HazardInput {
  eventType: { cause: number; subCause: number };
  eventPosition: Position;
  /** Default: now. */
  detectionTime?: number;
  /** s, default 600. */
  validity?: number;
  /** m. */
  relevanceDistance: number;
  /** ms, default 1000; 0 sends once. */
  repetitionInterval?: number;
}

export interface HazardSenderOptions {
  sealer: MessageSealer;
  clock: Clock;
  send: (bytes: Uint8Array) => void;
  random?: (n: number) => Uint8Array;
}

interface Active {
  denm: Denm;
  nextAt: number;
  endsAt: number;
}

const keyOf = (a: ActionId) => `${a.originatingStationId}/${a.sequenceNumber}`;

export class HazardSender {
  readonly #o: HazardSenderOptions;
  readonly #active = new Map<string, Active>();
  readonly #random: (n: number) => Uint8Array;
  #sequence: number;
  #release: (() => void) | undefined;

  constructor(opts: HazardSenderOptions) {
    this.#o = opts;
    this.#random = opts.random ?? ((n) => new Uint8Array(randomBytes(n)));
    this.#sequence = this.#randomSequence();
    opts.sealer.pseudonyms.onChange(() => {
      this.#sequence = this.#randomSequence();
      this.#active.clear();
      this.#updateHold();
    });
  }

  #randomSequence(): number {
    const r = this.#random(2);
    return (r[0]! << 8) | r[1]!;
  }

  /** Events still being repeated. */
  get active(): Denm[] {
    return [...this.#active.values()].map((a) => a.denm);
  }

  /** Starts an event: sends it now and repeats it; returns its action id. */
  trigger(input: HazardInput): ActionId {
    const pseudonyms = this.#o.sealer.pseudonyms;
    pseudonyms.tick(); // a due change happens before the event, not in the middle of it
    const now = Math.floor(this.#o.clock.now());
    const actionId: ActionId = { originatingStationId: pseudonyms.current.stationId, sequenceNumber: this.#sequence };
    this.#sequence = (this.#sequence + 1) & 0xffff;
    const denm: Denm = {
      actionId,
      eventType: input.eventType,
      eventPosition: input.eventPosition,
      detectionTime: input.detectionTime ?? now,
      referenceTime: now,
      validity: input.validity ?? DEFAULT_VALIDITY_S,
      relevanceDistance: input.relevanceDistance,
      repetitionInterval: input.repetitionInterval ?? 1000,
    };
    this.#o.send(this.#o.sealer.seal('denm', denm)); // validates every field before it is remembered
    const endsAt = denm.detectionTime + denm.validity * 1000;
    if (denm.repetitionInterval > 0 && now < endsAt) {
      this.#active.set(keyOf(actionId), { denm, nextAt: now + denm.repetitionInterval, endsAt });
      this.#updateHold();
    }
    return actionId;
  }

  /** Sends the repetitions due at the clock's time and drops events whose validity ended. */
  step(): number {
    const now = this.#o.clock.now();
    let sent = 0;
    for (const [k, a] of this.#active) {
      if (now >= a.endsAt) {
        this.#active.delete(k);
        continue;
      }
      if (now >= a.nextAt) {
        this.#o.send(this.#o.sealer.seal('denm', a.denm));
        sent++;
        a.nextAt += a.denm.repetitionInterval * Math.max(1, Math.floor((now - a.nextAt) / a.denm.repetitionInterval) + 1);
      }
    }
    this.#updateHold();
    return sent;
  }

  /** The originator cancels its event: one cancellation message, no more repetitions. */
  cancel(actionId: ActionId): void {
    const a = this.#active.get(keyOf(actionId));
    if (a === undefined) throw new RangeError(`actionId: ${keyOf(actionId)} is not an active event of this station`);
    this.#active.delete(keyOf(actionId));
    this.#updateHold();
    this.#o.send(this.#o.sealer.seal('denm', { ...a.denm, referenceTime: Math.floor(this.#o.clock.now()), termination: CANCELLATION }));
  }

  /** Another station's event is not (or no longer) there: send its negation once. */
  negate(event: Denm): void {
    if (event.actionId.originatingStationId === this.#o.sealer.pseudonyms.current.stationId) {
      throw new RangeError('event.actionId: this station originated the event; cancel it instead of negating it');
    }
    const { termination: _t, ...rest } = event;
    this.#o.send(this.#o.sealer.seal('denm', { ...rest, referenceTime: Math.floor(this.#o.clock.now()), termination: NEGATION }));
  }

  /** Steps every 100 ms of the clock until aborted. */
  async run(signal: AbortSignal, checkMs = 100): Promise<void> {
    while (!signal.aborted) {
      this.step();
      try {
        await this.#o.clock.sleep(checkMs, signal);
      } catch {
        return;
      }
    }
  }

  #updateHold(): void {
    if (this.#active.size > 0 && this.#release === undefined) this.#release = this.#o.sealer.pseudonyms.hold();
    else if (this.#active.size === 0 && this.#release !== undefined) {
      this.#release();
      this.#release = undefined;
    }
  }
}
