// The V2X reception pipeline (v2x/README.md "Reception"): size limit -> bounded decode ->
// freshness window -> duplicate and replay check -> certificate lookup (revocation; an unknown
// signer is asked for its certificate) -> bounded priority queue -> signature verification
// (inline or on worker threads) -> plausibility -> local map -> application events. Every
// message ends accepted or dropped under exactly one named reason (drop-reason.ts). The
// clock is injected (hal/clock.ts) so tests run on a ManualClock; `drain()` waits until every
// queued message has been decided. Frames heard also feed the channel busy ratio estimate and
// the reactive DCC (reactive-dcc.ts), whose interval the awareness senders follow.
import type { Clock } from '../../hal/clock.ts';
import type { VerifyKey } from '../../ledger/cose/sign1.ts';
import { ALG_CURVE } from '../../ledger/cose/algorithms.ts';
import type { Position } from '../messages/field-types.ts';
import type { MessageName } from '../messages/message-types.ts';
import { CertificateCache } from '../security/certificate-cache.ts';
import type { PseudonymCertificate } from '../security/pseudonym-certificate.ts';
import type { DecodedMessage } from './bounded-decode.ts';
import { boundedDecode } from './bounded-decode.ts';
import { CertificateLookup } from './certificate-lookup.ts';
import { CbrEstimator } from './channel-busy-ratio.ts';
import { ReceptionCounters } from './drop-reason.ts';
import type { DropReason } from './drop-reason.ts';
import { FreshnessWindow } from './freshness-window.ts';
import type { Window } from './freshness-window.ts';
import { LocalMap } from './local-map.ts';
import type { LocalMapOptions, MapEvent } from './local-map.ts';
import { messagePriority } from './message-priority.ts';
import { PlausibilityChecker } from './plausibility.ts';
import type { PlausibilityOptions } from './plausibility.ts';
import { ReactiveDcc } from './reactive-dcc.ts';
import type { DccState } from './reactive-dcc.ts';
import { ReplayCache } from './replay-cache.ts';
import { RevocationStore } from './revocation-list.ts';
import { verifyCheck } from './signature-check.ts';
import type { SignatureCheck } from './signature-check.ts';
import { InlineVerifier } from './signature-verifier.ts';
import type { SignatureVerifier } from './signature-verifier.ts';
import { v2xSigStructure } from './sig-structure.ts';
import { checkSize } from './size-limit.ts';
import { VerifyQueue } from './verify-queue.ts';
import type { VerifyQueueOptions } from './verify-queue.ts';

export interface AcceptedMessage {
  type: MessageName;
  body: unknown;
  generationTime: number;
  /** Signer digest, hex. */
  signerId: string;
  certificate: PseudonymCertificate;
  /** Priority class it was verified in: 0 hazard, 1 action, 2 awareness. */
  priorityClass: number;
  /** Reception to acceptance, ms on the monotonic clock. */
  latencyMs: number;
  event: MapEvent;
}

export interface DroppedMessage {
  reason: DropReason;
  detail: string;
  type?: MessageName;
  signerId?: string;
}

export interface ReceptionOptions {
  clock: Clock;
  /** The fleet authorities' keys by kid (`new KeyRing([...]).lookup`). */
  authorities: (kid: Uint8Array) => VerifyKey | undefined;
  cache?: CertificateCache;
  revocations?: RevocationStore;
  verifier?: SignatureVerifier;
  freshness?: Partial<Record<MessageName, Partial<Window>>>;
  queue?: VerifyQueueOptions;
  plausibility?: PlausibilityOptions;
  map?: LocalMapOptions;
  /** CAMs of senders within this distance are verified as "action" (default 300 m). */
  actionRadiusM?: number;
  /**
   * Jobs per verification batch (default 16 with the inline verifier, whose batch holds the
   * thread; 64 with worker threads, where each batch costs a message round trip; hazards never
   * wait behind a batch either way: they are verified at once on this thread).
   */
  batchSize?: number;
  maxMessageSize?: number;
  duplicateWindowMs?: number;
  replayCapacity?: number;
  onAccepted?: (m: AcceptedMessage) => void;
  onDropped?: (d: DroppedMessage) => void;
  /** An unknown signer: ask for its certificate (MessageSealer.requestCertificate). */
  requestCertificate?: (digest: Uint8Array) => void;
  /** A verified message asked for certificates (MessageSealer.noteCertificateRequests). */
  certificatesRequested?: (digests: readonly Uint8Array[]) => void;
  /** The DCC state changed: the new least interval between this station's packets. */
  onDccInterval?: (tOffMs: number, state: DccState) => void;
}

interface Job {
  cls: number;
  bucket: number;
  enqueuedAt: number;
  receivedAt: number;
  message: DecodedMessage;
  certificate: PseudonymCertificate;
  checks: SignatureCheck[];
  newCertificate: boolean;
  certificateId?: string;
}

interface InFlightBatch {
  jobs: Job[];
  answered: boolean;
  ok?: boolean[];
  failure?: string;
}

export class ReceptionPipeline {
  readonly counters = new ReceptionCounters();
  readonly map: LocalMap;
  readonly cache: CertificateCache;
  readonly revocations: RevocationStore;
  readonly queue: VerifyQueue<Job>;
  readonly cbr: CbrEstimator;
  readonly dcc: ReactiveDcc;
  readonly freshness: FreshnessWindow;
  readonly #o: ReceptionOptions;
  readonly #clock: Clock;
  readonly #verifier: SignatureVerifier;
  readonly #replay: ReplayCache;
  readonly #lookup: CertificateLookup;
  readonly #plausibility: PlausibilityChecker;
  readonly #batch: number;
  readonly #actionRadius: number;
  #own: Position | undefined;
  /** Jobs being verified. */
  #inFlight = 0;
  /** Batches handed to the verifier and not settled yet (at most its `parallelism`), in the order handed. */
  #batches: InFlightBatch[] = [];
  #pumpScheduled = false;
  /** Waiters of `drain` / `waitBelow`: resolved once `pending` is at most `below`. */
  #waiters: { below: number; resolve: () => void }[] = [];
  #closed = false;

  constructor(opts: ReceptionOptions) {
    this.#o = opts;
    this.#clock = opts.clock;
    this.cache = opts.cache ?? new CertificateCache();
    this.revocations = opts.revocations ?? new RevocationStore(opts.authorities);
    this.#verifier = opts.verifier ?? new InlineVerifier();
    this.freshness = new FreshnessWindow(opts.freshness);
    this.#replay = new ReplayCache({ horizonMs: this.freshness.horizonMs, duplicateWindowMs: opts.duplicateWindowMs, capacity: opts.replayCapacity });
    // A certificate stays pending while a job carrying its check can wait: as many as the queue holds.
    this.#lookup = new CertificateLookup({
      authorities: opts.authorities,
      cache: this.cache,
      revocations: this.revocations,
      onUnknownSigner: opts.requestCertificate,
      pendingCapacity: opts.queue?.capacity ?? 2048,
    });
    // Under overload half the messages end here: their detail is written only when someone reads it.
    this.queue = new VerifyQueue<Job>((job, reason) => {
      this.counters.drop(reason);
      if (this.#o.onDropped !== undefined) this.#tellDropped(reason, `waited ${(this.#clock.monotonic() - job.enqueuedAt).toFixed(0)} ms in the verification queue`, job.message);
    }, opts.queue);
    this.#plausibility = new PlausibilityChecker(opts.plausibility);
    this.map = new LocalMap(opts.map);
    this.#batch = opts.batchSize ?? (this.#verifier.parallelism > 1 ? 64 : 16);
    this.#actionRadius = opts.actionRadiusM ?? 300;
    this.dcc = new ReactiveDcc({ onInterval: opts.onDccInterval });
    this.cbr = new CbrEstimator((cbr) => this.dcc.update(cbr, this.#clock.monotonic()));
  }

  /** This station's position (for priorities, range plausibility); 1e-7 degree. */
  setOwnPosition(p: Position | undefined): void {
    this.#own = p;
  }

  /** Messages queued or being verified. */
  get pending(): number {
    return this.queue.size + this.#inFlight;
  }

  /** A frame from the channel. `busyRatio`: the channel's own measurement, when it has one. */
  receive(bytes: Uint8Array, busyRatio?: number): void {
    const mono = this.#clock.monotonic();
    this.counters.received++;
    if (busyRatio === undefined) this.cbr.frame(bytes.length, mono);
    else this.cbr.measured(busyRatio, mono);
    if (this.#closed) return this.#drop('shed-overload', 'the pipeline is closed');
    if (checkSize(bytes, this.#o.maxMessageSize) !== undefined) return this.#drop('size', `${bytes.length} bytes (limit ${this.#o.maxMessageSize ?? 2048})`);
    const decoded = boundedDecode(bytes);
    if (!decoded.ok) return this.#drop('malformed', decoded.error.message);
    const m = decoded.message;
    const now = this.#clock.now();
    const fresh = this.freshness.check(m.payload.type, m.payload.generationTime, now);
    if (fresh !== undefined) return this.#drop(fresh, `generated ${now - m.payload.generationTime} ms before reception`, m);
    const dup = this.#replay.check(bytes, mono) ?? this.#replay.checkOrder(m.signerId, m.payload.type, m.payload.generationTime);
    if (dup !== undefined) return this.#drop(dup, `seen before from ${m.signerId}`, m);
    const found = this.#lookup.lookup(m);
    if (!found.ok) return this.#drop(found.reason, found.detail, m);
    const checks: SignatureCheck[] = [];
    if (found.certificateCheck !== undefined) checks.push(found.certificateCheck);
    checks.push({
      curve: ALG_CURVE[m.envelope.alg],
      publicKey: found.certificate.publicKey,
      message: v2xSigStructure(m.envelope.protectedBytes, m.envelope.payload),
      signature: m.envelope.signature,
    });
    const prio = messagePriority(m.payload, this.#own, this.#actionRadius);
    this.queue.push({
      cls: prio.cls,
      bucket: prio.bucket,
      enqueuedAt: mono,
      receivedAt: mono,
      message: m,
      certificate: found.certificate,
      checks,
      newCertificate: found.certificateCheck !== undefined,
      certificateId: found.certificateId,
    });
    this.#schedulePump();
  }

  /**
   * A frame shed unread by the intake in front of the pipeline (reception-intake.ts) under
   * overload: heard (it feeds the channel busy ratio) and counted as received and dropped
   * under `shed-overload`, so that every frame off the air is accounted for in one place.
   */
  shed(bytes: Uint8Array, detail: string): void {
    this.counters.received++;
    this.cbr.frame(bytes.length, this.#clock.monotonic());
    this.#drop('shed-overload', detail);
  }

  /** Loads a signed revocation list (only a newer one replaces the current). */
  loadRevocationList(bytes: Uint8Array): boolean {
    return this.revocations.load(bytes);
  }

  /** Resolves when nothing is queued or being verified. */
  drain(): Promise<void> {
    return this.waitBelow(0);
  }

  /**
   * Resolves once at most `n` messages are queued or being verified: back-pressure for a
   * source that can wait (a replayed capture, a benchmark), so that it keeps the verifiers fed
   * without filling the queue. A radio cannot wait: it just calls `receive`.
   */
  waitBelow(n: number): Promise<void> {
    if (this.pending <= n) return Promise.resolve();
    this.#schedulePump();
    return new Promise((resolve) => this.#waiters.push({ below: n, resolve }));
  }

  /** Expires the local map and certificate cache (call about once a second). */
  expire(): void {
    const now = this.#clock.now();
    this.map.expire(now);
    this.cache.prune(now);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.drain();
    await this.#verifier.close();
  }

  #drop(reason: DropReason, detail: string, m?: DecodedMessage): void {
    this.counters.drop(reason);
    this.#tellDropped(reason, detail, m);
  }

  /** Tells `onDropped` (already counted). */
  #tellDropped(reason: DropReason, detail: string, m?: DecodedMessage): void {
    this.#o.onDropped?.({ reason, detail, type: m?.payload.type, signerId: m?.signerId });
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    // setImmediate lets the transport deliver the frames already waiting before a batch is
    // formed, so that a hazard that arrived meanwhile goes into this batch, not the next.
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    // Hazards are verified here, now, on this thread, never behind the batches in flight on
    // the workers (a worker round trip on a loaded board is tens of ms; each worker holds two
    // batches). They are about 5 % of the traffic, so this costs the thread little, and it bounds
    // a hazard's wait by one turn of the event loop, not by the other classes' load. At most a
    // batch of them per turn: a flood of (forged) hazards must not stall reception; the rest
    // wait their turn or go to the workers with everything else.
    const now = this.#clock.monotonic();
    const hazards: Job[] = [];
    for (let j = this.queue.take(now, 0); j !== undefined; j = hazards.length < this.#batch ? this.queue.take(now, 0) : undefined) hazards.push(j);
    if (hazards.length > 0) {
      this.#inFlight += hazards.length;
      const ok = new Array<boolean>(hazards.length);
      for (let i = 0; i < hazards.length; i++) ok[i] = hazards[i]!.checks.every(verifyCheck);
      this.#settle(hazards, ok);
    }
    while (this.#batches.length < this.#verifier.parallelism && this.queue.size > 0) {
      const jobs: Job[] = [];
      const at = this.#clock.monotonic();
      while (jobs.length < this.#batch) {
        const j = this.queue.take(at);
        if (j === undefined) break;
        jobs.push(j);
      }
      if (jobs.length === 0) break;
      this.#inFlight += jobs.length;
      const batch: InFlightBatch = { jobs, answered: false };
      this.#batches.push(batch);
      const checks = new Array<SignatureCheck[]>(jobs.length);
      for (let i = 0; i < jobs.length; i++) checks[i] = jobs[i]!.checks;
      this.#verifier.verify(checks).then(
        (ok) => this.#answered(batch, ok),
        (err: unknown) => this.#answered(batch, jobs.map(() => false), (err as Error).message),
      );
    }
    this.#checkIdle();
  }

  /**
   * A batch's answer. Batches run at once on several threads and may answer out of order;
   * they are settled in the order they were handed out, so that a signer's messages reach
   * plausibility and the map in the order received (a later CAM first would look like time
   * going back).
   */
  #answered(batch: InFlightBatch, ok: boolean[], failure?: string): void {
    batch.answered = true;
    batch.ok = ok;
    batch.failure = failure;
    while (this.#batches.length > 0 && this.#batches[0]!.answered) {
      const b = this.#batches.shift()!;
      this.#settle(b.jobs, b.ok!, b.failure);
    }
  }

  #settle(jobs: Job[], ok: boolean[], failure?: string): void {
    this.#inFlight -= jobs.length;
    for (let i = 0; i < jobs.length; i++) this.#finish(jobs[i]!, ok[i] === true, failure);
    if (this.queue.size > 0) this.#schedulePump();
    this.#checkIdle();
  }

  #finish(job: Job, ok: boolean, failure?: string): void {
    const m = job.message;
    // The verifier itself failed (a worker thread died): nothing was learnt about the message,
    // which is dropped unverified, as under overload, never accepted.
    if (failure !== undefined) return this.#drop('shed-overload', `not verified: ${failure}`, m);
    if (!ok) {
      if (job.newCertificate && job.certificateId !== undefined) {
        // Which check failed decides the reason: check the certificate alone again (a rare
        // path: a forged certificate, or a forged message under a new genuine one).
        if (!verifyCheck(job.checks[0]!)) {
          this.#lookup.markBad(job.certificateId, m.signerId);
          return this.#drop('bad-certificate', `signer ${m.signerId}: the attached certificate's authority signature does not verify`, m);
        }
      }
      return this.#drop('bad-signature', `signer ${m.signerId}: the signature does not verify (altered, high-S, or another key)`, m);
    }
    if (job.newCertificate) {
      this.cache.add(job.certificate);
      this.#lookup.settled(m.signerId);
    }
    const own = this.#own;
    const bad = this.#plausibility.check(m.signerId, m.payload, own);
    if (bad !== undefined) {
      // The claim is remembered all the same: the next message is judged against the latest
      // one (consecutive-message checks), so a liar cannot park a stale track to hide behind.
      this.#plausibility.record(m.signerId, m.payload);
      return this.#drop(bad.reason, `signer ${m.signerId}: ${bad.detail}`, m);
    }
    this.#plausibility.record(m.signerId, m.payload);
    this.#replay.accepted(m.signerId, m.payload.type, m.payload.generationTime);
    if (m.payload.certRequests.length > 0) this.#o.certificatesRequested?.(m.payload.certRequests);
    const event = this.map.apply(m.signerId, m.payload, this.#clock.now());
    this.counters.accepted++;
    this.#o.onAccepted?.({
      type: m.payload.type,
      body: m.payload.body,
      generationTime: m.payload.generationTime,
      signerId: m.signerId,
      certificate: job.certificate,
      priorityClass: job.cls,
      latencyMs: this.#clock.monotonic() - job.receivedAt,
      event,
    });
  }

  #checkIdle(): void {
    if (this.#waiters.length === 0) return;
    const pending = this.pending;
    if (!this.#waiters.some((w) => pending <= w.below)) return;
    const ready = this.#waiters.filter((w) => pending <= w.below);
    this.#waiters = this.#waiters.filter((w) => pending > w.below);
    for (const w of ready) w.resolve();
  }
}
