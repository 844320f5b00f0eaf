// The passport page's verification worker: runs the ledger's own verifyPassport (the code behind
// `voltrail passport verify`, bundled for the browser with Node built-ins swapped for browser
// modules) off the page's thread, and reports progress as signatures are checked, so a long
// history neither freezes the page nor leaves the recycler guessing.
import { verifyPassport } from '../../../ledger/passport/verify.ts';
import { decodeBundle } from '../../../ledger/passport/bundle.ts';
import type { Curve } from '../../../ledger/signers/backend.ts';
import { countVerifications } from './shims/openssl-verify.ts';
import { reportToView } from './report-to-view.ts';
import type { FromWorker, ToWorker } from './passport-view.ts';

const post = (m: FromWorker) => (self as unknown as { postMessage(m: FromWorker): void }).postMessage(m);

function fromHex(s: string): Uint8Array {
  if (!/^([0-9a-f]{2})+$/i.test(s)) throw new TypeError('the server sent a key or revocation list that is not hex');
  return Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
}

/** Signatures the verifier will check: certificates, statuses, records, checkpoints, witnesses (an estimate for the progress bar). */
function expectedChecks(bytes: Uint8Array): number {
  try {
    const b = decodeBundle(bytes);
    return b.certificates.length + b.revocationLists.length + b.statuses.length + b.logs.reduce((s, l) => s + l.records.length + l.checkpoints.length + 2 * l.witnesses.length, 0);
  } catch {
    return 1; // the verifier will name what is wrong with it
  }
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const { bytes, trust, revocationLists, tier } = e.data;
  try {
    const data = new Uint8Array(bytes);
    const total = Math.max(1, expectedChecks(data));
    let done = 0;
    let shown = 0;
    post({ kind: 'progress', stage: 'checking signatures', done: 0, total });
    countVerifications(() => {
      done++;
      // About a hundred updates whatever the size: each is a message to the page.
      if (done - shown >= total / 100) {
        shown = done;
        post({ kind: 'progress', stage: 'checking signatures', done: Math.min(done, total), total });
      }
    });
    const report = verifyPassport(data, {
      trust: trust.map((a) => ({ publicKey: fromHex(a.publicKey), curve: a.curve as Curve })),
      revocationLists: revocationLists.map(fromHex),
      // No `now`, as `voltrail passport verify` by default: a recycler holds batteries whose board
      // certificates expired long ago; what matters is that everything was signed while valid.
    });
    countVerifications(undefined);
    post({ kind: 'progress', stage: 'done', done: total, total });
    post({ kind: 'result', view: reportToView(report, tier) });
  } catch (err) {
    post({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
