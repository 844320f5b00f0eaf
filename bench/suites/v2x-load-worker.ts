// The v2x suite's load generator, a worker thread: the air around a roadside unit. Before the
// run it seals every message of the run (OpenSSL, real signatures over real generation times:
// the time each one is due on the schedule), so that during the run it only copies pre-signed
// bytes into the receiver's radio buffer (v2x-radio-ring.ts) at their due times, and costs the
// shared cores almost nothing. Each signer sends at most every 100 ms (as the CAM rules allow),
// so the stream is plausible; hazards (5 %) are DENMs at their sender's position; certificates
// ride along once a second per signer and on every hazard. The run starts at a wall time it
// plans from a probe of its sealing pace (posted as `planned`); if the sealing ran late, every send is
// shifted by the same amount and the shift is reported. Between due times it sleeps on
// Atomics.wait (sub-millisecond, no busy loop); a full radio buffer drops the frame, counted.
import { parentPort, workerData } from 'node:worker_threads';
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
  | { kind: 'sealed'; count: number; bytes: number; sealMs: number }
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
const count = Math.floor((data.rate * data.durationMs) / 1000);
// n signers in turn: each sends every n / rate s, which must be at least 100 ms.
if ((n * 1000) / data.rate < 100) throw new RangeError(`load: ${n} signers cannot send ${data.rate} msg/s with 100 ms between one signer's messages`);

// Plan the start: time a few seals (thrown away; the probe runs before the JIT has settled, so
// it overestimates the steady pace), allow 1.25 times that pace for the whole run, plus 1.5 s.
// Twice the pace left a 60 s run idle for a minute and a half before its start; a sealing that
// still runs late shifts the schedule (reported).
const probe = performance.now();
for (let k = 0; k < 200; k++) sealers[k % n]!.seal('cam', camBody(k % n, latitudeOf(k % n, n)), Date.now(), k < n);
const perSeal = (performance.now() - probe) / 200;
const startAt = Math.ceil(wallNow() + 1.25 * count * perSeal + 1500);
port.postMessage({ kind: 'planned', startAt, count } satisfies LoadMessage);
const dueOf = (k: number) => startAt + Math.floor((k * 1000) / data.rate);
// Seal the whole run: message k is due at dueOf(k), sent by signer k mod n.
const sealStart = performance.now();
let store = new Uint8Array(Math.max(1 << 16, count * 260));
const offsets = new Uint32Array(count + 1);
const certAt = new Float64Array(n).fill(-Infinity);
let at = 0;
let hazards = 0;
const hazardEvery = Math.round(1 / HAZARD_SHARE);
for (let k = 0; k < count; k++) {
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
  offsets[k + 1] = at;
}
port.postMessage({ kind: 'sealed', count, bytes: at, sealMs: performance.now() - sealStart } satisfies LoadMessage);

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
    if (ring.write(store.subarray(offsets[k]!, offsets[k + 1]!))) sent++;
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
