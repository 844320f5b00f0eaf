// The test of the test: switches off one behaviour a scenario expects, so that a run shows the
// scenario's expectations would catch its absence. Three places it can be switched off:
//   protection:NAME         the simulated BMS never trips this protection (sim only)
//   detection:fault:NAME    voltrail does not see this fault flag from the driver
//   detection:stale         voltrail never sees a value as stale (no stale-source event)
//   detection:contactor     voltrail does not see the contactor state
//   detection:clock-jump | deep-discharge | over-temperature | under-temperature
//                           the runtime's threshold for it is set out of reach
//   stimulus:KIND           faults of this kind (or `profile`) are not applied
import type { BatterySnapshot } from '../../devices/snapshot.ts';
import type { BmsSource } from '../runtime/runtime.ts';
import type { RuntimeConfig } from '../runtime/config.ts';

export interface SwitchOff {
  protections: Set<string>;
  faults: Set<string>;
  stale: boolean;
  contactor: boolean;
  stimuli: Set<string>;
  /** Runtime thresholds to move out of reach. */
  config: Set<'clock-jump' | 'deep-discharge' | 'over-temperature' | 'under-temperature'>;
}

export function parseSwitchOff(items: readonly string[]): SwitchOff {
  const s: SwitchOff = { protections: new Set(), faults: new Set(), stale: false, contactor: false, stimuli: new Set(), config: new Set() };
  for (const item of items) {
    const [where, what, name] = item.split(':');
    if (where === 'protection' && what) s.protections.add(what);
    else if (where === 'stimulus' && what) s.stimuli.add(what);
    else if (where === 'detection' && what === 'fault' && name) s.faults.add(name);
    else if (where === 'detection' && what === 'stale') s.stale = true;
    else if (where === 'detection' && what === 'contactor') s.contactor = true;
    else if (where === 'detection' && (what === 'clock-jump' || what === 'deep-discharge' || what === 'over-temperature' || what === 'under-temperature')) s.config.add(what);
    else throw new RangeError(`switch-off '${item}': write protection:NAME, detection:fault:NAME, detection:stale|contactor|clock-jump|deep-discharge|over-temperature|under-temperature, or stimulus:KIND`);
  }
  return s;
}

/** Moves the runtime's thresholds for switched-off detections out of reach. */
export function switchOffConfig(c: RuntimeConfig, s: SwitchOff): void {
  if (s.config.has('clock-jump')) c.health.clockJumpToleranceMs = 86_400_000;
  if (s.config.has('deep-discharge')) c.sampler.deepDischargeSocPct = 0;
  if (s.config.has('over-temperature')) c.sampler.temperatureMaxC = 150;
  if (s.config.has('under-temperature')) c.sampler.temperatureMinC = -60;
}

/** The driver as voltrail sees it with detections switched off (the driver itself is untouched). */
export function switchOffDriver(driver: BmsSource, s: SwitchOff): BmsSource {
  if (!s.faults.size && !s.stale && !s.contactor) return driver;
  const edit = (snap: BatterySnapshot): BatterySnapshot => {
    const out = { ...snap, faults: { ...snap.faults }, meta: { ...snap.meta } };
    for (const f of s.faults) delete out.faults[f as keyof typeof out.faults];
    if (s.stale) for (const [k, m] of Object.entries(out.meta)) if (m) out.meta[k as keyof typeof out.meta] = { ...m, stale: false };
    if (s.contactor) out.contactorClosed = null;
    return out;
  };
  return {
    source: driver.source,
    start: (signal) => driver.start(signal),
    snapshot: () => edit(driver.snapshot()),
    get counters() {
      return driver.counters;
    },
  };
}
