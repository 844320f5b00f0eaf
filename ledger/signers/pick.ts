// Picks the fastest signer backend available for a curve. Candidates are tried in order (by
// default the optional native backend, `./native.ts` exporting `loadNativeBackend`, then
// noble signing with OpenSSL message verification, `./openssl-verify.ts`); the first
// that loads, is for the right curve and passes a self-test is used, else noble, which is
// always there. The self-test signs a fixed digest with a fixed key and compares the bytes with
// noble's and checks each verifies the other's signature, so a backend that disagrees is
// never used. `VOLTRAIL_SIGNER=noble` (or another backend's name) forces a choice.
import type { Curve, SignerBackend } from './backend.ts';
import { createHash } from 'node:crypto';
import { nobleBackend } from './noble.ts';
import { loadOpensslVerify } from './openssl-verify.ts';

/** Loads a candidate backend; undefined (or a throw) when it is not available here. */
export type BackendLoader = (curve: Curve) => SignerBackend | undefined | Promise<SignerBackend | undefined>;

export interface PickOptions {
  /** Tried in order before noble; default: the native backend, if installed. */
  candidates?: readonly BackendLoader[];
  /** Force a backend by name (default: the VOLTRAIL_SIGNER environment variable). */
  prefer?: string;
}

export interface PickResult {
  backend: SignerBackend;
  /** Why each candidate before it was passed over, for `voltrail doctor`. */
  skipped: string[];
}

/** The optional native backend: a module beside this one exporting `loadNativeBackend`. */
export const loadNative: BackendLoader = async (curve) => {
  // Loaded only when asked for. A literal specifier, so that the board's bundle
  // (scripts/build-bundle.mjs) carries it; the addon it loads stays optional.
  let mod: { loadNativeBackend?: (curve: Curve) => SignerBackend | undefined };
  try {
    mod = (await import('./native.ts')) as typeof mod;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
  return mod.loadNativeBackend?.(curve);
};

// A fixed test key and digest (not secret; used only to compare backends).
const TEST_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const TEST_DIGEST = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 ^ i);

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Why `candidate` cannot stand in for noble, or undefined when it agrees with it. */
export function selfTest(candidate: SignerBackend, reference: SignerBackend): string | undefined {
  const pub = reference.publicKey(TEST_KEY);
  if (!equal(candidate.publicKey(TEST_KEY), pub)) return 'public key differs from noble';
  const sig = candidate.sign(TEST_DIGEST, TEST_KEY);
  const ref = reference.sign(TEST_DIGEST, TEST_KEY);
  if (!equal(sig, ref)) return 'signature differs from noble (not RFC 6979 low-S?)';
  if (!candidate.verify(ref, TEST_DIGEST, pub)) return 'does not verify a valid signature';
  const bad = Uint8Array.from(ref);
  bad[63]! ^= 1;
  if (candidate.verify(bad, TEST_DIGEST, pub)) return 'verifies a corrupted signature';
  if (candidate.verifyMessage !== undefined) {
    const msg = new TextEncoder().encode('voltrail self-test');
    const good = reference.sign(createHash('sha256').update(msg).digest(), TEST_KEY);
    if (!candidate.verifyMessage(good, msg, pub)) return 'verifyMessage does not verify a valid signature';
    const flipped = Uint8Array.from(good);
    flipped[63]! ^= 1;
    if (candidate.verifyMessage(flipped, msg, pub)) return 'verifyMessage verifies a corrupted signature';
  }
  return undefined;
}

export async function pickBackend(curve: Curve, opts: PickOptions = {}): Promise<PickResult> {
  const noble = nobleBackend(curve);
  const prefer = opts.prefer ?? process.env.VOLTRAIL_SIGNER;
  if (prefer === 'noble') return { backend: noble, skipped: ['VOLTRAIL_SIGNER=noble'] };
  const skipped: string[] = [];
  for (const load of opts.candidates ?? [loadNative, loadOpensslVerify]) {
    let backend: SignerBackend | undefined;
    try {
      backend = await load(curve);
    } catch (err) {
      skipped.push(`a candidate failed to load: ${(err as Error).message}`);
      continue;
    }
    if (backend === undefined) continue;
    if (backend.curve !== curve) {
      skipped.push(`${backend.name}: for ${backend.curve}, not ${curve}`);
      continue;
    }
    if (prefer !== undefined && prefer !== '' && backend.name !== prefer) {
      skipped.push(`${backend.name}: VOLTRAIL_SIGNER=${prefer}`);
      continue;
    }
    let why: string | undefined;
    try {
      why = selfTest(backend, noble);
    } catch (err) {
      why = `self-test threw: ${(err as Error).message}`;
    }
    if (why === undefined) return { backend, skipped };
    skipped.push(`${backend.name}: ${why}`);
  }
  return { backend: noble, skipped };
}
