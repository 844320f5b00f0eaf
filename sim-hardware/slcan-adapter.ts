// An emulated slcan USB-CAN adapter (a CANable or USBtin as seen from the host): it sits on the
// device side of a pseudo-terminal, answers Lawicel commands the way that firmware does, and
// bridges frames between the serial line and a CanBus (usually a virtual hub's bus), so that
// other processes (python-can, `voltrail can dump`, the slcan backend) reach a simulated bus.
// Protocol: hal/can/slcan-protocol.ts. Commands are answered whenever they come, so nothing is
// lost when the host's serialport flushes the line on open.
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import type { CanBus } from '../hal/can/bus.ts';
import type { CanFrame } from '../hal/can/frame.ts';
import { BELL, BITRATE_OF_CODE, OK, SlcanLineSplitter, encodeSlcanFrame, parseSlcanFrame, TIMESTAMP_WRAP_MS } from '../hal/can/slcan-protocol.ts';
import type { Clock } from '../hal/clock.ts';
import { systemClock } from '../hal/clock.ts';

export type SlcanAdapterState = 'closed' | 'open' | 'listen-only';

export interface SlcanAdapterOptions {
  /** The device side of a pty (the host opens the other side). */
  path: string;
  /** The bus the adapter is plugged into. The adapter does not close it. */
  bus: CanBus;
  baudRate?: number;
  /** Reply to `V` (default `V1013`: hardware 1.0, firmware 1.3). */
  version?: string;
  /** Reply to `N` (default `NV001`). */
  serial?: string;
  /**
   * How frame sends are acknowledged: `z` (`z\r`/`Z\r`, Lawicel and USBtin; default), `cr`
   * (a bare `\r`, CANable), or `none`.
   */
  frameAck?: 'z' | 'cr' | 'none';
  /** false: an adapter that answers no command at all (it still bridges frames). */
  acks?: boolean;
  /** Bytes waiting for the host beyond which frames to it are dropped (no host reading). */
  maxBacklog?: number;
  clock?: Clock;
}

export interface SlcanAdapterStats {
  commands: number;
  /** Frames from the host put on the bus. */
  toBus: number;
  /** Frames from the bus written to the host. */
  toHost: number;
  /** Frames from the bus not written: channel closed, CAN FD/error frame, or host backlog full. */
  dropped: number;
  /** Lines from the host answered with BEL. */
  refused: number;
}

export class SlcanAdapter extends EventEmitter {
  readonly path: string;
  state: SlcanAdapterState = 'closed';
  /** CAN bitrate set by `Sn` (500 kbit/s until told otherwise). */
  bitrate = 500_000;
  timestamps = false;
  readonly stats: SlcanAdapterStats = { commands: 0, toBus: 0, toHost: 0, dropped: 0, refused: 0 };
  readonly #port: SerialPort;
  readonly #options: SlcanAdapterOptions;
  readonly #clock: Clock;
  readonly #splitter: SlcanLineSplitter;
  readonly #frames: AsyncIterableIterator<CanFrame>;
  #work: Promise<void> = Promise.resolve();
  #closed = false;
  #bridge: Promise<void>;

  private constructor(port: SerialPort, options: SlcanAdapterOptions) {
    super();
    this.path = options.path;
    this.#port = port;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#splitter = new SlcanLineSplitter(
      (line) => this.#enqueue(line),
      () => this.#enqueue(null),
      () => undefined,
    );
    port.on('data', (chunk: Buffer) => this.#splitter.push(chunk));
    port.on('error', () => undefined);
    this.#frames = options.bus.frames();
    this.#bridge = this.#bridgeToHost();
  }

  /** Opens the device side and starts answering. */
  static async open(options: SlcanAdapterOptions): Promise<SlcanAdapter> {
    const port = await new Promise<SerialPort>((resolve, reject) => {
      const p = new SerialPort({ path: options.path, baudRate: options.baudRate ?? 115200 }, (err) => (err ? reject(err) : resolve(p)));
    });
    return new SlcanAdapter(port, options);
  }

  /** Resolves when the channel reaches `state` (e.g. once the host has sent `O` or `L`). */
  waitForState(state: SlcanAdapterState): Promise<void> {
    if (this.state === state) return Promise.resolve();
    return new Promise((resolve) => {
      const on = (s: SlcanAdapterState) => {
        if (s !== state) return;
        this.off('state', on);
        resolve();
      };
      this.on('state', on);
    });
  }

  /** Unplugs the adapter: stops bridging and closes the device side. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#frames.return?.();
    await this.#bridge;
    await this.#work;
    if (this.#port.isOpen) await new Promise<void>((resolve) => this.#port.close(() => resolve()));
  }

  #setState(state: SlcanAdapterState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  #enqueue(line: string | null): void {
    // Lines are handled one at a time, in order: a frame's ack must follow its send.
    this.#work = this.#work.then(() => this.#handle(line)).catch(() => undefined);
  }

  async #handle(line: string | null): Promise<void> {
    if (line === null) return; // a BEL from the host means nothing to an adapter
    this.stats.commands++;
    const reply = await this.#answer(line);
    if (reply === BELL) this.stats.refused++;
    if (reply !== undefined && this.#options.acks !== false) this.#write(reply);
  }

  async #answer(line: string): Promise<string | undefined> {
    const closed = this.state === 'closed';
    const cmd = line[0];
    switch (cmd) {
      case undefined:
        return OK;
      case 'S': {
        const code = /^S([0-8])$/.exec(line);
        if (!code || !closed) return BELL;
        this.bitrate = BITRATE_OF_CODE[Number(code[1])]!;
        return OK;
      }
      case 's':
        return closed && /^s[0-9A-Fa-f]{4}$/.test(line) ? OK : BELL;
      case 'O':
      case 'L':
        if (!closed || line.length !== 1) return BELL;
        this.#setState(cmd === 'O' ? 'open' : 'listen-only');
        return OK;
      case 'C':
        this.#setState('closed');
        return OK;
      case 'Z':
        if (line === 'Z0' || line === 'Z1') {
          if (!closed) return BELL;
          this.timestamps = line === 'Z1';
          return OK;
        }
        return BELL;
      case 'V':
        return line === 'V' ? `${this.#options.version ?? 'V1013'}${OK}` : BELL;
      case 'N':
        return line === 'N' ? `${this.#options.serial ?? 'NV001'}${OK}` : BELL;
      case 'F':
        return line === 'F' && !closed ? `F00${OK}` : BELL;
      case 'M':
      case 'm':
        return closed && /^[Mm][0-9A-Fa-f]{8}$/.test(line) ? OK : BELL;
      case 'X':
        return /^X[01]$/.test(line) ? OK : BELL;
      case 't':
      case 'T':
      case 'r':
      case 'R':
        return this.#frameFromHost(line);
      default:
        return BELL;
    }
  }

  async #frameFromHost(line: string): Promise<string | undefined> {
    const parsed = parseSlcanFrame(line);
    if (!parsed || parsed.timestampMs !== undefined || this.state !== 'open') return BELL;
    try {
      await this.#options.bus.send(parsed.frame);
    } catch {
      return BELL;
    }
    this.stats.toBus++;
    const ack = this.#options.frameAck ?? 'z';
    if (ack === 'none') return undefined;
    if (ack === 'cr') return OK;
    return (parsed.frame.extended ? 'Z' : 'z') + OK;
  }

  async #bridgeToHost(): Promise<void> {
    try {
      for await (const frame of this.#frames) {
        if (this.state === 'closed' || frame.fd || frame.error) {
          this.stats.dropped++;
          continue;
        }
        if (this.#port.writableLength > (this.#options.maxBacklog ?? 65536)) {
          this.stats.dropped++;
          continue;
        }
        const ts = this.timestamps ? Math.floor(this.#clock.monotonic()) % TIMESTAMP_WRAP_MS : undefined;
        this.#write(encodeSlcanFrame(frame, ts) + OK);
        this.stats.toHost++;
      }
    } catch {
      // The bus failed: an adapter on a dead bus just stops forwarding.
    }
  }

  #write(text: string): void {
    if (this.#port.isOpen) this.#port.write(text);
  }
}
