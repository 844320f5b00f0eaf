// The runtime's side of the lifecycle accounts: restores the accountant from the newest
// `lifecycle-summary` in the ledger (so counters survive restarts and never go back), feeds it
// snapshots, counts the event records the runtime appends, and says when the next signed
// summary is due (every `summaryIntervalMs`, and once more at shutdown).
import type { BatterySnapshot } from '../../devices/snapshot.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import { latestSummary } from '../../ledger/passport/latest-summary.ts';
import { encodeSummary } from '../../ledger/passport/lifecycle-summary.ts';
import { LifecycleAccountant, type AccountingLimits } from './lifecycle-accountant.ts';

export { SUMMARY_TYPE } from '../../ledger/passport/lifecycle-summary.ts';

export interface AccountingOptions {
  limits: AccountingLimits;
  /** A summary record at most this often (monotonic ms; default one hour). */
  summaryIntervalMs?: number;
}

export class LifecycleRecorder {
  readonly accountant: LifecycleAccountant;
  readonly intervalMs: number;
  #lastAt: number;
  #changed = false;

  private constructor(accountant: LifecycleAccountant, intervalMs: number, nowMono: number) {
    this.accountant = accountant;
    this.intervalMs = intervalMs;
    this.#lastAt = nowMono;
  }

  /** Restores from the ledger folder `dir` (an empty or missing ledger starts from zero). */
  static async open(dir: string, o: AccountingOptions, nowMono: number): Promise<LifecycleRecorder> {
    const latest = await latestSummary(dir);
    const acc = new LifecycleAccountant(o.limits, latest.summary);
    acc.events = latest.events;
    return new LifecycleRecorder(acc, o.summaryIntervalMs ?? 3_600_000, nowMono);
  }

  /** After the ledger was reopened (a storage failure): the durable events are counted again. */
  async recount(dir: string): Promise<void> {
    this.accountant.events = (await latestSummary(dir)).events;
  }

  observe(s: BatterySnapshot): void {
    this.accountant.observe(s);
    this.#changed = true;
  }

  noteEvent(): void {
    this.accountant.noteEvent();
  }

  due(nowMono: number): boolean {
    return this.#changed && nowMono - this.#lastAt >= this.intervalMs;
  }

  /** The body of the next summary record; call it right before appending that record. */
  take(nowMono: number): CborValue {
    this.#lastAt = nowMono;
    this.#changed = false;
    return encodeSummary(this.accountant.summary());
  }

  get changed(): boolean {
    return this.#changed;
  }
}
