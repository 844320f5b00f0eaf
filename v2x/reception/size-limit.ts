// Stage 1 of reception: the size limit, checked on the raw datagram before a single byte is
// decoded, so an oversized frame costs nothing but its length check. 2048 bytes is the
// envelope's own limit (MAX_MESSAGE_SIZE): the largest legitimate message, a SPaT with many
// signal groups plus an attached certificate, stays well under it.
import { MAX_MESSAGE_SIZE } from '../security/envelope.ts';
import type { DropReason } from './drop-reason.ts';

export function checkSize(bytes: Uint8Array, limit = MAX_MESSAGE_SIZE): DropReason | undefined {
  return bytes.length > limit || bytes.length === 0 ? 'size' : undefined;
}
