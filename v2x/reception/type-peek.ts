// The intake's cheap look at a frame (reception-intake.ts): the message type read straight
// from the first bytes of the envelope (v2x/cddl/envelope.cddl: COSE_Sign1, tag 18, whose
// payload is the canonical map {1: type, ...}), without decoding anything else. It walks only
// CBOR heads (RFC 8949 section 3): the protected header and unprotected map are skipped by
// their lengths, so it costs well under a microsecond whatever the frame. It decides nothing
// about the message: a frame it cannot read is simply "unknown" (the full decode will judge
// it), and a type it reads is only a claim (a forged hazard peeks as a hazard and is refused
// by verification like any other).
import { MESSAGE_NAMES, MESSAGE_TYPE } from '../messages/message-types.ts';
import type { MessageName } from '../messages/message-types.ts';

const BY_CODE: (MessageName | undefined)[] = [];
for (const n of MESSAGE_NAMES) BY_CODE[MESSAGE_TYPE[n]] = n;

/** Where a CBOR head at `at` ends and its argument; undefined when it is not a plain definite head in bounds. */
function head(b: Uint8Array, at: number): { major: number; arg: number; next: number } | undefined {
  if (at >= b.length) return undefined;
  const ib = b[at]!;
  const major = ib >> 5;
  const ai = ib & 0x1f;
  if (ai < 24) return { major, arg: ai, next: at + 1 };
  const n = ai === 24 ? 1 : ai === 25 ? 2 : ai === 26 ? 4 : 0;
  if (n === 0 || at + 1 + n > b.length) return undefined;
  let arg = 0;
  for (let i = 1; i <= n; i++) arg = arg * 256 + b[at + i]!;
  return { major, arg, next: at + 1 + n };
}

/** Skips a byte string or an integer (what the unprotected header holds); undefined otherwise. */
function skipSimple(b: Uint8Array, at: number): number | undefined {
  const h = head(b, at);
  if (h === undefined) return undefined;
  if (h.major === 0 || h.major === 1) return h.next;
  if (h.major === 2) return h.next + h.arg <= b.length ? h.next + h.arg : undefined;
  return undefined;
}

export interface Peek {
  /** The type claimed, undefined when the first bytes are not a V2X envelope's. */
  type: MessageName | undefined;
  /** True when the unprotected header holds an entry (the only one allowed is the signer's certificate). */
  certificate: boolean;
}

/** The message type the frame claims, or undefined when its first bytes are not a V2X envelope's. */
export function peekMessageType(b: Uint8Array): MessageName | undefined {
  return peekFrame(b).type;
}

const UNREADABLE: Peek = { type: undefined, certificate: false };

/** The type the frame claims and whether it carries a certificate (the key to its signer's next messages). */
export function peekFrame(b: Uint8Array): Peek {
  // Tag 18 (COSE_Sign1), then an array of 4.
  if (b.length < 8 || b[0] !== 0xd2 || b[1] !== 0x84) return UNREADABLE;
  let at: number | undefined = skipSimple(b, 2); // protected header (a byte string)
  if (at === undefined) return UNREADABLE;
  const unprot = head(b, at);
  if (unprot === undefined || unprot.major !== 5 || unprot.arg > 8) return UNREADABLE;
  at = unprot.next;
  for (let i = 0; i < unprot.arg && at !== undefined; i++) {
    at = skipSimple(b, at); // label
    if (at !== undefined) at = skipSimple(b, at); // value (the certificate's bytes)
  }
  if (at === undefined) return UNREADABLE;
  const payload = head(b, at);
  if (payload === undefined || payload.major !== 2) return UNREADABLE;
  at = payload.next;
  // The payload: a map whose first key (canonical order) is 1, the type code.
  const map = head(b, at);
  if (map === undefined || map.major !== 5 || b[map.next] !== 0x01) return UNREADABLE;
  const code = head(b, map.next + 1);
  if (code === undefined || code.major !== 0) return UNREADABLE;
  const type = BY_CODE[code.arg];
  return type === undefined ? UNREADABLE : { type, certificate: unprot.arg > 0 };
}
