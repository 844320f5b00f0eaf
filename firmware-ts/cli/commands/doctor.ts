// `voltrail doctor`: the board's checklist (runtime/doctor.ts), green or red with what to do.
// Exit 0 only when every item passes.
import type { Command } from 'commander';
import { parseDuration } from '../parse.ts';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check this board: config, key, certificate, BMS, clock, ledger, uplink; exit 0 only when all pass')
    .option('--config <file>', 'the board configuration (YAML, see firmware-ts/CONFIG.md)')
    .option('--data-dir <dir>', "the data folder (default: the config's dataDir; with --sim ./.voltrail-sim)")
    .option('--sim', 'check the simulated setup (simulated BMS, simulator data folder)')
    .option('--passphrase-file <file>', 'also check that the device key opens')
    .option('--bms-timeout <time>', 'how long to wait for the BMS to answer', parseDuration, 5000)
    .option('--json', 'print the checklist as JSON')
    .action(async (flags: { config?: string; dataDir?: string; sim?: boolean; passphraseFile?: string; bmsTimeout: number; json?: boolean }) => {
      const { runDoctor } = await import('../../runtime/doctor.ts');
      const checks = await runDoctor({ configFile: flags.config, dataDir: flags.dataDir, sim: flags.sim, passphraseFile: flags.passphraseFile, bmsTimeoutMs: flags.bmsTimeout });
      const ok = checks.every((c) => c.ok);
      if (flags.json) process.stdout.write(JSON.stringify({ ok, checks }, null, 2) + '\n');
      else {
        const tty = process.stdout.isTTY;
        const paint = (good: boolean, s: string) => (tty ? `\x1b[${good ? 32 : 31}m${s}\x1b[0m` : s);
        for (const c of checks) {
          process.stdout.write(`${paint(c.ok, c.skipped ? ' skip' : c.ok ? '  ok ' : ' FAIL')}  ${c.name}: ${c.detail}\n`);
          if (!c.ok && c.fix) process.stdout.write(`        what to do: ${c.fix}\n`);
        }
        process.stdout.write(ok ? 'all checks pass\n' : `${checks.filter((c) => !c.ok).length} check(s) failed\n`);
      }
      if (!ok) process.exitCode = 1;
    });
}
