// The socketcan backend: Linux SocketCAN (can0, vcan0, ...) through the optional npm addon
// `socketcan` (node-can), loaded only when a socketcan bus is opened, so that an install without
// it (or without a compiler) still works. Spec: Linux Documentation/networking/can.rst.
//
// Listen-only here means voltrail never calls send. The controller itself still acknowledges
// frames on the wire unless the interface is configured listen-only by an administrator:
//   ip link set can0 type can bitrate 500000 listen-only on
import { BusBase } from './bus-base.ts';
import type { CanFilter } from './bus.ts';
import { CanInitializationError, CanOperationError } from './errors.ts';
import type { CanFrame } from './frame.ts';
import { canFrame } from './frame.ts';
import type { Clock } from '../clock.ts';

/** The part of the addon's API used here (node-can 4.0, src/can.d.ts); exported for tests. */
export interface AddonMessage {
  id: number;
  ext?: boolean;
  rtr?: boolean;
  err?: boolean;
  data?: Buffer;
  ts_sec?: number;
  ts_usec?: number;
}

export interface RawChannel {
  addListener(event: 'onMessage', listener: (msg: AddonMessage) => void): void;
  addListener(event: 'onStopped', listener: () => void): void;
  start(): void;
  stop(): void;
  send(msg: AddonMessage): void;
  sendFD(msg: AddonMessage): void;
  setRxFilters(filters: { id: number; mask: number; invert?: boolean }[]): void;
}

export interface SocketcanAddon {
  createRawChannelWithOptions(channel: string, options: { timestamps?: boolean; non_block_send?: boolean }): RawChannel;
}

/** linux/can.h id flags, as the addon passes ids through to the socket. */
const CAN_EFF_FLAG = 0x80000000;

export interface SocketcanOptions {
  /** The network interface, e.g. can0. */
  iface: string;
  /** Allow sending. Default: listen-only (voltrail never sends). */
  transmit?: boolean;
  clock?: Clock;
  queueCapacity?: number;
  /** Make the queue for `receive()` at the first call instead of at open: for readers that only iterate `frames()`, whose bus would otherwise hold a full queue of frames nobody reads. */
  receiveQueueFromOpen?: boolean;
  /** For tests: the addon module instead of importing `socketcan`. */
  addon?: SocketcanAddon;
}

async function loadAddon(iface: string): Promise<SocketcanAddon> {
  // A variable specifier keeps bundlers and the type checker from requiring the optional package.
  const name = 'socketcan';
  try {
    const mod = (await import(name)) as { default?: SocketcanAddon } & SocketcanAddon;
    const addon = typeof mod.createRawChannelWithOptions === 'function' ? mod : mod.default;
    if (!addon || typeof addon.createRawChannelWithOptions !== 'function') throw new Error('it has no createRawChannelWithOptions()');
    return addon;
  } catch (err) {
    throw new CanInitializationError(
      `socketcan:${iface}: the optional npm package 'socketcan' could not be loaded (${(err as Error).message}). ` +
        `Install it (it builds a native addon; Node 20 needs socketcan 4.0.x), or use an slcan USB adapter: slcan:/dev/ttyACM0@500000`,
      { cause: err },
    );
  }
}

export async function openSocketcan(options: SocketcanOptions): Promise<SocketcanBus> {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(options.iface)) {
    throw new CanInitializationError(`socketcan:${options.iface}: not a network interface name (e.g. can0, vcan0)`);
  }
  const addon = options.addon ?? (await loadAddon(options.iface));
  let channel: RawChannel;
  try {
    channel = addon.createRawChannelWithOptions(options.iface, { timestamps: true, non_block_send: true });
  } catch (err) {
    throw new CanInitializationError(
      `socketcan:${options.iface}: cannot open the interface (${(err as Error).message}). ` +
        `Check that it exists and is up: ip link show ${options.iface}; ip link set ${options.iface} up type can bitrate 500000 ` +
        `(this needs a kernel with CAN support: modprobe can_raw)`,
      { cause: err },
    );
  }
  const bus = new SocketcanBus(channel, options);
  channel.start();
  return bus;
}

export class SocketcanBus extends BusBase {
  readonly iface: string;
  readonly #channel: RawChannel;
  #stopping = false;

  constructor(channel: RawChannel, options: SocketcanOptions) {
    super({
      channel: `socketcan:${options.iface}`,
      canTransmit: options.transmit ?? false,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.queueCapacity === undefined ? {} : { queueCapacity: options.queueCapacity }),
      ...(options.receiveQueueFromOpen === undefined ? {} : { receiveQueueFromOpen: options.receiveQueueFromOpen }),
      transmitHint: 'open it with { transmit: true } (CLI: --transmit); this is a real bus',
    });
    this.iface = options.iface;
    this.#channel = channel;
    channel.addListener('onMessage', (msg) => this.#onMessage(msg));
    channel.addListener('onStopped', () => {
      if (!this.#stopping) this.fail(new CanOperationError('disconnected', `${this.channel}: the socket stopped (interface down or removed)`));
    });
  }

  protected async transmit(frame: CanFrame): Promise<void> {
    const msg: AddonMessage = { id: frame.id, ext: frame.extended, rtr: frame.remote, data: Buffer.from(frame.data) };
    try {
      if (frame.fd) this.#channel.sendFD(msg);
      else this.#channel.send(msg);
    } catch (err) {
      throw new CanOperationError('operation', `${this.channel}: sending ${this.describe(frame)} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  protected override checkFrame(frame: CanFrame): void {
    if (frame.error) throw new RangeError(`${this.channel}: error frames are made by the controller and cannot be sent`);
  }

  protected override filtersChanged(filters: readonly CanFilter[] | undefined): void {
    // Kernel filters spare the CPU; the base class filters again, which also covers `extended`.
    const kernel = (filters ?? []).map((f) => ({
      id: f.extended ? (f.id | CAN_EFF_FLAG) >>> 0 : f.id,
      mask: (f.mask ?? (f.extended === false ? 0x7ff : 0x1fffffff)) >>> 0,
    }));
    try {
      this.#channel.setRxFilters(kernel.length > 0 ? kernel : [{ id: 0, mask: 0 }]);
    } catch {
      // Software filtering still applies.
    }
  }

  protected async shutdown(): Promise<void> {
    this.#stopping = true;
    this.#channel.stop();
  }

  #onMessage(msg: AddonMessage): void {
    const data = msg.data ?? Buffer.alloc(0);
    const timestamp = msg.ts_sec === undefined ? undefined : msg.ts_sec + (msg.ts_usec ?? 0) / 1e6;
    try {
      this.deliver(
        canFrame({
          id: msg.id,
          extended: msg.ext ?? false,
          remote: msg.rtr ?? false,
          ...(msg.rtr ? { dlc: Math.min(data.length, 8) } : { data }),
          fd: data.length > 8,
          error: msg.err ?? false,
          ...(timestamp === undefined ? {} : { timestamp }),
        }),
      );
    } catch {
      this.countMalformed();
    }
  }
}
