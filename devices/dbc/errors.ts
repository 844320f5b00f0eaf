// Errors of the DBC parser: where in which file, what was expected and what was found.

export class DbcParseError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly expected: string;
  readonly found: string;
  constructor(file: string, line: number, column: number, expected: string, found: string, detail?: string) {
    super(`${file}:${line}:${column}: expected ${expected}, found ${found}${detail ? ` (${detail})` : ''}`);
    this.name = 'DbcParseError';
    this.file = file;
    this.line = line;
    this.column = column;
    this.expected = expected;
    this.found = found;
  }
}
