// The runtime's configuration: one YAML file (documented in firmware-ts/CONFIG.md), validated
// with a zod schema. Every error names the file, the line, the field path and what is allowed,
// because the person reading it is a technician at a battery with a terminal, not a developer.
// `--sim` runs use the embedded defaults (`simConfig()`), so no file is needed to start.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type * as Yaml from 'yaml';
import type { Document, LineCounter } from 'yaml';
import { z } from 'zod';
import { UserError } from '../cli/errors.ts';

const positiveInt = (max: number) => z.number().int().min(1).max(max);

const canBus = z
  .string()
  .min(1)
  .describe('a CAN bus spec: socketcan:can0, slcan:/dev/ttyACM0@500000, virtual:NAME, replay:FILE');

const bmsSchema = z.discriminatedUnion('driver', [
  z.strictObject({ driver: z.literal('voltrail-can'), bus: canBus }),
  z.strictObject({ driver: z.literal('foxbms-can'), bus: canBus, dbc: z.string().min(1).optional() }),
  z.strictObject({ driver: z.literal('dbc'), bus: canBus, dbc: z.string().min(1), map: z.string().min(1) }),
  z.strictObject({ driver: z.literal('jbd'), port: z.string().min(1), baudRate: z.number().int().positive().default(9600) }),
  z.strictObject({ driver: z.literal('daly'), port: z.string().min(1), baudRate: z.number().int().positive().default(9600) }),
]);

export const BMS_DRIVERS = ['voltrail-can', 'foxbms-can', 'dbc', 'jbd', 'daly'] as const;

export const configSchema = z.strictObject({
  dataDir: z.string().min(1).default('/var/lib/voltrail'),
  bms: bmsSchema,
  sampler: z
    .strictObject({
      periodMs: z.number().int().min(50).max(3_600_000).default(1000),
      /** An immediate record when a value moves this far from the last recorded one. */
      onChange: z
        .strictObject({
          socPct: z.number().positive().max(100).default(1),
          currentA: z.number().positive().default(20),
          temperatureC: z.number().positive().default(2),
        })
        .prefault({}),
      onFault: z.boolean().default(true),
      /** Lifecycle thresholds: deep discharge below this SoC, temperature extremes outside these. */
      deepDischargeSocPct: z.number().min(0).max(100).default(5),
      temperatureMinC: z.number().min(-60).max(100).default(-20),
      temperatureMaxC: z.number().min(-60).max(150).default(60),
    })
    .prefault({}),
  ledger: z
    .strictObject({
      mode: z.enum(['checkpoint', 'per-record']).default('checkpoint'),
      checkpointEvery: positiveInt(1_000_000).default(1000),
      checkpointIntervalMs: positiveInt(86_400_000).default(60_000),
      /** Telemetry is shed (and counted) while more than this many bytes wait for the disk. */
      maxPendingBytes: positiveInt(1 << 30).default(1 << 20),
    })
    .prefault({}),
  health: z
    .strictObject({
      staleMarginFactor: z.number().min(1).max(100).default(3),
      watchdog: z.boolean().default(true),
      /** Wall and monotonic time may disagree by this much before a clock-jump event. */
      clockJumpToleranceMs: positiveInt(86_400_000).default(5000),
      /** How often a "shed" event records telemetry dropped under backpressure. */
      shedReportIntervalMs: positiveInt(86_400_000).default(60_000),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      file: z.string().min(1).optional(),
    })
    .prefault({}),
  /** Store-and-forward to the fleet over MQTT 5 (firmware-ts/UPLINK.md); absent: no uplink. */
  uplink: z
    .strictObject({
      url: z.url({ protocol: /^mqtts?$/ }),
      /** Topics are <topicPrefix>/v1/<log-id>/records and .../ack. */
      topicPrefix: z
        .string()
        .regex(/^[^#+/$\0][^#+\0]*[^#+/\0]$|^[^#+/$\0]$/, 'a topic prefix: levels separated by /, no wildcards + #, no leading $ or /, no trailing /')
        .default('voltrail'),
      clientId: z.string().min(1).max(128).optional(),
      tls: z
        .strictObject({
          /** PEM files: the CA that signed the broker's certificate, and this board's client certificate and key. */
          ca: z.string().min(1).optional(),
          cert: z.string().min(1).optional(),
          key: z.string().min(1).optional(),
          rejectUnauthorized: z.boolean().default(true),
        })
        .optional(),
      /** Entries and bytes sent and not yet acknowledged by a collector, at most. */
      windowEntries: positiveInt(1_000_000).default(8192),
      windowBytes: positiveInt(1 << 30).default(8 * 1024 * 1024),
      /** Entries per MQTT message at most (4096 at most). */
      batchEntries: positiveInt(4096).default(512),
      /** No ack moving the offset for this long while entries are in flight: resend from the offset. */
      ackTimeoutMs: positiveInt(3_600_000).default(10_000),
    })
    .optional(),
});

export type RuntimeConfig = z.output<typeof configSchema>;
export type BmsConfig = RuntimeConfig['bms'];

/** The embedded defaults of `voltrail run --sim`: the simulator's BMS on a virtual bus. */
export function simConfig(dataDir: string): RuntimeConfig {
  return configSchema.parse({ dataDir, bms: { driver: 'voltrail-can', bus: 'virtual:sim' }, ledger: { mode: 'per-record', checkpointEvery: 60 } });
}

/** What a zod issue allows, in words; `doc` names where the fields are documented. */
export function allowed(issue: z.core.$ZodIssue, doc = 'firmware-ts/CONFIG.md'): string {
  switch (issue.code) {
    case 'invalid_value':
      return `allowed: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return issue.message.endsWith('received undefined') ? `missing; required (${issue.message.replace(/^Invalid input: /, '').replace(/, received undefined$/, '')})` : issue.message;
    case 'invalid_union':
      return issue.message;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}; see ${doc} for the fields`;
    default:
      return issue.message;
  }
}

/** The YAML parser, loaded the first time a file is read: a `--sim` run without a file (and a
 * board's memory) does without it. */
let yamlModule: typeof Yaml | undefined;
const yaml = () => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml);

/** The 1-based line of the node at `path`, or of its nearest ancestor that exists. */
export function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true);
    if (yaml().isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return 1;
}

/** Parses and validates a config text; `file` names it in errors. */
export function parseConfig(text: string, file: string): RuntimeConfig {
  const { LineCounter, parseDocument } = yaml();
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const line = counter.linePos(e.pos[0]).line;
    throw new UserError(`${file}:${line}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const result = configSchema.safeParse(doc.toJS() ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    // An unknown field is reported at its own line and path.
    const where = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    const path = where.map(String).join('.') || '(top level)';
    return `${file}:${lineOf(doc, counter, where)}: ${path}: ${allowed(issue)}`;
  });
  throw new UserError(`invalid configuration:\n  ${lines.join('\n  ')}`);
}

/** Reads and validates a config file. Relative paths in it stay relative to the working folder. */
export async function loadConfig(path: string): Promise<RuntimeConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UserError(`${resolve(path)}: cannot read the configuration (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); see firmware-ts/CONFIG.md for an example`);
  }
  return parseConfig(text, path);
}
