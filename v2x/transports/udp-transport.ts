// V2X over UDP (node:dgram): one message per datagram to a multicast group (joined, with
// loopback so that stations on one host hear each other), a broadcast address, or a unicast
// address (loopback in tests). The usual way to carry V2X frames between a radio gateway or
// simulators and this runtime; `voltrail v2x listen` and `send --to` use it. Datagrams larger
// than the envelope's limit are still delivered (the pipeline counts them as `size`).
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { Frame, V2xTransport } from './transport.ts';

export interface UdpAddress {
  host: string;
  port: number;
}

/** Parses `udp://HOST:PORT`; throws RangeError naming what is wrong. */
export function parseUdpUrl(url: string): UdpAddress {
  const m = /^udp:\/\/([0-9.]+):(\d{1,5})$/.exec(url);
  if (m === null || !isIPv4(m[1]!)) throw new RangeError(`${url}: expected udp://IPV4:PORT, e.g. udp://239.1.2.3:4000`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new RangeError(`${url}: port ${port} is out of range 1..65535`);
  return { host: m[1]!, port };
}

const isMulticast = (host: string) => {
  const first = Number(host.split('.')[0]);
  return first >= 224 && first <= 239;
};

export interface UdpTransportOptions {
  /** Where frames go and, for multicast and broadcast, where they are heard. */
  address: UdpAddress;
  /** Local port to listen on (default: the address's port; 0 for any). */
  listenPort?: number;
  /** Local interface address for multicast (default: the system's choice). */
  interface?: string;
}

export class UdpTransport implements V2xTransport {
  readonly address: UdpAddress;
  readonly #socket: Socket;
  readonly #listeners = new Set<(f: Frame) => void>();
  #localPort = 0;

  private constructor(socket: Socket, address: UdpAddress) {
    this.#socket = socket;
    this.address = address;
    socket.on('message', (msg, rinfo) => {
      const frame: Frame = { bytes: new Uint8Array(msg.buffer, msg.byteOffset, msg.length), from: `${rinfo.address}:${rinfo.port}` };
      for (const fn of this.#listeners) fn(frame);
    });
  }

  /** Opens the socket, binds and joins the group; rejects with what went wrong. */
  static async open(opts: UdpTransportOptions): Promise<UdpTransport> {
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    const t = new UdpTransport(socket, opts.address);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.listenPort ?? opts.address.port, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => undefined); // send errors surface through send(); never crash the receiver
    t.#localPort = socket.address().port;
    const host = opts.address.host;
    if (isMulticast(host)) {
      socket.addMembership(host, opts.interface);
      socket.setMulticastLoopback(true);
      if (opts.interface !== undefined) socket.setMulticastInterface(opts.interface);
    } else if (host === '255.255.255.255' || host.endsWith('.255')) socket.setBroadcast(true);
    return t;
  }

  /** The local port bound (useful with listenPort 0). */
  get localPort(): number {
    return this.#localPort;
  }

  send(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.#socket.send(bytes, this.address.port, this.address.host, (err) => (err ? reject(err) : resolve())));
  }

  onFrame(fn: (frame: Frame) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}
