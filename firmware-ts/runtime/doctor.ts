// `voltrail doctor`'s checklist: each item passes or fails with what to do. Checks the config,
// the key, the certificate, each configured BMS (opened, a snapshot awaited, frames counted),
// the clock, the ledger (writable, verified) and the uplink. `sim: true` checks the simulated
// setup the same way: the simulator's BMS on a virtual bus and the simulator's data folder.
import { existsSync } from 'node:fs';
import { rm, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { systemClock } from '../../hal/clock.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import { loadDbc } from '../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../devices/bms/can-bms-driver.ts';
import { VOLTRAIL_DBC_PATH, VOLTRAIL_RULES } from '../../devices/bms/profiles/voltrail.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { ES256, ES256K } from '../../ledger/cose/algorithms.ts';
import { readKeyFileHeader } from '../../ledger/keys/keyfile.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import { verifyLedger } from '../../ledger/log/verify.ts';
import { loadConfig, simConfig, type RuntimeConfig } from './config.ts';
import { ledgerDir, readIdentity } from './data-dir.ts';
import { certificateFileOf, fileIdentitySource, keyFileOf, notProvisionedHelp } from './identity-source.ts';
import { openBms } from './bms-source.ts';
import type { BmsSource } from './runtime.ts';
import { EARLIEST_SANE_WALL_MS } from './clock-watch.ts';
import { probeUplink } from '../uplink/uplink-probe.ts';

export interface CheckResult {
  name: string;
  ok: boolean;
  /** What was found. */
  detail: string;
  /** What to do, when it failed. */
  fix?: string;
  skipped?: boolean;
}

export interface DoctorOptions {
  configFile?: string;
  dataDir?: string;
  sim?: boolean;
  /** How long to wait for the BMS to answer (default 5 s). */
  bmsTimeoutMs?: number;
  passphraseFile?: string;
  env?: NodeJS.ProcessEnv;
}

const msg = (err: unknown) => (err as Error).message;

/** Waits for the driver's first snapshot with a pack voltage; returns frame counts either way. */
async function awaitSnapshot(driver: BmsSource, timeoutMs: number): Promise<CheckResult> {
  const ac = new AbortController();
  const reading = driver.start(ac.signal).catch((err: unknown) => err as Error);
  const deadline = Date.now() + timeoutMs;
  let heard = false;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (driver.snapshot().packVoltageV !== null) {
      heard = true;
      // A little longer, so the counts say something about the stream's quality.
      await new Promise((r) => setTimeout(r, 500));
      break;
    }
  }
  ac.abort();
  const stopped = await reading;
  const c = driver.counters;
  const counts = `${c.frames} frames, ${c.decoded} decoded, ${c.rejected} rejected, ${c.unknown} unknown ids`;
  if (heard) {
    const s = driver.snapshot();
    return { name: `BMS ${driver.source} answering`, ok: true, detail: `pack ${s.packVoltageV?.toFixed(2)} V, SoC ${s.socPct?.toFixed(1) ?? '--'} %; ${counts}${c.lastError ? `; last rejected: ${c.lastError}` : ''}` };
  }
  return {
    name: `BMS ${driver.source} answering`,
    ok: false,
    detail: `no snapshot in ${timeoutMs / 1000} s; ${counts}${stopped instanceof Error ? `; ${stopped.message}` : ''}${c.lastError ? `; last rejected: ${c.lastError}` : ''}`,
    fix: c.frames === 0 ? 'check the wiring, that the BMS is powered, and the bus bitrate (ip link set can0 up type can bitrate 500000)' : 'frames arrive but do not decode: check bms.driver / bms.dbc / bms.map match this BMS',
  };
}

export async function runDoctor(o: DoctorOptions): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  // 1. config
  let config: RuntimeConfig | undefined;
  if (o.sim) {
    config = simConfig(o.dataDir ?? '.voltrail-sim');
    out.push({ name: 'config valid', ok: true, detail: 'embedded simulator defaults' });
  } else if (!o.configFile) {
    out.push({ name: 'config valid', ok: false, detail: 'no configuration given', fix: 'give --config FILE (see firmware-ts/CONFIG.md), or --sim to check the simulated setup' });
  } else {
    try {
      config = await loadConfig(o.configFile);
      if (o.dataDir) config.dataDir = o.dataDir;
      out.push({ name: 'config valid', ok: true, detail: resolve(o.configFile) });
    } catch (err) {
      out.push({ name: 'config valid', ok: false, detail: msg(err), fix: 'correct the fields named above; firmware-ts/CONFIG.md lists what each allows' });
    }
  }
  const dataDir = config?.dataDir ?? o.dataDir;

  // 2. key and 3. certificate
  const identity = dataDir ? await readIdentity(dataDir).catch((err: unknown) => err as Error) : undefined;
  if (o.sim) {
    try {
      const { backend, skipped } = await pickBackend('secp256k1');
      out.push({ name: 'key present', ok: true, detail: `a throwaway simulator key is made for each run; signer ${backend.name}${skipped.length ? ` (passed over: ${skipped.join('; ')})` : ''}` });
    } catch (err) {
      out.push({ name: 'key present', ok: false, detail: msg(err), fix: 'reinstall voltrail (npm ci); set VOLTRAIL_SIGNER=noble to force the pure-JS signer' });
    }
    out.push({ name: 'certificate valid', ok: true, skipped: true, detail: 'skipped: a simulator has no fleet certificate' });
  } else if (!dataDir) {
    out.push({ name: 'key present', ok: false, detail: 'no data folder known', fix: 'fix the config, or give --data-dir' });
  } else if (identity instanceof Error) {
    out.push({ name: 'key present', ok: false, detail: identity.message, fix: 'restore identity.json from a backup, or provision again' });
  } else if (!identity || identity.simulated) {
    out.push({ name: 'key present', ok: false, detail: identity ? `${resolve(dataDir)} is a simulator's folder` : 'not provisioned', fix: notProvisionedHelp(dataDir) });
    out.push({ name: 'certificate valid', ok: false, detail: 'not provisioned', fix: `voltrail provision --data-dir ${dataDir}` });
  } else {
    const keyFile = keyFileOf(dataDir, identity);
    try {
      const header = readKeyFileHeader(keyFile);
      const env = o.env ?? process.env;
      if (o.passphraseFile || env.VOLTRAIL_KEY_PASSPHRASE) {
        const id = await fileIdentitySource({ passphraseFile: o.passphraseFile, env }).load(dataDir);
        out.push({ name: 'key present', ok: true, detail: `${keyFile}: ${header.curve}, opens with the passphrase, signer ${id.signer.backendName}` });
      } else {
        out.push({ name: 'key present', ok: true, detail: `${keyFile}: ${header.curve} (not opened: no passphrase given; set VOLTRAIL_KEY_PASSPHRASE or --passphrase-file to check it opens)` });
      }
    } catch (err) {
      out.push({ name: 'key present', ok: false, detail: msg(err), fix: `restore the device key to ${keyFile} (mode 0600), or provision again` });
    }
    const cert = certificateFileOf(dataDir, identity);
    if (cert && existsSync(cert)) out.push({ name: 'certificate valid', ok: true, detail: `${cert} present (checked against the fleet by voltrail fleet)` });
    else out.push({ name: 'certificate valid', ok: false, detail: 'not provisioned: no fleet certificate', fix: `have the fleet authority sign this board: voltrail provision --data-dir ${dataDir}` });
  }

  // 4. BMS answering
  const timeoutMs = o.bmsTimeoutMs ?? 5000;
  if (o.sim) {
    const { startSimRig } = await import('../../sim-hardware/sim-rig.ts');
    const hub = new VirtualCanHub();
    const simBus = hub.open({ name: 'bms' });
    const boardBus = hub.open({ name: 'board' });
    const rig = await startSimRig({ bms: 'voltrail', canBus: simBus, cells: 16, seed: 1, clock: systemClock, maxStepS: 0.05 });
    const ac = new AbortController();
    const driver = new CanBmsDriver({ source: 'voltrail (simulated)', bus: boardBus, db: await loadDbc(VOLTRAIL_DBC_PATH), rules: VOLTRAIL_RULES, clock: rig.clock });
    const simulating = rig.sim.run({ clock: systemClock, speed: 1, signal: ac.signal, tickMs: 20 });
    out.push(await awaitSnapshot(driver, timeoutMs));
    ac.abort();
    await simulating.catch(() => undefined);
    await rig.close();
    await simBus.close();
    await boardBus.close();
  } else if (config) {
    try {
      const bms = await openBms(config.bms, systemClock, config.health.staleMarginFactor);
      try {
        out.push(await awaitSnapshot(bms.driver, timeoutMs));
      } finally {
        await bms.close();
      }
    } catch (err) {
      out.push({ name: `BMS ${config.bms.driver} answering`, ok: false, detail: msg(err), fix: 'check bms.bus / bms.port in the config, the adapter, and that the user is in the dialout group' });
    }
  }

  // 5. clock, 6. ledger
  const now = Date.now();
  let lastTime: number | undefined;
  let ledgerCheck: CheckResult;
  const ldir = dataDir ? ledgerDir(dataDir) : undefined;
  if (!ldir || !dataDir) ledgerCheck = { name: 'ledger writable and verified', ok: false, detail: 'no data folder known', fix: 'fix the config, or give --data-dir' };
  else {
    try {
      await mkdir(dataDir, { recursive: true });
      const probe = join(dataDir, `.doctor-${process.pid}`);
      await writeFile(probe, 'x');
      await rm(probe);
      if (!existsSync(ldir)) ledgerCheck = { name: 'ledger writable and verified', ok: true, detail: `${resolve(dataDir)} writable; no ledger yet (the first run starts one)` };
      else {
        const ring = new KeyRing();
        if (identity && !(identity instanceof Error)) for (const k of identity.keys) ring.add(Buffer.from(k.publicKey, 'hex'), k.curve);
        const { backend } = await pickBackend('secp256k1');
        const report = await verifyLedger(ldir, { keys: ring.lookup, algs: [ES256K, ES256], backends: { secp256k1: backend } });
        lastTime = report.lastTime;
        ledgerCheck = report.ok
          ? { name: 'ledger writable and verified', ok: true, detail: `${report.records} records, ${report.checkpoints} checkpoints, all signatures hold` }
          : { name: 'ledger writable and verified', ok: false, detail: `${report.failure?.reason ?? 'verification failed'}${report.failure?.seq === undefined ? '' : ` (record ${report.failure.seq})`}`, fix: `keep this folder as evidence and run voltrail ledger verify ${dataDir} for details` };
      }
    } catch (err) {
      ledgerCheck = { name: 'ledger writable and verified', ok: false, detail: msg(err), fix: `give the runtime's user write access to ${resolve(dataDir)} (ReadWritePaths in deploy/voltrail.service) and free space` };
    }
  }
  if (now < EARLIEST_SANE_WALL_MS) out.push({ name: 'clock sane', ok: false, detail: `the clock says ${new Date(now).toISOString()}`, fix: 'set the time (timedatectl set-ntp true, or an RTC hat); records carry monotonic time too' });
  else if (lastTime !== undefined && now < lastTime) out.push({ name: 'clock sane', ok: false, detail: `the clock (${new Date(now).toISOString()}) is behind the ledger's last record (${new Date(lastTime).toISOString()})`, fix: 'let NTP set the time (timedatectl set-ntp true) before starting the runtime' });
  else out.push({ name: 'clock sane', ok: true, detail: new Date(now).toISOString() });
  out.push(ledgerCheck);

  // 7. uplink
  if (!config?.uplink) out.push({ name: 'uplink reachable', ok: true, skipped: true, detail: 'skipped: no uplink configured' });
  else out.push({ name: 'uplink reachable', ...(await probeUplink(config.uplink, o.sim ? undefined : dataDir)) });
  return out;
}
