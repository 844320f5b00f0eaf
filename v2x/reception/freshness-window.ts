// Stage 3 of reception: the freshness window. A message's generation time (signed) must lie
// within [now - maxAge, now + maxFuture] of the receiver's clock. ETSI TS 103 097 / IEEE
// 1609.2 receivers apply such a window per message type; for awareness (CAM) it is +40 ms
// (clock error between two GNSS-disciplined stations plus a little) and -2 s (older awareness
// is useless and would only feed replays). Other types get windows fitted to how often they
// are sent; each is configurable. The window also bounds the replay cache: nothing older than
// the largest maxAge can be accepted, so nothing older needs to be remembered.
import type { MessageName } from '../messages/message-types.ts';
import type { DropReason } from './drop-reason.ts';

export interface Window {
  /** How far in the past a generation time may be, ms. */
  maxAgeMs: number;
  /** How far in the future, ms. */
  maxFutureMs: number;
}

export const DEFAULT_WINDOWS: Readonly<Record<MessageName, Window>> = {
  cam: { maxAgeMs: 2000, maxFutureMs: 40 },
  denm: { maxAgeMs: 2000, maxFutureMs: 40 }, // each repetition is sealed anew, so 2 s is ample
  spat: { maxAgeMs: 2000, maxFutureMs: 40 },
  chargingOffer: { maxAgeMs: 10_000, maxFutureMs: 40 },
  reservation: { maxAgeMs: 30_000, maxFutureMs: 40 },
  receipt: { maxAgeMs: 30_000, maxFutureMs: 40 },
  attestationChallenge: { maxAgeMs: 5000, maxFutureMs: 40 }, // the attestation answer itself must come within 5 s
  attestation: { maxAgeMs: 5000, maxFutureMs: 40 },
};

export class FreshnessWindow {
  readonly windows: Readonly<Record<MessageName, Window>>;
  /** The largest maxAge over all types: how long the replay cache must remember a message. */
  readonly horizonMs: number;

  constructor(overrides: Partial<Record<MessageName, Partial<Window>>> = {}) {
    const w = {} as Record<MessageName, Window>;
    for (const [type, def] of Object.entries(DEFAULT_WINDOWS) as [MessageName, Window][]) {
      const o = overrides[type] ?? {};
      const win = { maxAgeMs: o.maxAgeMs ?? def.maxAgeMs, maxFutureMs: o.maxFutureMs ?? def.maxFutureMs };
      if (!(win.maxAgeMs >= 0) || !Number.isFinite(win.maxAgeMs)) throw new RangeError(`freshness.${type}.maxAgeMs: ${win.maxAgeMs}; expected a number of ms >= 0`);
      if (!(win.maxFutureMs >= 0) || !Number.isFinite(win.maxFutureMs)) throw new RangeError(`freshness.${type}.maxFutureMs: ${win.maxFutureMs}; expected a number of ms >= 0`);
      w[type] = win;
    }
    this.windows = w;
    this.horizonMs = Math.max(...Object.values(w).map((x) => x.maxAgeMs + x.maxFutureMs));
  }

  check(type: MessageName, generationTime: number, now: number): DropReason | undefined {
    const w = this.windows[type];
    if (generationTime > now + w.maxFutureMs) return 'future';
    if (generationTime < now - w.maxAgeMs) return 'stale';
    return undefined;
  }
}
