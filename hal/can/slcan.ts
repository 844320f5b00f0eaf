// The slcan backend: a CAN bus behind a Lawicel serial-line CAN adapter (CANable, USBtin,
// CANUSB) on a serial port, through serialport. Protocol in slcan-protocol.ts.
//
// Safety: the channel opens listen-only (`L`) unless `transmit: true` is given; then `O`.
// Tolerance: commands wait for the adapter's \r or \a, but an adapter that never answers only
// costs one timeout per command (and frames stop waiting for acks once one has gone
// unanswered). Garbage on the line is counted in stats().malformed and skipped. An adapter that
// goes away fails the bus with CanOperationError('disconnected'); `reopen()` resumes it.
import { SerialPort } from 'serialport';
import { BusBase } from './bus-base.ts';
import type { CanFrame } from './frame.ts';
import { CanInitializationError, CanOperationError } from './errors.ts';
import { BITRATE_CODES, SlcanLineSplitter, TIMESTAMP_WRAP_MS, encodeSlcanFrame, parseSlcanFrame } from './slcan-protocol.ts';
import type { Clock } from '../clock.ts';

export interface SlcanOptions {
  /** A serialport instance (open or not); the bus owns it from now on and closes it. */
  port?: SerialPort;
  /** Or a device path, e.g. /dev/ttyACM0. */
  path?: string;
  /** Serial speed (default 115200; USB CDC adapters ignore it). */
  baudRate?: number;
  /** CAN bitrate in bit/s (sent as `Sn`); absent: the adapter keeps its own setting. */
  bitrate?: number;
  /** Open the channel for transmission (`O`). Default: listen-only (`L`). */
  transmit?: boolean;
  /** Ask the adapter for timestamps (`Z1`); frames are then timed by the adapter's clock. */
  timestamps?: boolean;
  /** How long to wait for an adapter's reply to a command (default 500 ms). */
  ackTimeoutMs?: number;
  /** Shown as the bus's channel (default `slcan:PATH`). */
  channel?: string;
  clock?: Clock;
  queueCapacity?: number;
}

type Reply = { kind: 'ok' } | { kind: 'value'; line: string } | { kind: 'bell' } | { kind: 'timeout' };

interface Pending {
  /** A reply line prefix that answers this command (`V`, `N`, `F`), besides a bare \r. */
  valuePrefix?: string;
  /** A frame send: `z`/`Z` also answer it. */
  frame: boolean;
  resolve: (reply: Reply) => void;
  reject: (err: unknown) => void;
}

/** Opens an slcan adapter: resets it, sets the bitrate, and opens the channel. */
export async function openSlcan(options: SlcanOptions): Promise<SlcanBus> {
  const bus = new SlcanBus(options);
  try {
    await bus.reopen();
  } catch (err) {
    await bus.close().catch(() => undefined);
    throw err;
  }
  return bus;
}

export class SlcanBus extends BusBase {
  readonly path: string;
  readonly #port: SerialPort;
  readonly #options: SlcanOptions;
  readonly #ackTimeoutMs: number;
  readonly #splitter: SlcanLineSplitter;
  #pending: Pending | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  /** Whether this adapter answers frame sends: learnt from the first send. */
  #frameAcks: 'unknown' | 'yes' | 'no' = 'unknown';
  #closing = false;
  #timeBase: { wallMs: number; lastMs: number; elapsedMs: number } | undefined;
  /** Frame sends the adapter refused with \a. */
  refused = 0;
  /** Command replies that never came (the adapter does not ack). */
  unanswered = 0;

  constructor(options: SlcanOptions) {
    if (!options.port && !options.path) throw new TypeError('slcan: give a serial port instance (port) or a device path (path)');
    const path = options.port?.path ?? options.path!;
    if (options.bitrate !== undefined && !BITRATE_CODES.has(options.bitrate)) {
      throw new CanInitializationError(
        `slcan:${path}: CAN bitrate ${options.bitrate} is not one an slcan adapter can set; use one of ${[...BITRATE_CODES.keys()].join(', ')}`,
      );
    }
    super({
      channel: options.channel ?? `slcan:${path}`,
      canTransmit: options.transmit ?? false,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.queueCapacity === undefined ? {} : { queueCapacity: options.queueCapacity }),
      transmitHint: 'open it with { transmit: true } (CLI: --transmit); this is a real bus',
    });
    this.path = path;
    this.#options = options;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 500;
    this.#port = options.port ?? new SerialPort({ path, baudRate: options.baudRate ?? 115200, autoOpen: false });
    this.#splitter = new SlcanLineSplitter(
      (line) => this.#onLine(line),
      () => this.#onReply({ kind: 'bell' }, undefined),
      () => this.countMalformed(),
    );
    this.#port.on('data', (chunk: Buffer) => this.#splitter.push(chunk));
    this.#port.on('close', (err?: Error & { disconnected?: boolean }) => this.#onPortClosed(err));
    // Errors also arrive as 'close' or as failed writes; without a listener they would crash.
    this.#port.on('error', () => this.countError());
  }

  /** True when the adapter has answered a frame send (so sends are confirmed). */
  get confirmsFrames(): boolean {
    return this.#frameAcks === 'yes';
  }

  /**
   * Opens the port (again) and brings the adapter up: reset, bitrate, timestamps, open or
   * listen-only. After a disconnect this resumes the bus; iterators that ended with the
   * disconnect error must be started again.
   */
  async reopen(): Promise<void> {
    if (this.closed) throw new CanOperationError('closed', `${this.channel} is closed; open a new bus`);
    if (!this.#port.isOpen) {
      await new Promise<void>((resolve, reject) =>
        this.#port.open((err) =>
          err
            ? reject(
                new CanInitializationError(
                  `${this.channel}: cannot open ${this.path}: ${err.message}; check that the adapter is plugged in and that you may open it (e.g. the dialout group)`,
                  { cause: err },
                ),
              )
            : resolve(),
        ),
      );
    }
    this.#splitter.reset();
    this.#timeBase = undefined;
    // An empty command ends whatever half line the adapter holds (a previous host may have died
    // mid-command); then close the channel, which may already be closed: either reply will do.
    await this.command('');
    await this.command('C');
    if (this.#options.bitrate !== undefined) {
      const code = BITRATE_CODES.get(this.#options.bitrate)!;
      const reply = await this.command(code);
      if (reply.kind === 'bell') throw new CanInitializationError(`${this.channel}: the adapter refused bitrate ${this.#options.bitrate} (${code})`);
    }
    if (this.#options.timestamps !== undefined) await this.command(this.#options.timestamps ? 'Z1' : 'Z0');
    const mode = this.canTransmit ? 'O' : 'L';
    const reply = await this.command(mode);
    if (reply.kind === 'bell') {
      throw new CanInitializationError(
        this.canTransmit
          ? `${this.channel}: the adapter refused to open the channel (O)`
          : `${this.channel}: the adapter refused listen-only mode (L); voltrail will not open a real bus for transmission unless asked (transmit: true / --transmit)`,
      );
    }
    this.resume();
  }

  /**
   * Sends one command line and waits for its reply: a bare \r, a value line (`V1013`), a BEL,
   * or nothing within the ack timeout (some adapters never answer; that is tolerated).
   */
  command(text: string): Promise<Reply> {
    const valuePrefix = /^[VvNF]$/.test(text) ? text : undefined;
    return this.#exchange(text, { frame: false, ...(valuePrefix ? { valuePrefix } : {}) }, true);
  }

  /** The adapter's version reply, e.g. `V1013`, or undefined if it gave none. */
  async version(): Promise<string | undefined> {
    const r = await this.command('V');
    return r.kind === 'value' ? r.line : undefined;
  }

  /** The adapter's serial number reply, e.g. `NA123`, or undefined. */
  async serialNumber(): Promise<string | undefined> {
    const r = await this.command('N');
    return r.kind === 'value' ? r.line : undefined;
  }

  protected override checkFrame(frame: CanFrame): void {
    if (frame.fd || frame.error) encodeSlcanFrame(frame); // throws the RangeError that says why
  }

  protected async transmit(frame: CanFrame): Promise<void> {
    const line = encodeSlcanFrame(frame);
    const reply = await this.#exchange(line, { frame: true }, this.#frameAcks !== 'no');
    if (reply.kind === 'bell') {
      this.refused++;
      throw new CanOperationError('operation', `${this.channel}: the adapter refused frame ${this.describe(frame)} (BEL): its channel is not open or its transmit buffer is full`);
    }
    if (reply.kind === 'timeout' && this.#frameAcks === 'unknown') this.#frameAcks = 'no';
    else if (reply.kind !== 'timeout') this.#frameAcks = 'yes';
  }

  protected async shutdown(): Promise<void> {
    this.#closing = true;
    if (this.#port.isOpen) {
      // Leave the adapter closed (off the bus), as python-can and slcand do.
      await this.#write('C\r').catch(() => undefined);
      await new Promise<void>((resolve) => this.#port.close(() => resolve()));
    }
    this.#pending?.reject(new CanOperationError('closed', `${this.channel} is closed`));
    this.#pending = undefined;
  }

  #exchange(line: string, expect: Omit<Pending, 'resolve' | 'reject'>, waitForReply: boolean): Promise<Reply> {
    // One command in flight at a time: slcan replies carry no tag, so order is all that ties a
    // reply to its command.
    const run = async (): Promise<Reply> => {
      if (!this.#port.isOpen) throw this.failure ?? new CanOperationError('disconnected', `${this.channel}: the serial port is not open`);
      if (!waitForReply) {
        await this.#write(line + '\r');
        return { kind: 'timeout' };
      }
      const reply = new Promise<Reply>((resolve, reject) => (this.#pending = { ...expect, resolve, reject }));
      await this.#write(line + '\r');
      const abort = new AbortController();
      const timer = new Promise<Reply>((resolve) => {
        const t = setTimeout(() => resolve({ kind: 'timeout' }), this.#ackTimeoutMs);
        abort.signal.addEventListener('abort', () => clearTimeout(t));
      });
      try {
        const result = await Promise.race([reply, timer]);
        if (result.kind === 'timeout') this.unanswered++;
        return result;
      } finally {
        abort.abort();
        this.#pending = undefined;
      }
    };
    const next = this.#chain.then(run, run);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  #write(data: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#port.write(data, (err) => {
        if (err) return reject(new CanOperationError('disconnected', `${this.channel}: write failed: ${err.message}`, { cause: err }));
        this.#port.drain((e) => (e ? reject(new CanOperationError('disconnected', `${this.channel}: write failed: ${e.message}`, { cause: e })) : resolve()));
      });
    });
  }

  #onLine(line: string): void {
    if (line === '') return this.#onReply({ kind: 'ok' }, undefined);
    const first = line[0]!;
    if (first === 'z' || first === 'Z') {
      if (line.length === 1) return this.#onReply({ kind: 'ok' }, 'frame-ack');
      // `Z1`-style text is not a reply: fall through to garbage.
    }
    const parsed = parseSlcanFrame(line);
    if (parsed) {
      const timestamp = parsed.timestampMs === undefined ? undefined : this.#adapterTime(parsed.timestampMs);
      this.deliver(timestamp === undefined ? parsed.frame : { ...parsed.frame, timestamp });
      return;
    }
    if (this.#pending?.valuePrefix && line.startsWith(this.#pending.valuePrefix)) return this.#onReply({ kind: 'value', line }, undefined);
    this.countMalformed();
  }

  #onReply(reply: Reply, kind: 'frame-ack' | undefined): void {
    const pending = this.#pending;
    if (!pending) {
      // A reply to nothing: a late ack after a timeout, or an adapter's unsolicited BEL.
      if (reply.kind === 'bell') this.countError();
      return;
    }
    if (kind === 'frame-ack' && !pending.frame) return;
    this.#pending = undefined;
    pending.resolve(reply);
  }

  /**
   * Wall time (s) of an adapter timestamp. The adapter counts ms and wraps every minute: steps
   * between frames are unwrapped and added to the wall time of the first frame, so frames keep
   * the adapter's spacing. When that drifts more than a second from the host clock (a gap
   * longer than a wrap, or a reset adapter), the count is anchored again.
   */
  #adapterTime(adapterMs: number): number {
    const now = this.clock.now();
    const base = this.#timeBase;
    if (base) {
      const wall = base.wallMs + base.elapsedMs + ((adapterMs - base.lastMs + TIMESTAMP_WRAP_MS) % TIMESTAMP_WRAP_MS);
      if (Math.abs(wall - now) <= 1000) {
        base.elapsedMs = wall - base.wallMs;
        base.lastMs = adapterMs;
        return wall / 1000;
      }
    }
    this.#timeBase = { wallMs: now, lastMs: adapterMs, elapsedMs: 0 };
    return now / 1000;
  }

  #onPortClosed(err: (Error & { disconnected?: boolean }) | undefined): void {
    if (this.#closing) return;
    const cause = err?.message ? `: ${err.message}` : '';
    const error = new CanOperationError(
      'disconnected',
      `${this.channel}: the adapter disconnected${cause}; frames are no longer received. Plug it back in and call reopen() (CLI: run the command again)`,
      err ? { cause: err } : undefined,
    );
    this.#pending?.reject(error);
    this.#pending = undefined;
    this.fail(error);
  }
}
