// Runs scenarios on a target (the simulator, or a bench of real hardware) and checks their
// expectations. One scenario at a time, each in its own data folder; an error in one (a crash, a
// refused instrument command) is reported as that scenario's error and the others still run.
// Self-test mode runs each scenario with its `selfTest.switchOff` applied: it passes when the
// scenario then FAILS, proving its expectations catch the missing behaviour.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { checkAll, type ExpectationResult } from './expectations.ts';
import type { Recording } from './recording.ts';
import type { Scenario } from './scenario.ts';
import type { TargetOptions } from './sim-target.ts';

export type Target = (s: Scenario, o: TargetOptions) => Promise<Recording>;

export interface ScenarioResult {
  scenario: Scenario;
  status: 'passed' | 'failed' | 'error' | 'skipped';
  expectations: ExpectationResult[];
  /** What went wrong when the run itself failed (status error), or why it was skipped. */
  message?: string;
  /** Real seconds the run took. */
  timeS: number;
  /** Local time the run started, ISO 8601 without zone (the JUnit timestamp). */
  startedAt: string;
  recording?: Recording;
  /** What was switched off (self-test), if anything. */
  switchOff: string[];
  selfTest: boolean;
}

export interface RunnerOptions {
  target: Target;
  targetName: 'sim' | 'bench';
  /** Each scenario's data folder is made under this one (and removed unless keepData). */
  workDir: string;
  keepData?: boolean;
  speed?: number;
  /** Where the DBC files of foxBMS scenarios are (sim target). */
  dbcDir?: string;
  /** Switch these off in every scenario (switch-off.ts). */
  switchOff?: readonly string[];
  /** Run each scenario with its own selfTest.switchOff and expect it to fail. */
  selfTest?: boolean;
  signal?: AbortSignal;
  /** Says why a scenario cannot run on this target (then it is skipped), or nothing. */
  skip?: (s: Scenario) => string | undefined;
  onStart?: (s: Scenario, index: number) => void;
  onProgress?: (s: Scenario, timeS: number) => void;
  onResult?: (r: ScenarioResult, index: number) => void;
}

const localIso = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'scenario';

export async function runScenario(s: Scenario, index: number, o: RunnerOptions): Promise<ScenarioResult> {
  const started = new Date();
  const t0 = performance.now();
  const switchOff = [...(o.switchOff ?? []), ...(o.selfTest ? (s.selfTest?.switchOff ?? []) : [])];
  const base = { scenario: s, startedAt: localIso(started), switchOff, selfTest: o.selfTest === true };
  const skipped = o.skip?.(s) ?? (o.selfTest && !s.selfTest ? 'no selfTest.switchOff in this scenario' : undefined);
  if (skipped) return { ...base, status: 'skipped', expectations: [], message: skipped, timeS: 0 };
  const dataDir = join(o.workDir, `${String(index + 1).padStart(3, '0')}-${slug(s.name)}`);
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  try {
    const recording = await o.target(s, { dataDir, switchOff, speed: o.speed, signal: o.signal, dbcDir: o.dbcDir, onProgress: (t) => o.onProgress?.(s, t) });
    const expectations = checkAll(s.expect, recording);
    let failed = expectations.some((e) => !e.ok);
    let message: string | undefined;
    if (o.selfTest) {
      // The test of the test: the scenario must notice what was switched off.
      message = failed
        ? `with ${switchOff.join(', ')} switched off the scenario fails, as it must: ${expectations.filter((e) => !e.ok).map((e) => e.name).join('; ')}`
        : `with ${switchOff.join(', ')} switched off every expectation still passed: the scenario does not test that behaviour`;
      failed = !failed;
    }
    return { ...base, status: failed ? 'failed' : 'passed', expectations, recording, timeS: (performance.now() - t0) / 1000, ...(message ? { message } : {}) };
  } catch (err) {
    return { ...base, status: 'error', expectations: [], message: (err as Error).message, timeS: (performance.now() - t0) / 1000 };
  } finally {
    if (!o.keepData) await rm(dataDir, { recursive: true, force: true });
  }
}

export async function runScenarios(list: readonly Scenario[], o: RunnerOptions): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const [i, s] of list.entries()) {
    if (o.signal?.aborted) break;
    o.onStart?.(s, i);
    const r = await runScenario(s, i, o);
    o.onResult?.(r, i);
    out.push(r);
  }
  return out;
}

export const scenarioSlug = slug;
