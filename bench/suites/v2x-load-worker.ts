// The v2x suite's load generator, a worker thread: seals messages at the offered rate, live,
// with real generation times, and posts them to the receiver every 5 ms. Each signer sends at
// most every 100 ms (as the CAM rules allow), so the stream is plausible; hazards (5 %) are
// DENMs at their sender's position. It says `ready` once its sealers are built (booting the
// thread and its sources takes seconds on a loaded machine, which must not count as run time),
// starts when told (any message), then keeps a real-time schedule: a tick that falls behind sends at most two ticks' worth and
// drops the rest of its debt, so the receiver is never handed a burst of backlog (what a
// radio would not deliver either). It stops after `durationMs` and reports what it sent.
import { parentPort, workerData } from 'node:worker_threads';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { verifyPseudonymCertificate } from '../../v2x/security/pseudonym-certificate.ts';
import { OpensslSealer } from '../../v2x/sim/openssl-sealer.ts';
import { camBody, denmBody, HAZARD_SHARE, latitudeOf } from './v2x-fixture.ts';
import type { CredentialExport } from './v2x-fixture.ts';

export interface LoadWorkerData {
  authorityPublicKey: Uint8Array;
  credentials: CredentialExport[];
  /** Messages per second. */
  rate: number;
  durationMs: number;
}

export type LoadMessage = { kind: 'ready' } | { kind: 'batch'; messages: Uint8Array[]; hazards: number } | { kind: 'done'; sent: number; hazards: number; elapsedMs: number };

const data = workerData as LoadWorkerData;
const port = parentPort!;
const ring = new KeyRing([{ publicKey: data.authorityPublicKey, curve: 'P-256' }]);
const sealers = data.credentials.map(
  (c) => new OpensslSealer({ key: PrivateKey.fromBytes(c.secret, 'P-256'), certificate: c.certificate, info: verifyPseudonymCertificate(c.certificate, { authorities: ring.lookup }) }),
);
const n = sealers.length;
const lastAt = new Float64Array(n).fill(-Infinity);
const certAt = new Float64Array(n).fill(-Infinity);
const TICK_MS = 5;
let next = 0;
let sent = 0;
/** Messages the schedule owed but a late tick gave up (the generator could not keep the rate). */
let skipped = 0;
let hazards = 0;
let start = 0;
port.once('message', () => {
  start = performance.now();
  setTimeout(tick, 0);
});
port.postMessage({ kind: 'ready' } satisfies LoadMessage);

function tick(): void {
  const elapsed = performance.now() - start;
  const owed = Math.floor((data.rate * Math.min(elapsed, data.durationMs)) / 1000) - skipped;
  const most = sent + Math.ceil((data.rate * 2 * TICK_MS) / 1000);
  if (owed > most) skipped += owed - most;
  const due = Math.min(owed, most);
  const messages: Uint8Array[] = [];
  let h = 0;
  const now = Date.now();
  while (sent < due) {
    const i = next;
    if (now - lastAt[i]! < 100) break; // every signer spoke in the last 100 ms: the rate is above n * 10/s
    next = (next + 1) % n;
    lastAt[i] = now;
    const lat = latitudeOf(i, n);
    const hazard = sent % Math.round(1 / HAZARD_SHARE) === 0;
    const attach = hazard || now - certAt[i]! >= 1000;
    if (attach) certAt[i] = now;
    messages.push(hazard ? sealers[i]!.seal('denm', denmBody(i, sent, lat, now), now, true) : sealers[i]!.seal('cam', camBody(i, lat), now, attach));
    if (hazard) h++;
    sent++;
  }
  hazards += h;
  if (messages.length > 0) port.postMessage({ kind: 'batch', messages, hazards: h } satisfies LoadMessage);
  if (elapsed >= data.durationMs) {
    port.postMessage({ kind: 'done', sent, hazards, elapsedMs: elapsed } satisfies LoadMessage);
    return;
  }
  setTimeout(tick, TICK_MS);
}
