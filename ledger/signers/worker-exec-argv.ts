// The Node options a worker thread inherits from its parent: all of them (the tsx loader, heap
// limits) except those that only make sense for a main script (`-e`, `-p`, `--input-type`),
// which would make the worker evaluate the parent's script text instead of its own file.
// Used by every worker pool (ledger/signers/pool.ts, v2x/reception/verify-workers.ts).

/** The parent's Node options minus those that only make sense for a main script. */
export function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') i++;
    else if (!a.startsWith('--input-type') && !a.startsWith('--eval=') && !a.startsWith('--print=')) out.push(a);
  }
  return out;
}
