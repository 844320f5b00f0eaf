// Messages between the signing pool (pool.ts) and its worker threads (pool-worker.ts).
// Digests, signatures and public keys travel packed: n*32, n*64 and n*33 bytes.

export type PoolRequest =
  | { id: number; op: 'key'; kid: string; secret: Uint8Array }
  | { id: number; op: 'sign'; kid: string; digests: Uint8Array }
  | { id: number; op: 'verify'; digests: Uint8Array; sigs: Uint8Array; pubs: Uint8Array };

export type PoolResponse = { id: number; ok: true; out?: Uint8Array; backend?: string } | { id: number; ok: false; error: string };
