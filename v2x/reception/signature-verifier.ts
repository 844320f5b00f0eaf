// Where the queue's signature checks run (stage 7 of reception). A job is the checks of one
// message (its certificate's, when one is new, then its own), all of which must hold. The
// inline verifier runs them on the calling thread; WorkerVerifier (verify-workers.ts) spreads
// batches over worker threads for all cores. The pipeline only sees this interface, so tests
// and small boards use the inline one and a roadside unit the workers.
import type { SignatureCheck } from './signature-check.ts';
import { verifyCheck } from './signature-check.ts';

export interface SignatureVerifier {
  /** Batches that may be in flight at once (1 for the inline verifier). */
  readonly parallelism: number;
  /** One result per job: true when every check of the job verified. */
  verify(jobs: readonly (readonly SignatureCheck[])[]): Promise<boolean[]>;
  close(): Promise<void>;
}

export class InlineVerifier implements SignatureVerifier {
  readonly parallelism = 1;

  async verify(jobs: readonly (readonly SignatureCheck[])[]): Promise<boolean[]> {
    return jobs.map((checks) => checks.every(verifyCheck));
  }

  async close(): Promise<void> {}
}
