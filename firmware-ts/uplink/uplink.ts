// The board's uplink (firmware-ts/UPLINK.md): store-and-forward straight from the ledger to the
// fleet over MQTT 5, QoS 1. What leaves the board is the ledger's own durable entries, in index
// order, in batches; the resend offset (resend-offset.ts) advances only when a collector's ack
// says it verified and stored them (a broker PUBACK only says the broker has the message).
// - bounded in-flight window: at most `windowEntries` entries and `windowBytes` bytes sent and
//   not yet acknowledged; a full window of unsigned leaves asks the ledger for a checkpoint,
//   since the collector stores unsigned leaves only once a checkpoint covers them;
// - resends: after a (re)connect, after a restart (from the offset file), and when no ack has
//   moved the offset for `ackTimeoutMs` while entries are in flight;
// - live data during a backlog: each round that still has backlog also sends the newest
//   entries as their own small batch; the collector keeps such out-of-order batches (bounded)
//   and stores them the moment the backlog reaches them, so live records reach the fleet as
//   soon as they are made, while the backlog drains with the rest of the window.
// - witness countersignatures in acks are appended to the board's ledger (EntryKind.witness).
import { createHash } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { LogTail } from '../../ledger/log/log-tail.ts';
import type { Logger } from '../runtime/logger.ts';
import { ackTopic, decodeAck, encodeBatch, MAX_BATCH_ENTRIES, recordsTopic, type RefusalReason } from './wire.ts';
import { readOffset, writeOffset } from './resend-offset.ts';
import { peekSign1Payload } from '../../ledger/identity/cose-peek.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import type { PublicKeyRef } from '../../ledger/identity/device-cert.ts';
import { verifyCountersignature } from '../../ledger/identity/witness.ts';
import { EntryKind } from '../../ledger/log/frame.ts';

export interface UplinkTls {
  ca?: Uint8Array;
  cert?: Uint8Array;
  key?: Uint8Array;
  /** Default true: the broker's certificate must chain to `ca` (or the system's roots). */
  rejectUnauthorized?: boolean;
}

export interface UplinkOptions {
  url: string;
  topicPrefix: string;
  /** The log id: hex kid of the key that signed the log's first record. */
  logId: string;
  clientId?: string;
  tls?: UplinkTls;
  /** The board's data folder (the offset file) and ledger folder (the segments). */
  dataDir: string;
  ledgerDir: string;
  /** The ledger's durable entry count now (0 while it is closed). */
  durable: () => number;
  /** Appends a witness countersignature to the board's ledger (checked against `fleetKey` first). */
  appendWitness?: (countersignature: Uint8Array) => Promise<unknown>;
  /** The fleet authority's key: countersignatures are kept only when they verify against it. */
  fleetKey?: PublicKeyRef;
  /** Asks the ledger for a checkpoint (a full window of unsigned leaves waits for one). */
  requestCheckpoint?: () => void;
  windowEntries?: number;
  windowBytes?: number;
  batchEntries?: number;
  batchBytes?: number;
  ackTimeoutMs?: number;
  /** How often new durable entries are looked for, ms (default 100). */
  pollMs?: number;
  logger: Logger;
}

export interface UplinkStatus {
  connected: boolean;
  /** The resend offset: entries the fleet holds. */
  stored: number;
  /** Entries sent so far in this connection (from the offset). */
  sent: number;
  durable: number;
  batches: number;
  liveBatches: number;
  acks: number;
  resends: number;
  witnesses: number;
  refused: number;
  lastRefusal?: { reason: RefusalReason; detail: string; at: number };
}

interface InFlight {
  to: number;
  bytes: number;
}

/** During a backlog, the newest entries go out as their own batch at most this often. */
const LIVE_INTERVAL_MS = 1000;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export class Uplink {
  readonly #o: Required<Pick<UplinkOptions, 'windowEntries' | 'windowBytes' | 'batchEntries' | 'batchBytes' | 'ackTimeoutMs' | 'pollMs'>> & UplinkOptions;
  readonly #client: MqttClient;
  readonly #tail: LogTail;
  readonly #log: Logger;
  #offset: number;
  #sentUpTo: number;
  #liveSentUpTo = 0;
  #inflight: InFlight[] = [];
  #lastProgress = Date.now();
  /**
   * What the collector can store of what was sent: unsigned leaves wait for the checkpoint that
   * covers them, so only entries up to the first leaf not yet followed by a checkpoint count.
   * Waiting for a checkpoint the ledger has not made yet is not a lost ack.
   */
  #storableUpTo = 0;
  #uncoveredFrom: number | undefined;
  #lastCheckpointAsk = 0;
  #lastLive = 0;
  #refusedUntil = 0;
  #pumping = false;
  #again = false;
  #closed = false;
  #timer: NodeJS.Timeout;
  #offsetWrite: Promise<void> = Promise.resolve();
  #witnessed = new Set<string>();
  /** Checkpoints sent and not yet countersigned, by the hex SHA-256 of their bytes (bounded). */
  #sentCheckpoints = new Map<string, Uint8Array>();
  #witnessAppends: Promise<unknown> = Promise.resolve();
  readonly status: UplinkStatus;

  private constructor(o: UplinkOptions, offset: number) {
    this.#o = {
      windowEntries: 8192,
      windowBytes: 8 * 1024 * 1024,
      batchEntries: 512,
      batchBytes: 512 * 1024,
      ackTimeoutMs: 10_000,
      pollMs: 100,
      ...o,
    };
    this.#o.batchEntries = Math.min(this.#o.batchEntries, MAX_BATCH_ENTRIES, this.#o.windowEntries);
    this.#log = o.logger;
    this.#tail = new LogTail(o.ledgerDir);
    this.#offset = offset;
    this.#sentUpTo = offset;
    this.status = { connected: false, stored: offset, sent: offset, durable: 0, batches: 0, liveBatches: 0, acks: 0, resends: 0, witnesses: 0, refused: 0 };
    const opts: IClientOptions = {
      protocolVersion: 5,
      clientId: o.clientId ?? `voltrail-${o.logId.slice(0, 16)}`,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      keepalive: 30,
      ...(o.tls ? { ca: o.tls.ca && Buffer.from(o.tls.ca), cert: o.tls.cert && Buffer.from(o.tls.cert), key: o.tls.key && Buffer.from(o.tls.key), rejectUnauthorized: o.tls.rejectUnauthorized ?? true } : {}),
    };
    this.#client = mqtt.connect(o.url, opts);
    this.#client.on('connect', () => this.#onConnect());
    this.#client.on('close', () => {
      if (this.status.connected) this.#log.warn({ url: redact(o.url) }, 'uplink: disconnected from the broker; records stay in the ledger and are resent');
      this.status.connected = false;
    });
    this.#client.on('error', (err) => this.#log.warn({ err: err.message }, 'uplink: broker connection error'));
    this.#client.on('message', (topic, payload) => this.#onAck(topic, payload));
    this.#timer = setInterval(() => this.#tick(), this.#o.pollMs);
  }

  /** Starts the uplink from the offset kept in the data folder. */
  static async start(o: UplinkOptions): Promise<Uplink> {
    const offset = await readOffset(o.dataDir, o.logId);
    return new Uplink(o, offset);
  }

  #onConnect(): void {
    this.status.connected = true;
    this.#log.info({ url: redact(this.#o.url), offset: this.#offset }, 'uplink: connected; sending from the acknowledged offset');
    // Everything not acknowledged is sent again: the collector drops what it already holds.
    this.#rewind();
    this.#client.subscribe(ackTopic(this.#o.topicPrefix, this.#o.logId), { qos: 1 }, (err) => {
      if (err) this.#log.warn({ err: err.message }, 'uplink: could not subscribe to acknowledgements');
      this.#pump();
    });
  }

  #rewind(): void {
    this.#sentUpTo = this.#offset;
    this.#liveSentUpTo = this.#offset;
    this.#inflight = [];
    this.#lastProgress = Date.now();
    // The offset is always at a point the collector could store up to: nothing uncovered before it.
    this.#storableUpTo = this.#offset;
    this.#uncoveredFrom = undefined;
  }

  #tick(): void {
    this.status.durable = this.#o.durable();
    if (this.#storableUpTo > this.#offset && Date.now() - this.#lastProgress > this.#o.ackTimeoutMs) {
      this.status.resends++;
      this.#log.warn({ offset: this.#offset, sentUpTo: this.#sentUpTo }, 'uplink: no acknowledgement in time; resending from the offset');
      this.#rewind();
    }
    this.#pump();
  }

  #onAck(topic: string, payload: Buffer): void {
    if (topic !== ackTopic(this.#o.topicPrefix, this.#o.logId)) return;
    let ack;
    try {
      ack = decodeAck(new Uint8Array(payload));
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'uplink: an acknowledgement could not be read; ignored');
      return;
    }
    this.status.acks++;
    for (const cs of ack.countersignatures) this.#keepWitness(cs);
    if (ack.refused) {
      this.status.refused++;
      this.status.lastRefusal = { ...ack.refused, at: Date.now() };
      this.#log.error({ reason: ack.refused.reason, detail: ack.refused.detail, at: ack.stored }, 'uplink: the fleet collector refused records; they stay in the ledger');
      // Resending refused records at full speed helps nobody: wait before trying again.
      this.#refusedUntil = Date.now() + Math.max(this.#o.ackTimeoutMs, 30_000);
    }
    if (ack.stored > this.#offset) {
      this.#offset = ack.stored;
      this.status.stored = ack.stored;
      this.#lastProgress = Date.now();
      while (this.#inflight.length && this.#inflight[0]!.to <= ack.stored) this.#inflight.shift();
      if (this.#sentUpTo < ack.stored) this.#sentUpTo = ack.stored;
      this.#saveOffset();
    }
    this.#pump();
  }

  #keepWitness(cs: Uint8Array): void {
    if (!this.#o.appendWitness || !this.#o.fleetKey) return;
    let key: string;
    try {
      // Which checkpoint it names: only one this board sent, and it must verify against the fleet key.
      const st = decodeCbor(peekSign1Payload(cs), { maxDepth: 4, maxSize: 4096 });
      const h = st instanceof Map ? st.get(1) : undefined;
      if (!(h instanceof Uint8Array)) throw new TypeError('no checkpoint hash');
      key = Buffer.from(h).toString('hex');
      if (this.#witnessed.has(key)) return; // one countersignature per checkpoint is enough
      const checkpoint = this.#sentCheckpoints.get(key);
      if (!checkpoint) return; // from before a restart: the collector countersigns it again on the resend
      verifyCountersignature(cs, { authority: this.#o.fleetKey, checkpoint });
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'uplink: a countersignature in an acknowledgement does not verify; not kept');
      return;
    }
    this.#sentCheckpoints.delete(key);
    if (this.#witnessed.size > 100_000) this.#witnessed.clear();
    this.#witnessed.add(key);
    const append = this.#o.appendWitness;
    this.#witnessAppends = this.#witnessAppends.then(() =>
      append(cs).then(
        () => void this.status.witnesses++,
        (err: unknown) => {
          this.#witnessed.delete(key);
          this.#log.warn({ err: (err as Error).message }, 'uplink: a witness countersignature could not be appended to the ledger');
        },
      ),
    );
  }

  #saveOffset(): void {
    const o = { stored: this.#offset, logId: this.#o.logId };
    this.#offsetWrite = this.#offsetWrite.then(async () => {
      // Writes are chained; a later one carries the newest offset, so skip the stale ones.
      if (o.stored !== this.#offset) return;
      await writeOffset(this.#o.dataDir, o).catch((err: Error) => this.#log.warn({ err: err.message }, 'uplink: the resend offset could not be saved (a restart resends more)'));
    });
  }

  #inflightBytes(): number {
    let n = 0;
    for (const f of this.#inflight) n += f.bytes;
    return n;
  }

  #pump(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    this.#pumpLoop()
      .catch((err: unknown) => this.#log.error({ err: (err as Error).message }, 'uplink: reading the ledger failed; retrying'))
      .finally(() => {
        this.#pumping = false;
        if (this.#again && !this.#closed) {
          this.#again = false;
          this.#pump();
        }
      });
  }

  async #pumpLoop(): Promise<void> {
    const o = this.#o;
    while (!this.#closed && this.status.connected && Date.now() >= this.#refusedUntil) {
      const end = o.durable();
      this.status.durable = end;
      if (this.#sentUpTo >= end) return;
      // Live data first when a backlog is being drained: the newest entries as their own batch.
      if (end - this.#sentUpTo > o.batchEntries && end > this.#liveSentUpTo && Date.now() - this.#lastLive >= LIVE_INTERVAL_MS) {
        this.#lastLive = Date.now();
        const from = Math.max(this.#liveSentUpTo, end - Math.max(1, o.batchEntries >> 3));
        const live = await this.#tail.read(from, { end, maxEntries: o.batchEntries, maxBytes: o.batchBytes });
        if (live.length) {
          this.#publish(from, live);
          this.status.liveBatches++;
          this.#liveSentUpTo = from + live.length;
        }
      }
      const inflightEntries = this.#sentUpTo - this.#offset;
      const room = Math.min(o.batchEntries, o.windowEntries - inflightEntries);
      if (room <= 0 || this.#inflightBytes() >= o.windowBytes) {
        if (o.requestCheckpoint && Date.now() - this.#lastCheckpointAsk > o.ackTimeoutMs / 2) {
          this.#lastCheckpointAsk = Date.now();
          o.requestCheckpoint();
        }
        return;
      }
      const from = this.#sentUpTo;
      const entries = await this.#tail.read(from, { end, maxEntries: room, maxBytes: o.batchBytes });
      if (entries.length === 0 || this.#sentUpTo !== from || !this.status.connected) return;
      const bytes = this.#publish(from, entries);
      if (this.#storableUpTo <= this.#offset) this.#lastProgress = Date.now();
      for (const e of entries) {
        if (e.kind === EntryKind.leaf) this.#uncoveredFrom ??= e.index;
        else if (e.kind === EntryKind.checkpoint) this.#uncoveredFrom = undefined;
        this.#storableUpTo = this.#uncoveredFrom ?? e.index + 1;
      }
      this.#sentUpTo = from + entries.length;
      this.status.sent = this.#sentUpTo;
      this.#inflight.push({ to: this.#sentUpTo, bytes });
      this.status.batches++;
    }
  }

  #publish(from: number, entries: { kind: number; payload: Uint8Array }[]): number {
    if (this.#o.fleetKey) {
      for (const e of entries) if (e.kind === EntryKind.checkpoint) this.#sentCheckpoints.set(sha256(e.payload), e.payload);
      while (this.#sentCheckpoints.size > 4096) this.#sentCheckpoints.delete(this.#sentCheckpoints.keys().next().value!);
    }
    const body = encodeBatch({ from, entries: entries.map((e) => ({ kind: e.kind, payload: e.payload })) });
    const id = Buffer.alloc(8);
    id.writeBigUInt64BE(BigInt(from));
    this.#client.publish(recordsTopic(this.#o.topicPrefix, this.#o.logId), Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
      qos: 1,
      properties: { responseTopic: ackTopic(this.#o.topicPrefix, this.#o.logId), correlationData: id, contentType: 'application/cbor' },
    });
    return body.length;
  }

  /** Stops sending; waits for the offset file and witness appends in progress. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await new Promise<void>((r) => this.#client.end(true, {}, () => r()));
    await this.#offsetWrite;
    await this.#witnessAppends;
  }
}

/** The broker URL without a password, for logs. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid url)';
  }
}
