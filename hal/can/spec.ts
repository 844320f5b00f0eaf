// Bus specs: one string names a CAN bus on the command line and in config files, and openBus()
// opens it with the right backend.
//   slcan:/dev/ttyACM0@500000?baud=115200&timestamps=1   slcan adapter; @ the CAN bitrate
//   socketcan:can0                                        Linux SocketCAN interface
//   virtual:NAME                                          in-process bus (hub NAME)
//   replay:FILE?timing=fast                               a candump log, read-only
// Real buses (slcan, socketcan) open listen-only unless `transmit: true` is given.
import type { CanBus } from './bus.ts';
import type { CandumpIssue } from './candump-log.ts';
import { CanInitializationError } from './errors.ts';
import { openReplay } from './replay.ts';
import { BITRATE_CODES } from './slcan-protocol.ts';
import { openSocketcan } from './socketcan.ts';
import { VirtualCanHub } from './virtual.ts';
import type { Clock } from '../clock.ts';

export const BUS_SPEC_FORMS = [
  'slcan:PATH[@BITRATE][?baud=N&timestamps=1]  e.g. slcan:/dev/ttyACM0@500000',
  'socketcan:IFACE  e.g. socketcan:can0',
  'virtual:NAME  e.g. virtual:pack',
  'replay:FILE[?timing=recorded|fast]  e.g. replay:drive.log',
] as const;

export type BusSpec =
  | { kind: 'slcan'; path: string; bitrate?: number; baudRate?: number; timestamps?: boolean }
  | { kind: 'socketcan'; iface: string }
  | { kind: 'virtual'; name: string }
  | { kind: 'replay'; path: string; timing: 'recorded' | 'fast' };

/** True for backends on which a frame reaches real hardware. */
export function isRealBus(spec: BusSpec): boolean {
  return spec.kind === 'slcan' || spec.kind === 'socketcan';
}

function specError(spec: string, problem: string): CanInitializationError {
  return new CanInitializationError(`bus spec '${spec}': ${problem}. Allowed forms: ${BUS_SPEC_FORMS.join('; ')}`);
}

function parseQuery(spec: string, query: string | undefined, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (query === undefined || query === '') return out;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    if (!allowed.includes(key)) throw specError(spec, `unknown option '${key}' (allowed here: ${allowed.join(', ') || 'none'})`);
    out.set(key, value);
  }
  return out;
}

function parseFlag(spec: string, key: string, value: string): boolean {
  if (value === '1' || value === 'true' || value === '') return true;
  if (value === '0' || value === 'false') return false;
  throw specError(spec, `option '${key}' must be 1 or 0, not '${value}'`);
}

/** Parses a bus spec; throws CanInitializationError naming the spec and the allowed forms. */
export function parseBusSpec(spec: string): BusSpec {
  if (typeof spec !== 'string') throw new TypeError('bus spec must be a string');
  const colon = spec.indexOf(':');
  if (colon < 0) throw specError(spec, 'it has no kind before a colon');
  const kind = spec.slice(0, colon);
  const rest = spec.slice(colon + 1);
  const q = rest.indexOf('?');
  const body = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? undefined : rest.slice(q + 1);
  if (body === '') throw specError(spec, `nothing after '${kind}:'`);
  switch (kind) {
    case 'slcan': {
      const opts = parseQuery(spec, query, ['baud', 'timestamps']);
      const at = body.lastIndexOf('@');
      const path = at < 0 ? body : body.slice(0, at);
      if (path === '') throw specError(spec, 'no serial device path');
      const out: BusSpec = { kind: 'slcan', path };
      if (at >= 0) {
        const text = body.slice(at + 1);
        const bitrate = Number(text);
        if (!/^\d+$/.test(text) || !BITRATE_CODES.has(bitrate)) {
          throw specError(spec, `CAN bitrate '${text}' is not one an slcan adapter can set (${[...BITRATE_CODES.keys()].join(', ')})`);
        }
        out.bitrate = bitrate;
      }
      const baud = opts.get('baud');
      if (baud !== undefined) {
        if (!/^\d+$/.test(baud) || Number(baud) <= 0) throw specError(spec, `baud '${baud}' must be a positive whole number`);
        out.baudRate = Number(baud);
      }
      const ts = opts.get('timestamps');
      if (ts !== undefined) out.timestamps = parseFlag(spec, 'timestamps', ts);
      return out;
    }
    case 'socketcan':
      parseQuery(spec, query, []);
      return { kind: 'socketcan', iface: body };
    case 'virtual':
      parseQuery(spec, query, []);
      return { kind: 'virtual', name: body };
    case 'replay': {
      const opts = parseQuery(spec, query, ['timing']);
      const timing = opts.get('timing') ?? 'recorded';
      if (timing !== 'recorded' && timing !== 'fast') throw specError(spec, `timing '${timing}' must be 'recorded' or 'fast'`);
      return { kind: 'replay', path: body, timing };
    }
    default:
      throw specError(spec, `unknown bus kind '${kind}'`);
  }
}

export interface OpenBusOptions {
  /** Allow sending on a real bus (slcan, socketcan). Without it they open listen-only. */
  transmit?: boolean;
  /** Hubs for `virtual:NAME` specs, by name; a missing hub is made and added. Without it each open makes a new hub. */
  hubs?: Map<string, VirtualCanHub>;
  clock?: Clock;
  queueCapacity?: number;
  /** Make the queue for `receive()` at the first call instead of at open: for readers that only iterate `frames()`, whose bus would otherwise hold a full queue of frames nobody reads. */
  receiveQueueFromOpen?: boolean;
  /** slcan: how long to wait for an adapter's reply to a command. */
  ackTimeoutMs?: number;
  /** replay: called for each bad line of the log. */
  onReplayIssue?: (issue: CandumpIssue) => void;
}

/** Opens the bus a spec names. */
export async function openBus(spec: string, options: OpenBusOptions = {}): Promise<CanBus> {
  const parsed = parseBusSpec(spec);
  const common = {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.queueCapacity === undefined ? {} : { queueCapacity: options.queueCapacity }),
    ...(options.receiveQueueFromOpen === undefined ? {} : { receiveQueueFromOpen: options.receiveQueueFromOpen }),
  };
  switch (parsed.kind) {
    case 'slcan': {
      // Loaded only when asked for: serialport is a native module, and most specs need none.
      const { openSlcan } = await import('./slcan.ts');
      return openSlcan({
        path: parsed.path,
        channel: spec,
        transmit: options.transmit ?? false,
        ...(parsed.bitrate === undefined ? {} : { bitrate: parsed.bitrate }),
        ...(parsed.baudRate === undefined ? {} : { baudRate: parsed.baudRate }),
        ...(parsed.timestamps === undefined ? {} : { timestamps: parsed.timestamps }),
        ...(options.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: options.ackTimeoutMs }),
        ...common,
      });
    }
    case 'socketcan':
      return openSocketcan({ iface: parsed.iface, transmit: options.transmit ?? false, ...common });
    case 'virtual': {
      let hub = options.hubs?.get(parsed.name);
      if (!hub) {
        hub = new VirtualCanHub(parsed.name, options.clock ? { clock: options.clock } : {});
        options.hubs?.set(parsed.name, hub);
      }
      return hub.open({
        ...(options.queueCapacity === undefined ? {} : { queueCapacity: options.queueCapacity }),
        ...(options.receiveQueueFromOpen === undefined ? {} : { receiveQueueFromOpen: options.receiveQueueFromOpen }),
      });
    }
    case 'replay':
      return openReplay({
        path: parsed.path,
        timing: parsed.timing,
        channel: spec,
        ...(options.onReplayIssue ? { onIssue: options.onReplayIssue } : {}),
        ...common,
      });
  }
}
