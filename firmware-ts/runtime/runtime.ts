// The edge runtime's main loop, the same for a simulated and a provisioned board: a BMS driver's
// snapshots -> the sampler (every period, and at once on a fault or a significant change) ->
// telemetry records, and lifecycle events (ledger/cddl/event.cddl) as signed records, into
// the ledger. It never stops on bad input and never grows without bound:
// - telemetry appends are not awaited one by one; while more than `ledger.maxPendingBytes` wait
//   for the disk, new samples are shed and counted (events are always kept), and a `shed` event
//   records how many every `health.shedReportIntervalMs`;
// - a failed write (a full disk) closes the ledger, sheds telemetry (counted), keeps events in
//   memory (bounded), and reopens with a growing back-off; once writable again a
//   `storage-error` event records what happened. Acknowledged records are never touched.
// Health goes to DIR/status.json every second, to systemd (READY/WATCHDOG), and to the log.
import type { Clock } from '../../hal/clock.ts';
import type { CoseSigner } from '../../ledger/cose/sign1.ts';
import { Ledger } from '../../ledger/log/ledger.ts';
import type { LogStorage } from '../../ledger/log/storage.ts';
import type { BatterySnapshot } from '../../devices/snapshot.ts';
import { FAULT_NAMES } from '../../devices/snapshot.ts';
import { writeTelemetryBody } from '../telemetry/telemetry-body.ts';
import type { RuntimeConfig } from './config.ts';
import { LifecycleDetector, SEVERITY, eventBody, type LifecycleEvent } from './lifecycle.ts';
import { Sampler } from './sampler.ts';
import { ClockWatch } from './clock-watch.ts';
import type { SystemdNotifier } from './watchdog.ts';
import { readStatus, writeStatus, type RuntimeStatus } from './status-file.ts';
import { ledgerDir } from './data-dir.ts';
import type { Logger } from './logger.ts';
import type { Uplink } from '../uplink/uplink.ts';
import { LifecycleRecorder, SUMMARY_TYPE, type AccountingOptions } from '../passport/lifecycle-recorder.ts';

/** What the runtime needs from a BMS driver (devices/bms drivers have this shape). */
export interface BmsSource {
  readonly source: string;
  start(signal: AbortSignal): Promise<void>;
  snapshot(): BatterySnapshot;
  readonly counters: { frames: number; decoded: number; unknown: number; rejected: number; lastError?: string };
}

export interface RuntimeOptions {
  config: RuntimeConfig;
  clock: Clock;
  signal: AbortSignal;
  signer: CoseSigner & { readonly backendName: string };
  simulated: boolean;
  driver: BmsSource;
  logger: Logger;
  notifier?: SystemdNotifier;
  /** The ledger's storage (default: the file system). */
  storage?: LogStorage;
  /** Stop after this long on the clock. */
  durationMs?: number;
  /** Called after each durable telemetry record. */
  onStatus?: (s: RuntimeStatus) => void;
  /** Called with each telemetry snapshot about to be appended, and its sequence number. */
  onRecord?: (seq: number, snapshot: BatterySnapshot) => void;
  /** Called when a record (telemetry or event) is acknowledged durable. */
  onAck?: (seq: number, type: string) => void;
  /** Lifecycle accounting (firmware-ts/passport/): signed `lifecycle-summary` records. */
  accounting?: AccountingOptions;
  /** Started once the driver listens (the simulator), awaited at the end. */
  companion?: (signal: AbortSignal) => Promise<unknown>;
}

export interface RuntimeSummary {
  status: RuntimeStatus;
  recovery: { droppedBytes: number };
}

/** Events waiting while the ledger cannot be written; beyond this the oldest are dropped, counted. */
const MAX_HELD_EVENTS = 1000;
/** Telemetry appends in flight at most (a second bound beside the pending bytes). */
const MAX_INFLIGHT = 4096;
const STATUS_INTERVAL_MS = 1000;
const MAX_BACKOFF_MS = 60_000;

const errorCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? ((err as { cause?: NodeJS.ErrnoException }).cause?.code ?? 'EIO');

export async function runRuntime(o: RuntimeOptions): Promise<RuntimeSummary> {
  const cfg = o.config;
  const { clock, logger: log } = o;
  const dataDir = cfg.dataDir;
  const startedMono = clock.monotonic();
  const startedAt = new Date(clock.now()).toISOString();
  const previous = await readStatus(dataDir).catch(() => undefined);

  const openLedger = () =>
    Ledger.open({
      dir: ledgerDir(dataDir),
      signer: o.signer,
      mode: cfg.ledger.mode,
      simulated: o.simulated,
      clock,
      checkpointEvery: cfg.ledger.checkpointEvery,
      checkpointIntervalMs: cfg.ledger.checkpointIntervalMs,
      storage: o.storage,
    });
  let ledger: Ledger | undefined = await openLedger();
  const recovery = ledger.recovery;
  if (recovery.droppedBytes) log.warn({ droppedBytes: recovery.droppedBytes }, 'ledger: cut a torn, never-acknowledged tail left by an unclean stop');

  const recorder = o.accounting ? await LifecycleRecorder.open(ledgerDir(dataDir), o.accounting, clock.monotonic()) : undefined;
  const detector = new LifecycleDetector(cfg.sampler);
  const clockWatch = new ClockWatch(clock, cfg.health.clockJumpToleranceMs);
  let records = 0;
  let events = 0;
  const shed = { backpressure: 0, storage: 0 };
  let shedSinceReport = 0;
  let lastShedReport = startedMono;
  let lastError: string | null = null;
  let heldEvents: LifecycleEvent[] = [];
  let droppedEvents = 0;
  let storageFailure: { code: string; message: string; at: number; shedAtFailure: number } | undefined;
  let retryAt = 0;
  let backoffMs = 1000;
  let reopening = false;
  const inflight = new Set<Promise<unknown>>();
  let lastSnapshot: BatterySnapshot | undefined;
  // Started below, once the first records are on their way; the status reads it from the start.
  let uplink: Uplink | undefined = undefined;

  const track = (p: Promise<unknown>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  const storageFailed = (err: unknown) => {
    if (storageFailure) return;
    const code = errorCode(err);
    storageFailure = { code, message: (err as Error).message, at: clock.monotonic(), shedAtFailure: shed.storage };
    lastError = `ledger write failed (${code}): ${(err as Error).message}`;
    log.error(
      { code, err: (err as Error).message },
      code === 'ENOSPC'
        ? 'ledger: the disk is full; telemetry is shed (counted) and events held until space is freed: free space on the data partition'
        : 'ledger: a write failed; telemetry is shed (counted) and events held while the runtime retries: check the storage',
    );
    const failed = ledger;
    ledger = undefined;
    retryAt = clock.monotonic() + backoffMs;
    // The failed log refuses further writes; closing it releases its files. Its own error is the one above.
    if (failed) void failed.close().catch(() => undefined);
  };

  const appendEvent = (e: LifecycleEvent, telemetrySeq?: number) => {
    if (!ledger) {
      heldEvents.push(e);
      if (heldEvents.length > MAX_HELD_EVENTS) {
        heldEvents.shift();
        droppedEvents++;
      }
      return;
    }
    log.info({ event: e.type, severity: e.severity, details: e.details }, `event ${e.type}`);
    recorder?.noteEvent();
    track(
      ledger.append(e.type, eventBody(e, telemetrySeq), { signed: true }).then(
        (r) => {
          events++;
          o.onAck?.(r.seq, e.type);
        },
        (err: unknown) => {
          heldEvents.push(e);
          storageFailed(err);
        },
      ),
    );
  };

  const appendTelemetry = (snap: BatterySnapshot) => {
    if (!ledger) {
      shed.storage++;
      return;
    }
    if (ledger.pendingBytes > cfg.ledger.maxPendingBytes || inflight.size >= MAX_INFLIGHT) {
      shed.backpressure++;
      shedSinceReport++;
      return;
    }
    const seq = ledger.size;
    o.onRecord?.(seq, snap);
    track(
      ledger.appendWritten('telemetry', [snap], writeTelemetryBody).then(
        (r) => {
          records++;
          o.onAck?.(r.seq, 'telemetry');
          o.onStatus?.(status(true));
        },
        storageFailed,
      ),
    );
  };

  const appendSummary = (l: Ledger) => {
    // Counted with the events: a summary is a signed event record too.
    track(l.append(SUMMARY_TYPE, recorder!.take(clock.monotonic()), { signed: true }).then(() => events++, storageFailed));
  };

  /** Opens the ledger again after a storage failure; the accounts recount its durable events. */
  const reopenLedger = async () => {
    const l = await openLedger();
    try {
      await recorder?.recount(ledgerDir(dataDir));
    } catch (err) {
      await l.close().catch(() => undefined);
      throw err;
    }
    return l;
  };

  const reopen = () => {
    reopening = true;
    reopenLedger().then(
      (l) => {
        reopening = false;
        ledger = l;
        backoffMs = 1000;
        const f = storageFailure!;
        storageFailure = undefined;
        lastError = null;
        log.warn({ code: f.code }, 'ledger: writable again');
        appendEvent({
          type: 'storage-error',
          severity: SEVERITY.fault,
          details: { code: f.code, downMs: clock.monotonic() - f.at, shedSamples: shed.storage - f.shedAtFailure, droppedEvents },
        });
        droppedEvents = 0;
        const held = heldEvents;
        heldEvents = [];
        for (const e of held) appendEvent(e);
      },
      (err: unknown) => {
        reopening = false;
        lastError = `ledger cannot be opened (${errorCode(err)}): ${(err as Error).message}`;
        retryAt = clock.monotonic() + backoffMs;
        backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
        log.error({ code: errorCode(err), retryInMs: backoffMs }, 'ledger: still not writable; retrying');
      },
    );
  };

  const status = (running: boolean, clean?: boolean): RuntimeStatus => {
    const s = lastSnapshot;
    const c = o.driver.counters;
    return {
      format: 'voltrail-status/1',
      pid: process.pid,
      running,
      ...(clean === undefined ? {} : { clean }),
      simulated: o.simulated,
      startedAt,
      updatedAt: new Date(clock.now()).toISOString(),
      updatedMs: Date.now(),
      uptimeS: (clock.monotonic() - startedMono) / 1000,
      snapshot: s
        ? {
            t: s.t,
            packVoltageV: s.packVoltageV,
            currentA: s.currentA,
            socPct: s.socPct,
            temperatureMaxC: s.temperaturesC.length ? Math.max(...s.temperaturesC) : null,
            faults: FAULT_NAMES.filter((n) => s.faults[n]),
            contactorClosed: s.contactorClosed,
          }
        : null,
      records,
      events,
      shed: { ...shed },
      driver: { source: o.driver.source, frames: c.frames, decoded: c.decoded, unknown: c.unknown, rejected: c.rejected, ...(c.lastError ? { lastError: c.lastError } : {}) },
      ledgerPendingBytes: ledger?.pendingBytes ?? 0,
      staleSources: [...detector.staleSources],
      signer: o.signer.backendName,
      lastError,
      rssBytes: process.memoryUsage.rss(),
      ...(uplink ? { uplink: { ...uplink.status } } : {}),
    };
  };

  let statusWrite: Promise<void> | undefined;
  const saveStatus = (s: RuntimeStatus) => {
    if (statusWrite) return; // one write at a time; the next second brings a fresher one
    statusWrite = writeStatus(dataDir, s)
      .catch((err: Error) => log.warn({ err: err.message }, 'status.json could not be written'))
      .finally(() => (statusWrite = undefined));
  };

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal.addEventListener('abort', onAbort, { once: true });
  if (o.signal.aborted) stop.abort();
  if (o.durationMs !== undefined) void o.clock.sleep(o.durationMs, stop.signal).then(() => stop.abort(), () => undefined);

  // The first record comes one period after the driver starts listening.
  const sampler = new Sampler(cfg.sampler, clock.monotonic());
  const reading = o.driver.start(stop.signal).catch((err: Error) => {
    lastError = `${o.driver.source}: ${err.message}`;
    log.error({ source: o.driver.source, err: err.message }, 'BMS driver stopped');
  });
  const companion = o.companion?.(stop.signal);

  appendEvent({
    type: 'restart',
    severity: SEVERITY.info,
    details: {
      previous: previous === undefined ? 'first' : previous.running ? 'unclean' : previous.clean ? 'clean' : 'unclean',
      ...(recovery.droppedBytes ? { droppedBytes: recovery.droppedBytes } : {}),
    },
  });
  log.info({ dataDir, simulated: o.simulated, signer: o.signer.backendName }, 'runtime started');
  o.notifier?.ready();
  saveStatus(status(true));

  // Store-and-forward to the fleet (firmware-ts/UPLINK.md): it reads the ledger's durable entries.
  // Loaded only when configured: the MQTT client costs a board over 10 MB of memory.
  uplink = cfg.uplink
    ? await (await import('../uplink/board-uplink.ts')).startBoardUplink({
        config: cfg.uplink,
        dataDir,
        durable: () => ledger?.durableEntries ?? 0,
        appendWitness: (cs) => (ledger ? ledger.appendWitness(cs) : Promise.reject(new Error('the ledger is not writable now'))),
        requestCheckpoint: () => void ledger?.checkpoint().catch(() => undefined),
        logger: log,
      })
    : undefined;

  const tickMs = Math.min(100, cfg.sampler.periodMs);
  let lastStatusAt = clock.monotonic();
  try {
    while (!stop.signal.aborted) {
      try {
        await clock.sleep(tickMs, stop.signal);
      } catch {
        break;
      }
      const now = clock.monotonic();
      o.notifier?.alive(now);
      const jump = clockWatch.check();
      if (jump) {
        log.warn(jump, 'wall clock jumped');
        appendEvent({ type: 'clock-jump', severity: SEVERITY.warning, details: { deltaMs: jump.deltaMs, wallBefore: jump.wallBefore, wallAfter: jump.wallAfter } });
      }
      const snap = o.driver.snapshot();
      for (const e of detector.observe(snap)) appendEvent(e, ledger && snap.packVoltageV !== null ? ledger.size : undefined);
      // No telemetry until the BMS has been heard: an empty snapshot says nothing.
      if (snap.packVoltageV !== null) {
        lastSnapshot = snap;
        recorder?.observe(snap);
        if (ledger && recorder?.due(now)) appendSummary(ledger);
        if (sampler.due(snap, now)) {
          sampler.taken(snap, now);
          appendTelemetry(snap);
        }
      }
      if (shedSinceReport > 0 && now - lastShedReport >= cfg.health.shedReportIntervalMs && ledger) {
        log.warn({ samples: shedSinceReport, pendingBytes: ledger.pendingBytes }, 'telemetry shed under backpressure');
        appendEvent({ type: 'shed', severity: SEVERITY.warning, details: { samples: shedSinceReport, sinceMs: now - lastShedReport, total: shed.backpressure } });
        shedSinceReport = 0;
        lastShedReport = now;
      }
      if (!ledger && !reopening && now >= retryAt) reopen();
      if (ledger) ledger.tick().catch(storageFailed);
      if (now - lastStatusAt >= STATUS_INTERVAL_MS) {
        lastStatusAt = now;
        const s = status(true);
        saveStatus(s);
        if (!o.onStatus) continue;
        // Between records too, so a silent BMS still shows on the status line.
        o.onStatus(s);
      }
    }
  } finally {
    stop.abort();
    o.signal.removeEventListener('abort', onAbort);
    o.notifier?.stopping();
    await Promise.allSettled([reading, companion]);
    await Promise.allSettled([...inflight]);
    await uplink?.close();
    let clean = true;
    if (ledger) {
      try {
        // The accounts as they stand at shutdown, so the next start restores them.
        if (recorder?.changed) {
          await ledger.append(SUMMARY_TYPE, recorder.take(clock.monotonic()), { signed: true });
          events++;
        }
        await ledger.close();
      } catch (err) {
        clean = false;
        log.error({ err: (err as Error).message }, 'ledger: final checkpoint failed');
      }
    } else clean = false;
    await statusWrite;
    const final = status(false, clean);
    await writeStatus(dataDir, final).catch(() => undefined);
    log.info({ records, events, shed }, 'runtime stopped');
  }
  return { status: status(false), recovery };
}
