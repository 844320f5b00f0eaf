// Offline verification of a passport bundle (bundle.ts) against trust anchors the verifier
// already holds (the fleet authority's public key, pinned or given with --trust), never only
// those inside the bundle. Checked, in order, stopping at the first failure, which is named by
// a stable code and a message that says which item and what is wrong:
// - the bytes: canonical CBOR within bounds, the bundle structure            -> malformed
// - revocation lists (the bundle's and the verifier's own; the newest counts) -> crl-rollback
// - each device certificate: signed by the pinned key, for this battery      -> wrong-authority / wrong-battery
// - status statements: signed by the authority or a workshop it certified,
//   transitions allowed, in time order                                        -> bad-status
// - per board log, every included record: strictly increasing positions       -> reordered
//   signed by the key certified at that point (rotations followed), within
//   its certificate's validity and not after its revocation                   -> uncertified / bad-signature / revoked / expired
//   carrying the sequence number of its position                              -> reordered
//   in the tree the final checkpoint signs (inclusion proof)                  -> bad-inclusion
//   within the final checkpoint                                               -> truncated
// - the checkpoint chain: each signed by the log's key, sizes growing,
//   each consistent with the next (consistency proof)                         -> bad-consistency / rolled-back
// - witness countersignatures: by a witness the authority endorsed, of a
//   checkpoint in the chain; one of a larger tree than the bundle's final
//   checkpoint (in the bundle or given out of band) means an older history
//   is being shown                                                            -> bad-witness / rolled-back
// - lifecycle summaries: each counts the events before it, and every one of
//   them must be in the bundle                                                -> missing-record
//   counters never decrease                                                   -> counter-rollback
// - boards: a replacement board's link names the previous board's final checkpoint -> bad-link / truncated
import { CborError } from '../cbor/decode.ts';
import type { CborValue } from '../cbor/value.ts';
import { KeyRing } from '../cose/key-ring.ts';
import { verify1 } from '../cose/sign1.ts';
import { CoseError } from '../cose/cose-error.ts';
import { TYP } from '../typ.ts';
import { hex, sameBytes } from '../identity/claims.ts';
import { peekSign1Payload } from '../identity/cose-peek.ts';
import { checkValidAt, verifyCertificate, type DeviceCertificate, type PublicKeyRef } from '../identity/device-cert.ts';
import { IdentityError } from '../identity/identity-error.ts';
import { detailBytes, EVENT_BOARD_REPLACED, EVENT_KEY_ROTATED, EVENT_PROVISIONED, eventDetails, parseBoardLink } from '../identity/identity-events.ts';
import { mergeRevocationLists, type Revocation } from '../identity/revocation.ts';
import { verifyRotation } from '../identity/rotation.ts';
import type { BatteryData } from '../identity/battery-data.ts';
import { hashLeaf, sha256, verifyConsistency, verifyInclusion } from '../log/merkle.ts';
import { decodeCheckpoint, decodeRecord, type Checkpoint } from '../log/record.ts';
import { BundleFormatError, decodeBundle, type BundleLog, type PassportBundle, type Tier } from './bundle.ts';
import { decodeSummary, MONOTONIC, SUMMARY_TYPE, type LifecycleSummary } from './lifecycle-summary.ts';
import { allowedTransition, verifyStatus, type VerifiedStatus } from './status-statement.ts';
import { verifyCountersignature, type WitnessStatement } from '../identity/witness.ts';
import { decodeClaims, bytes as claimBytes, uint as claimUint } from '../identity/claims.ts';

export type PassportFailureCode =
  | 'malformed'
  | 'crl-rollback'
  | 'wrong-authority'
  | 'wrong-battery'
  | 'wrong-key'
  | 'uncertified'
  | 'bad-signature'
  | 'revoked'
  | 'expired'
  | 'not-yet-valid'
  | 'bad-rotation'
  | 'bad-status'
  | 'reordered'
  | 'missing-record'
  | 'bad-inclusion'
  | 'bad-consistency'
  | 'truncated'
  | 'rolled-back'
  | 'bad-witness'
  | 'counter-rollback'
  | 'bad-link';

export interface PassportFailure {
  code: PassportFailureCode;
  /** Which item: "log 0 record 12 (seq 3051)", "certificate 1", "checkpoint 4 of log 0". */
  where: string;
  message: string;
}

export interface PassportEvent {
  board: number;
  seq: number;
  time: number;
  type: string;
  severity: number;
  details: Record<string, string | number>;
}

export interface SummaryPoint {
  board: number;
  seq: number;
  time: number;
  summary: LifecycleSummary;
}

export interface BoardReport {
  boardId: string;
  keys: string[];
  records: number;
  /** Tree size and time of the final checkpoint. */
  size: number;
  time?: number;
  checkpoints: number;
  witnessed: number;
  /** Newest time a witness vouched for this log. */
  lastWitnessTime?: number;
  /** SHA-256 (hex) of the final checkpoint: what a repurposed battery's status links to. */
  finalCheckpointHash: string;
}

export interface PassportReport {
  ok: boolean;
  failure?: PassportFailure;
  tier?: Tier;
  batteryId?: string;
  battery?: BatteryData;
  created?: number;
  statuses: VerifiedStatus[];
  boards: BoardReport[];
  events: PassportEvent[];
  /** Every summary in the bundle, oldest first (the state-of-health history). */
  summaries: SummaryPoint[];
  revocationListNumber?: number;
  /** The old battery's passport, when one was given and a status statement links to it. */
  predecessor?: { batteryId: string; checkpointHash: string };
}

export interface VerifyPassportOptions {
  /** The fleet authority's public key(s): the only trust anchors. */
  trust: PublicKeyRef | readonly PublicKeyRef[];
  /** Revocation lists the verifier holds (beside the bundle's); the newest counts. */
  revocationLists?: readonly Uint8Array[];
  /** Witness countersignatures obtained out of band (e.g. from the fleet collector), each with the checkpoint it countersigns. */
  witnesses?: readonly { countersignature: Uint8Array; checkpoint: Uint8Array }[];
  /** The old battery's full passport: a status statement's predecessor link is checked against it. */
  predecessor?: Uint8Array;
  /** Check certificate validity of the public tier at this time (ms); default: not checked. */
  now?: number;
}

class Fail extends Error {
  constructor(readonly failure: PassportFailure) {
    super(failure.message);
  }
}
const fail = (code: PassportFailureCode, where: string, message: string): never => {
  throw new Fail({ code, where, message });
};

const IDENTITY_CODES: ReadonlySet<string> = new Set(['wrong-authority', 'wrong-battery', 'wrong-key', 'revoked', 'expired', 'not-yet-valid', 'bad-rotation', 'bad-signature', 'crl-rollback', 'uncertified', 'bad-link']);
function fromIdentity(err: unknown, where: string): never {
  if (err instanceof IdentityError) fail(IDENTITY_CODES.has(err.reason) ? (err.reason as PassportFailureCode) : 'malformed', where, err.message);
  if (err instanceof CoseError) fail(err.reason === 'unknown-kid' ? 'uncertified' : err.reason === 'bad-signature' ? 'bad-signature' : 'malformed', where, err.message);
  if (err instanceof TypeError || err instanceof RangeError || err instanceof CborError) fail('malformed', where, err.message);
  throw err;
}

interface KeySpan {
  cert: DeviceCertificate;
  /** The key alone, for verify1 (made once per key, not per record). */
  ring: KeyRing;
  kid: string;
  fromSeq: number;
  /** Last record sequence number it signs (Infinity while current). */
  toSeq: number;
}

interface LogResult {
  board: BoardReport;
  final: { bytes: Uint8Array; checkpoint: Checkpoint };
  link?: ReturnType<typeof parseBoardLink>;
}

/** Verifies a passport bundle offline; never throws for a bad bundle, it reports the failure. */
export function verifyPassport(bytes: Uint8Array, opts: VerifyPassportOptions): PassportReport {
  const report: PassportReport = { ok: false, statuses: [], boards: [], events: [], summaries: [] };
  try {
    verifyInto(bytes, opts, report);
    report.ok = true;
  } catch (err) {
    if (!(err instanceof Fail)) throw err;
    report.failure = err.failure;
  }
  return report;
}

function verifyInto(bytes: Uint8Array, opts: VerifyPassportOptions, report: PassportReport): void {
  const anchors = Array.isArray(opts.trust) ? (opts.trust as readonly PublicKeyRef[]) : [opts.trust as PublicKeyRef];
  if (anchors.length === 0) throw new RangeError('trust: give the fleet authority public key the passport must chain to');
  let b: PassportBundle;
  try {
    b = decodeBundle(bytes);
  } catch (err) {
    if (err instanceof CborError || err instanceof BundleFormatError) fail('malformed', err instanceof BundleFormatError ? err.where : `byte ${err.offset}`, `not a readable passport bundle: ${err.message}`);
    throw err;
  }
  report.tier = b.tier;
  report.batteryId = b.batteryId;
  report.created = b.created;

  // The authority: the first pinned key that signed the first certificate.
  if (b.certificates.length === 0) fail('malformed', 'certificates (5)', 'the bundle holds no device certificate');
  let authority: PublicKeyRef | undefined;
  for (const a of anchors) {
    try {
      verifyCertificate(b.certificates[0]!, { authority: a });
      authority = a;
      break;
    } catch (err) {
      if (!(err instanceof IdentityError && err.reason === 'wrong-authority')) fromIdentity(err, 'certificate 0');
    }
  }
  if (!authority) fail('wrong-authority', 'certificate 0', 'the device certificate is not signed by the trusted fleet authority key: the key in this bundle was substituted, or it belongs to another fleet');
  const auth = authority!;

  let revoked: Map<string, Revocation>;
  try {
    const merged = mergeRevocationLists([...b.revocationLists, ...(opts.revocationLists ?? [])], auth);
    revoked = merged.revokedAt;
    if (merged.newest) report.revocationListNumber = merged.newest.number;
  } catch (err) {
    fromIdentity(err, 'revocation lists (6)');
  }

  const certs = b.certificates.map((c, i) => {
    try {
      const cert = verifyCertificate(c, { authority: auth, batteryId: b.batteryId, ...(b.tier === 'public' && opts.now !== undefined && i === b.certificates.length - 1 ? { at: opts.now } : {}) });
      if (cert.role !== 'device') fail('wrong-key', `certificate ${i}`, `the certificate's role is '${cert.role}', not 'device'`);
      return cert;
    } catch (err) {
      return fromIdentity(err, `certificate ${i}`);
    }
  });
  report.battery = certs[0]!.battery;

  let last: VerifiedStatus | undefined;
  b.statuses.forEach((s, i) => {
    const where = `status statement ${i}`;
    let v: VerifiedStatus;
    try {
      v = verifyStatus(s, auth);
    } catch (err) {
      return fromIdentity(err, where);
    }
    if (v.batteryId !== b.batteryId) fail('bad-status', where, `is for battery ${v.batteryId}, not ${b.batteryId}`);
    if (last && v.time < last.time) fail('reordered', where, `dated ${new Date(v.time).toISOString()}, before the statement before it`);
    if (!allowedTransition(last?.status, v.status)) fail('bad-status', where, `a battery cannot go from '${last?.status}' to '${v.status}'`);
    last = v;
    report.statuses.push(v);
  });

  const linked = report.statuses.find((x) => x.predecessor);
  if (opts.predecessor) {
    if (!linked) fail('bad-link', 'status statements (7)', 'a predecessor passport was given, but no status statement names one');
    const old = verifyPassport(opts.predecessor, { trust: auth, revocationLists: opts.revocationLists });
    if (!old.ok) fail('bad-link', 'predecessor passport', `the old battery's passport does not verify: ${old.failure!.code} at ${old.failure!.where}: ${old.failure!.message}`);
    const p = linked!.predecessor!;
    if (old.batteryId !== p.batteryId) fail('bad-link', 'predecessor passport', `is the passport of ${old.batteryId}; the status statement names ${p.batteryId}`);
    const lastBoard = old.boards[old.boards.length - 1];
    if (!lastBoard) fail('bad-link', 'predecessor passport', 'is a public-tier passport: the link is to its history, give the full one');
    if (lastBoard!.finalCheckpointHash !== hex(p.checkpointHash)) fail('bad-link', 'predecessor passport', `its final checkpoint (${lastBoard!.finalCheckpointHash.slice(0, 16)}…) is not the one the status statement links to (${hex(p.checkpointHash).slice(0, 16)}…)`);
    report.predecessor = { batteryId: p.batteryId, checkpointHash: hex(p.checkpointHash) };
  }

  if (b.tier === 'public') {
    if (b.logs.length) fail('malformed', 'logs (8)', 'a public-tier passport must hold no usage history');
    return;
  }
  if (b.logs.length === 0) fail('truncated', 'logs (8)', 'a full passport without any board log');

  const results: LogResult[] = [];
  const witnesses = [...(opts.witnesses ?? [])];
  b.logs.forEach((log, li) => {
    const r = verifyLog(log, li, b, auth, revoked!, report, witnesses);
    results.push(r);
    report.boards.push(r.board);
  });

  // Boards: each replacement links to the previous board's final checkpoint.
  for (let i = 1; i < results.length; i++) {
    const l = results[i]!.link;
    if (!l) fail('bad-link', `log ${i} record 1`, 'a later board must start with "board-replaced" linking to the previous board');
    const prev = results[i - 1]!.final;
    if (!sameBytes(l!.checkpoint, prev.bytes)) {
      const size = l!.oldSize;
      if (size > prev.checkpoint.size) fail('truncated', `log ${i - 1}`, `the previous board's history ends at tree size ${prev.checkpoint.size}, but board ${i} took over at size ${size}: records of the old board were cut`);
      fail('bad-link', `log ${i} record 1`, `"board-replaced" names a checkpoint of size ${size} that is not the previous board's final checkpoint (size ${prev.checkpoint.size})`);
    }
  }
  if (results[0]!.link) fail('bad-link', 'log 0 record 1', 'the first board in the bundle replaced another board whose log is not in the bundle');
}

function verifyLog(log: BundleLog, li: number, b: PassportBundle, auth: PublicKeyRef, revoked: Map<string, Revocation>, report: PassportReport, outOfBand: readonly { countersignature: Uint8Array; checkpoint: Uint8Array }[]): LogResult {
  const lw = `log ${li}`;
  if (log.checkpoints.length === 0) fail('truncated', lw, 'no signed checkpoint: nothing in this log is covered by a signature');
  if (log.consistency.length !== log.checkpoints.length - 1) fail('malformed', lw, `${log.checkpoints.length} checkpoints need ${log.checkpoints.length - 1} consistency proofs, the bundle has ${log.consistency.length}`);
  const board: BoardReport = { boardId: '', keys: [], records: log.records.length, size: 0, checkpoints: log.checkpoints.length, witnessed: 0, finalCheckpointHash: '' };
  const spans: KeySpan[] = [];
  let link: LogResult['link'];
  const finalBytes = log.checkpoints[log.checkpoints.length - 1]!;
  // The final checkpoint's claims are read first (unverified) to check inclusion as records go;
  // its signature is checked below with the key the records establish.
  let final: Checkpoint;
  try {
    final = decodeCheckpoint(peekSign1Payload(finalBytes), `${lw} final checkpoint`);
  } catch (err) {
    return fromIdentity(err, `${lw} checkpoint ${log.checkpoints.length - 1}`);
  }

  const checkTime = (span: KeySpan, time: number, where: string) => {
    try {
      checkValidAt(span.cert, time, `the certificate of key ${span.kid.slice(0, 16)}…`);
    } catch (err) {
      fromIdentity(err, where);
    }
    const r = revoked.get(span.kid);
    if (r && time >= r.revokedAt) fail('revoked', where, `signed by key ${span.kid.slice(0, 16)}…, revoked (${r.reason}) at ${new Date(r.revokedAt).toISOString()}, and made at ${new Date(time).toISOString()}`);
  };
  const certify = (certBytes: Uint8Array, fromSeq: number, where: string): KeySpan => {
    let cert: DeviceCertificate;
    try {
      cert = verifyCertificate(certBytes, { authority: auth, batteryId: b.batteryId });
    } catch (err) {
      return fromIdentity(err, where);
    }
    if (cert.role !== 'device') fail('wrong-key', where, `the certificate's role is '${cert.role}', not 'device'`);
    if (!b.certificates.some((c) => sameBytes(c, certBytes))) fail('malformed', where, 'its certificate is missing from the bundle\'s certificate list');
    const span: KeySpan = { cert, ring: new KeyRing([cert.device]), kid: hex(cert.deviceKid), fromSeq, toSeq: Infinity };
    spans.push(span);
    board.keys.push(span.kid);
    board.boardId = cert.boardId;
    return span;
  };

  // Order first: a record moved elsewhere is named as such, not by what it then breaks.
  log.records.forEach((r, ri) => {
    if (ri > 0 && r.index <= log.records[ri - 1]!.index) fail('reordered', `${lw} record ${ri} (seq ${r.index})`, `comes after seq ${log.records[ri - 1]!.index}: records must be in log order, each once`);
  });
  const lastRecord = log.records[log.records.length - 1];
  if (lastRecord && lastRecord.index >= final.size) {
    fail('truncated', `${lw} record ${log.records.length - 1} (seq ${lastRecord.index})`, `lies beyond the final checkpoint (tree size ${final.size}): the checkpoints that cover it were cut`);
  }
  let prevIndex = -1;
  let current: KeySpan | undefined;
  let eventsSeen = 0;
  let lastSummary: { s: LifecycleSummary; seq: number; time: number } | undefined;
  log.records.forEach((r, ri) => {
    const where = `${lw} record ${ri} (seq ${r.index})`;
    if (r.index <= prevIndex) fail('reordered', where, `comes after seq ${prevIndex}: records must be in log order, each once`);
    if (ri === 0 && r.index !== 0) fail('missing-record', where, `the first record must be seq 0 ("provisioned", carrying the board's certificate); the bundle starts at seq ${r.index}`);
    prevIndex = r.index;
    if (r.index >= final.size) fail('truncated', where, `lies beyond the final checkpoint (tree size ${final.size}): the checkpoints that cover it were cut`);
    if (current === undefined) {
      let rec;
      try {
        rec = decodeRecord(peekSign1Payload(r.leaf), where);
      } catch (err) {
        return fromIdentity(err, where);
      }
      if (rec.type !== EVENT_PROVISIONED) fail('missing-record', where, `is '${rec.type}': a log must open with its "provisioned" record`);
      try {
        current = certify(detailBytes(eventDetails(rec.body, where), 'certificate', where), 0, where);
      } catch (err) {
        if (err instanceof Fail) throw err;
        fromIdentity(err, where);
      }
    }
    let v;
    try {
      v = verify1(r.leaf, { keys: current!.ring.lookup, typ: [TYP.event, TYP.record] });
    } catch (err) {
      if (err instanceof CoseError && err.reason === 'unknown-kid') fail('uncertified', where, `signed by a key no certificate in this history binds (the certified key here is ${current!.kid.slice(0, 16)}…): a substituted key`);
      return fromIdentity(err, where);
    }
    let rec;
    try {
      rec = decodeRecord(v.payload, where);
    } catch (err) {
      return fromIdentity(err, where);
    }
    if (rec.seq !== r.index) fail('reordered', where, `carries sequence ${rec.seq} at position ${r.index}`);
    if (!verifyInclusion(hashLeaf(r.leaf), r.index, final.size, r.path, final.root)) {
      fail('bad-inclusion', where, `is not in the history the final checkpoint (size ${final.size}, root ${hex(final.root).slice(0, 16)}…) signs: altered, or taken from another log`);
    }
    checkTime(current!, rec.time, where);
    if (rec.type === 'telemetry') return;
    if (rec.type === SUMMARY_TYPE) {
      let s: LifecycleSummary;
      try {
        s = decodeSummary(rec.body, where);
      } catch (err) {
        return fromIdentity(err, where);
      }
      if (s.events !== eventsSeen) {
        if (s.events > eventsSeen) fail('missing-record', where, `the board counted ${s.events} events before this summary; the bundle holds ${eventsSeen} of them: ${s.events - eventsSeen} removed`);
        fail('malformed', where, `counts ${s.events} events before it, but the bundle holds ${eventsSeen}`);
      }
      if (lastSummary) {
        if (rec.time < lastSummary.time) fail('counter-rollback', where, `dated before the summary at seq ${lastSummary.seq}`);
        for (const name of MONOTONIC) {
          const a = lastSummary.s.quantities[name]?.value;
          const c = s.quantities[name]?.value;
          if (a !== undefined && (c === undefined || c < a)) fail('counter-rollback', where, `${name} went down from ${a} to ${c ?? 'nothing'} since the summary at seq ${lastSummary.seq}: counters never decrease`);
        }
      }
      lastSummary = { s, seq: rec.seq, time: rec.time };
      report.summaries.push({ board: li, seq: rec.seq, time: rec.time, summary: s });
      return;
    }
    eventsSeen++;
    const body = rec.body instanceof Map ? rec.body : new Map<CborValue, CborValue>();
    const details: Record<string, string | number> = {};
    const d = body.get(2);
    if (d instanceof Map) for (const [k, x] of d) if (typeof k === 'string' && (typeof x === 'string' || typeof x === 'number')) details[k] = x;
    report.events.push({ board: li, seq: rec.seq, time: rec.time, type: rec.type, severity: typeof body.get(1) === 'number' ? (body.get(1) as number) : 0, details });
    if (rec.type === EVENT_PROVISIONED && rec.seq !== 0) fail('malformed', where, 'a second "provisioned" record');
    if (rec.type === EVENT_BOARD_REPLACED) {
      if (rec.seq !== 1) fail('bad-link', where, '"board-replaced" must be the record right after "provisioned"');
      try {
        link = parseBoardLink(eventDetails(rec.body, where), where);
      } catch (err) {
        fromIdentity(err, where);
      }
    }
    if (rec.type === EVENT_KEY_ROTATED) {
      try {
        const dd = eventDetails(rec.body, where);
        const st = verifyRotation({ byOld: detailBytes(dd, 'rotation-old', where), byNew: detailBytes(dd, 'rotation-new', where) }, current!.cert.device);
        if (st.seq !== rec.seq) fail('bad-rotation', where, `the rotation statement is for sequence ${st.seq}, not ${rec.seq}`);
        if (st.batteryId !== b.batteryId) fail('wrong-battery', where, `the rotation statement is for battery ${st.batteryId}`);
        const old = current!;
        const next = certify(detailBytes(dd, 'certificate', where), rec.seq + 1, `${where} (new key's certificate)`);
        if (!sameBytes(next.cert.deviceKid, st.newKid)) fail('bad-rotation', where, 'the new certificate binds another key than the rotation names');
        old.toSeq = rec.seq;
        current = next;
      } catch (err) {
        if (err instanceof Fail) throw err;
        fromIdentity(err, where);
      }
    }
  });
  if (current === undefined) fail('missing-record', lw, 'the log holds no record: its "provisioned" record is missing');

  // The checkpoint chain: signatures by the key of the records they cover, growing sizes, and
  // consistency between each and the next.
  const decoded: Checkpoint[] = [];
  log.checkpoints.forEach((cb, ci) => {
    const where = `${lw} checkpoint ${ci}`;
    let c: Checkpoint;
    try {
      c = decodeCheckpoint(peekSign1Payload(cb), where);
    } catch (err) {
      return fromIdentity(err, where);
    }
    const allowed = spans.filter((s) => s.fromSeq - 1 <= c.size - 1 && c.size - 1 <= s.toSeq);
    let v;
    try {
      v = verify1(cb, { keys: (kid) => allowed.map((s) => s.ring.lookup(kid)).find((k) => k !== undefined), typ: TYP.checkpoint });
    } catch (err) {
      if (err instanceof CoseError && err.reason === 'unknown-kid') fail('uncertified', where, `signed by a key not certified for this log at tree size ${c.size}: a substituted key`);
      return fromIdentity(err, where);
    }
    if (!sameBytes(c.logId, v.kid)) fail('bad-signature', where, `names log ${hex(c.logId).slice(0, 16)}… but is signed by ${hex(v.kid).slice(0, 16)}…`);
    checkTime(allowed.find((s) => s.kid === hex(v.kid))!, c.time, where);
    if (ci > 0) {
      const p = decoded[ci - 1]!;
      if (c.size <= p.size) fail('reordered', where, `tree size ${c.size} does not grow past the checkpoint before it (${p.size})`);
      if (c.time < p.time) fail('rolled-back', where, `dated ${new Date(c.time).toISOString()}, before the checkpoint before it`);
      if (!verifyConsistency(p.size, c.size, log.consistency[ci - 1]!, p.root, c.root)) {
        fail('bad-consistency', where, `is not an extension of checkpoint ${ci - 1} (size ${p.size} -> ${c.size}): the history between them was rewritten`);
      }
    }
    decoded.push(c);
  });
  const fc = decoded[decoded.length - 1]!;
  board.size = fc.size;
  board.time = fc.time;
  board.finalCheckpointHash = hex(sha256(finalBytes));

  // Witnesses: the bundle's must each vouch for a checkpoint of the chain; one (the bundle's, or
  // given out of band with its checkpoint) of a larger tree of this log shows that the bundle is
  // an older state of the history.
  const byHash = new Map(log.checkpoints.map((cb) => [hex(sha256(cb)), cb]));
  const isRevoked = (kid: Uint8Array, at: number) => {
    const r = revoked.get(hex(kid));
    return r !== undefined && at >= r.revokedAt;
  };
  const logKids = new Set(spans.map((s) => s.kid));
  log.witnesses.forEach((w, wi) => {
    const where = `${lw} witness ${wi}`;
    let st: WitnessStatement;
    try {
      st = peekStatement(w, where);
    } catch (err) {
      return fromIdentity(err, where);
    }
    if (!logKids.has(hex(st.logId))) fail('bad-witness', where, `vouches for log ${hex(st.logId).slice(0, 16)}…, not this board's`);
    if (st.size > fc.size) fail('rolled-back', where, `the fleet's witness countersigned this log at tree size ${st.size} (${new Date(st.time).toISOString()}), but the bundle's history ends at size ${fc.size}: an older state of the history is being shown`);
    const cp = byHash.get(hex(st.checkpointHash));
    if (!cp) fail('bad-witness', where, `countersigns a checkpoint (size ${st.size}) that is not in the chain`);
    let seen;
    try {
      seen = verifyCountersignature(w, { authority: auth, checkpoint: cp!, revoked: isRevoked });
    } catch (err) {
      if (err instanceof IdentityError) fail('bad-witness', where, err.message);
      return fromIdentity(err, where);
    }
    board.witnessed++;
    board.lastWitnessTime = Math.max(board.lastWitnessTime ?? 0, seen.statement.time);
  });
  outOfBand.forEach((o, oi) => {
    const where = `out-of-band witness ${oi}`;
    let seen;
    try {
      seen = verifyCountersignature(o.countersignature, { authority: auth, checkpoint: o.checkpoint, revoked: isRevoked });
    } catch (err) {
      if (err instanceof IdentityError) fail('bad-witness', where, err.message);
      return fromIdentity(err, where);
    }
    const st = seen.statement;
    if (!logKids.has(hex(st.logId))) return; // another log's: says nothing about this one
    try {
      verify1(o.checkpoint, { keys: new KeyRing(spans.map((s) => s.cert.device)).lookup, typ: TYP.checkpoint });
    } catch (err) {
      return fromIdentity(err, `${where} checkpoint`);
    }
    if (st.size > fc.size) fail('rolled-back', where, `the fleet's witness countersigned this log at tree size ${st.size} (${new Date(st.time).toISOString()}), but the bundle's history ends at size ${fc.size}: an older state of the history is being shown`);
    if (st.size === fc.size && !sameBytes(st.root, fc.root)) fail('rolled-back', where, `at tree size ${st.size} the witness saw root ${hex(st.root).slice(0, 16)}…, the bundle shows another history (a fork)`);
  });
  return { board, final: { bytes: finalBytes, checkpoint: fc }, link };
}

/** The statement of a countersignature, unverified: only to find the checkpoint it names. */
function peekStatement(w: Uint8Array, where: string): WitnessStatement {
  const m = decodeClaims(peekSign1Payload(w), where, [1, 2, 3, 4, 5]);
  return { checkpointHash: claimBytes(m, 1, where, 32), logId: claimBytes(m, 2, where, 32), size: claimUint(m, 3, where), root: claimBytes(m, 4, where, 32), time: claimUint(m, 5, where) };
}
