// The fleet collector (`voltrail collect`, firmware-ts/UPLINK.md): an MQTT 5 client that joins
// the collectors' shared subscription ($share/voltrail-collectors/<prefix>/v1/+/records), so any
// number of instances behind one broker (cluster) share the boards' batches; scale-out is the
// broker's job. Each batch is verified and stored in the device's fleet ledger (device-store.ts,
// shared data folder, per-device lock), then acknowledged end to end on the device's ack topic
// with the count the fleet holds and the witness countersignatures of the checkpoints verified.
// Refused entries (forged, replayed, revoked, uncertified, conflicting, malformed) are counted
// by reason, logged, and answered, never stored. Acks go only to the device's own ack topic,
// never to a response topic a message names, so a sender cannot make the collector publish
// elsewhere. Counters go to DIR/status/<client-id>.json every second.
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { CoseSigner } from '../../ledger/cose/sign1.ts';
import type { PublicKeyRef } from '../../ledger/identity/device-cert.ts';
import { mergeRevocationLists, type Revocation } from '../../ledger/identity/revocation.ts';
import { countersignCheckpoint } from '../../ledger/identity/witness.ts';
import type { Logger } from '../runtime/logger.ts';
import { redact, type UplinkTls } from '../uplink/uplink.ts';
import { ackTopic, collectorSubscription, decodeBatch, encodeAck, logIdOfTopic, REFUSAL_REASONS, type RefusalReason } from '../uplink/wire.ts';
import { DeviceStore } from './device-store.ts';
import { LockTimeout } from './device-lock.ts';

export interface CollectorOptions {
  url: string;
  topicPrefix: string;
  dataDir: string;
  clientId?: string;
  tls?: UplinkTls;
  /** The fleet authority's public key: the only trust anchor. */
  authority: PublicKeyRef;
  /** Signed revocation lists; re-read when they change. */
  revocationFiles?: string[];
  /** The witness key and its fleet endorsement: without them, no countersignatures. */
  witness?: { key: CoseSigner; endorsement: Uint8Array };
  logger: Logger;
  /** Batches queued in this instance at most; beyond, new ones are dropped (the boards resend). */
  maxQueued?: number;
  /** Device logs kept open at most (least recently used closed first). */
  maxOpenDevices?: number;
  statusIntervalMs?: number;
  /** Wall clock for countersignature times (default Date.now). */
  now?: () => number;
}

export interface CollectorCounters {
  batches: number;
  entriesStored: number;
  duplicates: number;
  pendingEntries: number;
  droppedEntries: number;
  busy: number;
  /** Time spent verifying and storing batches, ms. */
  storeMs: number;
  countersignatures: number;
  acks: number;
  refused: Record<RefusalReason, number>;
  /** Refused entries (a refused batch counts once in `refused`, its entries here). */
  refusedEntries: number;
  lastRefusal?: { logId: string; reason: RefusalReason; detail: string; at: string };
}

export interface CollectorStatus {
  format: 'voltrail-collector-status/1';
  clientId: string;
  pid: number;
  running: boolean;
  connected: boolean;
  updatedAt: string;
  updatedMs: number;
  counters: CollectorCounters;
  revocationListNumber?: number;
}

export const statusDir = (dataDir: string) => join(dataDir, 'status');

export class Collector {
  readonly clientId: string;
  readonly counters: CollectorCounters;
  readonly #o: CollectorOptions;
  readonly #client: MqttClient;
  readonly #log: Logger;
  readonly #devices = new Map<string, DeviceStore>();
  readonly #chains = new Map<string, Promise<void>>();
  #queued = 0;
  #connected = false;
  #revoked: ReadonlyMap<string, Revocation> = new Map();
  #crlNumber: number | undefined;
  #crlMtimes = '';
  #timer: NodeJS.Timeout;
  #closed = false;
  #statusWrite: Promise<void> = Promise.resolve();

  private constructor(o: CollectorOptions) {
    this.#o = o;
    this.#log = o.logger;
    this.clientId = o.clientId ?? `voltrail-collector-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
    this.counters = {
      batches: 0,
      entriesStored: 0,
      duplicates: 0,
      pendingEntries: 0,
      droppedEntries: 0,
      busy: 0,
      storeMs: 0,
      countersignatures: 0,
      acks: 0,
      refused: Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>,
      refusedEntries: 0,
    };
    const opts: IClientOptions = {
      protocolVersion: 5,
      clientId: this.clientId,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      keepalive: 30,
      ...(o.tls ? { ca: o.tls.ca && Buffer.from(o.tls.ca), cert: o.tls.cert && Buffer.from(o.tls.cert), key: o.tls.key && Buffer.from(o.tls.key), rejectUnauthorized: o.tls.rejectUnauthorized ?? true } : {}),
    };
    this.#client = mqtt.connect(o.url, opts);
    this.#client.on('connect', () => {
      this.#connected = true;
      this.#log.info({ url: redact(o.url), subscription: collectorSubscription(o.topicPrefix) }, 'collector: connected');
      this.#client.subscribe(collectorSubscription(o.topicPrefix), { qos: 1 }, (err) => {
        if (err) this.#log.error({ err: err.message }, 'collector: the shared subscription was refused (does the broker support MQTT 5 shared subscriptions?)');
      });
    });
    this.#client.on('close', () => (this.#connected = false));
    this.#client.on('error', (err) => this.#log.warn({ err: err.message }, 'collector: broker connection error'));
    this.#client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    this.#timer = setInterval(() => {
      void this.#reloadRevocations();
      this.#saveStatus(true);
    }, o.statusIntervalMs ?? 1000);
  }

  static async start(o: CollectorOptions): Promise<Collector> {
    await mkdir(join(o.dataDir, 'devices'), { recursive: true });
    await mkdir(statusDir(o.dataDir), { recursive: true });
    const c = new Collector(o);
    await c.#reloadRevocations(true);
    return c;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Re-reads the revocation lists when a file changed; a bad list keeps the last good set (and says so). */
  async #reloadRevocations(first = false): Promise<void> {
    const files = this.#o.revocationFiles ?? [];
    if (files.length === 0) return;
    let mtimes: string;
    try {
      mtimes = (await Promise.all(files.map(async (f) => `${f}:${(await stat(f)).mtimeMs}`))).join('|');
    } catch (err) {
      if (first) throw err;
      return;
    }
    if (mtimes === this.#crlMtimes) return;
    try {
      const lists = await Promise.all(files.map(async (f) => new Uint8Array(await readFile(f))));
      const merged = mergeRevocationLists(lists, this.#o.authority);
      this.#revoked = merged.revokedAt;
      this.#crlNumber = merged.newest?.number;
      this.#crlMtimes = mtimes;
      this.#log.info({ number: this.#crlNumber, revoked: merged.revokedAt.size }, 'collector: revocation list loaded');
    } catch (err) {
      if (first) throw err;
      this.#log.error({ err: (err as Error).message }, 'collector: a revocation list could not be used; keeping the previous one');
    }
  }

  #store(logId: string): DeviceStore {
    let s = this.#devices.get(logId);
    if (s) {
      // Most recently used last.
      this.#devices.delete(logId);
      this.#devices.set(logId, s);
      return s;
    }
    const w = this.#o.witness;
    const now = this.#o.now ?? Date.now;
    s = new DeviceStore(this.#o.dataDir, logId, { authority: this.#o.authority, revoked: () => this.#revoked }, w && { countersign: (checkpoint) => countersignCheckpoint({ checkpoint, witnessKey: w.key, endorsement: w.endorsement, time: now() }) });
    this.#devices.set(logId, s);
    const max = this.#o.maxOpenDevices ?? 256;
    if (this.#devices.size > max) {
      const [oldId, old] = this.#devices.entries().next().value as [string, DeviceStore];
      // Close only once its queued batches are done.
      const chain = this.#chains.get(oldId) ?? Promise.resolve();
      this.#devices.delete(oldId);
      void chain.then(() => old.close());
    }
    return s;
  }

  #onMessage(topic: string, payload: Buffer): void {
    this.counters.batches++;
    const logId = logIdOfTopic(this.#o.topicPrefix, topic);
    if (!logId) return this.#refuse('(none)', 'malformed', `topic ${topic} is not <prefix>/v1/<64 hex digits>/records`, 0);
    let batch;
    try {
      batch = decodeBatch(new Uint8Array(payload));
    } catch (err) {
      return this.#refuse(logId, 'malformed', `records message: ${(err as Error).message}`, 0, true);
    }
    if (this.#queued >= (this.#o.maxQueued ?? 1000)) {
      this.counters.busy++;
      return;
    }
    this.#queued++;
    const prev = this.#chains.get(logId) ?? Promise.resolve();
    const next = prev.then(async () => {
      try {
        const store = this.#store(logId);
        const t0 = performance.now();
        const out = await store.handle(batch);
        this.counters.storeMs += performance.now() - t0;
        this.counters.entriesStored += out.stored;
        this.counters.duplicates += out.duplicates;
        this.counters.pendingEntries = out.pending;
        this.counters.droppedEntries += out.dropped;
        this.counters.countersignatures += out.ack.countersignatures.length;
        if (out.refused) this.#refuse(logId, out.refused.reason, out.refused.detail, out.refused.entries);
        this.#ack(logId, encodeAck(out.ack));
      } catch (err) {
        if (err instanceof LockTimeout) {
          this.counters.busy++;
          this.#log.warn({ logId, err: err.message }, 'collector: device busy; the batch is left for the board to resend');
        } else this.#log.error({ logId, err: (err as Error).message }, 'collector: storing a batch failed; the board will resend it');
      } finally {
        this.#queued--;
      }
    });
    this.#chains.set(logId, next);
    void next.then(() => {
      if (this.#chains.get(logId) === next) this.#chains.delete(logId);
    });
  }

  #refuse(logId: string, reason: RefusalReason, detail: string, entries: number, answer = false): void {
    this.counters.refused[reason]++;
    this.counters.refusedEntries += entries;
    this.counters.lastRefusal = { logId, reason, detail, at: new Date().toISOString() };
    this.#log.warn({ logId, reason, detail }, `collector: refused (${reason})`);
    if (answer) {
      const dev = this.#devices.get(logId);
      this.#ack(logId, encodeAck({ stored: dev?.state.count ?? 0, countersignatures: [], refused: { reason, detail } }));
    }
  }

  #ack(logId: string, body: Uint8Array): void {
    this.counters.acks++;
    this.#client.publish(ackTopic(this.#o.topicPrefix, logId), Buffer.from(body.buffer, body.byteOffset, body.byteLength), { qos: 1 });
  }

  status(running = true): CollectorStatus {
    return {
      format: 'voltrail-collector-status/1',
      clientId: this.clientId,
      pid: process.pid,
      running,
      connected: this.#connected,
      updatedAt: new Date().toISOString(),
      updatedMs: Date.now(),
      counters: structuredClone(this.counters),
      ...(this.#crlNumber === undefined ? {} : { revocationListNumber: this.#crlNumber }),
    };
  }

  #saveStatus(running: boolean): Promise<void> {
    const file = join(statusDir(this.#o.dataDir), `${this.clientId.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
    const s = this.status(running);
    this.#statusWrite = this.#statusWrite.then(async () => {
      try {
        await writeFile(`${file}.tmp`, JSON.stringify(s, null, 2) + '\n');
        await rename(`${file}.tmp`, file);
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'collector: the status file could not be written');
      }
    });
    return this.#statusWrite;
  }

  /** Waits for every batch received so far to be stored and acknowledged. */
  async drain(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()]);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    // Stop taking batches, store and acknowledge the ones taken, then disconnect.
    await new Promise<void>((r) => this.#client.unsubscribe(collectorSubscription(this.#o.topicPrefix), () => r()));
    await this.drain();
    await new Promise<void>((r) => this.#client.end(false, {}, () => r()));
    for (const s of this.#devices.values()) await s.close();
    await this.#saveStatus(false);
  }
}
