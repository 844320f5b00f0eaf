// Profiles from a short text, for the command line and scenario files:
//   rest | cc:<A> | cp:<W> | urban[:<scale>] | cccv[:<A>]   (positive = discharge)
// each optionally followed by @<seconds> for a duration, joined by commas into a sequence, e.g.
//   "cc:25@1800,rest@600,cccv:25,rest@600"
// `urban` is the ECE-15 cycle of a small car sized to this pack (a 96-cell pack drives the car
// at scale 1; fewer cells, proportionally less power). `cccv` charges to the cell's vMax less
// 50 mV with a C/20 cut-off.
import type { Pack } from './pack.ts';
import { ccCv, constantCurrent, constantPower, rest, sequence, type Profile } from './profiles.ts';
import { urbanCycle } from './drive-cycles.ts';

const PART = /^(rest|cc|cp|urban|cccv)(?::(-?\d+(?:\.\d+)?))?(?:@(\d+(?:\.\d+)?))?$/;

export function parseProfile(spec: string, pack: Pick<Pack, 'n' | 'nominalAh' | 'params'>, opts: { repeat?: number } = {}): Profile {
  if (typeof spec !== 'string' || spec.trim() === '') throw new RangeError("profile: empty; write e.g. 'urban', 'cc:25@600,rest@300' or 'cccv'");
  const parts = spec.split(',').map((raw, k) => {
    const text = raw.trim();
    const m = PART.exec(text);
    if (!m) throw new RangeError(`profile part ${k + 1} '${text}': expected rest, cc:<A>, cp:<W>, urban[:<scale>] or cccv[:<A>], each optionally with @<seconds>`);
    const [, kind, num, dur] = m;
    const value = num === undefined ? undefined : Number(num);
    const durationS = dur === undefined ? undefined : Number(dur);
    const needs = (what: string) => {
      if (value === undefined) throw new RangeError(`profile part ${k + 1} '${text}': ${kind} needs a value, e.g. ${kind}:${what}`);
      return value;
    };
    switch (kind) {
      case 'rest':
        return rest(durationS);
      case 'cc':
        return constantCurrent(needs('25'), { durationS, minCellV: pack.params.vMin, maxCellV: pack.params.vMax });
      case 'cp':
        return constantPower(needs('2000'), { durationS, minCellV: pack.params.vMin, maxCellV: pack.params.vMax });
      case 'urban': {
        const scale = (value ?? 1) * (pack.n / 96);
        const cyc = urbanCycle({ scale, repeat: durationS === undefined ? 1 : Math.ceil(durationS / 195) });
        return durationS === undefined ? cyc : sequence([cyc]);
      }
      default: {
        const a = value ?? pack.nominalAh / 2;
        if (!(a > 0)) throw new RangeError(`profile part ${k + 1} '${text}': the charge current must be positive`);
        return ccCv({ currentA: a, cellVoltageV: pack.params.vMax - 0.05, cutoffA: Math.min(a / 2, pack.nominalAh / 20), maxDurationS: durationS });
      }
    }
  });
  return parts.length === 1 && opts.repeat === undefined ? parts[0]! : sequence(parts, opts.repeat ?? 1);
}
