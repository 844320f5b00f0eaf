// Turns decoded DBC signals into BatterySnapshot fields. A BMS profile on CAN is a DBC plus a
// table of rules (signal name or pattern -> snapshot field, scale to canonical units), so a BMS
// voltrail has never seen works from its DBC and a mapping, without code. Rules are matched
// once per DBC message when the driver starts, not per frame.
import type { DbcDatabase, DbcMessage } from '../dbc/index.ts';
import type { FaultName, SnapshotField } from '../snapshot.ts';

export type ScalarField = Extract<
  SnapshotField,
  'packVoltageV' | 'currentA' | 'socPct' | 'sohPct' | 'remainingCapacityAh' | 'fullCapacityAh' | 'cycleCount' | 'insulationOhm'
>;

export type SignalTarget =
  /** A scalar: canonical value = decoded value * scale + offset. A BMS that fills a field it does
   * not measure with a fixed value (SoH stuck at 100) names it as `placeholder`: that value is
   * reported with `meta.measured = false`. */
  | { field: ScalarField; scale?: number; offset?: number; placeholder?: number }
  /** One element of a per-cell or per-sensor array (index from 0). */
  | { field: 'cellVoltagesMv' | 'temperaturesC'; index: number; scale?: number; offset?: number }
  /** A fault flag: raised while the signal is non-zero, or while its value (or value-table name)
   * is one of `activeWhen` (flags whose DBC value table says 0 = "Invalid"). */
  | { field: 'fault'; name: FaultName; activeWhen?: readonly (number | string)[]; of?: 'cellVoltagesMv' | 'temperaturesC'; index?: number }
  /** The contactor: closed while the signal's value (or value-table name) is one of these. */
  | { field: 'contactorClosed'; closedWhen: readonly (number | string)[] }
  /** How many cells (or sensors) there are: trims arrays whose last frame carries unused slots. */
  | { field: 'count'; of: 'cellVoltagesMv' | 'temperaturesC' }
  /** A bitfield of balancing flags: bit k = cell firstCell + k (from 0). */
  | { field: 'balancing'; firstCell: number; bits: number };

export interface SignalRule {
  /** Restrict the rule to one message, by name. */
  message?: string;
  /** The signal's name, or a pattern whose groups the target function reads. */
  signal: string | RegExp;
  target: SignalTarget | ((match: RegExpExecArray) => SignalTarget);
}

export interface CompiledSignal {
  signal: string;
  target: SignalTarget;
  /** The signal's value table, looked up once here rather than per frame. */
  choices: ReadonlyMap<number, string> | undefined;
}

/** For each message id (extended ids offset by 2^32), the signals that feed the snapshot, in
 * DBC order and by name (a frame carries a few of a multiplexed message's many signals: a
 * decoder visits those, not every mapped one). */
export type CompiledMap = Map<number, { message: DbcMessage; signals: CompiledSignal[]; byName: ReadonlyMap<string, CompiledSignal> }>;

export const messageKey = (id: number, extended: boolean) => (extended ? id + 0x1_0000_0000 : id);

export function compileRules(db: DbcDatabase, rules: readonly SignalRule[]): CompiledMap {
  const out: CompiledMap = new Map();
  for (const message of db.messages) {
    const signals: CompiledSignal[] = [];
    for (const sig of message.signals) {
      for (const rule of rules) {
        if (rule.message && rule.message !== message.name) continue;
        let match: RegExpExecArray | null = null;
        if (typeof rule.signal === 'string') {
          if (rule.signal !== sig.name) continue;
        } else {
          match = new RegExp(`^(?:${rule.signal.source})$`, rule.signal.flags).exec(sig.name);
          if (!match) continue;
        }
        const target = typeof rule.target === 'function' ? rule.target(match ?? Object.assign([sig.name], { index: 0, input: sig.name, groups: undefined }) as RegExpExecArray) : rule.target;
        signals.push({ signal: sig.name, target, choices: sig.choices });
        break;
      }
    }
    if (signals.length) out.set(messageKey(message.id, message.extended), { message, signals, byName: new Map(signals.map((c) => [c.signal, c])) });
  }
  return out;
}
