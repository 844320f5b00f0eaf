// SerialLink over a node-serialport 13 `SerialPort` (a real tty, a USB adapter, or a pty in
// tests). The port instance is passed in (created with `autoOpen: false`), so the caller picks
// the settings; a port that went away is reopened on the same instance by `open()`.
import type { SerialPort } from 'serialport';
import { SerialLinkError, type SerialLink } from './serial-link.ts';

export class SerialPortLink implements SerialLink {
  readonly port: SerialPort;
  #closeListeners = new Set<(err?: Error) => void>();

  constructor(port: SerialPort) {
    this.port = port;
    port.on('close', (err?: Error | null) => {
      for (const l of [...this.#closeListeners]) l(err ?? undefined);
    });
    // Errors after open surface as 'close' with a cause or as failed writes; an unhandled
    // 'error' event would crash the process.
    port.on('error', () => {});
  }

  get path(): string {
    return this.port.path;
  }

  get isOpen(): boolean {
    return this.port.isOpen;
  }

  open(): Promise<void> {
    if (this.port.isOpen) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.port.open((err) => {
        if (err) reject(new SerialLinkError(this.path, `cannot open serial port ${this.path}: ${err.message}; check the device path and that the adapter is plugged in`, { cause: err }));
        else resolve();
      });
    });
  }

  write(data: Uint8Array): Promise<void> {
    if (!this.port.isOpen) return Promise.reject(new SerialLinkError(this.path, `serial port ${this.path} is not open`));
    return new Promise((resolve, reject) => {
      this.port.write(Buffer.from(data), (err) => {
        if (err) reject(new SerialLinkError(this.path, `write to ${this.path} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    const l = (chunk: Buffer) => listener(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    this.port.on('data', l);
    return () => void this.port.removeListener('data', l);
  }

  onClose(listener: (err?: Error) => void): () => void {
    this.#closeListeners.add(listener);
    return () => void this.#closeListeners.delete(listener);
  }

  close(): Promise<void> {
    if (!this.port.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.port.close(() => resolve()));
  }
}
