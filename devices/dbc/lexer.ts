// Tokenizer for DBC text (Vector "DBC File Format Documentation" 1.0.5, section 2.2: C-like
// identifiers, unsigned integers, doubles, char strings in double quotes). Signs are separate
// tokens because the grammar uses '-' both as a number sign and as a range dash (`SG_MUL_VAL_
// ... 0-5`) and as a value-type flag (`@1-`); the parser joins a sign to the number after it.
import { DbcParseError } from './errors.ts';

export type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Identifier or punctuation text, string contents (unescaped), or number text. */
  readonly text: string;
  readonly line: number;
  readonly column: number;
  /** First token on its line. */
  readonly lineStart: boolean;
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Splits DBC text into tokens; throws DbcParseError on a character no DBC construct starts with. */
export function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineOffset = 0;
  let lineStart = true;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      i++;
      line++;
      lineOffset = i;
      lineStart = true;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11 || c === 0xfeff) {
      i++;
      continue;
    }
    const column = i - lineOffset + 1;
    const startLine = line;
    // `//` comments are allowed by some writers; the spec has none, but they are harmless.
    if (c === 47 && text.charCodeAt(i + 1) === 47) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(text.charCodeAt(j))) j++;
      tokens.push({ kind: 'ident', text: text.slice(i, j), line: startLine, column, lineStart });
      i = j;
    } else if (isDigit(c) || (c === 46 && isDigit(text.charCodeAt(i + 1)))) {
      let j = i;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) === 46) {
        j++;
        while (j < n && isDigit(text.charCodeAt(j))) j++;
      }
      const e = text.charCodeAt(j);
      if (e === 69 || e === 101) {
        let k = j + 1;
        const s = text.charCodeAt(k);
        if (s === 43 || s === 45) k++;
        if (isDigit(text.charCodeAt(k))) {
          while (k < n && isDigit(text.charCodeAt(k))) k++;
          j = k;
        }
      }
      tokens.push({ kind: 'number', text: text.slice(i, j), line: startLine, column, lineStart });
      i = j;
    } else if (c === 34) {
      // Strings may span lines (multi-line comments); `\"` and `\\` are escapes.
      let j = i + 1;
      let out = '';
      let segStart = j;
      for (;;) {
        if (j >= n) {
          throw new DbcParseError(file, startLine, column, 'a closing " for the string opened here', 'end of file');
        }
        const d = text.charCodeAt(j);
        if (d === 34) break;
        if (d === 92 && (text.charCodeAt(j + 1) === 34 || text.charCodeAt(j + 1) === 92)) {
          out += text.slice(segStart, j) + text[j + 1];
          j += 2;
          segStart = j;
          continue;
        }
        if (d === 10) {
          line++;
          lineOffset = j + 1;
        }
        j++;
      }
      out += text.slice(segStart, j);
      tokens.push({ kind: 'string', text: out, line: startLine, column, lineStart });
      i = j + 1;
    } else {
      // Any other character is a one-character token: the parser says what it expected there,
      // and an unknown section holding it is skipped with a warning instead of refused.
      tokens.push({ kind: 'punct', text: text[i]!, line: startLine, column, lineStart });
      i++;
    }
    lineStart = false;
  }
  tokens.push({ kind: 'eof', text: '', line, column: i - lineOffset + 1, lineStart: true });
  return tokens;
}

export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of file';
    case 'string':
      return `string "${t.text.length > 30 ? `${t.text.slice(0, 30)}...` : t.text}"`;
    case 'number':
      return `number ${t.text}`;
    case 'ident':
      return `'${t.text}'`;
    default:
      return `'${t.text}'`;
  }
}
