// Binds a protocol responder (JBD, Daly) to a serial port: bytes in, responses out, with the
// serial faults of the fault injector applied on the way out (bit errors, a pulled cable) and
// silence while the board is unpowered. The port is usually the device end of a pty pair.
import { SerialPort } from 'serialport';
import type { SerialFaultState } from '../faults.ts';
import type { Rng } from '../rng.ts';
import type { BmsSource } from './bms-source.ts';

export interface Responder {
  feed(chunk: Uint8Array, nowMs: number): Uint8Array[];
}

/** The part of a serial port (or any duplex stream) the face uses. */
export interface ByteLink {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  removeListener(event: 'data', listener: (chunk: Buffer) => void): unknown;
  write(data: Uint8Array): unknown;
}

export interface UartFaceOptions {
  /** Serial faults to apply (from FaultInjector.serial) and the stream that picks the bytes hit. */
  faults?: { serial: SerialFaultState; rng: Rng };
  /** Monotonic milliseconds for the responder's inter-frame timeout (default performance.now). */
  now?: () => number;
}

export class UartFace {
  readonly link: ByteLink;
  readonly responder: Responder;
  readonly source: BmsSource;
  requests = 0;
  /** Requests not answered because the board was off or the cable "pulled". */
  dropped = 0;
  readonly #onData: (chunk: Buffer) => void;
  readonly #o: UartFaceOptions;

  constructor(link: ByteLink, responder: Responder, source: BmsSource, o: UartFaceOptions = {}) {
    this.link = link;
    this.responder = responder;
    this.source = source;
    this.#o = o;
    this.#onData = (chunk) => this.#receive(chunk);
    link.on('data', this.#onData);
  }

  #receive(chunk: Buffer): void {
    const serial = this.#o.faults?.serial;
    if (!this.source.powered || serial?.disconnected) {
      this.dropped++;
      return;
    }
    const now = (this.#o.now ?? (() => performance.now()))();
    for (const frame of this.responder.feed(chunk, now)) {
      this.requests++;
      this.link.write(this.#noisy(frame));
    }
  }

  /** Flips one random bit in each byte with the configured probability (line noise). */
  #noisy(frame: Uint8Array): Uint8Array {
    const f = this.#o.faults;
    if (!f || f.serial.byteErrorRate <= 0) return frame;
    const out = frame.slice();
    for (let k = 0; k < out.length; k++) if (f.rng.next() < f.serial.byteErrorRate) out[k]! ^= 1 << Math.floor(f.rng.next() * 8);
    return out;
  }

  detach(): void {
    this.link.removeListener('data', this.#onData);
  }
}

/** Opens a serial port (a pty's device end) at 9600 8N1 and attaches a face to it. */
export async function openUartFace(path: string, responder: Responder, source: BmsSource, o: UartFaceOptions & { baudRate?: number } = {}): Promise<{ face: UartFace; port: SerialPort; close(): Promise<void> }> {
  const port = new SerialPort({ path, baudRate: o.baudRate ?? 9600, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new Error(`could not open ${path} for the simulated BMS: ${err.message}`, { cause: err })) : resolve())));
  const face = new UartFace(port, responder, source, o);
  return {
    face,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        face.detach();
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}
