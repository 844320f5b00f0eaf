// A power-cut simulator under the ledger's LogStorage interface. Files live in memory; bytes
// become durable only on sync. `powerCut()` stops every operation from then on (they reject),
// and `afterCut()` gives the storage as it would be found at the next boot: every file as it was
// at its last sync, plus a random prefix of what was written after it (a torn write), with the
// torn part's last bytes possibly zeroed (pages written out of order). A file created but whose
// directory entry was never synced may vanish.
import { basename, dirname } from 'node:path';
import type { LogFile, LogStorage } from '../../ledger/log/storage.ts';

export class PowerCutError extends Error {
  constructor() {
    super('power cut');
    this.name = 'PowerCutError';
  }
}

interface MemFile {
  data: Buffer;
  durable: Buffer;
  dirSynced: boolean;
}

export class CrashStorage implements LogStorage {
  files = new Map<string, MemFile>();
  #cut = false;
  /** Operations left before the power goes (Infinity: never). */
  opsLeft = Infinity;
  /** Fails writes with ENOSPC once a file would grow past this (disk full). */
  capacity = Infinity;

  #tick(): void {
    if (this.#cut) throw new PowerCutError();
    if (--this.opsLeft < 0) {
      this.#cut = true;
      throw new PowerCutError();
    }
  }

  powerCut(): void {
    this.#cut = true;
  }

  /** The storage found at the next boot, drawn with `rand` (a function giving [0, 1)). */
  afterCut(rand: () => number): CrashStorage {
    const next = new CrashStorage();
    for (const [path, f] of this.files) {
      if (!f.dirSynced && rand() < 0.5) continue;
      const extends_ = f.data.length >= f.durable.length && f.data.subarray(0, f.durable.length).equals(f.durable);
      let torn: Buffer;
      if (extends_) {
        const extra = f.data.subarray(f.durable.length);
        const keep = Math.floor(rand() * (extra.length + 1));
        torn = Buffer.concat([f.durable, extra.subarray(0, keep)]);
        if (keep > 0 && rand() < 0.3) torn.fill(0, torn.length - Math.min(keep, 1 + Math.floor(rand() * 64)));
      } else {
        // An unsynced truncation: it may or may not have reached the disk.
        torn = Buffer.from(rand() < 0.5 ? f.durable : f.data);
      }
      next.files.set(path, { data: torn, durable: Buffer.from(torn), dirSynced: true });
    }
    return next;
  }

  async mkdir(_dir: string): Promise<void> {
    this.#tick();
  }
  async list(dir: string): Promise<string[]> {
    this.#tick();
    return [...this.files.keys()].filter((p) => dirname(p) === dir).map((p) => basename(p));
  }
  async open(path: string, mode: 'read' | 'append'): Promise<LogFile> {
    this.#tick();
    let f = this.files.get(path);
    if (!f) {
      if (mode === 'read') throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      f = { data: Buffer.alloc(0), durable: Buffer.alloc(0), dirSynced: false };
      this.files.set(path, f);
    }
    const file = f;
    const tick = () => this.#tick();
    const capacity = () => this.capacity;
    return {
      get size() {
        return file.data.length;
      },
      async append(parts) {
        tick();
        const data = parts instanceof Uint8Array ? parts : Buffer.concat(parts);
        if (file.data.length + data.length > capacity()) {
          // A full disk may take part of the write before refusing the rest.
          const room = Math.max(0, capacity() - file.data.length);
          file.data = Buffer.concat([file.data, Buffer.from(data).subarray(0, room)]);
          throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        }
        file.data = Buffer.concat([file.data, data]);
      },
      async sync() {
        tick();
        file.durable = Buffer.from(file.data);
      },
      async read(position, length) {
        tick();
        return Buffer.from(file.data.subarray(position, position + length));
      },
      async truncate(length) {
        tick();
        file.data = Buffer.from(file.data.subarray(0, length));
      },
      async close() {},
    };
  }
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    this.#tick();
    this.files.set(path, { data: Buffer.from(data), durable: Buffer.from(data), dirSynced: false });
  }
  async syncDir(dir: string): Promise<void> {
    this.#tick();
    for (const [p, f] of this.files) if (dirname(p) === dir) f.dirSynced = true;
  }
}

