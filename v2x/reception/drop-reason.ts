// The reasons the reception pipeline drops a message, and the counters kept under them. Every
// message that enters the pipeline ends in exactly one place: accepted, or one of these reasons
// (README "Reception"), so `received = accepted + sum(dropped) + in flight` always holds.

export const DROP_REASONS = [
  'size', // over the size limit, before any decoding
  'malformed', // not a V2X envelope / payload: bad CBOR, not canonical, unknown field, wrong typ or alg
  'stale', // generation time older than the type's freshness window
  'future', // generation time ahead of the receiver's clock by more than the window allows
  'duplicate', // the same bytes again within the duplicate window (radio repeats, relays)
  'replay', // the same bytes again later, or a signer's time not after its last accepted one
  'unknown-signer', // no certificate for the signer digest (it is asked for)
  'revoked', // the pseudonym is on the authority's revocation list
  'bad-certificate', // the attached certificate does not verify or is not the signer's
  'not-permitted', // the certificate does not permit this message type, or the time is outside it
  'bad-signature',
  'shed-overload', // dropped by the verification queue under overload (lowest priority first)
  'shed-late', // waited in the verification queue past its deadline
  'implausible-speed',
  'implausible-position',
  'implausible-interval',
  'implausible-range',
  'implausible-hazard',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

export const isDropReason = (v: unknown): v is DropReason => (DROP_REASONS as readonly unknown[]).includes(v);

/** Counts received, accepted and dropped messages by reason. */
export class ReceptionCounters {
  received = 0;
  accepted = 0;
  readonly dropped: Record<DropReason, number> = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;

  drop(reason: DropReason): void {
    this.dropped[reason]++;
  }

  get droppedTotal(): number {
    let n = 0;
    for (const r of DROP_REASONS) n += this.dropped[r];
    return n;
  }

  /** A plain snapshot: received, accepted, and the reasons with a non-zero count. */
  snapshot(): { received: number; accepted: number; dropped: Partial<Record<DropReason, number>> } {
    const dropped: Partial<Record<DropReason, number>> = {};
    for (const r of DROP_REASONS) if (this.dropped[r] > 0) dropped[r] = this.dropped[r];
    return { received: this.received, accepted: this.accepted, dropped };
  }
}
