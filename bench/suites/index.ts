// The benchmark suites, in run order. A new benchmark is one file in this folder exporting a
// Suite (harness/case.ts), added to this list.
import type { Suite } from '../harness/case.ts';
import { cbor } from './cbor.ts';
import { ledgerAppend } from './ledger-append.ts';
import { signers } from './signers.ts';

export const SUITES: readonly Suite[] = [signers, cbor, ledgerAppend];
