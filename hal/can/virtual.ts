// An in-process CAN bus: every bus opened on one hub sees every frame the others send, classic
// and CAN FD alike, as nodes on one wire would (python-can's `virtual` interface). One hub per
// instance and no module-level state, so that tests and simulations never share a bus by accident.
import { BusBase } from './bus-base.ts';
import type { CanBus } from './bus.ts';
import type { CanFrame } from './frame.ts';
import type { Clock } from '../clock.ts';

export interface VirtualBusOptions {
  /** Shown in `channel` as `virtual:NAME` (defaults to the hub's name). */
  name?: string;
  /** Receive this bus's own frames too (as SocketCAN's loopback with recv_own_msgs). */
  loopback?: boolean;
  /** Frames each receive queue holds before the oldest is dropped. */
  queueCapacity?: number;
  /** Make the queue for `receive()` at the first call instead of at open: for readers that only iterate `frames()`, whose bus would otherwise hold a full queue of frames nobody reads. */
  receiveQueueFromOpen?: boolean;
}

export class VirtualCanHub {
  readonly name: string;
  readonly clock: Clock | undefined;
  #buses = new Set<VirtualCanBus>();

  constructor(name = 'vcan', options: { clock?: Clock } = {}) {
    this.name = name;
    this.clock = options.clock;
  }

  /** Opens a new node on this hub. Virtual buses may always transmit: nothing real is on them. */
  open(options: VirtualBusOptions = {}): CanBus & VirtualCanBus {
    const bus = new VirtualCanBus(this, options);
    this.#buses.add(bus);
    return bus;
  }

  /** Number of buses open on the hub. */
  get size(): number {
    return this.#buses.size;
  }

  /** @internal Delivers a frame from `from` to every other node (and back to it with loopback). */
  distribute(from: VirtualCanBus, frame: CanFrame): void {
    const timestamp = (this.clock?.now() ?? Date.now()) / 1000;
    for (const bus of this.#buses) {
      if (bus === from && !from.loopback) continue;
      // Each receiver gets its own copy of the payload: a frame is a value on the wire.
      bus.accept({ ...frame, data: frame.data.slice(), timestamp });
    }
  }

  /** @internal */
  detach(bus: VirtualCanBus): void {
    this.#buses.delete(bus);
  }
}

export class VirtualCanBus extends BusBase {
  readonly loopback: boolean;
  readonly #hub: VirtualCanHub;

  constructor(hub: VirtualCanHub, options: VirtualBusOptions) {
    super({
      channel: `virtual:${options.name ?? hub.name}`,
      canTransmit: true,
      ...(hub.clock ? { clock: hub.clock } : {}),
      ...(options.queueCapacity === undefined ? {} : { queueCapacity: options.queueCapacity }),
      ...(options.receiveQueueFromOpen === undefined ? {} : { receiveQueueFromOpen: options.receiveQueueFromOpen }),
    });
    this.#hub = hub;
    this.loopback = options.loopback ?? false;
  }

  protected async transmit(frame: CanFrame): Promise<void> {
    this.#hub.distribute(this, frame);
  }

  protected async shutdown(): Promise<void> {
    this.#hub.detach(this);
  }

  /** @internal Called by the hub. */
  accept(frame: CanFrame): void {
    this.deliver(frame);
  }
}
