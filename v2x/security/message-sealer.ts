// The sending side of the envelope: signs each message with the current pseudonym and decides
// when its certificate rides along (v2x/README.md "Certificates"): on every hazard message
// (receivers that just came into range must verify a warning at once), on the first message
// after a pseudonym change, when at least `certificateIntervalMs` (default 1000 ms, about once
// a second as ETSI TS 103 097 / IEEE 1609.2 senders do) has passed since it last rode, and on
// the next message after another station asked for it. It also carries this station's own
// requests for certificates it is missing (bounded queue, at most 4 per message).
import type { Clock } from '../../hal/clock.ts';
import type { MessageBodies, MessageName } from '../messages/message-types.ts';
import { MAX_CERT_REQUESTS, sealMessage } from './envelope.ts';
import type { ActivePseudonym, PseudonymManager } from './pseudonym-manager.ts';

const MAX_PENDING_REQUESTS = 16;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export interface MessageSealerOptions {
  pseudonyms: PseudonymManager;
  clock: Clock;
  certificateIntervalMs?: number;
}

export class MessageSealer {
  readonly pseudonyms: PseudonymManager;
  readonly #clock: Clock;
  readonly #certInterval: number;
  #lastCertAt = -Infinity;
  #attachNext = true;
  #pending = new Map<string, Uint8Array>();

  constructor(opts: MessageSealerOptions) {
    this.pseudonyms = opts.pseudonyms;
    this.#clock = opts.clock;
    this.#certInterval = opts.certificateIntervalMs ?? 1000;
    this.pseudonyms.onChange(() => {
      // Nothing from the old pseudonym carries over: not its certificate timing, not its requests.
      this.#attachNext = true;
      this.#lastCertAt = -Infinity;
      this.#pending.clear();
    });
  }

  /** Another station's message asked for these digests: attach ours next if it is among them. */
  noteCertificateRequests(digests: readonly Uint8Array[]): void {
    const mine = hex(this.pseudonyms.current.digest);
    if (digests.some((d) => hex(d) === mine)) this.#attachNext = true;
  }

  /** Ask others for the certificate of `digest` in the next messages (bounded queue). */
  requestCertificate(digest: Uint8Array): void {
    if (this.#pending.size >= MAX_PENDING_REQUESTS) return;
    this.#pending.set(hex(digest), digest.slice());
  }

  /**
   * Signs a message now with the current pseudonym (after applying its change schedule). Give
   * the body as a function of the pseudonym when it names the station (CAM, DENM): the
   * schedule may change pseudonym and station id right here.
   */
  seal<N extends MessageName>(type: N, body: MessageBodies[N] | ((p: ActivePseudonym) => MessageBodies[N])): Uint8Array {
    this.pseudonyms.tick();
    const p = this.pseudonyms.current;
    const now = this.#clock.now();
    const attach = type === 'denm' || this.#attachNext || now - this.#lastCertAt >= this.#certInterval;
    const requests = [...this.#pending.values()].slice(0, MAX_CERT_REQUESTS);
    const bytes = sealMessage({
      type,
      body: typeof body === 'function' ? body(p) : body,
      generationTime: Math.floor(now),
      signer: p.signer,
      certificate: attach ? p.certificate : undefined,
      certRequests: requests,
    });
    for (const r of requests) this.#pending.delete(hex(r));
    if (attach) {
      this.#lastCertAt = now;
      this.#attachNext = false;
    }
    return bytes;
  }
}
