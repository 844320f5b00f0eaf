// Reading DBC files from disk. DBC files carry no encoding declaration; vendor files are often
// Windows-1252/Latin-1 (degree signs, umlauts in comments), so text that is not valid UTF-8
// is read as Latin-1 rather than refused.
import { readFile } from 'node:fs/promises';
import { buildDatabase } from './database-builder.ts';
import type { DbcDatabase } from './model.ts';
import { parseSyntax } from './syntax.ts';

/** Parses DBC text. Throws DbcParseError (file, line, column, expected); unknown sections become `db.warnings`. */
export function parseDbc(text: string, opts?: { file?: string }): DbcDatabase {
  const file = opts?.file ?? '<dbc>';
  return buildDatabase(parseSyntax(text, file), file);
}

/** Decodes DBC file bytes: UTF-8 when valid, Latin-1 otherwise. */
export function dbcText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

export async function loadDbc(path: string): Promise<DbcDatabase> {
  const bytes = await readFile(path);
  return parseDbc(dbcText(bytes), { file: path });
}
