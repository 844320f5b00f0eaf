// The DBC grammar (Vector "DBC File Format Documentation" 1.0.5, sections 3-13) read into
// plain records, one per statement, each with its line. Cross-references between statements
// (which message a `VAL_` belongs to, ...) are resolved afterwards in database-builder.ts.
import { DbcParseError } from './errors.ts';
import { describeToken, tokenize, type Token } from './lexer.ts';
import type { DbcAttributeValue, DbcObjectType } from './model.ts';

export interface RawSignal {
  name: string;
  line: number;
  column: number;
  /** `M`: switch; `mN`: multiplexed by N; `mNM`: both. */
  isSwitch: boolean;
  muxId?: number;
  startBit: number;
  length: number;
  byteOrder: 'little_endian' | 'big_endian';
  signed: boolean;
  factor: number;
  offset: number;
  min: number;
  max: number;
  unit: string;
  receivers: string[];
}

export interface RawMessage {
  /** The id as written, bit 31 included. */
  rawId: number;
  name: string;
  length: number;
  sender: string;
  signals: RawSignal[];
  line: number;
}

export type RawTarget =
  | { kind: 'database' }
  | { kind: 'node'; name: string }
  | { kind: 'message'; rawId: number }
  | { kind: 'signal'; rawId: number; signal: string }
  | { kind: 'env_var'; name: string };

export interface RawAttributeDefinition {
  name: string;
  objectType: DbcObjectType;
  valueType: 'INT' | 'HEX' | 'FLOAT' | 'STRING' | 'ENUM';
  min?: number;
  max?: number;
  enumValues?: string[];
  line: number;
}

export interface RawDbc {
  version: string;
  nodes: { name: string; line: number }[];
  valueTables: Map<string, Map<number, string>>;
  messages: RawMessage[];
  txSenders: { rawId: number; nodes: string[]; line: number }[];
  comments: { target: RawTarget; text: string; line: number }[];
  attributeDefinitions: RawAttributeDefinition[];
  attributeDefaults: { name: string; value: DbcAttributeValue; line: number }[];
  attributeValues: { name: string; target: RawTarget; value: DbcAttributeValue; line: number }[];
  /** `VAL_` for a signal (rawId, signal) or an environment variable (name). */
  valueDescriptions: { rawId?: number; signal?: string; envVar?: string; entries: Map<number, string>; tableRef?: string; line: number }[];
  valueTypes: { rawId: number; signal: string; type: number; line: number }[];
  mulVals: { rawId: number; signal: string; switchName: string; ranges: [number, number][]; line: number }[];
  signalGroups: { rawId: number; name: string; repetitions: number; signals: string[]; line: number }[];
  envVars: { name: string; type: number; min: number; max: number; unit: string; initial: number; id: number; accessType: string; accessNodes: string[]; line: number }[];
  warnings: { line: number; message: string }[];
}

/** Sections the format defines that voltrail reads past without modelling them. */
const SKIPPED = new Set([
  'NS_DESC_', 'ENVVAR_DATA_', 'EV_DATA_', 'SGTYPE_', 'SGTYPE_VAL_', 'BA_DEF_SGTYPE_', 'BA_SGTYPE_',
  'SIG_TYPE_REF_', 'SIGTYPE_VALTYPE_', 'CAT_DEF_', 'CAT_', 'FILTER', 'BA_DEF_REL_', 'BA_REL_',
  'BA_DEF_DEF_REL_', 'BU_SG_REL_', 'BU_EV_REL_', 'BU_BO_REL_',
]);
const SECTIONS = new Set([
  ...SKIPPED, 'VERSION', 'NS_', 'BS_', 'BU_', 'VAL_TABLE_', 'BO_', 'SG_', 'BO_TX_BU_', 'EV_', 'CM_',
  'BA_DEF_', 'BA_DEF_DEF_', 'BA_', 'VAL_', 'SIG_VALTYPE_', 'SG_MUL_VAL_', 'SIG_GROUP_',
]);

const OBJECT_KEYWORDS: Record<string, DbcObjectType> = { BU_: 'node', BO_: 'message', SG_: 'signal', EV_: 'env_var' };

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly file: string,
  ) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  private fail(expected: string, t: Token = this.peek(), detail?: string): never {
    throw new DbcParseError(this.file, t.line, t.column, expected, describeToken(t), detail);
  }
  private isPunct(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'punct' && t.text === text;
  }
  private punct(text: string, what?: string): Token {
    if (!this.isPunct(text)) this.fail(what ?? `'${text}'`);
    return this.next();
  }
  private optionalPunct(text: string): boolean {
    if (this.isPunct(text)) {
      this.next();
      return true;
    }
    return false;
  }
  private ident(what: string): string {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(what);
    return this.next().text;
  }
  private string(what: string): string {
    const t = this.peek();
    if (t.kind !== 'string') this.fail(what);
    return this.next().text;
  }
  /** A number with an optional sign token in front of it. */
  private number(what: string): number {
    let sign = 1;
    const first = this.peek();
    if (this.isPunct('-') || this.isPunct('+')) {
      if (this.peek(1).kind !== 'number') this.fail(what, this.peek(1));
      if (this.next().text === '-') sign = -1;
    }
    const t = this.peek();
    if (t.kind !== 'number') this.fail(what, first);
    this.next();
    return sign * Number(t.text);
  }
  private integer(what: string, min: number, max: number): number {
    const t = this.peek();
    const v = this.number(what);
    if (!Number.isInteger(v) || v < min || v > max) this.fail(what, t, `out of range ${min}..${max}`);
    return v;
  }
  private messageId(): number {
    return this.integer('a message id (unsigned integer, bit 31 marks an extended id)', 0, 0xffffffff);
  }
  private atSectionStart(): boolean {
    const t = this.peek();
    return t.kind === 'eof' || (t.kind === 'ident' && t.lineStart && SECTIONS.has(t.text));
  }
  /** Reads past a section up to and including its ';'. */
  private skipStatement(): void {
    while (this.peek().kind !== 'eof' && !this.isPunct(';')) this.next();
    this.optionalPunct(';');
  }
  private valuePairs(what: string): Map<number, string> {
    const entries = new Map<number, string>();
    while (!this.isPunct(';')) {
      const v = this.number(`a raw value or ';' ending the ${what}`);
      entries.set(v, this.string(`the description string of value ${v} in the ${what}`));
    }
    this.next();
    return entries;
  }
  private target(): RawTarget {
    const t = this.peek();
    if (t.kind === 'ident') {
      switch (t.text) {
        case 'BU_':
          this.next();
          return { kind: 'node', name: this.ident('a node name') };
        case 'BO_':
          this.next();
          return { kind: 'message', rawId: this.messageId() };
        case 'SG_': {
          this.next();
          const rawId = this.messageId();
          return { kind: 'signal', rawId, signal: this.ident('a signal name') };
        }
        case 'EV_':
          this.next();
          return { kind: 'env_var', name: this.ident('an environment variable name') };
      }
    }
    return { kind: 'database' };
  }
  private attributeValue(what: string): DbcAttributeValue {
    return this.peek().kind === 'string' ? this.next().text : this.number(what);
  }

  parse(): RawDbc {
    const db: RawDbc = {
      version: '', nodes: [], valueTables: new Map(), messages: [], txSenders: [], comments: [],
      attributeDefinitions: [], attributeDefaults: [], attributeValues: [], valueDescriptions: [],
      valueTypes: [], mulVals: [], signalGroups: [], envVars: [], warnings: [],
    };
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return db;
      if (t.kind !== 'ident') this.fail('a section keyword (BO_, SG_, CM_, BA_, VAL_, ...)');
      this.next();
      const line = t.line;
      switch (t.text) {
        case 'VERSION':
          db.version = this.string('the version string after VERSION');
          break;
        case 'NS_':
          this.punct(':', "':' after NS_");
          // New-symbol list: indented keyword names, up to BS_ (always next per the spec).
          while (this.peek().kind === 'ident' && this.peek().text !== 'BS_' && (!this.peek().lineStart || this.peek().column > 1)) this.next();
          break;
        case 'BS_':
          this.punct(':', "':' after BS_");
          if (this.peek().kind === 'number') {
            this.number('the baud rate');
            this.punct(':', "':' after the baud rate");
            this.number('BTR1');
            this.punct(',', "',' between BTR1 and BTR2");
            this.number('BTR2');
          }
          this.optionalPunct(';');
          break;
        case 'BU_':
          this.punct(':', "':' after BU_");
          // Node names follow on the same line (an indented continuation line is accepted too).
          while (this.peek().kind === 'ident' && !(this.peek().lineStart && (this.peek().column === 1 || SECTIONS.has(this.peek().text)))) {
            db.nodes.push({ name: this.next().text, line: this.peek(-1).line });
            this.optionalPunct(',');
          }
          break;
        case 'VAL_TABLE_': {
          const name = this.ident('a value table name after VAL_TABLE_');
          db.valueTables.set(name, this.valuePairs(`value table ${name}`));
          break;
        }
        case 'BO_':
          db.messages.push(this.message(line));
          break;
        case 'BO_TX_BU_': {
          const rawId = this.messageId();
          this.punct(':', "':' after the message id of BO_TX_BU_");
          const nodes: string[] = [];
          while (!this.isPunct(';')) {
            nodes.push(this.ident("a transmitter node name or ';'"));
            this.optionalPunct(',');
          }
          this.next();
          db.txSenders.push({ rawId, nodes, line });
          break;
        }
        case 'EV_':
          db.envVars.push(this.envVar(line));
          break;
        case 'CM_': {
          const target = this.target();
          const text = this.string('the comment string of CM_');
          this.punct(';', "';' ending CM_");
          db.comments.push({ target, text, line });
          break;
        }
        case 'BA_DEF_':
          db.attributeDefinitions.push(this.attributeDefinition(line));
          break;
        case 'BA_DEF_DEF_': {
          const name = this.string('the attribute name (a string) after BA_DEF_DEF_');
          const value = this.attributeValue(`the default value of attribute ${name}`);
          this.punct(';', "';' ending BA_DEF_DEF_");
          db.attributeDefaults.push({ name, value, line });
          break;
        }
        case 'BA_': {
          const name = this.string('the attribute name (a string) after BA_');
          const target = this.target();
          const value = this.attributeValue(`the value of attribute ${name}`);
          this.punct(';', "';' ending BA_");
          db.attributeValues.push({ name, target, value, line });
          break;
        }
        case 'VAL_': {
          if (this.peek().kind === 'number') {
            const rawId = this.messageId();
            const signal = this.ident('a signal name after the message id of VAL_');
            if (this.peek().kind === 'ident') {
              // A reference to a VAL_TABLE_ instead of inline pairs (older writers).
              const tableRef = this.next().text;
              this.punct(';', "';' ending VAL_");
              db.valueDescriptions.push({ rawId, signal, entries: new Map(), tableRef, line });
            } else {
              db.valueDescriptions.push({ rawId, signal, entries: this.valuePairs(`VAL_ of ${signal}`), line });
            }
          } else {
            const envVar = this.ident('a message id or environment variable name after VAL_');
            db.valueDescriptions.push({ envVar, entries: this.valuePairs(`VAL_ of ${envVar}`), line });
          }
          break;
        }
        case 'SIG_VALTYPE_': {
          const rawId = this.messageId();
          const signal = this.ident('a signal name in SIG_VALTYPE_');
          this.optionalPunct(':');
          const type = this.integer('the signal value type 0 (integer), 1 (float32) or 2 (float64)', 0, 3);
          this.punct(';', "';' ending SIG_VALTYPE_");
          db.valueTypes.push({ rawId, signal, type, line });
          break;
        }
        case 'SG_MUL_VAL_': {
          const rawId = this.messageId();
          const signal = this.ident('a multiplexed signal name in SG_MUL_VAL_');
          const switchName = this.ident('the multiplexer switch name in SG_MUL_VAL_');
          const ranges: [number, number][] = [];
          do {
            const lo = this.integer('a range start (lo-hi) in SG_MUL_VAL_', 0, Number.MAX_SAFE_INTEGER);
            this.punct('-', "'-' between the ends of a SG_MUL_VAL_ range");
            const hi = this.integer('a range end (lo-hi) in SG_MUL_VAL_', lo, Number.MAX_SAFE_INTEGER);
            ranges.push([lo, hi]);
          } while (this.optionalPunct(','));
          this.punct(';', "';' ending SG_MUL_VAL_");
          db.mulVals.push({ rawId, signal, switchName, ranges, line });
          break;
        }
        case 'SIG_GROUP_': {
          const rawId = this.messageId();
          const name = this.ident('a signal group name');
          const repetitions = this.integer('the repetition count of the signal group', 0, Number.MAX_SAFE_INTEGER);
          this.punct(':', "':' after the repetition count of SIG_GROUP_");
          const signals: string[] = [];
          while (!this.isPunct(';')) {
            signals.push(this.ident("a signal name or ';' in SIG_GROUP_"));
            this.optionalPunct(',');
          }
          this.next();
          db.signalGroups.push({ rawId, name, repetitions, signals, line });
          break;
        }
        case 'SG_':
          this.fail('a BO_ message before its SG_ signals', t);
          break;
        default:
          if (SKIPPED.has(t.text)) {
            this.skipStatement();
            break;
          }
          db.warnings.push({ line, message: `unknown section '${t.text}' skipped` });
          while (!this.atSectionStart()) this.next();
      }
    }
  }

  private message(line: number): RawMessage {
    const rawId = this.messageId();
    const name = this.ident('the message name after its id');
    this.punct(':', `':' after message name ${name}`);
    const length = this.integer(`the length in bytes of message ${name}`, 0, 64);
    const sender = this.peek().kind === 'ident' && !this.peek().lineStart ? this.next().text : 'Vector__XXX';
    const signals: RawSignal[] = [];
    while (this.peek().kind === 'ident' && this.peek().text === 'SG_') {
      this.next();
      signals.push(this.signal(name));
    }
    return { rawId, name, length, sender, signals, line };
  }

  private signal(message: string): RawSignal {
    const nameToken = this.peek();
    const name = this.ident(`a signal name after SG_ in message ${message}`);
    let isSwitch = false;
    let muxId: number | undefined;
    if (this.peek().kind === 'ident') {
      const m = /^(?:(M)|m(\d+)(M?))$/.exec(this.peek().text);
      if (!m) this.fail(`a multiplexer indicator (M, mN or mNM) or ':' after signal ${name}`);
      this.next();
      if (m[1]) isSwitch = true;
      else {
        muxId = Number(m[2]);
        isSwitch = m[3] === 'M';
      }
    }
    this.punct(':', `':' after signal ${name}`);
    const startBit = this.integer(`the start bit of signal ${name}`, 0, 511);
    this.punct('|', `'|' between start bit and length of signal ${name}`);
    const length = this.integer(`the bit length of signal ${name}`, 1, 64);
    this.punct('@', `'@' before the byte order of signal ${name}`);
    const order = this.peek();
    if (order.kind !== 'number' || (order.text !== '0' && order.text !== '1')) {
      this.fail(`byte order 0 (big endian, Motorola) or 1 (little endian, Intel) of signal ${name}`);
    }
    this.next();
    const sign = this.peek();
    if (!this.isPunct('+') && !this.isPunct('-')) this.fail(`'+' (unsigned) or '-' (signed) of signal ${name}`);
    this.next();
    this.punct('(', `'(' before the factor of signal ${name}`);
    const factor = this.number(`the factor of signal ${name}`);
    this.punct(',', `',' between factor and offset of signal ${name}`);
    const offset = this.number(`the offset of signal ${name}`);
    this.punct(')', `')' after the offset of signal ${name}`);
    this.punct('[', `'[' before the minimum of signal ${name}`);
    const min = this.number(`the minimum of signal ${name}`);
    this.punct('|', `'|' between minimum and maximum of signal ${name}`);
    const max = this.number(`the maximum of signal ${name}`);
    this.punct(']', `']' after the maximum of signal ${name}`);
    const unit = this.string(`the unit string of signal ${name}`);
    const receivers: string[] = [];
    while (this.peek().kind === 'ident' && !this.peek().lineStart) {
      receivers.push(this.next().text);
      this.optionalPunct(',');
    }
    return {
      name, line: nameToken.line, column: nameToken.column, isSwitch, ...(muxId === undefined ? {} : { muxId }),
      startBit, length, byteOrder: order.text === '1' ? 'little_endian' : 'big_endian', signed: sign.text === '-',
      factor, offset, min, max, unit, receivers,
    };
  }

  private envVar(line: number): RawDbc['envVars'][number] {
    const name = this.ident('an environment variable name after EV_');
    this.punct(':', `':' after environment variable ${name}`);
    const type = this.integer(`the type (0 integer, 1 float, 2 string) of environment variable ${name}`, 0, 2);
    this.punct('[', `'[' before the minimum of environment variable ${name}`);
    const min = this.number('the minimum');
    this.punct('|', "'|' between minimum and maximum");
    const max = this.number('the maximum');
    this.punct(']', "']' after the maximum");
    const unit = this.string('the unit string');
    const initial = this.number('the initial value');
    const id = this.number('the environment variable id');
    const accessType = this.ident('the access type (DUMMY_NODE_VECTORn)');
    const accessNodes: string[] = [];
    while (!this.isPunct(';')) {
      accessNodes.push(this.ident("an access node name or ';'"));
      this.optionalPunct(',');
    }
    this.next();
    return { name, type, min, max, unit, initial, id, accessType, accessNodes, line };
  }

  private attributeDefinition(line: number): RawAttributeDefinition {
    let objectType: DbcObjectType = 'database';
    const t = this.peek();
    if (t.kind === 'ident' && OBJECT_KEYWORDS[t.text]) {
      objectType = OBJECT_KEYWORDS[t.text]!;
      this.next();
    }
    const name = this.string('the attribute name (a string) in BA_DEF_');
    const typeToken = this.peek();
    const valueType = this.ident(`the value type (INT, HEX, FLOAT, STRING, ENUM) of attribute ${name}`);
    const def: RawAttributeDefinition = { name, objectType, valueType: 'STRING', line };
    switch (valueType) {
      case 'INT':
      case 'HEX':
      case 'FLOAT':
        def.valueType = valueType;
        if (!this.isPunct(';')) {
          def.min = this.number(`the minimum of attribute ${name}`);
          def.max = this.number(`the maximum of attribute ${name}`);
        }
        break;
      case 'STRING':
        break;
      case 'ENUM':
        def.valueType = 'ENUM';
        def.enumValues = [];
        while (this.peek().kind === 'string') {
          def.enumValues.push(this.next().text);
          this.optionalPunct(',');
        }
        break;
      default:
        this.fail(`the value type (INT, HEX, FLOAT, STRING, ENUM) of attribute ${name}`, typeToken);
    }
    this.punct(';', `';' ending BA_DEF_ ${name}`);
    return def;
  }
}

/** Reads DBC text into statement records; throws DbcParseError naming file, line and what was expected. */
export function parseSyntax(text: string, file: string): RawDbc {
  return new Parser(tokenize(text, file), file).parse();
}
