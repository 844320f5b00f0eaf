// The v2x suite's load generator, a worker thread: the air around a roadside unit. Before the
// run it seals every message of the run (OpenSSL, real signatures over real generation times:
// the time each one is due on the schedule), so that during the run it only copies pre-signed
// bytes into the receiver's radio buffer (v2x-radio-ring.ts) at their due times, and costs the
// shared cores almost nothing. Each signer sends at most every 100 ms (as the CAM rules allow),
// so the stream is plausible; hazards (5 %) are DENMs at their sender's position; certificates
// ride along once a second per signer and on every hazard. The run starts at a wall time it
// plans from a probe of its sealing pace (posted as `planned`); if the sealing ran late, every send is
// shifted by the same amount and the shift is reported. The sealing is split with a helper
// thread of this same module (`sealRange` in its data), which seals the second half while
// the generator seals the first: both cores are free before the run, and a 60 s run at twice
// the capacity holds over a million messages. Between due times it sleeps on
// Atomics.wait (sub-millisecond, no busy loop); a full radio buffer drops the frame, counted.
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { verifyPseudonymCertificate } from '../../v2x/security/pseudonym-certificate.ts';
import { OpensslSealer } from '../../v2x/sim/openssl-sealer.ts';
import { camBody, denmBody, HAZARD_SHARE, latitudeOf } from './v2x-fixture.ts';
import type { CredentialExport } from './v2x-fixture.ts';
import { RadioRing } from './v2x-radio-ring.ts';

export interface LoadWorkerData {
  authorityPublicKey: Uint8Array;
  credentials: CredentialExport[];
  /** Messages per second. */
  rate: number;
  durationMs: number;
  /** The receiver's radio buffer (RadioRing.buffer). */
  ring: SharedArrayBuffer;
  /** Set for the sealing helper only: seal messages from..to-1 of the run starting at startAt, post them, stop. */
  sealRange?: { from: number; to: number; startAt: number };
}

/** What the sealing helper posts back: its messages' bytes, end offsets (relative to its first), hazards sealed. */
interface SealedRange {
  store: Uint8Array;
  offsets: Uint32Array;
  hazards: number;
}

export interface LoadReport {
  kind: 'done';
  /** Frames written into the radio buffer. */
  sent: number;
  /** Frames the full radio buffer dropped. */
  droppedAtRadio: number;
  hazards: number;
  /** Wall ms from the first due time to the last frame written. */
  elapsedMs: number;
  /** How late frames were written after their due time, ms: p99 and max. */
  lateP99Ms: number;
  lateMaxMs: number;
  /** Share of the run's wall time this thread was busy (not asleep): its CPU cost. */
  busyShare: number;
}

export type LoadMessage =
  | { kind: 'planned'; startAt: number; count: number }
  | { kind: 'sealed'; count: number; bytes: number; sealMs: number; /** Wall ms from the end of the sealing to the planned start (negative: late). */ waitMs: number }
  | { kind: 'started'; shiftMs: number }
  | { kind: 'wake' }
  | LoadReport;

const data = workerData as LoadWorkerData;
const port = parentPort!;
// The wall clock the receiver judges freshness by (its clock is Date.now too).
const wallNow = () => Date.now();
const authorities = new KeyRing([{ publicKey: data.authorityPublicKey, curve: 'P-256' }]);
const sealers = data.credentials.map(
  (c) => new OpensslSealer({ key: PrivateKey.fromBytes(c.secret, 'P-256'), certificate: c.certificate, info: verifyPseudonymCertificate(c.certificate, { authorities: authorities.lookup }) }),
);
const n = sealers.length;
/** Runs of at least this many messages are sealed on two threads. */
const SPLIT_FROM = 200_000;
const count = Math.floor((data.rate * data.durationMs) / 1000);
// n signers in turn: each sends every n / rate s, which must be at least 100 ms.
if ((n * 1000) / data.rate < 100) throw new RangeError(`load: ${n} signers cannot send ${data.rate} msg/s with 100 ms between one signer's messages`);

/**
 * Seals messages from..to-1 of the run that starts at `startAt` (message k is due at
 * dueOf(k), sent by signer k mod n; certificates ride along on hazards and once a second per
 * signer from the first message of the range on): their bytes back to back, and offsets[j] =
 * where message from + j ends (offsets[0] = 0).
 */
function seal(from: number, to: number, startAt: number): SealedRange {
  const dueOf = (k: number) => startAt + Math.floor((k * 1000) / data.rate);
  let store = new Uint8Array(Math.max(1 << 16, (to - from) * 260));
  const offsets = new Uint32Array(to - from + 1);
  const certAt = new Float64Array(n).fill(-Infinity);
  let at = 0;
  let hazards = 0;
  const hazardEvery = Math.round(1 / HAZARD_SHARE);
  for (let k = from; k < to; k++) {
    const i = k % n;
    const t = dueOf(k);
    const lat = latitudeOf(i, n);
    const hazard = k % hazardEvery === 0;
    const attach = hazard || t - certAt[i]! >= 1000;
    if (attach) certAt[i] = t;
    const bytes = hazard ? sealers[i]!.seal('denm', denmBody(i, k, lat, t), t, true) : sealers[i]!.seal('cam', camBody(i, lat), t, attach);
    if (hazard) hazards++;
    if (at + bytes.length > store.length) {
      const bigger = new Uint8Array(store.length * 2);
      bigger.set(store.subarray(0, at));
      store = bigger;
    }
    store.set(bytes, at);
    at += bytes.length;
    offsets[k - from + 1] = at;
  }
  return { store: store.subarray(0, at), offsets, hazards };
}

if (data.sealRange) {
  // The sealing helper: its half of the run, then it is done.
  const { from, to, startAt } = data.sealRange;
  const r = seal(from, to, startAt);
  const store = r.store.slice();
  port.postMessage({ store, offsets: r.offsets, hazards: r.hazards } satisfies SealedRange, [store.buffer as ArrayBuffer, r.offsets.buffer as ArrayBuffer]);
} else {
  await generate();
}

async function generate(): Promise<void> {
  // Plan the start: time a few seals after a few more (all thrown away; the JIT has not
  // settled yet, so the probe still overestimates the steady pace), allow that pace for this
  // thread's half of the run, plus 3 s (the helper thread's start-up included); the time left
  // between the end of the sealing and the start is reported. A sealing that still runs late
  // shifts the schedule (reported), which costs nothing but the shift.
  const probeSeal = (k: number) => sealers[k % n]!.seal('cam', camBody(k % n, latitudeOf(k % n, n)), Date.now(), k < n);
  for (let k = 0; k < 1000; k++) probeSeal(k);
  const probe = performance.now();
  for (let k = 0; k < 1000; k++) probeSeal(k);
  const perSeal = (performance.now() - probe) / 1000;
  // A helper thread costs a few seconds to start (its TypeScript loader and modules): worth it
  // for the full run's million messages, not for a quick run's fifty thousand.
  const half = count >= SPLIT_FROM ? Math.ceil(count / 2) : count;
  const startAt = Math.ceil(wallNow() + half * perSeal + (half < count ? 3000 : 1500));
  port.postMessage({ kind: 'planned', startAt, count } satisfies LoadMessage);
  const dueOf = (k: number) => startAt + Math.floor((k * 1000) / data.rate);
  // Seal the whole run: the first half here, the second in the helper thread.
  const sealStart = performance.now();
  const helper = half < count ? new Worker(new URL('./v2x-load-worker.mjs', import.meta.url), { workerData: { ...data, sealRange: { from: half, to: count, startAt } } satisfies LoadWorkerData }) : undefined;
  const second = new Promise<SealedRange>((resolve, reject) => {
    if (!helper) return resolve({ store: new Uint8Array(0), offsets: new Uint32Array(1), hazards: 0 });
    helper.once('message', resolve);
    helper.once('error', reject);
    helper.once('exit', (code) => reject(new Error(`v2x sealing helper exited (code ${code}) before its messages`)));
  });
  const first = seal(0, half, startAt);
  const rest = await second;
  await helper?.terminate();
  const hazards = first.hazards + rest.hazards;
  /** Message k's bytes, in the half that sealed it. */
  const frame = (k: number): Uint8Array => {
    const r = k < half ? first : rest;
    const j = k < half ? k : k - half;
    return r.store.subarray(r.offsets[j]!, r.offsets[j + 1]!);
  };
  const at = first.store.length + rest.store.length;
  port.postMessage({ kind: 'sealed', count, bytes: at, sealMs: performance.now() - sealStart, waitMs: startAt - wallNow() } satisfies LoadMessage);

  const ring = new RadioRing(data.ring);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const sleep = (ms: number) => {
    if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
  };
  // Wait for the planned start; a late sealing shifts the whole schedule.
  sleep(startAt - wallNow());
  const shift = Math.max(0, wallNow() - startAt);
  port.postMessage({ kind: 'started', shiftMs: shift } satisfies LoadMessage);
  const late = new Float32Array(count);
  let sent = 0;
  let asleep = 0;
  const t0 = performance.now();
  for (let k = 0; k < count; ) {
    const now = wallNow();
    let wrote = false;
    while (k < count && dueOf(k) + shift <= now) {
      if (ring.write(frame(k))) sent++;
      late[k] = now - (dueOf(k) + shift);
      wrote = true;
      k++;
    }
    if (wrote && ring.claimWake()) port.postMessage({ kind: 'wake' } satisfies LoadMessage);
    if (k < count) {
      const s0 = performance.now();
      sleep(Math.min(1, dueOf(k) + shift - wallNow()));
      asleep += performance.now() - s0;
    }
  }
  const elapsed = performance.now() - t0;
  late.sort((a, b) => a - b);
  port.postMessage({
    kind: 'done',
    sent,
    droppedAtRadio: ring.dropped,
    hazards,
    elapsedMs: elapsed,
    lateP99Ms: late[Math.floor(late.length * 0.99)] ?? 0,
    lateMaxMs: late[late.length - 1] ?? 0,
    busyShare: elapsed > 0 ? 1 - asleep / elapsed : 0,
  } satisfies LoadMessage);
}
