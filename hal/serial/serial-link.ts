// The serial byte-stream interface that UART drivers (JBD, Daly) take. Contract, after
// node-serialport's binding interface:
// - `open()` opens (or reopens, after a disconnect) the port; it rejects with SerialLinkError
//   naming the path when the device is not there.
// - `write()` resolves once the bytes are handed to the OS; it rejects when the link is closed.
// - data listeners get every chunk received, in order (a chunk holds at least one byte);
//   close listeners hear once per close, with the cause when it was not asked for (unplugged).
// - `close()` is idempotent.
export interface SerialLink {
  /** The device path, e.g. `/dev/ttyUSB0`. */
  readonly path: string;
  readonly isOpen: boolean;
  open(): Promise<void>;
  write(data: Uint8Array): Promise<void>;
  /** Adds a data listener; returns a function that removes it. */
  onData(listener: (chunk: Uint8Array) => void): () => void;
  /** Adds a close listener (`err` set when the port went away unasked); returns a remover. */
  onClose(listener: (err?: Error) => void): () => void;
  close(): Promise<void>;
}

export class SerialLinkError extends Error {
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SerialLinkError';
    this.path = path;
  }
}
