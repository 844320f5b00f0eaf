// Benchmark of issue 17: canonical CBOR (RFC 8949 section 4.2.1, the bytes the ledger signs)
// encode and decode of a realistic telemetry record, beside cbor-x's default (not canonical)
// encoder and decoder as the speed reference, on one core, interleaved run by run.
// Goal (bench/README.md): canonical encode at least as fast as cbor-x's default, byte-exact.
import { createRequire } from 'node:module';
import type { BenchCase, Suite } from '../harness/case.ts';
import { recordSizes } from './cbor-subjects.ts';
import type { CborParams } from './cbor-subjects.ts';
import { CELLS, TEMPERATURES } from './telemetry-fixture.ts';

const SUBJECTS = new URL('./cbor-subjects.ts', import.meta.url).href;

function cborxVersion(): string {
  return (createRequire(import.meta.url)('cbor-x/package.json') as { version: string }).version;
}

function cborCase(params: CborParams, id: string, name: string, reference?: string): BenchCase {
  return {
    id,
    name,
    unit: 'records/s',
    better: 'higher',
    reference,
    clock: 'cpu',
    open: (ctx) => {
      const sizes = recordSizes();
      ctx.note(
        `cbor: one telemetry record of ${CELLS} cells and ${TEMPERATURES} temperatures with the ledger envelope is ${sizes.canonical} bytes of canonical CBOR (voltrail) and ${sizes.cborx} bytes from cbor-x ${cborxVersion()}; ` +
          `${sizes.differ ? "cbor-x's bytes differ (map keys in insertion order, byte strings tagged as typed arrays): it is the speed reference only" : 'the bytes are equal'}. ` +
          'Each canonical record is checked before timing: equal to the ledger\'s encodeRecord bytes, decoding (strict canonical mode) to the same value, re-encoding to the same bytes. cbor-x runs with mapsAsObjects: false, so both sides build Maps.',
      );
      return ctx.openRate({ module: SUBJECTS, params, threads: 1 });
    },
  };
}

export const cbor: Suite = {
  name: 'cbor',
  description: 'canonical CBOR encode and decode of a telemetry ledger record, against cbor-x defaults',
  cases(): BenchCase[] {
    return [
      cborCase({ subject: 'cbor-x', op: 'encode' }, 'cbor/encode/cbor-x', 'encode, 1 core: cbor-x default, not canonical (reference)'),
      cborCase({ subject: 'canonical', op: 'encode' }, 'cbor/encode/canonical', 'encode, 1 core: voltrail canonical CBOR', 'cbor/encode/cbor-x'),
      cborCase({ subject: 'cbor-x', op: 'decode' }, 'cbor/decode/cbor-x', 'decode, 1 core: cbor-x default (reference)'),
      cborCase({ subject: 'canonical', op: 'decode' }, 'cbor/decode/canonical', 'decode, 1 core: voltrail decodeCbor, canonical checked', 'cbor/decode/cbor-x'),
    ];
  },
};
