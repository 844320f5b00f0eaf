// The mapping file of the generic CAN profile: a user's DBC plus this small YAML (or JSON) file
// from signal names or patterns to BatterySnapshot fields make a BMS voltrail has never seen
// (Orion, a custom one) work without code. Validated with zod; every error names the file, the
// line and the field. Format and an example: devices/README.md, "Mapping file".
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import type { DbcDatabase } from '../dbc/index.ts';
import { FAULT_NAMES } from '../snapshot.ts';
import type { ScalarField, SignalRule, SignalTarget } from './can-signal-map.ts';

const SCALAR_FIELDS = ['packVoltageV', 'currentA', 'socPct', 'sohPct', 'remainingCapacityAh', 'fullCapacityAh', 'cycleCount', 'insulationOhm'] as const satisfies readonly ScalarField[];

const base = {
  signal: z.string().min(1).optional(),
  pattern: z.string().min(1).optional(),
  message: z.string().min(1).optional(),
};
const scaled = { scale: z.number().finite().optional(), offset: z.number().finite().optional() };

const entry = z.discriminatedUnion('field', [
  z.strictObject({ ...base, ...scaled, field: z.enum(SCALAR_FIELDS), placeholder: z.number().finite().optional() }),
  z.strictObject({
    ...base,
    ...scaled,
    field: z.enum(['cellVoltagesMv', 'temperaturesC']),
    /** With `signal`: the array index (from 0). */
    index: z.number().int().min(0).optional(),
    /** With `pattern`: the number the first capture group has for the first element (default 1). */
    firstIndex: z.number().int().min(0).optional(),
  }),
  z.strictObject({ ...base, field: z.literal('fault'), fault: z.enum(FAULT_NAMES) }),
  z.strictObject({ ...base, field: z.literal('contactorClosed'), closedWhen: z.array(z.union([z.number(), z.string()])).min(1) }),
  z.strictObject({ ...base, field: z.enum(['cellCount', 'temperatureCount']) }),
  z.strictObject({ ...base, field: z.literal('balancing'), firstCell: z.number().int().min(0).default(0), bits: z.number().int().min(1).max(64) }),
]);

const mappingSchema = z.strictObject({
  /** Name in snapshot metadata, e.g. `orion`. */
  source: z.string().min(1).default('dbc'),
  counts: z.strictObject({ cells: z.number().int().min(1).optional(), temperatures: z.number().int().min(1).optional() }).optional(),
  signals: z.array(entry).min(1),
});

export type MappingEntry = z.infer<typeof entry>;

export interface Mapping {
  file: string;
  source: string;
  counts: Partial<Record<'cellVoltagesMv' | 'temperaturesC', number>>;
  rules: SignalRule[];
  /** The line of each rule in the file, in the same order. */
  lines: number[];
}

export class MappingError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string;
  constructor(file: string, line: number | undefined, field: string, problem: string) {
    super(`${file}${line ? `:${line}` : ''}: ${field}: ${problem}`);
    this.name = 'MappingError';
    this.file = file;
    this.line = line;
    this.field = field;
  }
}

/** The line of the node at `path`, or of its nearest ancestor that exists. */
function lineOf(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

const fieldName = (path: readonly PropertyKey[]) => path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)';

function toTarget(e: MappingEntry, match: RegExpExecArray | null): SignalTarget {
  switch (e.field) {
    case 'cellVoltagesMv':
    case 'temperaturesC': {
      const index = match ? Number(match[1]) - (e.firstIndex ?? 1) : (e.index ?? 0);
      return { field: e.field, index, ...(e.scale === undefined ? {} : { scale: e.scale }), ...(e.offset === undefined ? {} : { offset: e.offset }) };
    }
    case 'fault':
      return { field: 'fault', name: e.fault };
    case 'contactorClosed':
      return { field: 'contactorClosed', closedWhen: e.closedWhen };
    case 'cellCount':
      return { field: 'count', of: 'cellVoltagesMv' };
    case 'temperatureCount':
      return { field: 'count', of: 'temperaturesC' };
    case 'balancing':
      return { field: 'balancing', firstCell: e.firstCell, bits: e.bits };
    default:
      return { field: e.field, ...(e.scale === undefined ? {} : { scale: e.scale }), ...(e.offset === undefined ? {} : { offset: e.offset }), ...(e.placeholder === undefined ? {} : { placeholder: e.placeholder }) };
  }
}

/** Parses and validates mapping text (YAML or JSON); `file` is used in errors. */
export function parseMapping(text: string, file: string): Mapping {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new MappingError(file, lc.linePos(e.pos[0]).line, '(syntax)', e.message.split('\n')[0]!);
  }
  const parsed = mappingSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    let path = issue.path;
    let problem = issue.message;
    if (issue.code === 'unrecognized_keys') {
      path = [...issue.path, issue.keys[0]!];
      problem = `unknown key '${issue.keys[0]}'`;
    } else if (issue.code === 'invalid_union' && path.at(-1) !== 'field') {
      problem = `${problem}; 'field' must be one of ${[...SCALAR_FIELDS, 'cellVoltagesMv', 'temperaturesC', 'fault', 'contactorClosed', 'cellCount', 'temperatureCount', 'balancing'].join(', ')}`;
    }
    throw new MappingError(file, lineOf(doc, lc, path), fieldName(path), problem);
  }
  const m = parsed.data;
  const rules: SignalRule[] = [];
  const lines: number[] = [];
  m.signals.forEach((e, i) => {
    const line = lineOf(doc, lc, ['signals', i]);
    if ((e.signal === undefined) === (e.pattern === undefined)) throw new MappingError(file, line, `signals[${i}]`, "give exactly one of 'signal' (a name) and 'pattern' (a regular expression)");
    let re: RegExp | undefined;
    if (e.pattern !== undefined) {
      try {
        re = new RegExp(e.pattern);
      } catch (err) {
        throw new MappingError(file, lineOf(doc, lc, ['signals', i, 'pattern']), `signals[${i}].pattern`, (err as Error).message);
      }
      if ((e.field === 'cellVoltagesMv' || e.field === 'temperaturesC') && !/\((?!\?)/.test(e.pattern)) {
        throw new MappingError(file, lineOf(doc, lc, ['signals', i, 'pattern']), `signals[${i}].pattern`, 'an array field needs a capture group giving the element number, e.g. Cell(\\d+)_Voltage');
      }
    }
    rules.push({
      ...(e.message ? { message: e.message } : {}),
      signal: re ?? e.signal!,
      target: re ? (match) => toTarget(e, match) : toTarget(e, null),
    });
    lines.push(line ?? 0);
  });
  const counts: Mapping['counts'] = {};
  if (m.counts?.cells) counts.cellVoltagesMv = m.counts.cells;
  if (m.counts?.temperatures) counts.temperaturesC = m.counts.temperatures;
  return { file, source: m.source, counts, rules, lines };
}

export async function loadMapping(path: string): Promise<Mapping> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new MappingError(path, undefined, '(file)', `cannot read the mapping file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseMapping(text, path);
}

/** Every mapping entry must name at least one signal of the DBC: a typo is an error, not silence. */
export function checkMapping(mapping: Mapping, db: DbcDatabase, dbcFile: string): void {
  mapping.rules.forEach((rule, i) => {
    const hit = db.messages.some(
      (msg) =>
        (!rule.message || rule.message === msg.name) &&
        msg.signals.some((s) => (typeof rule.signal === 'string' ? s.name === rule.signal : new RegExp(`^(?:${rule.signal.source})$`).test(s.name))),
    );
    if (!hit) {
      const what = typeof rule.signal === 'string' ? `signal '${rule.signal}'` : `pattern '${rule.signal.source}'`;
      throw new MappingError(mapping.file, mapping.lines[i], `signals[${i}]`, `${what}${rule.message ? ` in message '${rule.message}'` : ''} matches no signal of ${dbcFile}; check the spelling against the DBC`);
    }
  });
}
