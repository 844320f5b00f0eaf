// A simulated SCPI bench instrument: an electronic load or a programmable power supply wired to
// the simulated pack. It parses what a real one parses (IEEE 488.2 common commands *IDN?, *RST,
// *CLS, *OPC?, *OPC, *ESR?; SCPI 1999 subsystems with short/long keyword forms, optional [SOURce:]
// and [:LEVel][:IMMediate] nodes, MEAS/FETC queries, SYST:ERR? with the standard error queue),
// and its settings become the plant's current (instrument-load.ts). Commands and queries end
// with a newline; a program message may hold several commands separated by ';'.
//
// Commands (load and supply alike, as common bench instruments accept them):
//   VOLT <V>, CURR <A>, POW <W>, RES <ohm>        set points (the load: its mode's level;
//                                                 the supply: CV voltage and current limit)
//   FUNC|MODE CURR|VOLT|POW|RES                   load mode (MODE is the alias some loads use)
//   OUTP|INP ON|OFF|1|0                           output (supply) / input (load) on or off
//   MEAS:VOLT?, MEAS:CURR?, MEAS:POW?, FETC:...   measurements at the terminals
//   VOLT?, CURR?, POW?, RES?, FUNC?, OUTP?, INP?  settings
import type { Pack } from '../plant/pack.ts';

export type InstrumentKind = 'eload' | 'psu';
export type LoadMode = 'CURR' | 'VOLT' | 'POW' | 'RES';

/** SCPI 1999 error numbers and texts (Volume 2, chapter 21.8). */
const ERR = {
  undefinedHeader: '-113,"Undefined header"',
  missingParameter: '-109,"Missing parameter"',
  dataOutOfRange: '-222,"Data out of range"',
  illegalParameter: '-224,"Illegal parameter value"',
  queueOverflow: '-350,"Queue overflow"',
} as const;

/** The error queue holds this many; beyond it the last becomes a queue overflow (SCPI 21.8.2). */
const ERROR_QUEUE = 16;

export interface InstrumentState {
  output: boolean;
  mode: LoadMode;
  voltageV: number;
  currentA: number;
  powerW: number;
  resistanceOhm: number;
}

export interface ScpiInstrumentOptions {
  kind: InstrumentKind;
  pack: Pick<Pack, 'packVoltageV' | 'currentA'>;
  /** *IDN? fields after the manufacturer. */
  model?: string;
  serial?: string;
  /** Rated maximum current, A, voltage, V, power, W: set points beyond are refused (-222). */
  maxCurrentA?: number;
  maxVoltageV?: number;
  maxPowerW?: number;
}

const DEFAULTS: InstrumentState = { output: false, mode: 'CURR', voltageV: 0, currentA: 0, powerW: 0, resistanceOhm: 1000 };

/** Keyword match in SCPI's short/long forms: `CURRent` accepts CURR and CURRENT, any case. */
function kw(word: string, long: string): boolean {
  const w = word.toUpperCase();
  const short = long.replace(/[a-z]+$/, '');
  return w === short.toUpperCase() || w === long.toUpperCase();
}

export class SimulatedScpiInstrument {
  readonly kind: InstrumentKind;
  readonly state: InstrumentState = { ...DEFAULTS };
  readonly errors: string[] = [];
  /** Every command received, in order (for reports and tests). */
  readonly received: string[] = [];
  readonly #o: ScpiInstrumentOptions;
  #esr = 0;

  constructor(o: ScpiInstrumentOptions) {
    this.kind = o.kind;
    this.#o = o;
  }

  get idn(): string {
    const model = this.#o.model ?? (this.kind === 'eload' ? 'SIM-EL600' : 'SIM-PSU800');
    return `voltrail,${model},${this.#o.serial ?? '0001'},1.0`;
  }

  #error(e: string): void {
    if (this.errors.length >= ERROR_QUEUE) this.errors[ERROR_QUEUE - 1] = ERR.queueOverflow;
    else this.errors.push(e);
    this.#esr |= e.startsWith('-1') ? 0x20 : 0x10; // command error / execution error bits of the ESR
  }

  /** The current the instrument makes flow out of the pack now, A (positive = discharge). */
  demand(): { kind: 'current'; a: number } | { kind: 'power'; w: number } | { kind: 'voltage'; v: number; maxChargeA: number } | null {
    const s = this.state;
    if (!s.output) return null;
    if (this.kind === 'psu') return { kind: 'voltage', v: s.voltageV, maxChargeA: s.currentA };
    switch (s.mode) {
      case 'CURR':
        return { kind: 'current', a: s.currentA };
      case 'POW':
        return { kind: 'power', w: s.powerW };
      case 'RES':
        return { kind: 'current', a: this.#o.pack.packVoltageV / s.resistanceOhm };
      case 'VOLT':
        // CV load: sinks what it takes to pull the terminals down to the set voltage, as a
        // charger's CV phase with the sign reversed; only when the pack is above it.
        return { kind: 'current', a: Math.max(0, Math.min(this.#o.maxCurrentA ?? 600, (this.#o.pack.packVoltageV - s.voltageV) * 10)) };
    }
  }

  /** Handles one line (a program message); returns the response line, or null when nothing is asked. */
  handle(line: string): string | null {
    const answers: string[] = [];
    for (const raw of line.split(';')) {
      const cmd = raw.trim();
      if (!cmd) continue;
      this.received.push(cmd);
      const a = this.#command(cmd);
      if (a !== null) answers.push(a);
    }
    return answers.length ? answers.join(';') : null;
  }

  #number(arg: string | undefined, name: string, max: number | undefined): number | undefined {
    if (arg === undefined || arg === '') {
      this.#error(ERR.missingParameter);
      return undefined;
    }
    const u = arg.toUpperCase();
    if (u === 'MIN' || u === 'MINIMUM') return 0;
    if ((u === 'MAX' || u === 'MAXIMUM') && max !== undefined) return max;
    const v = Number.parseFloat(arg);
    if (!Number.isFinite(v) || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*[A-Za-z]*$/.test(arg)) {
      this.#error(ERR.illegalParameter);
      return undefined;
    }
    if (v < 0 || (max !== undefined && v > max)) {
      this.#error(`${ERR.dataOutOfRange.slice(0, -1)}; ${name} ${v} outside 0..${max ?? 'inf'}"`);
      return undefined;
    }
    return v;
  }

  #command(cmd: string): string | null {
    const [headerRaw, ...rest] = cmd.split(/\s+/);
    const arg = rest.join(' ').trim() || undefined;
    const query = headerRaw!.endsWith('?');
    const header = headerRaw!.replace(/\?$/, '');
    const s = this.state;
    const o = this.#o;
    if (header.startsWith('*')) {
      switch (header.toUpperCase()) {
        case '*IDN':
          return query ? this.idn : (this.#error(ERR.undefinedHeader), null);
        case '*RST':
          Object.assign(s, DEFAULTS);
          return null;
        case '*CLS':
          this.errors.length = 0;
          this.#esr = 0;
          return null;
        case '*OPC':
          // Every command completes before the next is parsed: operation complete at once.
          if (query) return '1';
          this.#esr |= 0x01;
          return null;
        case '*ESR': {
          const v = this.#esr;
          this.#esr = 0;
          return String(v);
        }
        default:
          this.#error(ERR.undefinedHeader);
          return null;
      }
    }
    // Drop the optional nodes: [SOURce:], [:LEVel][:IMMediate][:AMPLitude], [:DC].
    const nodes = header
      .replace(/^:/, '')
      .split(':')
      .filter((n) => !(kw(n, 'SOURce') || kw(n, 'LEVel') || kw(n, 'IMMediate') || kw(n, 'AMPLitude') || kw(n, 'DC') || kw(n, 'SCALar') || kw(n, 'STATe')));
    const [a, b] = nodes;
    if (!a) {
      this.#error(ERR.undefinedHeader);
      return null;
    }
    const fmt = (v: number) => v.toFixed(4);
    if ((kw(a, 'MEASure') || kw(a, 'FETCh')) && query && b) {
      const v = this.#o.pack.packVoltageV;
      const i = this.#o.pack.currentA;
      // The instrument sees the pack's current from its side: a load sinks discharge current, a
      // supply sources charge current; zero while its output is off.
      const own = !s.output ? 0 : this.kind === 'eload' ? Math.max(0, i) : Math.max(0, -i);
      if (kw(b, 'VOLTage')) return fmt(v);
      if (kw(b, 'CURRent')) return fmt(own);
      if (kw(b, 'POWer')) return fmt(v * own);
    }
    if (kw(a, 'OUTPut') || kw(a, 'INPut')) {
      if (query) return s.output ? '1' : '0';
      const u = arg?.toUpperCase();
      if (u === 'ON' || u === '1') s.output = true;
      else if (u === 'OFF' || u === '0') s.output = false;
      else this.#error(arg === undefined ? ERR.missingParameter : ERR.illegalParameter);
      return null;
    }
    if (kw(a, 'FUNCtion') || kw(a, 'MODE')) {
      if (query) return s.mode;
      const u = arg?.toUpperCase() ?? '';
      const modes = { CURRent: 'CURR', VOLTage: 'VOLT', POWer: 'POW', RESistance: 'RES' } as const;
      const mode = (Object.keys(modes) as (keyof typeof modes)[]).find((m) => kw(u, m));
      if (!mode || this.kind === 'psu') this.#error(arg === undefined ? ERR.missingParameter : ERR.illegalParameter);
      else s.mode = modes[mode];
      return null;
    }
    if (kw(a, 'SYSTem') && b && kw(b, 'ERRor') && query) return this.errors.shift() ?? '0,"No error"';
    const setting = (['VOLTage', 'CURRent', 'POWer', 'RESistance'] as const).find((m) => kw(a, m));
    if (setting && nodes.length === 1) {
      const key = ({ VOLTage: 'voltageV', CURRent: 'currentA', POWer: 'powerW', RESistance: 'resistanceOhm' } as const)[setting];
      if (query) return fmt(s[key]);
      const max = { voltageV: o.maxVoltageV, currentA: o.maxCurrentA, powerW: o.maxPowerW, resistanceOhm: undefined }[key];
      const v = this.#number(arg, setting.toLowerCase(), max);
      if (v !== undefined) s[key] = v;
      return null;
    }
    this.#error(ERR.undefinedHeader);
    return null;
  }
}
