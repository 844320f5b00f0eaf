// A per-device lock file, so that several collector instances sharing one data folder (behind
// one shared MQTT subscription) never write the same device's fleet ledger at once. The lock is
// a file created with O_EXCL (atomic on local file systems and on NFS v3+), holding the holder's
// host, pid and time; it is removed when the batch is stored (milliseconds later). A lock left by
// a crashed instance is broken when its pid is gone on this host, or when it is older than
// `staleMs` (another host's instance crashed): a batch never takes that long to store.
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

export class LockTimeout extends Error {
  constructor(path: string, ms: number) {
    super(`${path}: held by another collector instance for over ${ms} ms`);
    this.name = 'LockTimeout';
  }
}

const HOST = hostname();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    const [host, pidText] = text.split(' ');
    const pid = Number(pidText);
    if (host === HOST && Number.isInteger(pid) && pid !== process.pid && !alive(pid)) return true;
    return Date.now() - st.mtimeMs > staleMs;
  } catch {
    return false; // gone already, or half-written: try again
  }
}

/** Runs `fn` holding the lock of `dir`; waits up to `timeoutMs` for it. */
export async function withDeviceLock<T>(dir: string, fn: () => Promise<T>, opts: { timeoutMs?: number; staleMs?: number } = {}): Promise<T> {
  const path = join(dir, 'lock');
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const staleMs = opts.staleMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let wait = 1;
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(`${HOST} ${process.pid} ${Date.now()}\n`);
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(path, staleMs)) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) throw new LockTimeout(path, timeoutMs);
    await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
    wait = Math.min(50, wait * 2);
  }
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}
