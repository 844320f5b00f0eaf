// The benchmark suites, in run order. A new benchmark is one file in this folder exporting a
// Suite (harness/case.ts), added to this list.
import type { Suite } from '../harness/case.ts';
import { cbor } from './cbor.ts';
import { ledgerAppend } from './ledger-append.ts';
import { ledgerVerify } from './ledger-verify.ts';
import { passportVerify } from './passport-verify.ts';
import { runtimeMemory } from './runtime-memory.ts';
import { signers } from './signers.ts';

export const SUITES: readonly Suite[] = [signers, cbor, ledgerAppend, ledgerVerify, passportVerify, runtimeMemory];
