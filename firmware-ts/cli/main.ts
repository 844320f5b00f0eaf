// The `voltrail` command: one commander program, one file per subcommand group under
// commands/. Exit codes: 0 success, 1 a check failed or a user error, 2 usage error or a
// capability not available in this version.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { UserError } from './errors.ts';
import { registerCan } from './commands/can.ts';
import { registerPending } from './commands/pending.ts';
import { registerRun } from './commands/run.ts';
import { registerLedger } from './commands/ledger.ts';
import { registerKeys } from './commands/keys.ts';
import { registerBench } from './commands/bench.ts';
import { registerSim } from './commands/sim.ts';
import { registerV2x } from './commands/v2x.ts';
import { registerBms } from './commands/bms.ts';
import { registerFleet } from './commands/fleet.ts';
import { registerProvision } from './commands/provision.ts';
import { registerStatus } from './commands/status.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerPassport } from './commands/passport.ts';
import { registerPassportServe } from './commands/passport-serve.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('voltrail')
    .description('Edge runtime for battery boards: BMS telemetry, a signed battery-passport ledger, V2X.')
    .version(pkg.version, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false });
  registerRun(program);
  registerLedger(program);
  registerCan(program);
  registerKeys(program);
  registerBench(program);
  registerSim(program);
  registerV2x(program);
  registerBms(program);
  registerFleet(program);
  registerProvision(program);
  registerStatus(program);
  registerDoctor(program);
  registerPassport(program);
  // After the other `passport` subcommands: serve/token/cert join that group.
  registerPassportServe(program);
  registerPending(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Every level (e.g. `passport token add`), so a bad option value exits 2 like any usage error.
  const override = (cmd: Command): void => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" to commander; they have already printed.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return err.exitCode === 1 ? 2 : err.exitCode;
    }
    if (err instanceof UserError) {
      process.stderr.write(`voltrail: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

if (process.argv[1] && /voltrail(\.js)?$|main\.ts$/.test(process.argv[1])) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`voltrail: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
