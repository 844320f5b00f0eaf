// Subcommands whose capabilities land in later versions: each is listed in --help and answers
// with a clear "not yet available" (exit code 2) instead of silently doing nothing.
import type { Command } from 'commander';
import { notYetAvailable } from '../errors.ts';

const PENDING: [name: string, description: string][] = [
  ['can', 'read, send and decode CAN traffic (dump, send, decode)'],
  ['bms', 'read a BMS once or live (bms read)'],
  ['sim', 'run the hardware simulator standalone, with ptys for other tools'],
  ['hil', 'run hardware-in-the-loop scenarios (hil run)'],
  ['keys', 'create and show the device key (keys new, keys show)'],
  ['fleet', 'fleet authority: init, sign, revoke'],
  ['provision', 'provision this board onto a battery'],
  ['status', "show the running instance's health"],
  ['doctor', 'check this board: config, key, certificate, devices, clock, ledger, uplink'],
  ['collect', 'fleet collector: receive, verify and store device records over MQTT'],
  ['passport', 'battery passport: export, verify, show, qr, serve'],
  ['bench', 'run the benchmark suite'],
];

export function registerPending(program: Command): void {
  for (const [name, description] of PENDING) {
    program
      .command(name)
      .description(`${description} (not yet available)`)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => notYetAvailable(name));
  }
}
