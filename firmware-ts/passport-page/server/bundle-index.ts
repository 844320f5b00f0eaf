// The passport bundles a server answers for: every file in one folder that reads as a passport
// bundle, indexed by battery id and access tier (public or full, the Annex XIII tiers). Files
// that do not read are counted and named, never fatal; the folder is scanned again when it
// changes, so dropping a new export in makes it answerable without a restart.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export type Tier = 'public' | 'full';

/** What the index needs to know of a bundle, read without verifying it (the page verifies). */
export interface BundleInfo {
  batteryId: string;
  tier: Tier;
  /** Short public facts for search results (e.g. manufacturer and model), if the bundle has them. */
  label?: string;
}

/** Reads a bundle's id and tier; throws when the bytes are not a passport bundle. */
export type ReadBundleInfo = (bytes: Uint8Array) => BundleInfo;

export interface IndexedBattery {
  batteryId: string;
  label?: string;
  files: Partial<Record<Tier, { file: string; mtimeMs: number; size: number }>>;
}

export interface SkippedFile {
  file: string;
  reason: string;
}

/** Largest bundle read (a decade of daily checkpoints stays far below this). */
const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
/** How often, at most, the folder's modification time is looked at. */
const RESCAN_MS = 1000;

export class BundleIndex {
  #batteries = new Map<string, IndexedBattery>();
  #skipped: SkippedFile[] = [];
  #dirMtime = -1;
  #checkedAt = 0;
  #scanning: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    private readonly read: ReadBundleInfo,
    private readonly now: () => number,
  ) {}

  static async open(dir: string, read: ReadBundleInfo, now: () => number = Date.now): Promise<BundleIndex> {
    const s = await stat(dir).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`${dir}: ${err.code === 'ENOENT' ? 'no such folder' : err.message}; give the folder your passport exports are in ('voltrail passport export ... --out DIR/NAME.cbor')`, { cause: err });
    });
    if (!s.isDirectory()) throw new Error(`${dir}: not a folder; --dir takes the folder your passport exports are in`);
    const index = new BundleIndex(dir, read, now);
    await index.refresh(true);
    return index;
  }

  get skipped(): readonly SkippedFile[] {
    return this.#skipped;
  }

  get size(): number {
    return this.#batteries.size;
  }

  all(): IndexedBattery[] {
    return [...this.#batteries.values()].sort((a, b) => a.batteryId.localeCompare(b.batteryId));
  }

  /** Scans again when the folder changed (checked at most once a second), or when forced. */
  async refresh(force = false): Promise<void> {
    if (this.#scanning) return this.#scanning;
    const t = this.now();
    if (!force && t - this.#checkedAt < RESCAN_MS) return;
    this.#checkedAt = t;
    const mtime = (await stat(this.dir)).mtimeMs;
    if (!force && mtime === this.#dirMtime) return;
    this.#scanning = this.#scan(mtime).finally(() => (this.#scanning = undefined));
    return this.#scanning;
  }

  async #scan(mtime: number): Promise<void> {
    const batteries = new Map<string, IndexedBattery>();
    const skipped: SkippedFile[] = [];
    const names = (await readdir(this.dir, { withFileTypes: true })).filter((d) => d.isFile() && !d.name.startsWith('.')).map((d) => d.name);
    for (const name of names.sort()) {
      const file = join(this.dir, name);
      try {
        const s = await stat(file);
        if (s.size > MAX_BUNDLE_BYTES) throw new Error(`${s.size} bytes, more than the ${MAX_BUNDLE_BYTES} a bundle may have`);
        const info = this.read(new Uint8Array(await readFile(file)));
        const b = batteries.get(info.batteryId) ?? { batteryId: info.batteryId, files: {} };
        const had = b.files[info.tier];
        if (had) skipped.push(had.mtimeMs >= s.mtimeMs ? { file, reason: `an older ${info.tier} bundle of ${info.batteryId} than ${had.file}` } : { file: had.file, reason: `an older ${info.tier} bundle of ${info.batteryId} than ${file}` });
        if (!had || had.mtimeMs < s.mtimeMs) b.files[info.tier] = { file, mtimeMs: s.mtimeMs, size: s.size };
        if (info.label && (info.tier === 'public' || !b.label)) b.label = info.label;
        batteries.set(info.batteryId, b);
      } catch (err) {
        skipped.push({ file, reason: (err as Error).message });
      }
    }
    this.#batteries = batteries;
    this.#skipped = skipped;
    this.#dirMtime = mtime;
  }

  async get(batteryId: string): Promise<IndexedBattery | undefined> {
    await this.refresh();
    return this.#batteries.get(batteryId);
  }

  /** Batteries whose id or label contains every word of `query` (case-insensitive), at most `limit`. */
  async search(query: string, limit = 20): Promise<IndexedBattery[]> {
    await this.refresh();
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return this.all()
      .filter((b) => words.every((w) => b.batteryId.toLowerCase().includes(w) || (b.label ?? '').toLowerCase().includes(w)))
      .slice(0, limit);
  }
}
