// Errors a user can meet on the command line: a message that says what was wrong, where, and
// what to do, and the process exit code. Anything else that escapes is a bug and gets a stack.

export class UserError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** A subcommand whose capability has not landed yet: exit code 2, as documented in the README. */
export function notYetAvailable(command: string): never {
  throw new UserError(`'voltrail ${command}' is not yet available in this version.`, 2);
}
