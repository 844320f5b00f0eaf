// A scripted serial device for driver tests: opens one end of a pty pair with serialport and
// answers each request (split into frames by the caller's `frameLength`) with what `respond`
// returns: a list of chunks written one after the other (byte-by-byte delivery is a list of
// one-byte chunks), or nothing (a missing reply).
import { SerialPort } from 'serialport';
import { systemClock, type Clock } from '../../hal/clock.ts';
import { SerialPortLink } from '../../hal/serial/serialport-link.ts';
import { ptyPair, type PtyPair } from './pty.ts';

export const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));

export interface ScriptedDevice {
  /** Requests received so far, as hex strings. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function scriptedDevice(
  path: string,
  requestLength: number,
  respond: (request: Uint8Array, index: number) => Uint8Array[] | undefined,
): Promise<ScriptedDevice> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  port.on('error', () => {});
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  const requests: string[] = [];
  let buf = Buffer.alloc(0);
  let queue = Promise.resolve();
  port.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= requestLength) {
      const req = new Uint8Array(buf.subarray(0, requestLength));
      buf = buf.subarray(requestLength);
      const index = requests.length;
      requests.push(Buffer.from(req).toString('hex'));
      const chunks = respond(req, index) ?? [];
      queue = queue.then(async () => {
        for (const c of chunks) {
          if (!port.isOpen) return;
          await new Promise<void>((r) => port.write(Buffer.from(c), () => port.drain(() => r())));
          if (chunks.length > 1) await new Promise((r) => setTimeout(r, 1));
        }
      });
    }
  });
  return {
    requests,
    close: () => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())),
  };
}

/** Splits bytes into one-byte chunks. */
export const byteByByte = (b: Uint8Array): Uint8Array[] => Array.from(b, (x) => Uint8Array.of(x));

/** What a UART BMS driver takes (DalyUartDriver, JbdUartDriver). */
export interface UartDriverOptions {
  link: SerialPortLink;
  clock: Clock;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
}

/**
 * A driver on one end of a real pty pair and a scripted device (requests of `requestLength`
 * bytes) on the other; `close()` closes all three.
 */
export async function driverRig<D extends { close(): Promise<void> }>(
  requestLength: number,
  makeDriver: (o: UartDriverOptions) => D,
  respond: (request: Uint8Array, index: number) => Uint8Array[] | undefined,
  opts: { timeoutMs?: number; retries?: number } = {},
): Promise<{ pair: PtyPair; device: ScriptedDevice; driver: D; close(): Promise<void> }> {
  const pair = await ptyPair();
  const device = await scriptedDevice(pair.a, requestLength, respond);
  const link = new SerialPortLink(new SerialPort({ path: pair.b, baudRate: 9600, autoOpen: false }));
  const driver = makeDriver({ link, clock: systemClock, timeoutMs: opts.timeoutMs ?? 1000, retries: opts.retries ?? 2, backoffMs: 10 });
  return {
    pair,
    device,
    driver,
    async close() {
      await driver.close();
      await device.close();
      await pair.close();
    },
  };
}
