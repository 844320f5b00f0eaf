// JUnit XML for CI systems (the Jenkins/Ant "junit-10" shape; test/vectors/junit-10.xsd):
// one <testsuite> per scenario, one <testcase> per expectation (in self-test mode, one per
// scenario: "fails with X switched off"), <failure> with the expectation's message, <error> when
// the run itself broke, <skipped> when the target cannot run it, and the run's log (stimuli,
// instrument answers, events) in <system-out>.
import { hostname } from 'node:os';
import type { ScenarioResult } from './hil-runner.ts';
import { scenarioSlug } from './hil-runner.ts';

/** Escapes text for XML content and attributes; drops characters XML 1.0 cannot hold. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const attrs = (a: Record<string, string | number | undefined>) =>
  Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');

const secs = (s: number) => s.toFixed(3);

interface Case {
  name: string;
  status: 'passed' | 'failed' | 'error' | 'skipped';
  message?: string;
}

function casesOf(r: ScenarioResult): Case[] {
  if (r.status === 'skipped') return [{ name: r.selfTest ? 'self-test' : 'scenario', status: 'skipped', message: r.message }];
  if (r.status === 'error') return [{ name: r.selfTest ? 'self-test' : 'scenario', status: 'error', message: r.message }];
  if (r.selfTest) return [{ name: `fails with ${r.switchOff.join(', ')} switched off`, status: r.status, message: r.message }];
  return r.expectations.map((e) => ({ name: e.name, status: e.ok ? 'passed' : 'failed', message: e.message }));
}

export function junitXml(results: readonly ScenarioResult[], o: { name?: string; target: string }): string {
  const suites = results.map((r) => ({ r, cases: casesOf(r) }));
  const count = (st: Case['status']) => suites.reduce((n, s) => n + s.cases.filter((c) => c.status === st).length, 0);
  const total = suites.reduce((n, s) => n + s.cases.length, 0);
  const time = results.reduce((t, r) => t + r.timeS, 0);
  const host = hostname();
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`<testsuites${attrs({ name: o.name ?? 'voltrail hil', tests: total, failures: count('failed'), errors: count('error'), skipped: count('skipped'), time: secs(time) })}>`);
  suites.forEach(({ r, cases }, i) => {
    const classname = `voltrail.hil.${o.target}.${scenarioSlug(r.scenario.name)}`;
    const n = (st: Case['status']) => cases.filter((c) => c.status === st).length;
    lines.push(
      `  <testsuite${attrs({ name: r.scenario.name, tests: cases.length, failures: n('failed'), errors: n('error'), skipped: n('skipped'), time: secs(r.timeS), timestamp: r.startedAt, hostname: host, id: i, package: `voltrail.hil.${o.target}`, file: r.scenario.file })}>`,
    );
    lines.push('    <properties>');
    lines.push(`      <property${attrs({ name: 'target', value: o.target })}/>`);
    lines.push(`      <property${attrs({ name: 'seed', value: r.scenario.setup.seed })}/>`);
    if (r.switchOff.length) lines.push(`      <property${attrs({ name: 'switchOff', value: r.switchOff.join(',') })}/>`);
    lines.push('    </properties>');
    const caseTime = cases.length ? r.timeS / cases.length : 0;
    for (const c of cases) {
      const head = `    <testcase${attrs({ name: c.name, classname, time: secs(caseTime) })}`;
      if (c.status === 'passed') lines.push(`${head}/>`);
      else if (c.status === 'skipped') lines.push(`${head}>`, `      <skipped${attrs({ message: c.message })}/>`, '    </testcase>');
      else {
        const tag = c.status === 'error' ? 'error' : 'failure';
        const type = c.status === 'error' ? 'run-error' : r.selfTest ? 'self-test' : 'expectation';
        lines.push(`${head}>`, `      <${tag}${attrs({ message: c.message, type })}>${xmlEscape(c.message ?? '')}</${tag}>`, '    </testcase>');
      }
    }
    const log = r.recording ? [...r.recording.log, ...r.recording.events.map((e) => ({ t: e.t, text: `event ${e.type} ${JSON.stringify(e.details)}` }))].sort((a, b) => a.t - b.t) : [];
    if (log.length) lines.push(`    <system-out>${xmlEscape(log.map((l) => `${l.t.toFixed(2)} s  ${l.text}`).join('\n'))}</system-out>`);
    lines.push('  </testsuite>');
  });
  lines.push('</testsuites>');
  return lines.join('\n') + '\n';
}
