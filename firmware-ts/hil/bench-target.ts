// Runs a scenario against real hardware on a bench: the runtime reads the BMS through the
// configured driver (a CAN adapter or a serial port), in real time, while the timeline's SCPI
// commands go to the bench's instruments (electronic loads, power supplies) over TCP or serial.
// Load profiles and injected faults exist only in the simulator: a scenario that uses them is
// skipped here, with the reason. Everything is checked before the first scenario starts, so a
// missing adapter or an instrument that does not answer is refused at once, with what to do.
// The run signs with a throwaway key into its own data folder, marked simulated: bench
// records are test data, never a battery's passport.
import { stat } from 'node:fs/promises';
import { systemClock } from '../../hal/clock.ts';
import { ScpiClient, openScpi } from '../../hal/scpi/scpi-client.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { pickBackend } from '../../ledger/signers/pick.ts';
import { UserError } from '../cli/errors.ts';
import { configSchema, loadConfig, type BmsConfig } from '../runtime/config.ts';
import { prepareSimDataDir } from '../runtime/data-dir.ts';
import { openBms } from '../runtime/bms-source.ts';
import { runRuntime } from '../runtime/runtime.ts';
import { silentLogger } from '../runtime/logger.ts';
import type { Scenario } from './scenario.ts';
import { readRecording, verifyRecording, type Recording } from './recording.ts';
import type { TargetOptions } from './sim-target.ts';
import { parseSwitchOff, switchOffConfig, switchOffDriver } from './switch-off.ts';

export interface BenchOptions {
  /** A board configuration naming the BMS (its bms section is used). */
  config?: string;
  can?: string;
  serial?: string;
  driver?: string;
  /** name=address for each instrument (tcp:HOST[:PORT], serial:PATH[@BAUD]). */
  scpi: readonly string[];
}

export interface Bench {
  bms: BmsConfig;
  instruments: Map<string, ScpiClient>;
  run: (s: Scenario, o: TargetOptions) => Promise<Recording>;
  skip: (s: Scenario) => string | undefined;
  close(): Promise<void>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A device path the BMS config names (serial port, slcan adapter), if any. */
function devicePath(bms: BmsConfig): string | undefined {
  if (bms.driver === 'jbd' || bms.driver === 'daly') return bms.port;
  const m = /^slcan:([^@?]+)/.exec(bms.bus);
  return m?.[1];
}

async function benchBms(o: BenchOptions): Promise<BmsConfig> {
  if (o.can || o.serial) {
    if (o.can && o.serial) throw new UserError('bench: give --can or --serial, not both (one BMS per bench)', 2);
    const driver = o.driver ?? (o.can ? 'voltrail-can' : undefined);
    if (!driver) throw new UserError('bench: --serial needs --bms-driver jbd or daly', 2);
    const raw = o.can ? { driver, bus: o.can } : { driver, port: o.serial };
    const parsed = configSchema.shape.bms.safeParse(raw);
    if (!parsed.success) throw new UserError(`bench: --bms-driver ${driver} does not go with ${o.can ? '--can' : '--serial'}: ${parsed.error.issues[0]?.message}`, 2);
    return parsed.data;
  }
  if (o.config) return (await loadConfig(o.config)).bms;
  throw new UserError('bench: say where the BMS is: --can SPEC (e.g. slcan:/dev/ttyACM0@500000), --serial PATH with --bms-driver jbd|daly, or --config FILE; or run on the simulator with --target sim', 2);
}

/** Checks the bench (BMS device present, instruments answer) and returns a target for it. */
export async function prepareBench(o: BenchOptions, scenarios: readonly Scenario[]): Promise<Bench> {
  const bms = await benchBms(o);
  const path = devicePath(bms);
  if (path) {
    try {
      await stat(path);
    } catch {
      throw new UserError(`bench: the BMS adapter ${path} is not there: plug it in (check with ls /dev/tty*), give the right path, or run on the simulator with --target sim`);
    }
  }
  const addresses = new Map<string, string>();
  for (const item of o.scpi) {
    const m = /^([A-Za-z][\w-]*)=(.+)$/.exec(item);
    if (!m) throw new UserError(`--scpi ${item}: write NAME=ADDRESS, e.g. load=tcp:192.168.1.50:5025`, 2);
    addresses.set(m[1]!, m[2]!);
  }
  const needed = new Map<string, string | undefined>();
  for (const s of scenarios) for (const [name, spec] of Object.entries(s.setup.instruments)) needed.set(name, addresses.get(name) ?? spec.address ?? needed.get(name));
  const instruments = new Map<string, ScpiClient>();
  const close = async () => {
    for (const c of instruments.values()) await c.close().catch(() => undefined);
  };
  try {
    for (const [name, address] of needed) {
      if (!address) throw new UserError(`bench: the scenarios use instrument '${name}': give its address with --scpi ${name}=tcp:HOST[:PORT] or serial:PATH`, 2);
      let client: ScpiClient;
      try {
        client = new ScpiClient(await openScpi(address));
      } catch (err) {
        throw new UserError(`bench: instrument '${name}' at ${address}: ${(err as Error).message}`);
      }
      instruments.set(name, client);
      try {
        await client.identify();
      } catch (err) {
        throw new UserError(`bench: instrument '${name}' at ${address} does not answer *IDN?: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    await close();
    throw err;
  }

  const skip = (s: Scenario) => {
    const i = s.timeline.findIndex((st) => st.profile !== undefined || st.fault !== undefined);
    if (i < 0) return undefined;
    return `${s.timelineAt[i]}: ${s.timeline[i]!.profile !== undefined ? 'load profiles' : 'injected faults'} need the simulator; on a bench, drive the pack with scpi commands to the instruments`;
  };

  const run = async (s: Scenario, t: TargetOptions): Promise<Recording> => {
    const off = parseSwitchOff([...(t.switchOff ?? [])]);
    if (off.protections.size || off.stimuli.size) throw new UserError('bench: protections of a real BMS and its stimuli cannot be switched off from here; use detection:... switch-offs');
    const { backend } = await pickBackend('secp256k1');
    const key = PrivateKey.generate('secp256k1', backend);
    await prepareSimDataDir(t.dataDir, { curve: 'secp256k1', publicKey: hex(key.publicKey), kid: hex(key.kid) });
    const config = configSchema.parse({ dataDir: t.dataDir, bms });
    config.sampler = s.runtime.sampler;
    config.health = s.runtime.health;
    config.ledger = s.runtime.ledger;
    switchOffConfig(config, off);
    const opened = await openBms(bms, systemClock, config.health.staleMarginFactor);
    const log: Recording['log'] = [];
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    t.signal?.addEventListener('abort', onAbort, { once: true });
    let started: { mono0: number; t0S: number } | undefined;
    const elapsed = () => (started ? (systemClock.monotonic() - started.mono0) / 1000 : 0);
    try {
      // The instruments start from a known state, outputs off.
      for (const c of instruments.values()) {
        await c.reset();
        await c.checked('OUTP OFF');
      }
      const timeline = async (signal: AbortSignal) => {
        started = { mono0: systemClock.monotonic(), t0S: 0 };
        const steps = s.timeline.map((st, i) => ({ st, i })).filter(({ st }) => st.scpi);
        for (const { st, i } of steps) {
          const wait = st.at * 1000 - (systemClock.monotonic() - started.mono0);
          if (wait > 0) await systemClock.sleep(wait, signal).catch(() => undefined);
          if (signal.aborted) return;
          const c = instruments.get(st.scpi!.instrument)!;
          for (const cmd of st.scpi!.send) {
            try {
              const answer = await c.checked(cmd);
              log.push({ t: elapsed(), text: `${st.scpi!.instrument} <- ${cmd}${answer === null ? '' : ` -> ${answer}`}` });
            } catch (err) {
              log.push({ t: elapsed(), text: `${s.timelineAt[i]}: ${(err as Error).message}` });
              ac.abort();
              throw new UserError(`${s.timelineAt[i]}.scpi: ${(err as Error).message}`);
            }
          }
        }
        const progress = setInterval(() => t.onProgress?.(elapsed()), 1000);
        await systemClock.sleep(Math.max(0, s.setup.durationS * 1000 - (systemClock.monotonic() - started.mono0)), signal).catch(() => undefined);
        clearInterval(progress);
      };
      let timelineError: unknown;
      const summary = await runRuntime({
        config,
        clock: systemClock,
        signal: ac.signal,
        signer: key,
        simulated: true,
        driver: switchOffDriver(opened.driver, off),
        logger: silentLogger(),
        durationMs: s.setup.durationS * 1000,
        companion: (signal) => timeline(signal).catch((err: unknown) => (timelineError = err)),
      });
      if (timelineError) throw timelineError;
      const { rows, events } = await readRecording(t.dataDir, started ?? { mono0: 0, t0S: 0 });
      const st = summary.status;
      return {
        rows,
        events,
        counters: { records: st.records, events: st.events, framesDecoded: st.driver.decoded, framesRejected: st.driver.rejected, shed: st.shed.backpressure + st.shed.storage },
        ledger: await verifyRecording(t.dataDir, key.publicKey, backend),
        durationS: elapsed(),
        log,
      };
    } finally {
      t.signal?.removeEventListener('abort', onAbort);
      // Leave the bench safe: every output off, whatever happened.
      for (const c of instruments.values()) await c.send('OUTP OFF').catch(() => undefined);
      await opened.close();
    }
  };
  return { bms, instruments, run, skip, close };
}
