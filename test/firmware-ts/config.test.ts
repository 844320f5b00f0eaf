import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig, simConfig } from '../../firmware-ts/runtime/config.ts';
import { runDoctor } from '../../firmware-ts/runtime/doctor.ts';

const errorOf = (text: string) => {
  try {
    parseConfig(text, 'board.yaml');
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the config to be refused');
};

test('a valid config gets its defaults filled in', (t) => {
  const c = parseConfig('dataDir: /var/lib/voltrail\nbms:\n  driver: jbd\n  port: /dev/ttyUSB0\n', 'board.yaml');
  t.is(c.bms.driver, 'jbd');
  t.is(c.sampler.periodMs, 1000);
  t.is(c.ledger.mode, 'checkpoint');
  t.is(c.health.staleMarginFactor, 3);
  t.is(c.uplink, undefined);
  t.is(simConfig('x').ledger.mode, 'per-record');
});

test('a bad config: each error names the file, the line, the field path and what is allowed', (t) => {
  const text = ['dataDir: /data', 'bms:', '  driver: voltrail-can', '  bus: socketcan:can0', 'sampler:', '  periodMs: 10', '  colour: blue', 'ledger:', '  mode: sometimes', ''].join('\n');
  const msg = errorOf(text);
  t.regex(msg, /board\.yaml:6: sampler\.periodMs: .*>=50/);
  t.regex(msg, /board\.yaml:7: sampler\.colour: unknown field 'colour'/);
  t.regex(msg, /board\.yaml:9: ledger\.mode: allowed: "checkpoint", "per-record"/);
  t.regex(errorOf('bms:\n  driver: tesla\n'), /board\.yaml:2: bms\.driver: .*'voltrail-can' \| 'foxbms-can' \| 'dbc' \| 'jbd' \| 'daly'/);
  t.regex(errorOf('bms:\n  driver: dbc\n  bus: can0\n'), /board\.yaml:\d: bms\.dbc: missing; required \(expected string\)/);
  t.regex(errorOf('bms: [\n'), /board\.yaml:\d+: not valid YAML/);
  t.regex(errorOf('bms:\n  driver: jbd\n  port: /dev/ttyUSB0\nuplink:\n  url: http://x\n'), /board\.yaml:5: uplink\.url/);
});

test('doctor: green on the simulator; red with what to do on a bad config and on a board with no key', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'vt-doc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const sim = await runDoctor({ sim: true, dataDir: join(dir, 'sim'), bmsTimeoutMs: 15_000 });
  t.true(sim.every((c) => c.ok), JSON.stringify(sim.filter((c) => !c.ok)));
  t.deepEqual(sim.map((c) => c.name), ['config valid', 'key present', 'certificate valid', 'BMS voltrail (simulated) answering', 'clock sane', 'ledger writable and verified', 'uplink reachable']);
  t.regex(sim[3]!.detail, /\d+ frames, \d+ decoded, 0 rejected/);

  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'bms:\n  driver: voltrail-can\n  bus: virtual:nobody\nsampler:\n  periodMs: fast\n');
  const red = await runDoctor({ configFile: bad, bmsTimeoutMs: 200 });
  const cfg = red.find((c) => c.name === 'config valid')!;
  t.false(cfg.ok);
  t.regex(cfg.detail, /bad\.yaml:5: sampler\.periodMs/);
  t.truthy(cfg.fix);

  const good = join(dir, 'good.yaml');
  await writeFile(good, `dataDir: ${join(dir, 'board')}\nbms:\n  driver: voltrail-can\n  bus: virtual:nobody\n`);
  t.is((await loadConfig(good)).dataDir, join(dir, 'board'));
  const board = await runDoctor({ configFile: good, bmsTimeoutMs: 300 });
  const key = board.find((c) => c.name === 'key present')!;
  t.false(key.ok);
  t.regex(key.detail, /not provisioned/);
  t.regex(key.fix!, /voltrail provision/);
  const bms = board.find((c) => c.name.startsWith('BMS'))!;
  t.false(bms.ok, 'nobody sends on that bus');
  t.regex(bms.fix!, /wiring|bitrate/);
});

test('every configuration example in firmware-ts/CONFIG.md is valid, one for each BMS driver kind', async (t) => {
  const { readFile } = await import('node:fs/promises');
  const md = await readFile(new URL('../../firmware-ts/CONFIG.md', import.meta.url), 'utf8');
  const blocks = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('bms:'));
  const kinds = blocks.map((b) => parseConfig(b, 'CONFIG.md').bms.driver);
  t.deepEqual([...kinds].sort(), ['daly', 'dbc', 'foxbms-can', 'jbd', 'voltrail-can']);
});
