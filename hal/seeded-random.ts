// The seeded pseudo-random generator behind every simulated part (sim-hardware's devices and
// plant, v2x's simulated radio channel) and the tests' random draws: mulberry32 (Tommy
// Ettinger's 32-bit generator, public domain). Tiny, fast, statistically fine for noise, loss and
// spread (not cryptography), and the same sequence on every platform for a given seed, which is
// what makes simulated runs and failing draws replayable. Never use it for keys or nonces.

/** One mulberry32 step: the next state and a uniform draw in [0, 1). */
export function mulberry32(state: number): { state: number; value: number } {
  const next = (state + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return { state: next, value: ((t ^ (t >>> 14)) >>> 0) / 4294967296 };
}

/** A seeded generator of uniform draws in [0, 1). */
export function seededRandom(seed: number): () => number {
  if (!Number.isFinite(seed)) throw new TypeError(`seed: expected a finite number, got ${String(seed)}`);
  let state = seed >>> 0;
  return () => {
    const r = mulberry32(state);
    state = r.state;
    return r.value;
  };
}
