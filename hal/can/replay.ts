// The replay backend: a read-only bus that plays a candump log (candump-log.ts), either at the
// recorded timing (gaps between frames kept, on an injectable Clock) or as fast as its readers
// take the frames. It waits for a reader before it starts and never outruns its readers, so no
// frame of the log is lost; when the log ends, readers get the queued frames and then the end.
// Bad lines are skipped, counted in stats().malformed and kept in `issues` with their line number.
import { access, constants } from 'node:fs/promises';
import { BusBase } from './bus-base.ts';
import type { CandumpIssue } from './candump-log.ts';
import { readCandumpFile } from './candump-log.ts';
import { CanInitializationError, CanOperationError } from './errors.ts';
import type { CanFrame } from './frame.ts';
import type { Clock } from '../clock.ts';

export interface ReplayOptions {
  path: string;
  /** `recorded` (default): keep the log's timing; `fast`: as fast as readers take frames. */
  timing?: 'recorded' | 'fast';
  clock?: Clock;
  channel?: string;
  queueCapacity?: number;
  /** Called for each bad line of the log (which is skipped). */
  onIssue?: (issue: CandumpIssue) => void;
}

/** Issues kept in `ReplayBus.issues`; the rest are only counted. */
const MAX_KEPT_ISSUES = 100;

export async function openReplay(options: ReplayOptions): Promise<ReplayBus> {
  try {
    await access(options.path, constants.R_OK);
  } catch (err) {
    throw new CanInitializationError(`replay:${options.path}: cannot read the log file (${(err as Error).message})`, { cause: err });
  }
  return new ReplayBus(options);
}

export class ReplayBus extends BusBase {
  readonly path: string;
  readonly timing: 'recorded' | 'fast';
  readonly issues: CandumpIssue[] = [];
  /** Resolves when the whole log has been played (or the bus closed). */
  readonly finished: Promise<void>;
  readonly #abort = new AbortController();
  readonly #onIssue: ((issue: CandumpIssue) => void) | undefined;

  constructor(options: ReplayOptions) {
    super({
      channel: options.channel ?? `replay:${options.path}`,
      canTransmit: false,
      receiveQueueFromOpen: false,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.queueCapacity === undefined ? {} : { queueCapacity: options.queueCapacity }),
      transmitHint: 'use a live bus: a replay plays a recorded log and cannot send',
    });
    this.path = options.path;
    this.timing = options.timing ?? 'recorded';
    this.#onIssue = options.onIssue;
    this.finished = this.#play();
  }

  protected async transmit(_frame: CanFrame): Promise<void> {
    // Never reached: canTransmit is false, so the base class refuses every send.
  }

  protected async shutdown(): Promise<void> {
    this.#abort.abort();
    await this.finished;
  }

  async #play(): Promise<void> {
    const signal = this.#abort.signal;
    let first: { logUs: number; mono: number } | undefined;
    try {
      for await (const record of readCandumpFile(this.path, { onIssue: (issue) => this.#issue(issue) })) {
        await this.readersReady();
        if (signal.aborted || this.closed) return;
        if (this.timing === 'recorded') {
          // Wait until this frame's offset from the first one, measured from when play began.
          first ??= { logUs: record.timeUs, mono: this.clock.monotonic() };
          const due = first.mono + (record.timeUs - first.logUs) / 1000;
          const wait = due - this.clock.monotonic();
          if (wait > 0) await this.clock.sleep(wait, signal);
        }
        if (signal.aborted) return;
        this.deliver(record.frame);
      }
      this.endOfStream();
    } catch (err) {
      if (signal.aborted) return;
      this.fail(new CanOperationError('operation', `${this.channel}: reading the log failed: ${(err as Error).message}`, { cause: err }));
    }
  }

  #issue(issue: CandumpIssue): void {
    this.countMalformed();
    if (this.issues.length < MAX_KEPT_ISSUES) this.issues.push(issue);
    this.#onIssue?.(issue);
  }
}
