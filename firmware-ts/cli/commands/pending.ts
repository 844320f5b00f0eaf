// Subcommands whose capabilities land in later versions: each is listed in --help and answers
// with a clear "not yet available" (exit code 2) instead of silently doing nothing.
import type { Command } from 'commander';
import { notYetAvailable } from '../errors.ts';

const PENDING: [name: string, description: string][] = [
  ['can', 'read, send and decode CAN traffic (dump, send, decode)'],
  ['run', 'run the runtime (--sim: against the built-in simulator)'],
  ['ledger', 'verify, inspect, prove and export the ledger'],
  ['hil', 'run hardware-in-the-loop scenarios (hil run)'],
  ['status', "show the running instance's health"],
  ['doctor', 'check this board: config, key, certificate, devices, clock, ledger, uplink'],
  ['fleet', 'fleet authority: init, sign, revoke'],
  ['provision', 'provision this board onto a battery'],
  ['collect', 'fleet collector: receive, verify and store device records over MQTT'],
];

export function registerPending(program: Command): void {
  for (const [name, description] of PENDING) {
    // A capability that has landed registers itself before this runs; its placeholder steps aside.
    if (program.commands.some((c) => c.name() === name)) continue;
    program
      .command(name)
      .description(`${description} (not yet available)`)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => notYetAvailable(name));
  }
}
