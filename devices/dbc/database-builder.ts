// Assembles the statement records of syntax.ts into the neutral DbcDatabase (model.ts):
// resolves every reference by message id and signal name, applies SIG_VALTYPE_, VAL_,
// SG_MUL_VAL_, CM_ and BA_ to their objects, and turns dangling references into warnings.
import { DbcParseError } from './errors.ts';
import type {
  DbcAttributeDefinition, DbcAttributeValue, DbcDatabase, DbcMessage, DbcNode, DbcSignal, DbcWarning, SignalValueType,
} from './model.ts';
import type { RawDbc, RawMessage, RawSignal } from './syntax.ts';

const EXTENDED_FLAG = 0x80000000;
/** The pseudo-message Vector tools write to hold signals no message carries. */
export const INDEPENDENT_SIG_MSG = 'VECTOR__INDEPENDENT_SIG_MSG';
/** Above this many values, SG_MUL_VAL_ ranges are kept as ranges only, not expanded to ids. */
const MAX_EXPANDED_MUX_IDS = 65536;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function mux(sig: RawSignal, switchName: string, ranges: [number, number][]): Partial<Mutable<DbcSignal>> {
  let count = 0;
  for (const [lo, hi] of ranges) count += hi - lo + 1;
  // Ranges may overlap (`0-1, 0-1`): each value once, in order.
  const ids = new Set<number>();
  if (count <= MAX_EXPANDED_MUX_IDS) for (const [lo, hi] of ranges) for (let v = lo; v <= hi; v++) ids.add(v);
  return {
    multiplexerSwitch: switchName,
    multiplexerRanges: ranges.map((r) => Object.freeze([r[0], r[1]] as const)),
    ...(count <= MAX_EXPANDED_MUX_IDS ? { multiplexerIds: [...ids].sort((a, b) => a - b) } : {}),
    multiplexer: sig.isSwitch,
  };
}

export function buildDatabase(raw: RawDbc, file: string): DbcDatabase {
  const warnings: DbcWarning[] = raw.warnings.map((w) => ({ file, line: w.line, message: w.message }));
  const warn = (line: number, message: string): void => {
    warnings.push({ file, line, message });
  };
  const key = (rawId: number, signal: string): string => `${rawId}/${signal}`;

  const rawById = new Map<number, RawMessage>();
  for (const m of raw.messages) {
    if (rawById.has(m.rawId)) warn(m.line, `message id ${m.rawId} (${m.name}) is defined twice; the first definition (${rawById.get(m.rawId)!.name}) is kept`);
    else rawById.set(m.rawId, m);
  }
  const signalIndex = new Map<number, Map<string, RawSignal>>();
  for (const [rawId, m] of rawById) signalIndex.set(rawId, new Map(m.signals.map((x) => [x.name, x])));
  const rawSignal = (rawId: number, signal: string, line: number, what: string): RawSignal | undefined => {
    const s = signalIndex.get(rawId)?.get(signal);
    if (!s) warn(line, `${what} names signal ${signal} of message ${rawId}, which is not defined; ignored`);
    return s;
  };

  // Per-signal facts gathered from the statements after BO_.
  const valueTypes = new Map<string, SignalValueType>();
  for (const v of raw.valueTypes) {
    const s = rawSignal(v.rawId, v.signal, v.line, 'SIG_VALTYPE_');
    if (!s) continue;
    const type: SignalValueType = v.type === 1 ? 'float32' : v.type === 2 ? 'float64' : 'integer';
    const need = type === 'float32' ? 32 : type === 'float64' ? 64 : s.length;
    if (s.length !== need) {
      throw new DbcParseError(file, v.line, 1, `a ${need}-bit signal for value type ${type}`, `signal ${s.name} of ${s.length} bits`);
    }
    valueTypes.set(key(v.rawId, v.signal), type);
  }
  const choices = new Map<string, Map<number, string>>();
  for (const v of raw.valueDescriptions) {
    if (v.rawId === undefined || v.signal === undefined) continue;
    if (!rawSignal(v.rawId, v.signal, v.line, 'VAL_')) continue;
    let entries = v.entries;
    if (v.tableRef !== undefined) {
      const table = raw.valueTables.get(v.tableRef);
      if (!table) {
        warn(v.line, `VAL_ refers to value table ${v.tableRef}, which is not defined; ignored`);
        continue;
      }
      entries = table;
    }
    choices.set(key(v.rawId, v.signal), entries);
  }
  const mulVals = new Map<string, { switchName: string; ranges: [number, number][] }>();
  for (const v of raw.mulVals) {
    const s = rawSignal(v.rawId, v.signal, v.line, 'SG_MUL_VAL_');
    if (!s) continue;
    const sw = rawById.get(v.rawId)!.signals.find((x) => x.name === v.switchName);
    if (!sw || !sw.isSwitch) {
      warn(v.line, `SG_MUL_VAL_ names ${v.switchName} as the switch of ${v.signal}, but it is not a multiplexer signal of message ${v.rawId}; ignored`);
      continue;
    }
    mulVals.set(key(v.rawId, v.signal), { switchName: v.switchName, ranges: v.ranges });
  }

  // Comments and attribute values, by object.
  const msgComments = new Map<number, string>();
  const sigComments = new Map<string, string>();
  const nodeComments = new Map<string, string>();
  const envComments = new Map<string, string>();
  let dbComment: string | undefined;
  for (const c of raw.comments) {
    const t = c.target;
    if (t.kind === 'database') dbComment = c.text;
    else if (t.kind === 'node') nodeComments.set(t.name, c.text);
    else if (t.kind === 'env_var') envComments.set(t.name, c.text);
    else if (t.kind === 'message') {
      if (rawById.has(t.rawId)) msgComments.set(t.rawId, c.text);
      else warn(c.line, `CM_ for message ${t.rawId}, which is not defined; ignored`);
    } else if (rawSignal(t.rawId, t.signal, c.line, 'CM_')) sigComments.set(key(t.rawId, t.signal), c.text);
  }

  const definitions = new Map<string, DbcAttributeDefinition>();
  const defaults = new Map<string, DbcAttributeValue>();
  for (const d of raw.attributeDefaults) defaults.set(d.name, d.value);
  for (const d of raw.attributeDefinitions) {
    const def: Mutable<DbcAttributeDefinition> = { name: d.name, objectType: d.objectType, valueType: d.valueType };
    if (d.min !== undefined) def.min = d.min;
    if (d.max !== undefined) def.max = d.max;
    if (d.enumValues) def.enumValues = Object.freeze(d.enumValues);
    if (defaults.has(d.name)) def.defaultValue = defaults.get(d.name)!;
    definitions.set(d.name, Object.freeze(def));
  }
  const dbAttrs = new Map<string, DbcAttributeValue>();
  const nodeAttrs = new Map<string, Map<string, DbcAttributeValue>>();
  const msgAttrs = new Map<number, Map<string, DbcAttributeValue>>();
  const sigAttrs = new Map<string, Map<string, DbcAttributeValue>>();
  const put = <K>(map: Map<K, Map<string, DbcAttributeValue>>, k: K, name: string, value: DbcAttributeValue): void => {
    let m = map.get(k);
    if (!m) map.set(k, (m = new Map()));
    m.set(name, value);
  };
  for (const a of raw.attributeValues) {
    if (!definitions.has(a.name)) warn(a.line, `BA_ sets attribute ${a.name}, which has no BA_DEF_; kept as given`);
    const t = a.target;
    if (t.kind === 'database') dbAttrs.set(a.name, a.value);
    else if (t.kind === 'node') put(nodeAttrs, t.name, a.name, a.value);
    else if (t.kind === 'message') {
      if (rawById.has(t.rawId)) put(msgAttrs, t.rawId, a.name, a.value);
      else warn(a.line, `BA_ ${a.name} for message ${t.rawId}, which is not defined; ignored`);
    } else if (t.kind === 'signal') {
      if (rawSignal(t.rawId, t.signal, a.line, `BA_ ${a.name}`)) put(sigAttrs, key(t.rawId, t.signal), a.name, a.value);
    }
  }
  /** An ENUM attribute's value as its label (BA_ gives an index, BA_DEF_DEF_ a label). */
  const label = (name: string, value: DbcAttributeValue | undefined): DbcAttributeValue | undefined => {
    const def = definitions.get(name);
    if (value !== undefined && def?.enumValues && typeof value === 'number') return def.enumValues[value] ?? value;
    return value;
  };

  const txSenders = new Map<number, string[]>();
  for (const t of raw.txSenders) {
    if (rawById.has(t.rawId)) txSenders.set(t.rawId, t.nodes);
    else warn(t.line, `BO_TX_BU_ for message ${t.rawId}, which is not defined; ignored`);
  }
  const groups = new Map<number, Map<string, readonly string[]>>();
  for (const g of raw.signalGroups) {
    if (!rawById.has(g.rawId)) {
      warn(g.line, `SIG_GROUP_ ${g.name} for message ${g.rawId}, which is not defined; ignored`);
      continue;
    }
    let m = groups.get(g.rawId);
    if (!m) groups.set(g.rawId, (m = new Map()));
    m.set(g.name, Object.freeze(g.signals));
  }

  const messages: DbcMessage[] = [];
  let independentSignals: DbcSignal[] = [];
  const standard = new Map<number, DbcMessage>();
  const extendedMap = new Map<number, DbcMessage>();
  const byName = new Map<string, DbcMessage>();
  for (const m of rawById.values()) {
    const pseudo = m.name === INDEPENDENT_SIG_MSG;
    let extended = m.rawId >= EXTENDED_FLAG;
    let id = extended ? m.rawId - EXTENDED_FLAG : m.rawId;
    if (!pseudo && !extended && id > 0x7ff) {
      warn(m.line, `message ${m.name} has id ${id}, above 11 bits, without bit 31 set; read as a 29-bit id`);
      extended = true;
    }
    if (!pseudo && id > 0x1fffffff) {
      throw new DbcParseError(file, m.line, 1, 'a message id of at most 29 bits (plus bit 31 for extended ids)', `id ${m.rawId} of message ${m.name}`);
    }
    if (pseudo) id = m.rawId;
    const switches = m.signals.filter((s) => s.isSwitch && s.muxId === undefined);
    const signals: DbcSignal[] = m.signals.map((s) => {
      const k = key(m.rawId, s.name);
      const sig: Mutable<DbcSignal> = {
        name: s.name, startBit: s.startBit, length: s.length, byteOrder: s.byteOrder, signed: s.signed,
        valueType: valueTypes.get(k) ?? 'integer', factor: s.factor, offset: s.offset, min: s.min, max: s.max,
        unit: s.unit, receivers: Object.freeze(s.receivers), multiplexer: s.isSwitch,
        attributes: sigAttrs.get(k) ?? new Map(),
      };
      const ext = mulVals.get(k);
      if (ext) Object.assign(sig, mux(s, ext.switchName, ext.ranges));
      else if (s.muxId !== undefined) {
        if (switches.length === 1) Object.assign(sig, mux(s, switches[0]!.name, [[s.muxId, s.muxId]]));
        else warn(s.line, `signal ${s.name} of message ${m.name} is multiplexed (m${s.muxId}) but the message has ${switches.length} plain multiplexer switches (M) and no SG_MUL_VAL_ for it; read as always present`);
      }
      const ch = choices.get(k);
      if (ch) sig.choices = ch;
      const cm = sigComments.get(k);
      if (cm !== undefined) sig.comment = cm;
      const start = sig.attributes.get('GenSigStartValue');
      if (typeof start === 'number') sig.initialRaw = start;
      const bits = s.byteOrder === 'little_endian' ? s.startBit + s.length : (s.startBit >> 3) * 8 + 8 - (s.startBit & 7) + s.length - 1;
      if (!pseudo && Math.ceil(bits / 8) > m.length) {
        warn(s.line, `signal ${s.name} reaches byte ${Math.ceil(bits / 8)} of message ${m.name}, which is ${m.length} bytes long`);
      }
      return Object.freeze(sig);
    });
    checkMuxTree(signals, m, file);
    if (pseudo) {
      independentSignals = signals;
      continue;
    }
    const attributes = msgAttrs.get(m.rawId) ?? new Map<string, DbcAttributeValue>();
    const cycle = attributes.get('GenMsgCycleTime') ?? defaults.get('GenMsgCycleTime');
    const frameFormat = label('VFrameFormat', attributes.get('VFrameFormat') ?? defaults.get('VFrameFormat'));
    const fd = m.length > 8 || (typeof frameFormat === 'string' && /FD/.test(frameFormat));
    const msg: Mutable<DbcMessage> = {
      id, extended, name: m.name, length: m.length, sender: m.sender,
      senders: Object.freeze([m.sender, ...(txSenders.get(m.rawId) ?? []).filter((n) => n !== m.sender)]),
      signals: Object.freeze(signals), attributes, signalGroups: groups.get(m.rawId) ?? new Map(),
    };
    if (fd) msg.fd = true;
    if (typeof cycle === 'number' && cycle > 0) msg.cycleTimeMs = cycle;
    const cm = msgComments.get(m.rawId);
    if (cm !== undefined) msg.comment = cm;
    Object.freeze(msg);
    messages.push(msg);
    (extended ? extendedMap : standard).set(id, msg);
    if (byName.has(msg.name)) warn(m.line, `message name ${msg.name} is used twice; messageByName returns the first`);
    else byName.set(msg.name, msg);
  }

  const nodes: DbcNode[] = raw.nodes.map((n) => {
    const node: Mutable<DbcNode> = { name: n.name, attributes: nodeAttrs.get(n.name) ?? new Map() };
    const cm = nodeComments.get(n.name);
    if (cm !== undefined) node.comment = cm;
    return Object.freeze(node);
  });

  return Object.freeze({
    file,
    version: raw.version,
    messages: Object.freeze(messages),
    independentSignals: Object.freeze(independentSignals),
    nodes: Object.freeze(nodes),
    valueTables: raw.valueTables,
    attributes: Object.freeze({ definitions, database: dbAttrs, nodes: nodeAttrs }),
    comments: Object.freeze({ ...(dbComment === undefined ? {} : { database: dbComment }), envVars: envComments }),
    envVars: Object.freeze(raw.envVars.map(({ line: _line, ...e }) => Object.freeze(e))),
    warnings: Object.freeze(warnings),
    messageById(id: number, extended?: boolean): DbcMessage | undefined {
      if (extended === true) return extendedMap.get(id);
      if (extended === false) return standard.get(id);
      return standard.get(id) ?? extendedMap.get(id);
    },
    messageByName(name: string): DbcMessage | undefined {
      return byName.get(name);
    },
  });
}

/** A multiplexer tree must be a tree: a switch may not (indirectly) depend on itself. */
function checkMuxTree(signals: DbcSignal[], m: RawMessage, file: string): void {
  const byName = new Map(signals.map((s) => [s.name, s]));
  for (const s of signals) {
    let cur: DbcSignal | undefined = s;
    for (let depth = 0; cur?.multiplexerSwitch !== undefined; depth++) {
      if (depth > signals.length) {
        throw new DbcParseError(file, m.line, 1, 'multiplexer switches that form a tree', `a cycle through signal ${s.name} in message ${m.name}`);
      }
      cur = byName.get(cur.multiplexerSwitch);
    }
  }
}
