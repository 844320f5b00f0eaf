// Where the real-world DBC test files live: `../shared/data/dbc/` beside the repository (they
// are never copied into it). From a git worktree nested deeper, the nearest ancestor holding
// `shared/data/dbc` is used.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

function findDbcDir(): string {
  let dir = dirname(REPO_ROOT.replace(/\/$/, ''));
  for (;;) {
    const candidate = join(dir, 'shared', 'data', 'dbc');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no shared/data/dbc/ found beside ${REPO_ROOT} or above it`);
    dir = up;
  }
}

export const DBC_DIR = findDbcDir();

/** The three real DBC files the codec is proven on. */
export const REAL_DBCS = ['foxbms.dbc', 'IVT-S_12082020.dbc', 'iso165_IMD.dbc'] as const;

export function dbcPath(name: (typeof REAL_DBCS)[number]): string {
  return join(DBC_DIR, name);
}
