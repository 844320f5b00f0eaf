// Reactive decentralized congestion control (ETSI TS 102 687, the reactive approach): a state
// machine driven by the channel busy ratio; each state sets the least time between two
// packets of this station (T_off), which becomes the awareness senders' lower bound on the CAM
// interval (CamGenerationRules.tGenCamDcc, EN 302 637-2 T_GenCam_DCC). The table is the
// five-state example of TS 102 687 V1.2.1 Annex A for packets of up to 1 ms airtime:
//   relaxed     CBR < 30 %         T_off  100 ms
//   active 1    30 % <= CBR < 40 %        200 ms
//   active 2    40 % <= CBR < 50 %        400 ms
//   active 3    50 % <= CBR < 65 %        500 ms
//   restrictive CBR >= 65 %              1000 ms
// Moving to a more restrictive state happens on the first window above its threshold; moving
// back waits until the CBR stayed below the threshold for `relaxAfterMs` (default 1 s), so the
// channel does not oscillate between states every window.

export interface DccState {
  name: 'relaxed' | 'active1' | 'active2' | 'active3' | 'restrictive';
  /** Lowest CBR of the state, 0..1. */
  minCbr: number;
  /** Least time between two packets, ms. */
  tOffMs: number;
}

export const DCC_STATES: readonly DccState[] = [
  { name: 'relaxed', minCbr: 0, tOffMs: 100 },
  { name: 'active1', minCbr: 0.3, tOffMs: 200 },
  { name: 'active2', minCbr: 0.4, tOffMs: 400 },
  { name: 'active3', minCbr: 0.5, tOffMs: 500 },
  { name: 'restrictive', minCbr: 0.65, tOffMs: 1000 },
];

const stateFor = (cbr: number) => {
  let i = 0;
  while (i + 1 < DCC_STATES.length && cbr >= DCC_STATES[i + 1]!.minCbr) i++;
  return i;
};

export interface ReactiveDccOptions {
  relaxAfterMs?: number;
  /** Told the new T_off at each state change (e.g. `(ms) => (camRules.tGenCamDcc = ms)`). */
  onInterval?: (tOffMs: number, state: DccState) => void;
}

export class ReactiveDcc {
  #index = 0;
  #belowSince: number | undefined;
  readonly #relaxAfter: number;
  readonly #onInterval?: (tOffMs: number, state: DccState) => void;

  constructor(opts: ReactiveDccOptions = {}) {
    this.#relaxAfter = opts.relaxAfterMs ?? 1000;
    this.#onInterval = opts.onInterval;
  }

  get state(): DccState {
    return DCC_STATES[this.#index]!;
  }

  get tOffMs(): number {
    return this.state.tOffMs;
  }

  /** Feeds one smoothed CBR value measured at `now` (ms); returns the state after it. */
  update(cbr: number, now: number): DccState {
    const target = stateFor(cbr);
    if (target > this.#index) {
      this.#set(target);
      this.#belowSince = undefined;
    } else if (target < this.#index) {
      this.#belowSince ??= now;
      if (now - this.#belowSince >= this.#relaxAfter) {
        this.#set(target);
        this.#belowSince = undefined;
      }
    } else this.#belowSince = undefined;
    return this.state;
  }

  #set(i: number): void {
    this.#index = i;
    this.#onInterval?.(this.state.tOffMs, this.state);
  }
}
