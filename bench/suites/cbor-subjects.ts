// The CBOR encoders and decoders measured by the cbor suite, prepared inside a benchmark worker
// thread (harness/rate-worker.ts calls `prepare`). Each works on the same ring of 64 realistic
// telemetry records (telemetry-fixture.ts: 96 cells, 16 temperatures, the ledger envelope).
// prepare checks, before anything is timed, that voltrail's canonical bytes are the ledger's
// own record bytes (encodeRecord) and decode, strictly, to the same value; cbor-x's bytes
// differ (its map order is insertion order, not RFC 8949's), which is why it is only the speed
// reference, never a substitute.
import { isDeepStrictEqual } from 'node:util';
import { Decoder, Encoder } from 'cbor-x';
import { encodeCanonical } from '../../ledger/cbor/canonical-encode.ts';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import { encodeRecord } from '../../ledger/log/record.ts';
import { recordAt, recordValue } from './telemetry-fixture.ts';

export type CborSubject = 'canonical' | 'cbor-x';

export interface CborParams {
  subject: CborSubject;
  op: 'encode' | 'decode';
}

export const RING = 64;

/** The byte counts of a record of the ring, for the suite's notes. */
export function recordSizes(): { canonical: number; cborx: number; differ: boolean } {
  const v = recordValue(recordAt(0));
  const a = encodeCanonical(v);
  const b = new Encoder({ mapsAsObjects: false }).encode(v);
  return { canonical: a.length, cborx: b.length, differ: Buffer.compare(a, b) !== 0 };
}

export function prepare(params: CborParams): () => number {
  const records = Array.from({ length: RING }, (_, i) => recordAt(1000 + i));
  const values = records.map(recordValue);
  const canonical = values.map((v, i) => {
    const bytes = encodeCanonical(v).slice();
    if (Buffer.compare(bytes, encodeRecord(records[i]!)) !== 0) throw new Error(`canonical: record ${i} differs from the ledger's encodeRecord bytes`);
    const back = decodeCbor(bytes, { canonical: true });
    if (!isDeepStrictEqual(back, v)) throw new Error(`canonical: record ${i} does not decode to the value encoded`);
    if (Buffer.compare(encodeCanonical(back), bytes) !== 0) throw new Error(`canonical: record ${i} does not re-encode to the same bytes`);
    return bytes;
  });
  // cbor-x's defaults, except that maps stay Maps both ways (its default decodes a map to a
  // plain object, which cannot hold integer keys faithfully).
  const encoder = new Encoder({ mapsAsObjects: false });
  const decoder = new Decoder({ mapsAsObjects: false });
  const cborx = values.map((v) => Uint8Array.from(encoder.encode(v)));
  cborx.forEach((b, i) => {
    const back = decoder.decode(b) as Map<number, unknown>;
    if (!(back instanceof Map) || back.get(1) !== values[i]!.get(1)) throw new Error(`cbor-x: record ${i} does not round-trip`);
  });

  let i = 0;
  let sink = 0;
  if (params.subject === 'canonical') {
    if (params.op === 'encode') {
      return () => {
        sink ^= encodeCanonical(values[i++ & (RING - 1)]!).length;
        return 1 + (sink & 0);
      };
    }
    return () => {
      const v = decodeCbor(canonical[i++ & (RING - 1)]!, { canonical: true }) as Map<number, unknown>;
      sink ^= v.size;
      return 1 + (sink & 0);
    };
  }
  if (params.op === 'encode') {
    return () => {
      sink ^= encoder.encode(values[i++ & (RING - 1)]!).length;
      return 1 + (sink & 0);
    };
  }
  return () => {
    const v = decoder.decode(cborx[i++ & (RING - 1)]!) as Map<number, unknown>;
    sink ^= v.size;
    return 1 + (sink & 0);
  };
}
