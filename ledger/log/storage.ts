// The file operations the ledger's segment log needs, behind an interface so that tests can put
// a power-cut simulator underneath (test/helpers/crash-storage.ts): a write is durable only once
// `sync` has returned. The real implementation uses fs.promises with explicit fsync of files and
// of the directory (so that a new segment's name survives a power cut too).
import { open, readdir, mkdir, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';

export interface LogFile {
  /** Bytes in the file, including writes not yet synced. */
  readonly size: number;
  /** Appends at the end of the file; several pieces are written one after the other, in one call where the system allows. */
  append(data: Uint8Array | readonly Uint8Array[]): Promise<void>;
  /** Makes every write so far durable (fsync). */
  sync(): Promise<void>;
  read(position: number, length: number): Promise<Uint8Array>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface LogStorage {
  mkdir(dir: string): Promise<void>;
  /** File names (not paths) in a directory; empty when it does not exist. */
  list(dir: string): Promise<string[]>;
  open(path: string, mode: 'read' | 'append'): Promise<LogFile>;
  /** Makes the directory's entries (new file names) durable. */
  syncDir(dir: string): Promise<void>;
  /** Writes a whole new file and makes it durable. */
  writeFile(path: string, data: Uint8Array): Promise<void>;
}

class NodeLogFile implements LogFile {
  #fh: FileHandle;
  #size: number;
  constructor(fh: FileHandle, size: number) {
    this.#fh = fh;
    this.#size = size;
  }
  get size(): number {
    return this.#size;
  }
  async append(data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    if (data instanceof Uint8Array) {
      await this.#write(data);
      return;
    }
    // One writev for the pieces; what a short write leaves goes piece by piece.
    let total = 0;
    for (const d of data) total += d.length;
    const { bytesWritten } = data.length > 0 ? await this.#fh.writev(data as Uint8Array[], this.#size) : { bytesWritten: 0 };
    this.#size += bytesWritten;
    if (bytesWritten === total) return;
    let skip = bytesWritten;
    for (const d of data) {
      if (skip >= d.length) {
        skip -= d.length;
        continue;
      }
      await this.#write(skip > 0 ? d.subarray(skip) : d);
      skip = 0;
    }
  }
  async #write(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await this.#fh.write(data, off, data.length - off, this.#size + off);
      off += bytesWritten;
    }
    this.#size += data.length;
  }
  async sync(): Promise<void> {
    await this.#fh.datasync();
  }
  async read(position: number, length: number): Promise<Uint8Array> {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.#fh.read(buf, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === length ? buf : buf.subarray(0, got);
  }
  async truncate(length: number): Promise<void> {
    await this.#fh.truncate(length);
    this.#size = length;
  }
  async close(): Promise<void> {
    await this.#fh.close();
  }
}

export const nodeStorage: LogStorage = {
  async mkdir(dir) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  },
  async list(dir) {
    try {
      return await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  },
  async open(path, mode) {
    const flags = mode === 'read' ? constants.O_RDONLY : constants.O_RDWR | constants.O_CREAT;
    const fh = await open(path, flags, 0o600);
    const { size } = await fh.stat();
    return new NodeLogFile(fh, size);
  },
  async writeFile(path, data) {
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  async syncDir(dir) {
    const fh = await open(dir, constants.O_RDONLY);
    try {
      await fh.sync();
    } catch (err) {
      // Some file systems (and platforms) refuse fsync on a directory; the data itself is synced.
      if (!['EINVAL', 'EISDIR', 'EPERM', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    } finally {
      await fh.close();
    }
  },
};

export function segmentPath(dir: string, name: string): string {
  return join(dir, name);
}
