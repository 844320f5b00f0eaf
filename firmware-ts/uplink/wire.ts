// The uplink's MQTT topics and message bodies (firmware-ts/UPLINK.md is the normative text):
//   <prefix>/v1/<log-id>/records   board -> collectors: [from-index, [[entry-kind, bytes], ...]]
//   <prefix>/v1/<log-id>/ack       collector -> board:  { 1: stored, 2: [countersignature...], ? 3: refusal }
// `log-id` is the hex kid of the key that signed the log's first record (it never changes,
// even after a key rotation). Entries travel exactly as stored in the board's ledger, so the
// collector can check the Merkle tree and every signature on the very bytes the board keeps.
// Bodies are canonical CBOR (ledger/cbor), decoded with tight limits: they come from the network.
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import type { CborValue } from '../../ledger/cbor/value.ts';
import { EntryKind } from '../../ledger/log/frame.ts';

export const WIRE_VERSION = 'v1';
/** A batch holds at most this many entries, and a message at most MAX_MESSAGE_BYTES. */
export const MAX_BATCH_ENTRIES = 4096;
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
/** The shared-subscription group collectors join (MQTT 5 section 4.8.2). */
export const COLLECTOR_GROUP = 'voltrail-collectors';

const LOG_ID_RE = /^[0-9a-f]{64}$/;

export interface WireEntry {
  kind: number;
  payload: Uint8Array;
}

export interface RecordBatch {
  /** Index (in the board's log) of the first entry. */
  from: number;
  entries: WireEntry[];
}

export type RefusalReason = 'malformed' | 'forged' | 'uncertified' | 'revoked' | 'replayed' | 'conflict';
export const REFUSAL_REASONS: readonly RefusalReason[] = ['malformed', 'forged', 'uncertified', 'revoked', 'replayed', 'conflict'];

export interface Ack {
  /** Entries of the board's log the fleet holds, verified, from index 0: the board's new resend offset. */
  stored: number;
  /** Witness countersignatures (COSE_Sign1) of checkpoints the collector verified. */
  countersignatures: Uint8Array[];
  /** Why entries at `stored` were refused, when they were. */
  refused?: { reason: RefusalReason; detail: string };
}

export const recordsTopic = (prefix: string, logId: string) => `${prefix}/${WIRE_VERSION}/${logId}/records`;
export const ackTopic = (prefix: string, logId: string) => `${prefix}/${WIRE_VERSION}/${logId}/ack`;
/** What collectors subscribe to: every board's records, shared among the group. */
export const collectorSubscription = (prefix: string) => `$share/${COLLECTOR_GROUP}/${prefix}/${WIRE_VERSION}/+/records`;

/** Checks a topic prefix: MQTT topic levels without wildcards, no leading or trailing slash. */
export function checkTopicPrefix(prefix: string, field = 'topicPrefix'): string {
  if (typeof prefix !== 'string') throw new TypeError(`${field} must be a string`);
  if (!/^[^#+/$\0][^#+\0]*$/.test(prefix) || prefix.endsWith('/') || prefix.includes('//')) {
    throw new RangeError(`${field}: '${prefix}' is not a topic prefix (levels separated by '/', no wildcards '+' '#', no leading '$' or '/')`);
  }
  return prefix;
}

/** The log id in a records topic, or undefined when the topic is not one. */
export function logIdOfTopic(prefix: string, topic: string): string | undefined {
  const head = `${prefix}/${WIRE_VERSION}/`;
  if (!topic.startsWith(head) || !topic.endsWith('/records')) return undefined;
  const id = topic.slice(head.length, -'/records'.length);
  return LOG_ID_RE.test(id) ? id : undefined;
}

export function encodeBatch(b: RecordBatch): Uint8Array {
  return encodeCanonical([b.from, b.entries.map((e) => [e.kind, e.payload])]);
}

const LIMITS = { maxSize: MAX_MESSAGE_BYTES, maxDepth: 4, maxItems: 3 * MAX_BATCH_ENTRIES + 8, maxArrayLength: MAX_BATCH_ENTRIES } as const;

/** Decodes a records message; throws TypeError/RangeError naming what is wrong. */
export function decodeBatch(bytes: Uint8Array): RecordBatch {
  const v = decodeCbor(bytes, LIMITS);
  if (!Array.isArray(v) || v.length !== 2) throw new TypeError('records message: expected [from-index, entries]');
  const [from, list] = v as [CborValue, CborValue];
  if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0) throw new TypeError('records message: from-index must be an unsigned integer');
  if (!Array.isArray(list) || list.length === 0) throw new TypeError('records message: entries must be a non-empty array');
  const entries = list.map((e, i) => {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'number' || !(e[1] instanceof Uint8Array)) throw new TypeError(`records message: entry ${i} must be [kind, bytes]`);
    const kind = e[0];
    if (kind < EntryKind.signedRecord || kind > EntryKind.witness || !Number.isInteger(kind)) throw new RangeError(`records message: entry ${i} has unknown kind ${kind}`);
    return { kind, payload: e[1] };
  });
  return { from, entries };
}

export function encodeAck(a: Ack): Uint8Array {
  const m = new Map<number, CborValue>([
    [1, a.stored],
    [2, a.countersignatures],
  ]);
  if (a.refused) m.set(3, [a.refused.reason, a.refused.detail.slice(0, 500)]);
  return encodeCanonical(m);
}

export function decodeAck(bytes: Uint8Array): Ack {
  const v = decodeCbor(bytes, { maxSize: 4 * 1024 * 1024, maxDepth: 4, maxItems: 20_000, maxArrayLength: 10_000 });
  if (!(v instanceof Map)) throw new TypeError('ack: expected a CBOR map');
  const stored = v.get(1);
  const cs = v.get(2);
  if (typeof stored !== 'number' || !Number.isSafeInteger(stored) || stored < 0) throw new TypeError('ack: field 1 (stored) must be an unsigned integer');
  if (!Array.isArray(cs) || !cs.every((c) => c instanceof Uint8Array)) throw new TypeError('ack: field 2 (countersignatures) must be an array of byte strings');
  const ack: Ack = { stored, countersignatures: cs as Uint8Array[] };
  const r = v.get(3);
  if (r !== undefined) {
    if (!Array.isArray(r) || typeof r[0] !== 'string' || typeof r[1] !== 'string' || !REFUSAL_REASONS.includes(r[0] as RefusalReason)) throw new TypeError('ack: field 3 (refused) must be [reason, detail]');
    ack.refused = { reason: r[0] as RefusalReason, detail: r[1] };
  }
  return ack;
}
