// Hardware-in-the-loop scenario files (sim-hardware/scenarios/SCENARIOS.md): YAML validated with
// a zod schema, every error naming the file, the line and the field path, as the runtime's
// config does (runtime/config.ts). A scenario is a setup (pack, BMS, runtime config, instruments),
// a timeline of stimuli (load profiles, faults, SCPI commands) and the expectations on what
// voltrail records and does.
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { UserError } from '../cli/errors.ts';
import { FAULT_NAMES, type FaultName } from '../../devices/snapshot.ts';
import { allowed, configSchema, lineOf, type RuntimeConfig } from '../runtime/config.ts';

const DOC = 'sim-hardware/scenarios/SCENARIOS.md';

/** Fault flags that are not a protection of the simulated BMS: a sensor, the insulation monitor, the link. */
const NOT_PROTECTIONS: readonly FaultName[] = ['sensorFailure', 'insulationFault', 'communicationLost'];
export type ProtectionName = Exclude<FaultName, 'sensorFailure' | 'insulationFault' | 'communicationLost'>;
/** Protections of the simulated BMS a scenario may tune (sim-hardware/bms/protections.ts): the other fault flags. */
export const PROTECTION_NAMES = FAULT_NAMES.filter((n): n is ProtectionName => !NOT_PROTECTIONS.includes(n)) as [ProtectionName, ...ProtectionName[]];

/** The lifecycle events the runtime writes (runtime/lifecycle.ts, runtime.ts). */
export const EVENT_TYPES = [
  'restart',
  'fault-raised',
  'fault-cleared',
  'contactor-opened',
  'deep-discharge',
  'over-temperature',
  'under-temperature',
  'stale-source',
  'source-recovered',
  'clock-jump',
  'shed',
  'storage-error',
] as const;

/** Signals of the telemetry a range expectation can look at: `cell:N` and `temp:N` count from 1. */
export const SIGNAL = /^(packVoltageV|currentA|socPct|minCellV|maxCellV|minTempC|maxTempC|contactorClosed|cell:[1-9]\d*|temp:[1-9]\d*)$/;

/** Counters of the run a counter expectation can look at. */
export const COUNTERS = ['records', 'events', 'framesDecoded', 'framesRejected', 'shed'] as const;

/** What can be switched off to prove an expectation catches its absence (the test of the test). */
export const SWITCH_OFF = /^(protection:[A-Za-z]+|detection:(fault:[A-Za-z]+|stale|clock-jump|deep-discharge|over-temperature|under-temperature|contactor)|stimulus:[A-Za-z]+)$/;

const seconds = z.number().min(0).max(7 * 86_400);
const num = z.number().refine(Number.isFinite, 'must be a finite number');

const protectionTune = z.strictObject({
  /** Off: the BMS never trips it (a channel that failed, or a BMS without this protection). */
  enabled: z.boolean().default(true),
  trip: num.optional(),
  release: num.optional(),
  tripDelayS: seconds.optional(),
  releaseDelayS: seconds.optional(),
});

const instrument = z.strictObject({
  /** An electronic load draws current from the pack; a power supply charges it. */
  kind: z.enum(['eload', 'psu']),
  /** Bench: the instrument's address when --scpi does not name it: tcp:HOST[:PORT] or serial:PATH[@BAUD]. */
  address: z.string().min(1).optional(),
});

const faultObject = z.looseObject({ kind: z.string().min(1) });

const stimulus = z
  .strictObject({
    /** Simulated (or bench) seconds from the start. */
    at: seconds,
    /** A load profile (sim only): sim-hardware/plant/profile-spec.ts, e.g. "cc:100", "cccv:25". */
    profile: z.string().min(1).optional(),
    /** A fault (sim only): sim-hardware/fault-spec.ts text, e.g. "openWire:cell=3", or {kind, ...} (cells from 1). */
    fault: z.union([z.string().min(1), faultObject]).optional(),
    /** Clears the fault after this many seconds (default: it stays). */
    durationS: seconds.optional(),
    /** SCPI commands to an instrument of setup.instruments, sent in order; queries are answered and logged. */
    scpi: z.strictObject({ instrument: z.string().min(1), send: z.array(z.string().min(1)).min(1) }).optional(),
  })
  .refine((s) => [s.profile, s.fault, s.scpi].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of profile, fault or scpi',
  });

const eventMatch = {
  type: z.enum(EVENT_TYPES),
  /** details.fault of fault-raised / fault-cleared. */
  fault: z.enum(FAULT_NAMES).optional(),
  /** details.source of stale-source / source-recovered. */
  source: z.string().min(1).optional(),
};

const window = { from: seconds.optional(), to: seconds.optional() };

const expectation = z.discriminatedUnion('kind', [
  /** The event is recorded within `within` seconds after `after`. */
  z.strictObject({ kind: z.literal('event'), ...eventMatch, after: seconds.default(0), within: z.number().positive() }),
  /** No such event in the window. */
  z.strictObject({ kind: z.literal('noEvent'), ...eventMatch, ...window }),
  /** How many such events over the whole run. */
  z.strictObject({ kind: z.literal('count'), ...eventMatch, min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() }),
  /** Every recorded value of a signal in the window lies in [min, max]. */
  z.strictObject({ kind: z.literal('range'), signal: z.string().regex(SIGNAL, 'a signal: packVoltageV, currentA, socPct, minCellV, maxCellV, minTempC, maxTempC, contactorClosed, cell:N or temp:N'), min: num.optional(), max: num.optional(), ...window }),
  /** A signal stays within `maxSpread` of itself over the window (a stuck sensor). */
  z.strictObject({ kind: z.literal('steady'), signal: z.string().regex(SIGNAL, 'a signal: packVoltageV, currentA, socPct, minCellV, maxCellV, minTempC, maxTempC, contactorClosed, cell:N or temp:N'), maxSpread: z.number().min(0), ...window }),
  /** No two consecutive telemetry records further apart than maxS (after the first). */
  z.strictObject({ kind: z.literal('noGap'), maxS: z.number().positive(), ...window }),
  /** The ledger verifies: framing, signatures, sequence, Merkle roots. */
  z.strictObject({ kind: z.literal('ledgerVerifies') }),
  /** A counter of the run (records, events, frames decoded / rejected, samples shed). */
  z.strictObject({ kind: z.literal('counter'), name: z.enum(COUNTERS), min: z.number().min(0).optional(), max: z.number().min(0).optional() }),
]);

export const scenarioSchema = z.strictObject({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  tags: z.array(z.string().min(1)).default([]),
  setup: z
    .strictObject({
      seed: z.number().int().min(0).default(1),
      durationS: z.number().positive().max(7 * 86_400),
      pack: z
        .strictObject({
          cells: z.number().int().min(1).max(192).default(16),
          chemistry: z.enum(['nmc', 'lfp']).default('nmc'),
          soc: z.number().min(0).max(1).default(0.8),
          ambientC: z.number().min(-60).max(100).default(25),
          temperatureC: z.number().min(-60).max(150).optional(),
        })
        .prefault({}),
      bms: z
        .strictObject({
          /** The simulated BMS's protocol face (sim): the voltrail message set, or a foxBMS 2
           * master (needs foxbms.dbc in the runner's DBC folder), or a JBD or Daly UART BMS on a
           * pty (run in real time: uart-sim-target.ts); on a bench the BMS options decide. */
          profile: z.enum(['voltrail', 'foxbms', 'jbd', 'daly']).default('voltrail'),
          /** A Bender iso165C insulation monitor on the BMS's CAN bus (foxbms; needs iso165_IMD.dbc). */
          imd: z.boolean().default(false),
          protections: z.partialRecord(z.enum(PROTECTION_NAMES), protectionTune).default({}),
        })
        .prefault({}),
      /** Runtime config sections (firmware-ts/CONFIG.md): sampler, ledger, health. */
      config: z.record(z.string(), z.unknown()).default({}),
      instruments: z.record(z.string().regex(/^[A-Za-z][\w-]*$/, 'a name of letters, digits, - and _'), instrument).default({}),
    }),
  timeline: z.array(stimulus).default([]),
  expect: z.array(expectation).min(1),
  /** The test of the test: with these switched off, the scenario must fail. */
  selfTest: z.strictObject({ switchOff: z.array(z.string().regex(SWITCH_OFF, 'protection:NAME, detection:fault:NAME, detection:stale|clock-jump|deep-discharge|over-temperature|under-temperature|contactor, or stimulus:KIND')).min(1) }).optional(),
});

export type ScenarioData = z.output<typeof scenarioSchema>;
export type Expectation = ScenarioData['expect'][number];
export type Stimulus = ScenarioData['timeline'][number];

export interface Scenario extends ScenarioData {
  name: string;
  /** The file it came from (absolute), or a label. */
  file: string;
  /** The runtime config sections, validated by the runtime's own schema. */
  runtime: Pick<RuntimeConfig, 'sampler' | 'ledger' | 'health'>;
  /** `file:line` of each timeline entry, for errors found when a target prepares it. */
  timelineAt: string[];
}

/** Sections of the runtime config a scenario may set; the rest (data folder, BMS, log) belong to the runner. */
const CONFIG_SECTIONS = new Set(['sampler', 'ledger', 'health']);

/** A short text naming an expectation, in reports and failure messages. */
export function describeExpectation(e: Expectation): string {
  const what = (m: { type: string; fault?: string; source?: string }) => [m.type, m.fault, m.source].filter(Boolean).join(' ');
  const win = (w: { from?: number; to?: number }) => (w.from !== undefined || w.to !== undefined ? ` in ${w.from ?? 0}..${w.to ?? 'end'} s` : '');
  switch (e.kind) {
    case 'event':
      return `${what(e)} within ${e.within} s after ${e.after} s`;
    case 'noEvent':
      return `no ${what(e)}${win(e)}`;
    case 'count':
      return `count of ${what(e)} ${e.min !== undefined ? `>= ${e.min}` : ''}${e.min !== undefined && e.max !== undefined ? ' and ' : ''}${e.max !== undefined ? `<= ${e.max}` : ''}`;
    case 'range':
      return `${e.signal} in [${e.min ?? '-inf'}, ${e.max ?? 'inf'}]${win(e)}`;
    case 'steady':
      return `${e.signal} steady within ${e.maxSpread}${win(e)}`;
    case 'noGap':
      return `no telemetry gap over ${e.maxS} s${win(e)}`;
    case 'ledgerVerifies':
      return 'ledger verifies';
    case 'counter':
      return `${e.name} ${e.min !== undefined ? `>= ${e.min}` : ''}${e.min !== undefined && e.max !== undefined ? ' and ' : ''}${e.max !== undefined ? `<= ${e.max}` : ''}`;
  }
}

/** Parses and validates a scenario text; `file` names it in errors. */
export function parseScenario(text: string, file: string): Scenario {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new UserError(`${file}:${counter.linePos(e.pos[0]).line}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const where = (path: readonly PropertyKey[]) => `${file}:${lineOf(doc, counter, path)}: ${path.map(String).join('.') || '(top level)'}`;
  const result = scenarioSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
      return `${where(path)}: ${allowed(issue, DOC)}`;
    });
    throw new UserError(`invalid scenario:\n  ${lines.join('\n  ')}`);
  }
  const s = result.data;
  const problems: string[] = [];
  for (const key of Object.keys(s.setup.config)) {
    if (!CONFIG_SECTIONS.has(key)) problems.push(`${where(['setup', 'config', key])}: a scenario sets only ${[...CONFIG_SECTIONS].join(', ')}; the runner owns the rest`);
  }
  const cfg = configSchema.safeParse({ dataDir: '/', bms: { driver: 'voltrail-can', bus: 'virtual:sim' }, ...s.setup.config });
  if (!cfg.success) {
    for (const issue of cfg.error.issues) {
      const path = ['setup', 'config', ...(issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path)];
      problems.push(`${where(path)}: ${allowed(issue)}`);
    }
  }
  s.timeline.forEach((st, i) => {
    if (st.at > s.setup.durationS) problems.push(`${where(['timeline', i, 'at'])}: ${st.at} s is after the end of the run (setup.durationS ${s.setup.durationS} s)`);
    if (st.scpi && !(st.scpi.instrument in s.setup.instruments)) {
      problems.push(`${where(['timeline', i, 'scpi', 'instrument'])}: '${st.scpi.instrument}' is not in setup.instruments (${Object.keys(s.setup.instruments).join(', ') || 'none declared'})`);
    }
    if (st.durationS !== undefined && st.fault === undefined) problems.push(`${where(['timeline', i, 'durationS'])}: only a fault has a duration`);
  });
  if (s.setup.bms.imd && s.setup.bms.profile !== 'foxbms') problems.push(`${where(['setup', 'bms', 'imd'])}: the iso165 reports to a foxBMS master; set bms.profile: foxbms`);
  s.expect.forEach((e, i) => {
    if ((e.kind === 'count' || e.kind === 'counter' || e.kind === 'range') && e.min === undefined && e.max === undefined) problems.push(`${where(['expect', i])}: give min, max or both`);
    if ((e.kind === 'count' || e.kind === 'counter' || e.kind === 'range') && e.min !== undefined && e.max !== undefined && e.min > e.max) problems.push(`${where(['expect', i, 'min'])}: min ${e.min} is above max ${e.max}`);
    if (e.kind === 'event' && e.after > s.setup.durationS) problems.push(`${where(['expect', i, 'after'])}: ${e.after} s is after the end of the run`);
    const cell = 'signal' in e ? /^cell:(\d+)$/.exec(e.signal) : null;
    if (cell && Number(cell[1]) > s.setup.pack.cells) problems.push(`${where(['expect', i, 'signal'])}: the pack has ${s.setup.pack.cells} cells (1..${s.setup.pack.cells})`);
  });
  if (problems.length) throw new UserError(`invalid scenario:\n  ${problems.join('\n  ')}`);
  const c = cfg.data!;
  const timelineAt = s.timeline.map((_, i) => `${file}:${lineOf(doc, counter, ['timeline', i])}: timeline.${i}`);
  return { ...s, name: s.name ?? basename(file).replace(/\.ya?ml$/, ''), file, runtime: { sampler: c.sampler, ledger: c.ledger, health: c.health }, timelineAt };
}

/** Reads and validates a scenario file. */
export async function loadScenario(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UserError(`${resolve(path)}: cannot read the scenario (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); see ${DOC}`);
  }
  return parseScenario(text, resolve(path));
}
