// `voltrail v2x listen` and `voltrail v2x sim`: the reception side of the v2x command group
// (registered by registerV2x in v2x.ts). `listen` runs the reception pipeline on UDP and
// prints what it accepts, and at exit the counters by reason; `sim` runs the traffic simulator
// with a live summary (redrawn on a terminal, one line a second otherwise, JSON with --json).
import type { Command } from 'commander';
import { readFileSync, existsSync } from 'node:fs';
import { systemClock } from '../../../hal/clock.ts';
import { KeyRing } from '../../../ledger/cose/key-ring.ts';
import { demoKeys } from '../../../v2x/demo-keys.ts';
import { bodyToJson } from '../../../v2x/codec/json-form.ts';
import { MESSAGE_SCHEMA } from '../../../v2x/messages/message-types.ts';
import { ReceptionPipeline } from '../../../v2x/reception/reception-pipeline.ts';
import type { AcceptedMessage } from '../../../v2x/reception/reception-pipeline.ts';
import type { SignatureVerifier } from '../../../v2x/reception/signature-verifier.ts';
import { WorkerVerifier } from '../../../v2x/reception/verify-workers.ts';
import { TrafficSimulation } from '../../../v2x/sim/traffic-simulation.ts';
import type { SimSummary } from '../../../v2x/sim/traffic-simulation.ts';
import { parseUdpUrl, UdpTransport } from '../../../v2x/transports/udp-transport.ts';
import { V2xError } from '../../../v2x/v2x-error.ts';
import { UserError } from '../errors.ts';

const DEFAULT_GROUP = 'udp://239.1.2.3:4000';

function wholeNumber(flag: string, min: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new UserError(`${flag} ${text}: expected a whole number >= ${min}`, 2);
    return n;
  };
}

function seconds(text: string): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) throw new UserError(`--duration ${text}: expected a number of seconds > 0`, 2);
  return n;
}

function authorityRing(hexes: string[] | undefined, demo: boolean): KeyRing {
  const ring = new KeyRing();
  if (demo) ring.add(demoKeys().authority.publicKey, 'P-256');
  for (const a of hexes ?? []) {
    if (!/^0[23][0-9a-fA-F]{64}$/.test(a)) throw new UserError(`--authority ${a}: expected a compressed public key, 66 hex digits starting 02 or 03`, 2);
    const k = Buffer.from(a, 'hex');
    try {
      ring.add(k, 'P-256');
    } catch {
      ring.add(k, 'secp256k1');
    }
  }
  if (ring.size === 0) throw new UserError('listen: no fleet authority to verify against; give --authority HEX (the authority public key) or --demo-keys', 2);
  return ring;
}

function verifierFor(workers: number): SignatureVerifier | undefined {
  return workers === 0 ? undefined : new WorkerVerifier(workers);
}

/** Stops on SIGINT / SIGTERM or after `durationS`; resolves when it is time to stop. */
function stopSignal(durationS: number | undefined): { signal: AbortSignal; done: Promise<void> } {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer = durationS === undefined ? undefined : setTimeout(stop, durationS * 1000);
  const done = new Promise<void>((resolve) =>
    ac.signal.addEventListener('abort', () => {
      if (timer !== undefined) clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    }),
  );
  return { signal: ac.signal, done };
}

function acceptedLine(m: AcceptedMessage, json: boolean): string {
  const body = bodyToJson(MESSAGE_SCHEMA[m.type], m.body);
  if (json) return JSON.stringify({ type: m.type, generationTime: new Date(m.generationTime).toISOString(), signer: m.signerId, latencyMs: Number(m.latencyMs.toFixed(3)), event: m.event.kind, body });
  return `${new Date(m.generationTime).toISOString()}  ${m.type.padEnd(13)} ${m.signerId}  ${m.latencyMs.toFixed(1)} ms  ${JSON.stringify(body)}`;
}

function countersText(c: { received: number; accepted: number; dropped: Record<string, number> }): string {
  const lines = [`received ${c.received}, accepted ${c.accepted}, dropped ${Object.values(c.dropped).reduce((a, b) => a + b, 0)}`];
  for (const [reason, n] of Object.entries(c.dropped).sort((a, b) => b[1] - a[1])) lines.push(`  ${reason.padEnd(22)} ${n}`);
  return lines.join('\n') + '\n';
}

function summaryText(s: SimSummary): string[] {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
  const dropped = Object.entries(s.dropped)
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');
  return [
    `t ${s.t.toFixed(0)} s  ${s.vehicles} vehicles  ${s.framesPerSecond.toFixed(0)} msg/s heard  ${s.acceptedPerSecond.toFixed(0)} verified/s  queue ${s.queued}`,
    `latency ms: p50 ${f(s.latencyMs.p50)} p99 ${f(s.latencyMs.p99)}  hazards p50 ${f(s.latencyMs.hazardP50)} p99 ${f(s.latencyMs.hazardP99)}`,
    `channel busy ${(s.cbr * 100).toFixed(0)} % (DCC ${s.dcc})  neighbours ${s.neighbours}  active hazards ${s.hazards}`,
    `total received ${s.received}, accepted ${s.accepted}; dropped: ${dropped || 'none'}`,
  ];
}

export function registerV2xReception(v2x: Command): void {
  v2x
    .command('listen')
    .description('receive V2X messages over UDP through the reception pipeline; print those accepted, and the counters by reason at exit')
    .option('--on <url>', `where to listen: udp://GROUP:PORT (multicast), udp://BROADCAST:PORT or udp://ADDRESS:PORT`, DEFAULT_GROUP)
    .option('--interface <address>', 'local interface address for multicast')
    .option('--authority <hex...>', 'fleet authority public key(s), compressed hex')
    .option('--demo-keys', 'trust the published demonstration authority (README examples, `send --demo-keys`)')
    .option('--revocation <file>', 'a signed pseudonym revocation list')
    .option('--workers <n>', 'verification worker threads (0: on the main thread)', wholeNumber('--workers', 0), 0)
    .option('--duration <s>', 'stop after this many seconds (default: until Ctrl-C)', seconds)
    .option('--json', 'one JSON object per accepted message, and the counters as JSON at exit')
    .action(async (flags: { on: string; interface?: string; authority?: string[]; demoKeys?: boolean; revocation?: string; workers: number; duration?: number; json?: boolean }) => {
      let address;
      try {
        address = parseUdpUrl(flags.on);
      } catch (err) {
        throw new UserError(`--on ${(err as Error).message}`, 2);
      }
      const ring = authorityRing(flags.authority, flags.demoKeys === true);
      const pipeline = new ReceptionPipeline({
        clock: systemClock,
        authorities: ring.lookup,
        verifier: verifierFor(flags.workers),
        onAccepted: (m) => process.stdout.write(acceptedLine(m, flags.json === true) + '\n'),
      });
      if (flags.revocation !== undefined) {
        if (!existsSync(flags.revocation)) throw new UserError(`--revocation ${flags.revocation}: no such file`);
        try {
          pipeline.loadRevocationList(new Uint8Array(readFileSync(flags.revocation)));
        } catch (err) {
          throw new UserError(`--revocation ${flags.revocation}: ${(err as Error).message}${err instanceof V2xError ? ` (${err.reason})` : ''}`);
        }
      }
      let transport: UdpTransport;
      try {
        transport = await UdpTransport.open({ address, interface: flags.interface });
      } catch (err) {
        throw new UserError(`--on ${flags.on}: cannot listen (${(err as Error).message}); is the port in use, or the address not on this host?`);
      }
      transport.onFrame((f) => pipeline.receive(f.bytes));
      const expiry = setInterval(() => pipeline.expire(), 1000);
      process.stderr.write(`listening on ${flags.on}\n`);
      const { done } = stopSignal(flags.duration);
      await done;
      clearInterval(expiry);
      await transport.close();
      await pipeline.close();
      const c = pipeline.counters;
      const snap = { received: c.received, accepted: c.accepted, dropped: c.snapshot().dropped as Record<string, number> };
      if (flags.json) process.stdout.write(JSON.stringify({ counters: snap }) + '\n');
      else process.stderr.write(countersText(snap));
    });

  v2x
    .command('sim')
    .description('simulate V2X traffic: vehicles on a road grid, a roadside unit, attackers; one receiver runs the pipeline; live summary')
    .requiredOption('--vehicles <n>', 'simulated vehicles', wholeNumber('--vehicles', 1))
    .option('--rsu', 'a roadside unit at the centre intersection: traffic-light phases (SPaT) and charging offers')
    .option('--attackers <k>', 'attackers, in turn a forger, a replayer, a flooder and a liar', wholeNumber('--attackers', 0), 0)
    .option('--workers <n>', 'verification worker threads of the receiver (0: on the main thread)', wholeNumber('--workers', 0), 0)
    .option('--seed <n>', 'random seed (movements, hazards, channel loss)', wholeNumber('--seed', 0), 1)
    .option('--duration <s>', 'stop after this many seconds (default: until Ctrl-C)', seconds)
    .option('--json', 'one JSON summary a second')
    .action(async (flags: { vehicles: number; rsu?: boolean; attackers: number; workers: number; seed: number; duration?: number; json?: boolean }) => {
      process.stderr.write(`issuing ${flags.vehicles + (flags.rsu ? 1 : 0) + flags.attackers} pseudonym certificates...\n`);
      const sim = new TrafficSimulation({ clock: systemClock, vehicles: flags.vehicles, rsu: flags.rsu, attackers: flags.attackers, seed: flags.seed, verifier: verifierFor(flags.workers) });
      const tty = process.stdout.isTTY === true && flags.json !== true;
      let drawn = 0;
      const show = () => {
        const s = sim.summary();
        if (flags.json) return void process.stdout.write(JSON.stringify(s) + '\n');
        const lines = summaryText(s);
        if (tty) {
          if (drawn > 0) process.stdout.write(`\x1b[${drawn}A`);
          process.stdout.write(lines.map((l) => `\x1b[2K${l}`).join('\n') + '\n');
          drawn = lines.length;
        } else process.stdout.write(lines.join(' | ') + '\n');
      };
      sim.summary(); // start the first interval now
      const timer = setInterval(show, 1000);
      const { signal, done } = stopSignal(flags.duration);
      const running = sim.run(signal);
      await done;
      await running;
      clearInterval(timer);
      await sim.close(); // decides what is still queued, so the last counts add up
      show();
    });
}
