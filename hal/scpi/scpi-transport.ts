// Line transports to SCPI instruments: raw TCP sockets (LAN instruments; port 5025 by
// convention) and serial lines (USB/RS-232 instruments, or a pty in tests). Lines end in LF; a
// CR before it is dropped; unread lines and partial lines are bounded.
import { createConnection, type Socket } from 'node:net';
import { SerialPort } from 'serialport';

export class ScpiError extends Error {
  /** The instrument's address, e.g. tcp:10.0.0.5:5025 or serial:/dev/ttyUSB0. */
  readonly address: string;
  constructor(address: string, message: string, options?: ErrorOptions) {
    super(`${address}: ${message}`, options);
    this.name = 'ScpiError';
    this.address = address;
  }
}

/** A bidirectional line channel to one instrument. */
export interface ScpiTransport {
  readonly address: string;
  write(line: string): Promise<void>;
  /** The next line received (without its terminator); rejects after timeoutMs. */
  readLine(timeoutMs: number): Promise<string>;
  close(): Promise<void>;
}

/** Splits incoming bytes into lines and hands them to waiting readers, bounded. */
class LineQueue {
  readonly #lines: string[] = [];
  readonly #waiters: { resolve: (s: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  #buf = '';
  #failed: Error | undefined;
  readonly address: string;
  constructor(address: string) {
    this.address = address;
  }
  push(chunk: Buffer): void {
    this.#buf += chunk.toString('latin1');
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, nl).replace(/\r$/, '');
      this.#buf = this.#buf.slice(nl + 1);
      const w = this.#waiters.shift();
      if (w) {
        clearTimeout(w.timer);
        w.resolve(line);
      } else if (this.#lines.push(line) > 64) this.#lines.shift(); // unread answers: keep the newest
    }
    if (this.#buf.length > 65536) this.#buf = '';
  }
  fail(err: Error): void {
    this.#failed = err;
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }
  next(timeoutMs: number): Promise<string> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#waiters.findIndex((w) => w.timer === timer);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new ScpiError(this.address, `no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push({ resolve, reject, timer });
    });
  }
}

/** Raw SCPI over TCP. */
export async function openScpiTcp(host: string, port = 5025, o: { connectTimeoutMs?: number } = {}): Promise<ScpiTransport> {
  const address = `tcp:${host}:${port}`;
  const queue = new LineQueue(address);
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = createConnection({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new ScpiError(address, `no connection within ${o.connectTimeoutMs ?? 3000} ms: is the instrument on, and on this network?`));
    }, o.connectTimeoutMs ?? 3000);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(new ScpiError(address, `cannot connect (${(err as NodeJS.ErrnoException).code ?? err.message}): check the address and that the instrument's LAN/SCPI socket is enabled`, { cause: err }));
    });
  });
  socket.setNoDelay(true);
  socket.on('data', (c: Buffer) => queue.push(c));
  socket.on('error', (err) => queue.fail(new ScpiError(address, `connection failed: ${err.message}`, { cause: err })));
  socket.on('close', () => queue.fail(new ScpiError(address, 'the instrument closed the connection')));
  return {
    address,
    write: (line) => new Promise((resolve, reject) => socket.write(`${line}\n`, (err) => (err ? reject(new ScpiError(address, `write failed: ${err.message}`, { cause: err })) : resolve()))),
    readLine: (ms) => queue.next(ms),
    close: () =>
      new Promise((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        // A polite end first; an instrument that never closes its side is cut after a second.
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      }),
  };
}

/** SCPI over a serial line (a USB-serial instrument, or a pty in tests). */
export async function openScpiSerial(path: string, baudRate = 115200): Promise<ScpiTransport> {
  const address = `serial:${path}`;
  const queue = new LineQueue(address);
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((err) => (err ? reject(new ScpiError(address, `cannot open (${err.message}): is the instrument plugged in, and is ${path} the right port?`, { cause: err })) : resolve())),
  );
  port.on('data', (c: Buffer) => queue.push(c));
  port.on('close', () => queue.fail(new ScpiError(address, 'the serial port closed')));
  return {
    address,
    write: (line) => new Promise((resolve, reject) => port.write(`${line}\n`, (err) => (err ? reject(new ScpiError(address, `write failed: ${err.message}`, { cause: err })) : resolve()))),
    readLine: (ms) => queue.next(ms),
    close: () => new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}

/** Opens `tcp:HOST[:PORT]` or `serial:PATH[@BAUD]`. */
export function openScpi(address: string): Promise<ScpiTransport> {
  const tcp = /^tcp:([^:]+|\[[^\]]+\])(?::(\d+))?$/.exec(address);
  if (tcp) return openScpiTcp(tcp[1]!.replace(/^\[|\]$/g, ''), tcp[2] ? Number(tcp[2]) : 5025);
  const serial = /^serial:([^@]+)(?:@(\d+))?$/.exec(address);
  if (serial) return openScpiSerial(serial[1]!, serial[2] ? Number(serial[2]) : 115200);
  return Promise.reject(new RangeError(`instrument address '${address}': write tcp:HOST[:PORT] (port 5025 by default) or serial:PATH[@BAUD]`));
}
