// The vehicle's side of the identity attestation: answers a verified challenge from a
// challenger it agreed to (the `consent` policy: e.g. the car-share station of its booking),
// only when the challenge is for any vehicle or for its current pseudonym, inside a V2X
// message signed by that pseudonym; then changes pseudonym, since the answer linked it to the
// vehicle's identity for everyone in range.
import type { Clock } from '../../hal/clock.ts';
import type { PrivateKey } from '../../ledger/keys/private-key.ts';
import type { OpenedMessage } from '../security/envelope.ts';
import type { MessageSealer } from '../security/message-sealer.ts';
import type { AttestationChallenge } from '../messages/attestation-messages.ts';
import { signAttestation } from './attestation.ts';

export interface AttestationResponderOptions {
  sealer: MessageSealer;
  clock: Clock;
  /** The vehicle's ledger identity key (secp256k1). */
  identityKey: PrivateKey;
  /** The fleet statement (or certificate) binding that key to the vehicle. */
  identityStatement: Uint8Array;
  /** Whether to reveal the identity to this challenger. */
  consent: (challengerId: number) => boolean;
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

export class AttestationResponder {
  readonly #o: AttestationResponderOptions;

  constructor(opts: AttestationResponderOptions) {
    this.#o = opts;
  }

  /** The sealed `attestation` message answering `challenge`, or undefined when not answering. */
  respond(challenge: OpenedMessage): Uint8Array | undefined {
    if (challenge.type !== 'attestationChallenge') return undefined;
    const body = challenge.body as AttestationChallenge;
    const pseudonyms = this.#o.sealer.pseudonyms;
    pseudonyms.tick();
    const current = pseudonyms.current;
    if (body.target !== undefined && !equal(body.target, current.digest)) return undefined;
    if (!this.#o.consent(body.challengerId)) return undefined;
    const statement = signAttestation({
      challenge: body,
      challengeTime: challenge.generationTime,
      pseudonym: current.digest,
      identityKey: this.#o.identityKey,
      identityStatement: this.#o.identityStatement,
      now: this.#o.clock.now(),
    });
    const bytes = this.#o.sealer.seal('attestation', { statement });
    pseudonyms.change();
    return bytes;
  }
}
