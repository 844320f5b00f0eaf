// Where a key file's passphrase comes from, in this order: a file named on the command line,
// the VOLTRAIL_KEY_PASSPHRASE environment variable, or an interactive prompt (supplied by the
// caller: the CLI prompts on the terminal without echo). The passphrase itself never appears
// in a message.
import { readFileSync, statSync } from 'node:fs';

export const PASSPHRASE_ENV = 'VOLTRAIL_KEY_PASSPHRASE';

export class PassphraseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PassphraseError';
  }
}

export interface PassphraseSources {
  /** A file holding the passphrase (one trailing newline is dropped). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Asks the user; undefined when there is no terminal to ask on. */
  prompt?: (question: string) => Promise<string>;
}

function fromFile(file: string): string {
  let text: string;
  try {
    if ((statSync(file).mode & 0o004) !== 0) {
      throw new PassphraseError(`passphrase file ${file} is readable by everyone; run  chmod 600 ${file}`);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof PassphraseError) throw err;
    throw new PassphraseError(`cannot read the passphrase file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const pass = text.replace(/\r?\n$/, '');
  if (pass === '') throw new PassphraseError(`passphrase file ${file} is empty`);
  return pass;
}

/**
 * The passphrase from the first source that has one. With `confirm` (a new key), an
 * interactive passphrase is asked twice and must match.
 */
export async function readPassphrase(src: PassphraseSources, opts: { confirm?: boolean } = {}): Promise<string> {
  if (src.file !== undefined) return fromFile(src.file);
  const env = (src.env ?? process.env)[PASSPHRASE_ENV];
  if (env !== undefined && env !== '') return env;
  if (src.prompt === undefined) {
    throw new PassphraseError(`no passphrase: give --passphrase-file FILE, set ${PASSPHRASE_ENV}, or run in a terminal to be asked`);
  }
  const pass = await src.prompt('Key passphrase: ');
  if (pass === '') throw new PassphraseError('an empty passphrase is not accepted');
  if (opts.confirm) {
    const again = await src.prompt('Repeat the passphrase: ');
    if (again !== pass) throw new PassphraseError('the two passphrases differ; nothing was written');
  }
  return pass;
}
