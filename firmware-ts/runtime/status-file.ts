// The running instance's health, as `DIR/status.json`: written atomically (temporary file, then
// rename) every second by the runtime, read by `voltrail status` and `voltrail doctor`. A file
// whose pid is gone, or that has not been rewritten for a while, belongs to an instance that
// is not running (a clean stop writes `running: false`; a crash leaves `running: true`).
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { UplinkStatus } from '../uplink/uplink.ts';

export const STATUS_FILE = 'status.json';
/** A status older than this (wall ms) is not a running instance's. */
export const STATUS_STALE_MS = 10_000;

export interface RuntimeStatus {
  format: 'voltrail-status/1';
  pid: number;
  running: boolean;
  /** Set on the last write of a run: true when it stopped cleanly. */
  clean?: boolean;
  simulated: boolean;
  startedAt: string;
  updatedAt: string;
  /** Wall ms of updatedAt, for staleness checks. */
  updatedMs: number;
  uptimeS: number;
  snapshot: {
    t: number;
    packVoltageV: number | null;
    currentA: number | null;
    socPct: number | null;
    temperatureMaxC: number | null;
    faults: string[];
    contactorClosed: boolean | null;
  } | null;
  /** Durable telemetry records, durable event records. */
  records: number;
  events: number;
  shed: { backpressure: number; storage: number };
  driver: { source: string; frames: number; decoded: number; unknown: number; rejected: number; lastError?: string };
  ledgerPendingBytes: number;
  staleSources: string[];
  signer: string;
  lastError: string | null;
  rssBytes: number;
  /** The uplink's progress, when one is configured (firmware-ts/uplink/uplink.ts). */
  uplink?: UplinkStatus;
}

export const statusPath = (dataDir: string) => join(dataDir, STATUS_FILE);

export async function writeStatus(dataDir: string, s: RuntimeStatus): Promise<void> {
  const path = statusPath(dataDir);
  await writeFile(`${path}.tmp`, JSON.stringify(s) + '\n');
  await rename(`${path}.tmp`, path);
}

export async function readStatus(dataDir: string): Promise<RuntimeStatus | undefined> {
  try {
    return JSON.parse(await readFile(statusPath(dataDir), 'utf8')) as RuntimeStatus;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Whether the status describes a live instance now (pid alive, recently written, not stopped). */
export function isLive(s: RuntimeStatus, nowMs = Date.now()): boolean {
  return s.running && pidAlive(s.pid) && Math.abs(nowMs - s.updatedMs) <= STATUS_STALE_MS;
}
