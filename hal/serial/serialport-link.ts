// SerialLink over a node-serialport 13 `SerialPort` (a real tty, a USB adapter, or a pty in
// tests). The port instance is passed in (created with `autoOpen: false`), so the caller picks
// the settings. A port that went away (unplugged: its stream is destroyed) is replaced on
// `open()` by a new SerialPort with the same settings, so the adapter is picked up again when it
// comes back at the same path; listeners carry over.
import { SerialPort } from 'serialport';
import { SerialLinkError, type SerialLink } from './serial-link.ts';

export class SerialPortLink implements SerialLink {
  #port: SerialPort;
  #dataListeners = new Set<(chunk: Buffer) => void>();
  #closeListeners = new Set<(err?: Error) => void>();

  constructor(port: SerialPort) {
    this.#port = port;
    this.#attach(port);
  }

  /** The SerialPort in use now (a new one after a reopen). */
  get port(): SerialPort {
    return this.#port;
  }

  #attach(port: SerialPort): void {
    port.on('close', (err?: Error | null) => {
      if (port !== this.#port) return;
      for (const l of [...this.#closeListeners]) l(err ?? undefined);
    });
    // Errors after open surface as 'close' with a cause or as failed writes; an unhandled
    // 'error' event would crash the process.
    port.on('error', () => {});
    for (const l of this.#dataListeners) port.on('data', l);
  }

  get path(): string {
    return this.#port.path;
  }

  get isOpen(): boolean {
    return this.#port.isOpen && !this.#port.destroyed;
  }

  open(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    if (this.#port.destroyed || this.#port.closing) {
      const old = this.#port;
      for (const l of this.#dataListeners) old.removeListener('data', l);
      this.#port = new SerialPort({ ...old.settings, path: old.path, autoOpen: false });
      this.#attach(this.#port);
    }
    const port = this.#port;
    return new Promise((resolve, reject) => {
      port.open((err) => {
        if (err) reject(new SerialLinkError(this.path, `cannot open serial port ${this.path}: ${err.message}; check the device path and that the adapter is plugged in`, { cause: err }));
        else resolve();
      });
    });
  }

  write(data: Uint8Array): Promise<void> {
    if (!this.isOpen) return Promise.reject(new SerialLinkError(this.path, `serial port ${this.path} is not open`));
    const port = this.#port;
    return new Promise((resolve, reject) => {
      port.write(Buffer.from(data), (err) => {
        if (err) reject(new SerialLinkError(this.path, `write to ${this.path} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  onData(listener: (chunk: Uint8Array) => void): () => void {
    const l = (chunk: Buffer) => listener(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    this.#dataListeners.add(l);
    this.#port.on('data', l);
    return () => {
      this.#dataListeners.delete(l);
      this.#port.removeListener('data', l);
    };
  }

  onClose(listener: (err?: Error) => void): () => void {
    this.#closeListeners.add(listener);
    return () => void this.#closeListeners.delete(listener);
  }

  close(): Promise<void> {
    const port = this.#port;
    if (!port.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }
}
