// Test tool: opens a serial port (a pty end) as a host would, and collects what comes back.
import { SerialPort } from 'serialport';
import { openPtyPair } from '../../sim-hardware/pty-pair.ts';
import type { BmsSource } from '../../sim-hardware/uart/bms-source.ts';
import { openUartFace, type Responder, type UartFaceOptions } from '../../sim-hardware/uart/uart-face.ts';

export async function openHostPort(path: string, baudRate = 9600): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return port;
}

/** Bytes received on `port` until `count` have arrived or `timeoutMs` passed; writes `send` first. */
export function exchange(port: SerialPort, send: Uint8Array | null, count: number, timeoutMs = 3000): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = () => {
      clearTimeout(timer);
      port.removeListener('data', onData);
      resolve(Buffer.concat(chunks));
    };
    const onData = (b: Buffer) => {
      chunks.push(b);
      got += b.length;
      if (got >= count) done();
    };
    const timer = setTimeout(done, timeoutMs);
    port.on('data', onData);
    if (send) port.write(Buffer.from(send));
  });
}

export function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1 ');

/**
 * A simulated device's UART face (sim-hardware/uart/uart-face.ts) on one end of a real pty
 * pair and a host port on the other: runs `fn` with the host port, then closes all three.
 */
export async function withUartFace<T>(responder: Responder, source: BmsSource, fn: (host: SerialPort) => Promise<T>, o: UartFaceOptions = {}): Promise<T> {
  const pty = await openPtyPair();
  const dev = await openUartFace(pty.device, responder, source, o);
  const host = await openHostPort(pty.host);
  try {
    return await fn(host);
  } finally {
    await closePort(host);
    await dev.close();
    await pty.close();
  }
}
