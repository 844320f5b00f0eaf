// A browser has no native addons: the page build puts this module in place of
// ledger/log/native-merkle.ts, so MerkleFrontier hashes with the node:crypto stand-in
// (SHA-256 on @noble/hashes), exactly as on a board where the addon is not built.
import type { NativeMerkle } from '../../../../ledger/log/native-merkle.ts';

export const NATIVE_MERKLE_PATH = '';

export function loadNativeMerkle(): NativeMerkle | undefined {
  return undefined;
}

export function nativeMerkleStatus(): { available: boolean; path: string; sha256?: string; reason?: string } {
  return { available: false, path: NATIVE_MERKLE_PATH, reason: 'no native addons in a browser' };
}
