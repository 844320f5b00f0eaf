// Serves a simulated SCPI instrument the two ways bench instruments are reached: raw SCPI over
// TCP (a LAN instrument's socket port, 5025 by convention; here any port, 0 = pick a free one)
// and over a serial line (the device end of a pty, as a USB-serial instrument). Lines end with
// LF (a CR before it is ignored); each response line ends with LF (IEEE 488.2 section 8.7.3).
import { createServer, type Server, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import type { SimulatedScpiInstrument } from './scpi-instrument.ts';

/** Longest program message accepted; a longer line without LF is dropped (a bounded buffer). */
const MAX_LINE = 4096;

/** Splits a byte stream into lines and answers each through the instrument. */
function lineHandler(instrument: SimulatedScpiInstrument, write: (s: string) => void): (chunk: Buffer) => void {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString('latin1');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      const answer = instrument.handle(line);
      if (answer !== null) write(`${answer}\n`);
    }
    if (buf.length > MAX_LINE) buf = '';
  };
}

export interface ScpiTcpServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function serveScpiTcp(instrument: SimulatedScpiInstrument, o: { host?: string; port?: number } = {}): Promise<ScpiTcpServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', lineHandler(instrument, (s) => socket.write(s)));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Opens the device end of a serial line (a pty) and answers SCPI on it. */
export async function serveScpiSerial(instrument: SimulatedScpiInstrument, path: string, o: { baudRate?: number } = {}): Promise<{ close(): Promise<void> }> {
  const port = new SerialPort({ path, baudRate: o.baudRate ?? 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new Error(`could not open ${path} for the simulated instrument: ${err.message}`, { cause: err })) : resolve())));
  port.on('data', lineHandler(instrument, (s) => port.write(s)));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}
