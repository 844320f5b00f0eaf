// What the polled UART drivers (JBD, Daly) share: a transport (uart-transport.ts), a sample
// store (sample-store.ts), and a poll loop that asks the BMS every `periodMs`, keeps going
// through timeouts and unplugged ports (counted, and `communicationLost` raised in the snapshot
// until the BMS answers again), and stops on abort or close.
import type { Clock } from '../../hal/clock.ts';
import type { SerialLink } from '../../hal/serial/serial-link.ts';
import type { BatterySnapshot } from '../snapshot.ts';
import { uartCounters, type UartCounters } from './driver-counters.ts';
import type { UartFrameFormat } from './frame-reader.ts';
import { SampleStore } from './sample-store.ts';
import { UartTransport } from './uart-transport.ts';

export interface UartBmsDriverOptions {
  link: SerialLink;
  clock: Clock;
  /** Poll period, ms (default 1000). Values are stale after periodMs * staleMargin. */
  periodMs?: number;
  staleMargin?: number;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
}

export abstract class UartBmsDriver {
  abstract readonly source: string;
  readonly counters: UartCounters = uartCounters();
  readonly periodMs: number;
  protected readonly clock: Clock;
  protected readonly transport: UartTransport;
  protected readonly store: SampleStore;
  #lastPollOk: boolean | undefined;
  #running: Promise<void> | undefined;

  constructor(source: string, format: UartFrameFormat, o: UartBmsDriverOptions) {
    this.clock = o.clock;
    this.periodMs = o.periodMs ?? 1000;
    this.store = new SampleStore(source, o.staleMargin ?? 3);
    this.transport = new UartTransport({
      link: o.link,
      format,
      clock: o.clock,
      counters: this.counters,
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      ...(o.retries === undefined ? {} : { retries: o.retries }),
      ...(o.backoffMs === undefined ? {} : { backoffMs: o.backoffMs }),
    });
  }

  /** One round of requests; stores what arrives. Throws when the BMS does not answer. */
  protected abstract pollOnce(): Promise<void>;

  /** Polls once, counting the outcome; rethrows the failure for callers that want it. */
  async poll(): Promise<void> {
    try {
      await this.pollOnce();
      this.counters.polls++;
      this.#lastPollOk = true;
    } catch (err) {
      this.counters.failedPolls++;
      this.counters.lastError = (err as Error).message;
      this.#lastPollOk = false;
      throw err;
    }
  }

  /** Polls every periodMs until `signal` aborts; failures are counted, never fatal. */
  start(signal?: AbortSignal): Promise<void> {
    this.#running ??= (async () => {
      while (!signal?.aborted) {
        const started = this.clock.monotonic();
        await this.poll().catch(() => {});
        const wait = Math.max(0, this.periodMs - (this.clock.monotonic() - started));
        await this.clock.sleep(wait, signal).catch(() => {});
      }
    })();
    return this.#running;
  }

  snapshot(): BatterySnapshot {
    const snap = this.store.snapshot(this.clock.now());
    if (this.#lastPollOk === false) snap.faults = { ...snap.faults, communicationLost: true };
    return snap;
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
