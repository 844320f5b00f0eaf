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
import { CanInitializationError, CanNotPermittedError, CanOperationError } from './errors.ts';
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
  /** Make the queue for `receive()` at the first call instead of at open: for readers that only iterate `frames()`, whose bus would otherwise hold a full queue of frames nobody reads. */
  receiveQueueFromOpen?: boolean;
}

type Reply = { kind: 'ok' } | { kind: 'value'; line: string } | { kind: 'bell' } | { kind: 'timeout' };

interface Pending {
  /** A reply line prefix that answers this command (`V`, `N`, `F`), besides a bare \r. */
  valuePrefix?: string;
  /** A frame send: `z`/`Z` also answer it. */
  frame: boolean;
  resolve: (reply: Reply) => void;
  reject: (err: unknown) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Frame sends that may await their acks at once. Replies come back in order, so a queue of
 * pending sends pairs them up; a window keeps the adapter's transmit buffer from overflowing.
 */
const FRAME_WINDOW = 8;

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
  /** Lines written that await a reply, oldest first. */
  #inflight: Pending[] = [];
  #inflightChanged: (() => void)[] = [];
  #chain: Promise<unknown> = Promise.resolve();
  /** Whether this adapter answers frame sends: learnt from the first send. */
  #frameAcks: 'unknown' | 'yes' | 'no' = 'unknown';
  #closing = false;
  /** The adapter has answered a command at least once. */
  #answered = false;
  #timeBase: { wallMs: number; lastMs: number; elapsedMs: number } | undefined;
  /** The adapter's reply to `V` at the last open (e.g. `V1013`), if it gave one. */
  adapterVersion: string | undefined;
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
      ...(options.receiveQueueFromOpen === undefined ? {} : { receiveQueueFromOpen: options.receiveQueueFromOpen }),
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
    const answeredBefore = this.#answered;
    // An empty command ends whatever half line the adapter holds (a previous host may have died
    // mid-command). `V` then synchronises: replies still in flight to the previous host (a bare
    // \r) are skipped while waiting for the version line, so later replies pair with their
    // commands. Then close the channel, which may already be closed: either reply will do.
    await this.command('');
    this.adapterVersion = await this.version();
    await this.command('C');
    if (this.#options.bitrate !== undefined) {
      const code = BITRATE_CODES.get(this.#options.bitrate)!;
      const reply = await this.command(code);
      if (reply.kind === 'bell') throw new CanInitializationError(`${this.channel}: the adapter refused bitrate ${this.#options.bitrate} (${code})`);
    }
    if (this.#options.timestamps !== undefined) await this.command(this.#options.timestamps ? 'Z1' : 'Z0');
    const mode = this.canTransmit ? 'O' : 'L';
    // Resume before the channel opens: a frame can follow the adapter's ack in the same read,
    // and it must not be dropped as arriving on a failed bus.
    this.resume();
    const reply = await this.command(mode);
    if (reply.kind === 'timeout' && answeredBefore) {
      // This adapter did answer commands before: silence now means it is not ready (a device
      // node that appeared before the adapter behind it), not an adapter that never acks.
      const silent = new CanInitializationError(`${this.channel}: the adapter did not answer '${mode}'; it may not be ready yet, try again`);
      this.fail(silent);
      throw silent;
    }
    if (reply.kind === 'bell') {
      const refused = new CanInitializationError(
        this.canTransmit
          ? `${this.channel}: the adapter refused to open the channel (O)`
          : `${this.channel}: the adapter refused listen-only mode (L); voltrail will not open a real bus for transmission unless asked (transmit: true / --transmit)`,
      );
      this.fail(refused);
      throw refused;
    }
  }

  /**
   * Sends one command line and waits for its reply: a bare \r, a value line (`V1013`), a BEL,
   * or nothing within the ack timeout (some adapters never answer; that is tolerated).
   */
  command(text: string): Promise<Reply> {
    // Commands must not become a way around listen-only: frames go through send(), and only a
    // bus opened for transmission may put the adapter on the bus actively.
    if (/^[tTrRdDbB]/.test(text)) {
      return Promise.reject(new TypeError(`${this.channel}: '${text}' is a frame, not a command; use send(canFrame(...))`));
    }
    if (text.startsWith('O') && !this.canTransmit) {
      return Promise.reject(new CanNotPermittedError(`${this.channel} is open listen-only; 'O' would make the adapter active on the bus. To transmit, open it with { transmit: true } (CLI: --transmit)`));
    }
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
      await this.#write('C\r', true).catch(() => undefined);
      await new Promise<void>((resolve) => this.#port.close(() => resolve()));
    }
    this.#rejectInflight(new CanOperationError('closed', `${this.channel} is closed`));
  }

  /**
   * Writes a line and resolves with its reply: a bare \r, a value line (`V1013`), a BEL, or
   * `timeout` when nothing came within the ack timeout (tolerated: some adapters never answer).
   * Lines are written in call order. A command goes alone (no frame in flight), so its reply
   * cannot be confused; frames pipeline up to FRAME_WINDOW deep.
   */
  #exchange(line: string, expect: Omit<Pending, 'resolve' | 'reject'>, waitForReply: boolean): Promise<Reply> {
    const stage = async (): Promise<{ reply: Promise<Reply> }> => {
      if (!this.#port.isOpen) throw this.failure ?? new CanOperationError('disconnected', `${this.channel}: the serial port is not open`);
      if (!waitForReply) {
        await this.#write(line + '\r');
        return { reply: Promise.resolve({ kind: 'timeout' }) };
      }
      while (this.#inflight.length >= (expect.frame ? FRAME_WINDOW : 1)) {
        await new Promise<void>((resolve) => this.#inflightChanged.push(resolve));
      }
      if (!this.#port.isOpen) throw this.failure ?? new CanOperationError('disconnected', `${this.channel}: the serial port is not open`);
      let pending!: Pending;
      const reply = new Promise<Reply>((resolve, reject) => (pending = { ...expect, resolve, reject }));
      // The port may close while the write is in flight: that rejection is read by the caller.
      reply.catch(() => undefined);
      this.#inflight.push(pending);
      try {
        await this.#write(line + '\r');
      } catch (err) {
        this.#settle(pending);
        throw err;
      }
      if (this.#inflight.includes(pending)) {
        pending.timer = setTimeout(() => {
          if (!this.#inflight.includes(pending)) return;
          this.unanswered++;
          this.#settle(pending);
          pending.resolve({ kind: 'timeout' });
        }, this.#ackTimeoutMs);
      }
      // A command holds the line until its reply; a frame only until it is written.
      if (!expect.frame) await reply.catch(() => undefined);
      return { reply };
    };
    const staged = this.#chain.then(stage, stage);
    this.#chain = staged.catch(() => undefined);
    return staged.then((s) => s.reply);
  }

  /** Takes a pending reply out of the queue (answered, timed out or failed). */
  #settle(pending: Pending): void {
    clearTimeout(pending.timer);
    const i = this.#inflight.indexOf(pending);
    if (i >= 0) this.#inflight.splice(i, 1);
    for (const wake of this.#inflightChanged.splice(0)) wake();
  }

  #rejectInflight(error: unknown): void {
    for (const pending of [...this.#inflight]) {
      this.#settle(pending);
      pending.reject(error);
    }
    for (const wake of this.#inflightChanged.splice(0)) wake();
  }

  /**
   * Resolves once the operating system has taken the bytes. `drain` also waits until they have
   * left the port (tcdrain): only worth its round trip before closing.
   */
  #write(data: string, drain = false): Promise<void> {
    const failed = (err: Error) => new CanOperationError('disconnected', `${this.channel}: write failed: ${err.message}`, { cause: err });
    return new Promise((resolve, reject) => {
      this.#port.write(data, (err) => {
        if (err) return reject(failed(err));
        if (!drain) return resolve();
        this.#port.drain((e) => (e ? reject(failed(e)) : resolve()));
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
    const head = this.#inflight[0];
    if (head?.valuePrefix && line.startsWith(head.valuePrefix)) return this.#onReply({ kind: 'value', line }, undefined);
    this.countMalformed();
  }

  #onReply(reply: Reply, kind: 'frame-ack' | undefined): void {
    const pending = this.#inflight[0];
    if (!pending) {
      // A reply to nothing: a late ack after a timeout, or an adapter's unsolicited BEL.
      if (reply.kind === 'bell') this.countError();
      return;
    }
    if (kind === 'frame-ack' && !pending.frame) return;
    // A query waits for its value line: a bare \r before it is an older command's reply.
    if (pending.valuePrefix && reply.kind === 'ok') return;
    this.#settle(pending);
    this.#answered = true;
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
    this.#rejectInflight(error);
    this.fail(error);
  }
}
