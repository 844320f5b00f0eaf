// The `voltrail` command: one commander program, one file per subcommand group under
// commands/. Exit codes: 0 success, 1 a check failed or a user error, 2 usage error or a
// capability not available in this version.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { UserError } from './errors.ts';
import { registerPending } from './commands/pending.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

type Register = (program: Command) => void;

/**
 * Every subcommand group, in --help order: the top-level command it registers and its module.
 * A module is imported only when its command is run (or for --help and unknown commands, which
 * need them all): `voltrail run` on a board loads the runtime, not V2X, fleet or the bench.
 */
const GROUPS: [name: string, load: () => Promise<Register>][] = [
  ['run', async () => (await import('./commands/run.ts')).registerRun],
  ['ledger', async () => (await import('./commands/ledger.ts')).registerLedger],
  ['can', async () => (await import('./commands/can.ts')).registerCan],
  ['keys', async () => (await import('./commands/keys.ts')).registerKeys],
  ['bench', async () => (await import('./commands/bench.ts')).registerBench],
  ['sim', async () => (await import('./commands/sim.ts')).registerSim],
  ['v2x', async () => (await import('./commands/v2x.ts')).registerV2x],
  ['bms', async () => (await import('./commands/bms.ts')).registerBms],
  ['fleet', async () => (await import('./commands/fleet.ts')).registerFleet],
  ['provision', async () => (await import('./commands/provision.ts')).registerProvision],
  ['status', async () => (await import('./commands/status.ts')).registerStatus],
  ['doctor', async () => (await import('./commands/doctor.ts')).registerDoctor],
  ['collect', async () => (await import('./commands/collect.ts')).registerCollect],
  ['hil', async () => (await import('./commands/hil.ts')).registerHil],
  [
    'passport',
    async () => {
      const [passport, serve] = await Promise.all([import('./commands/passport.ts'), import('./commands/passport-serve.ts')]);
      // serve/token/cert join the `passport` group made by registerPassport.
      return (program) => {
        passport.registerPassport(program);
        serve.registerPassportServe(program);
      };
    },
  ],
];

/** The command word of `argv` (node, script, then arguments), if any: the first non-option. */
function commandWord(argv: readonly string[]): string | undefined {
  return argv.slice(2).find((a) => !a.startsWith('-'));
}

/** The program with every group (argv undefined), or with only the group `argv` runs. */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('voltrail')
    .description('Edge runtime for battery boards: BMS telemetry, a signed battery-passport ledger, V2X.')
    .version(pkg.version, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false });
  const word = argv && commandWord(argv);
  const one = GROUPS.find(([name]) => name === word);
  const versionOnly = argv !== undefined && word === undefined && argv.slice(2).some((a) => a === '-V' || a === '--version');
  if (one) (await one[1]())(program);
  else if (!versionOnly) {
    for (const [, load] of GROUPS) (await load())(program);
    registerPending(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
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

if (process.argv[1] && /voltrail(\.m?js)?$|main\.ts$/.test(process.argv[1])) {
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
