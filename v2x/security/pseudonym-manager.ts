// The vehicle's pool of pseudonyms: which one signs now, and when to change. A pseudonym is a
// key with its certificate; the station id is drawn at random each time one is activated, so
// the pseudonym and the station id always change together, and nothing in a message after a
// change (station id, signer digest, certificate, DENM sequence numbers: their senders listen
// to `onChange` and restart from fresh random values) links it to the messages before.
// Changes happen on a schedule (default every 5 minutes, ETSI TR 103 415 discusses the
// trade-offs), when the certificate nears its end, and on request. A scheduled change waits
// while a `hold` is taken (an ongoing hazard whose repetitions must keep one action id);
// a requested or expiry change does not.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../hal/clock.ts';
import type { PrivateKey } from '../../ledger/keys/private-key.ts';
import { PseudonymSigner } from './pseudonym-signer.ts';
import type { PseudonymCertificate } from './pseudonym-certificate.ts';

export interface PseudonymCredential {
  key: PrivateKey;
  /** The certificate bytes (COSE_Sign1 by the authority). */
  certificate: Uint8Array;
  /** The certificate as checked (verifyPseudonymCertificate). */
  info: PseudonymCertificate;
}

export interface ActivePseudonym {
  readonly signer: PseudonymSigner;
  readonly certificate: Uint8Array;
  readonly info: PseudonymCertificate;
  /** The 8-byte signer digest. */
  readonly digest: Uint8Array;
  /** Station id used in every message under this pseudonym (random uint32). */
  readonly stationId: number;
  /** Wall time it became active (ms). */
  readonly since: number;
}

export type ChangeReason = 'start' | 'schedule' | 'request' | 'expiry';
export type ChangeListener = (next: ActivePseudonym, reason: ChangeReason) => void;

export interface PseudonymManagerOptions {
  clock: Clock;
  /** Scheduled change period, ms (default 300000). */
  changeIntervalMs?: number;
  /** Change this long before the certificate expires, ms (default 60000). */
  expiryMarginMs?: number;
  /** Random bytes (default node:crypto randomBytes); injectable for deterministic tests. */
  random?: (n: number) => Uint8Array;
}

export class PseudonymManager {
  readonly #pool: PseudonymCredential[];
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #margin: number;
  readonly #random: (n: number) => Uint8Array;
  readonly #listeners = new Set<ChangeListener>();
  #current: ActivePseudonym | undefined;
  #holds = 0;

  constructor(pool: readonly PseudonymCredential[], opts: PseudonymManagerOptions) {
    if (pool.length === 0) throw new RangeError('pool: no pseudonyms; ask the fleet authority for a batch of certificates');
    this.#pool = [...pool];
    this.#clock = opts.clock;
    this.#interval = opts.changeIntervalMs ?? 300_000;
    this.#margin = opts.expiryMarginMs ?? 60_000;
    this.#random = opts.random ?? ((n) => new Uint8Array(randomBytes(n)));
    if (!(this.#interval > 0)) throw new RangeError(`changeIntervalMs: ${this.#interval}; expected > 0`);
  }

  /** Pseudonyms not used yet. */
  get remaining(): number {
    return this.#pool.length;
  }

  /** The pseudonym signing now (the first call activates one). */
  get current(): ActivePseudonym {
    return this.#current ?? this.#activate('start');
  }

  /** Calls `fn` after every change (and at the first activation). */
  onChange(fn: ChangeListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Defers scheduled changes until the returned release is called. */
  hold(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.#holds--;
      }
    };
  }

  /** Changes now (a user or the later pipeline asked for it). */
  change(): ActivePseudonym {
    return this.#activate('request');
  }

  /** Applies the schedule; returns the reason when it changed. Call it before each message. */
  tick(): ChangeReason | undefined {
    if (this.#current === undefined) return undefined;
    const now = this.#clock.now();
    if (now >= this.#current.info.notAfter - this.#margin) {
      this.#activate('expiry');
      return 'expiry';
    }
    if (this.#holds === 0 && now - this.#current.since >= this.#interval) {
      this.#activate('schedule');
      return 'schedule';
    }
    return undefined;
  }

  #activate(reason: ChangeReason): ActivePseudonym {
    const now = this.#clock.now();
    const usable = this.#pool.filter((c) => c.info.notBefore <= now && now < c.info.notAfter - this.#margin);
    if (usable.length === 0) {
      throw new RangeError(`pool: none of the ${this.#pool.length} remaining pseudonyms is valid at ${new Date(now).toISOString()}; ask the fleet authority for new certificates`);
    }
    // A random pick: the order certificates were issued in must not predict the next one.
    const r = this.#random(4);
    const pick = usable[new DataView(r.buffer, r.byteOffset, 4).getUint32(0) % usable.length]!;
    this.#pool.splice(this.#pool.indexOf(pick), 1);
    let stationId: number;
    do {
      const s = this.#random(4);
      stationId = new DataView(s.buffer, s.byteOffset, 4).getUint32(0);
    } while (stationId === this.#current?.stationId);
    const signer = new PseudonymSigner(pick.key);
    this.#current = { signer, certificate: pick.certificate, info: pick.info, digest: signer.kid, stationId, since: now };
    for (const fn of this.#listeners) fn(this.#current, reason);
    return this.#current;
  }
}
