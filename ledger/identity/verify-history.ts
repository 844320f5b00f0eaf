// Verifies a battery's whole history from its boards' ledgers, trusting ONLY the fleet
// authority's public key (plus its signed revocation lists). Reusable by the passport verifier.
//
// Each ledger must open with a "provisioned" record (seq 0) carrying a device certificate, signed
// by the certified key; a later board's ledger then has a "board-replaced" record (seq 1) linking
// to the previous board's last signed checkpoint. A "key-rotated" record (signed by the current
// key, carrying the rotation statement signed by the old AND the new key, and the new key's
// certificate) hands the log to the new key. Every signed entry must be by the key certified at
// that point of the log; every record's wall time must fall in that key's certificate validity.
//
// Revocation rule (documented in ledger/README.md):
// 1. Only the newest revocation list counts (highest number); lists are cumulative, and an older
//    list naming a kid the newer lacks, or revoking it earlier, makes the verifier refuse
//    (mergeRevocationLists).
// 2. A record or checkpoint signed by a revoked key is refused when its wall time is at or
//    after the revocation time.
// 3. Log order bounds what the wall clock claims: a board's ledger that a later board replaced is
//    closed at the linked checkpoint, and anything after it is refused whatever its time; within
//    a log, once an entry is refused verification stops, so a clock set back cannot re-admit later
//    records. (A thief who backdates a stolen board's clock before its first late record is
//    caught by witnessed checkpoints: the fleet collector's countersignatures, not this check.)
// Then the Merkle structure of every ledger is checked by verifyLedger with the accepted keys.
import { decodeCbor } from '../cbor/decode.ts';
import { Tagged, type CborValue } from '../cbor/value.ts';
import { KeyRing } from '../cose/key-ring.ts';
import { verify1 } from '../cose/sign1.ts';
import { CoseError } from '../cose/cose-error.ts';
import { EntryKind, LedgerFormatError } from '../log/frame.ts';
import { SegmentLog } from '../log/segment-log.ts';
import type { LogStorage } from '../log/storage.ts';
import { decodeCheckpoint, decodeRecord } from '../log/record.ts';
import { verifyLedger } from '../log/verify.ts';
import { TYP } from '../typ.ts';
import { hex, sameBytes } from './claims.ts';
import { peekSign1Payload } from './cose-peek.ts';
import { checkValidAt, verifyCertificate, type DeviceCertificate, type PublicKeyRef } from './device-cert.ts';
import { IdentityError, type IdentityErrorReason } from './identity-error.ts';
import { detailBytes, EVENT_BOARD_REPLACED, EVENT_KEY_ROTATED, EVENT_PROVISIONED, eventDetails, parseBoardLink, type BoardLink } from './identity-events.ts';
import { mergeRevocationLists, type Revocation } from './revocation.ts';
import { verifyRotation } from './rotation.ts';

export interface HistoryOptions {
  /** The fleet authority's public key: the only trust anchor. */
  authority: PublicKeyRef;
  /** The ledger folders of the battery's boards, in any order. */
  ledgers: readonly string[];
  /** Signed revocation lists (COSE_Sign1 bytes); the newest counts. */
  revocationLists?: readonly Uint8Array[];
  /** The battery expected; default: the one the first board's certificate names. */
  batteryId?: string;
  storage?: LogStorage;
}

export interface BoardKey {
  kid: string;
  serial: string;
  /** First record sequence number signed by this key. */
  fromSeq: number;
  notAfter: string;
  revoked?: { at: string; reason: string };
}

export interface BoardHistory {
  dir: string;
  boardId: string;
  keys: BoardKey[];
  records: number;
  checkpoints: number;
  /** The link to the previous board, when this board replaced one. */
  replaces?: { logKid: string; size: number; root: string };
  firstTime?: number;
  lastTime?: number;
}

export interface HistoryFailure {
  dir: string;
  seq?: number;
  index?: number;
  code: IdentityErrorReason | 'ledger';
  reason: string;
}

export interface HistoryReport {
  ok: boolean;
  batteryId?: string;
  /** Boards in order, first provisioned first. */
  boards: BoardHistory[];
  revocationListNumber?: number;
  failure?: HistoryFailure;
}

interface KeyState {
  cert: DeviceCertificate;
  kid: string;
  /** For the old key after a rotation: it may still sign the checkpoint covering the rotation. */
  lastSeq?: number;
}

interface Walked {
  board: BoardHistory;
  kids: DeviceCertificate[];
  link?: BoardLink;
  /** Every signed checkpoint of the log: a replacement board links to one of them. */
  checkpoints: { bytes: Uint8Array; size: number; root: Uint8Array; kid: Uint8Array }[];
}

class Refused extends Error {
  constructor(
    readonly failure: HistoryFailure,
  ) {
    super(failure.reason);
  }
}

async function walk(dir: string, opts: HistoryOptions, revoked: Map<string, Revocation>, battery: { id?: string }): Promise<Walked> {
  const board: BoardHistory = { dir, boardId: '', keys: [], records: 0, checkpoints: 0 };
  const out: Walked = { board, kids: [], checkpoints: [] };
  let current: KeyState | undefined;
  let previous: KeyState | undefined;
  const refuse = (code: HistoryFailure['code'], reason: string, at: { seq?: number; index?: number }): never => {
    throw new Refused({ dir, code, reason, ...at });
  };
  const checkTime = (k: KeyState, time: number, what: string, at: { seq?: number; index?: number }): void => {
    try {
      checkValidAt(k.cert, time, `the certificate of key ${k.kid.slice(0, 16)}…`);
    } catch (err) {
      if (err instanceof IdentityError) refuse(err.reason, `${what}: ${err.message}`, at);
      throw err;
    }
    const r = revoked.get(k.kid);
    if (r && time >= r.revokedAt) {
      refuse('revoked', `${what} is signed by key ${k.kid.slice(0, 16)}…, revoked (${r.reason}) at ${new Date(r.revokedAt).toISOString()}, and made at ${new Date(time).toISOString()}`, at);
    }
  };
  const certify = (bytes: Uint8Array, at: { seq: number; index: number }, what: string): DeviceCertificate => {
    try {
      const cert = verifyCertificate(bytes, { authority: opts.authority, batteryId: battery.id });
      if (cert.role !== 'device') refuse('wrong-key', `${what}: the certificate's role is '${cert.role}', not 'device'`, at);
      battery.id ??= cert.batteryId;
      out.kids.push(cert);
      const r = revoked.get(hex(cert.deviceKid));
      board.keys.push({
        kid: hex(cert.deviceKid),
        serial: hex(cert.serial),
        fromSeq: at.seq,
        notAfter: new Date(cert.expires * 1000).toISOString(),
        ...(r ? { revoked: { at: new Date(r.revokedAt).toISOString(), reason: r.reason } } : {}),
      });
      board.boardId = cert.boardId;
      return cert;
    } catch (err) {
      if (err instanceof IdentityError) refuse(err.reason, `${what}: ${err.message}`, at);
      throw err;
    }
  };
  const verifyWith = (bytes: Uint8Array, keys: KeyState[], typ: string | string[], what: string, at: { seq?: number; index?: number }) => {
    const ring = new KeyRing(keys.map((k) => k.cert.device));
    try {
      return verify1(bytes, { keys: ring.lookup, typ });
    } catch (err) {
      if (err instanceof CoseError && err.reason === 'unknown-kid') {
        let signer = '';
        try {
          signer = hex(peekKid(bytes));
        } catch {
          /* named by the CoseError already */
        }
        const known = out.kids.find((c) => hex(c.deviceKid) === signer);
        refuse(
          'uncertified',
          known
            ? `${what} is signed by key ${signer.slice(0, 16)}…, which handed over to key ${keys[0]!.kid.slice(0, 16)}… by a rotation before it`
            : `${what} is signed by key ${signer.slice(0, 16)}…, which no certificate in this history binds (the certified key here is ${keys[0]?.kid.slice(0, 16) ?? 'none'}…)`,
          at,
        );
      }
      if (err instanceof CoseError) refuse('bad-signature', `${what}: ${err.message}`, at);
      throw err;
    }
  };

  let log: SegmentLog;
  try {
    log = await SegmentLog.open(dir, { storage: opts.storage, readOnly: true });
  } catch (err) {
    if (err instanceof LedgerFormatError) refuse('ledger', err.message, {});
    throw err;
  }
  try {
    for await (const e of log.entries()) {
      const seq = board.records;
      const at = e.kind === EntryKind.checkpoint ? { index: e.index } : { seq, index: e.index };
      if (e.kind === EntryKind.signedRecord || e.kind === EntryKind.leaf) {
        const what = `record ${seq}`;
        if (current === undefined) {
          if (e.kind !== EntryKind.signedRecord) refuse('uncertified', `${what}: a ledger must open with a signed "provisioned" record`, at);
          const rec = decodeRecord(peekSign1Payload(e.payload), what);
          if (rec.type !== EVENT_PROVISIONED) refuse('uncertified', `${what} is '${rec.type}': a ledger must open with a "provisioned" record carrying the board's certificate`, at);
          const cert = certify(detailBytes(eventDetails(rec.body, what), 'certificate', what), { seq, index: e.index }, `${what} (provisioned)`);
          current = { cert, kid: hex(cert.deviceKid) };
        }
        let record;
        if (e.kind === EntryKind.signedRecord) {
          const v = verifyWith(e.payload, [current], [TYP.record, TYP.event], what, at);
          record = decodeRecord(v.payload, what);
        } else record = decodeRecord(e.payload, what);
        if (record.seq !== seq) refuse('ledger', `${what} carries sequence ${record.seq}: a record is missing, repeated or out of order`, at);
        checkTime(current, record.time, what, at);
        if (record.type === EVENT_PROVISIONED && seq !== 0) refuse('malformed', `${what}: a second "provisioned" record; a board is provisioned once per ledger`, at);
        if (record.type === EVENT_KEY_ROTATED) {
          if (e.kind !== EntryKind.signedRecord) refuse('bad-rotation', `${what}: a rotation must be a signed record`, at);
          const d = eventDetails(record.body as CborValue, what);
          let st;
          try {
            st = verifyRotation({ byOld: detailBytes(d, 'rotation-old', what), byNew: detailBytes(d, 'rotation-new', what) }, current.cert.device);
          } catch (err) {
            if (err instanceof IdentityError) refuse(err.reason, `${what}: ${err.message}`, at);
            throw err;
          }
          if (st.seq !== seq) refuse('bad-rotation', `${what}: the rotation statement is for sequence ${st.seq}, not ${seq} (replayed from elsewhere?)`, at);
          if (st.batteryId !== battery.id) refuse('wrong-battery', `${what}: the rotation statement is for battery ${st.batteryId}, not ${battery.id}`, at);
          const cert = certify(detailBytes(d, 'certificate', what), { seq: seq + 1, index: e.index }, `${what} (new key's certificate)`);
          if (!sameBytes(cert.deviceKid, st.newKid)) refuse('bad-rotation', `${what}: the new certificate binds key ${hex(cert.deviceKid)}, the rotation names ${hex(st.newKid)}`, at);
          previous = { ...current, lastSeq: seq + 1 };
          current = { cert, kid: hex(cert.deviceKid) };
        }
        if (record.type === EVENT_BOARD_REPLACED) {
          if (seq !== 1 || out.link) refuse('bad-link', `${what}: "board-replaced" must be the record right after "provisioned"`, at);
          out.link = parseBoardLink(eventDetails(record.body as CborValue, what), what);
          board.replaces = { logKid: hex(out.link.oldLogKid), size: out.link.oldSize, root: hex(out.link.oldRoot) };
        }
        board.records++;
        board.firstTime ??= record.time;
        board.lastTime = record.time;
      } else if (e.kind === EntryKind.checkpoint) {
        const what = `checkpoint after record ${seq - 1}`;
        const cur: KeyState = current ?? refuse('uncertified', `${what}: a checkpoint before the "provisioned" record`, at);
        const keys = previous && previous.lastSeq !== undefined && seq <= previous.lastSeq ? [previous, cur] : [cur];
        const v = verifyWith(e.payload, keys, TYP.checkpoint, what, at);
        const c = decodeCheckpoint(v.payload, what);
        const signer = keys.find((k) => k.kid === hex(v.kid))!;
        checkTime(signer, c.time, what, at);
        out.checkpoints.push({ bytes: e.payload, size: c.size, root: c.root, kid: v.kid });
        board.checkpoints++;
      }
    }
  } catch (err) {
    if (err instanceof Refused) throw err;
    if (err instanceof IdentityError) refuse(err.reason, err.message, {});
    if (err instanceof LedgerFormatError || err instanceof TypeError) refuse('ledger', err.message, {});
    throw err;
  } finally {
    await log.close().catch(() => undefined);
  }
  if (current === undefined) refuse('uncertified', 'the ledger is empty: no "provisioned" record', {});
  return out;
}

/** The kid in a COSE_Sign1's protected header, read only to name a refused message's signer. */
function peekKid(bytes: Uint8Array): Uint8Array {
  const top = decodeCbor(bytes);
  if (!(top instanceof Tagged) || !Array.isArray(top.value) || !(top.value[0] instanceof Uint8Array)) throw new TypeError('not a COSE_Sign1');
  const hdr = decodeCbor(top.value[0]);
  const kid = hdr instanceof Map ? hdr.get(4) : undefined;
  if (!(kid instanceof Uint8Array)) throw new TypeError('no kid');
  return kid;
}

/** Verifies the battery's whole history; never throws for a bad ledger, it reports the first refusal. */
export async function verifyHistory(opts: HistoryOptions): Promise<HistoryReport> {
  const report: HistoryReport = { ok: false, boards: [] };
  let revoked: Map<string, Revocation>;
  try {
    const merged = mergeRevocationLists(opts.revocationLists ?? [], opts.authority);
    revoked = merged.revokedAt;
    if (merged.newest) report.revocationListNumber = merged.newest.number;
  } catch (err) {
    if (err instanceof IdentityError) return { ...report, failure: { dir: '(revocation list)', code: err.reason, reason: err.message } };
    throw err;
  }
  const battery: { id?: string } = { id: opts.batteryId };
  const walked: Walked[] = [];
  try {
    for (const dir of opts.ledgers) walked.push(await walk(dir, opts, revoked, battery));
  } catch (err) {
    if (err instanceof Refused) return { ...report, batteryId: battery.id, failure: err.failure };
    throw err;
  }
  report.batteryId = battery.id;

  // Chain the boards: one origin; each other board links to another's final checkpoint.
  const origins = walked.filter((w) => !w.link);
  if (origins.length !== 1) {
    return { ...report, failure: { dir: origins[1]?.board.dir ?? opts.ledgers[0] ?? '', code: 'bad-link', reason: `${origins.length} ledgers start the history (expected exactly one without a "board-replaced" link)` } };
  }
  const order: Walked[] = [origins[0]!];
  const used = new Set<Walked>(order);
  for (;;) {
    const last = order[order.length - 1]!;
    const next = walked.filter((w) => !used.has(w) && w.link && last.checkpoints.some((c) => sameBytes(w.link!.checkpoint, c.bytes)));
    if (next.length === 0) break;
    if (next.length > 1) return { ...report, failure: { dir: next[1]!.board.dir, code: 'bad-link', reason: `two boards claim to replace the board of ${last.board.dir}` } };
    const w = next[0]!;
    const l = w.link!;
    const cp = last.checkpoints.find((c) => sameBytes(l.checkpoint, c.bytes))!;
    if (l.oldSize !== cp.size || !sameBytes(l.oldRoot, cp.root) || !sameBytes(l.oldLogKid, cp.kid)) {
      return { ...report, failure: { dir: w.board.dir, seq: 1, code: 'bad-link', reason: `"board-replaced" names tree size ${l.oldSize} / root / log kid that differ from the checkpoint it carries` } };
    }
    if (last.board.records !== cp.size) {
      return { ...report, failure: { dir: last.board.dir, seq: cp.size, code: 'bad-link', reason: `record ${cp.size} and after were made after this board was replaced (the new board links to tree size ${cp.size})` } };
    }
    order.push(w);
    used.add(w);
  }
  const stray = walked.find((w) => !used.has(w));
  if (stray) return { ...report, failure: { dir: stray.board.dir, seq: 1, code: 'bad-link', reason: `its "board-replaced" record links to no other board's last checkpoint (${stray.link ? 'tree size ' + stray.link.oldSize : ''})` } };

  // Merkle structure, framing, sequence and checkpoint roots, with exactly the accepted keys.
  for (const w of order) {
    const ring = new KeyRing(w.kids.map((c) => c.device));
    const r = await verifyLedger(w.board.dir, { keys: ring.lookup }, { storage: opts.storage });
    if (!r.ok) return { ...report, failure: { dir: w.board.dir, seq: r.failure?.seq, index: r.failure?.index, code: 'ledger', reason: r.failure?.reason ?? 'ledger verification failed' } };
    report.boards.push(w.board);
  }
  report.ok = true;
  return report;
}
