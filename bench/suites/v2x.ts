// Benchmark of issues 16 and 17: V2X reception. How many genuine messages the reception
// pipeline (size, decode, freshness, replay cache, certificate lookup, priority queue,
// ES256 verification, plausibility, local map) verifies per second, on one core (inline, per
// CPU second) and on all cores (worker threads, per wall second), each as a ratio to raw
// ES256 verification by OpenSSL (node:crypto, nothing else) measured in the same run; and a
// run at twice the all-cores capacity (quick: 3 s, full: 60 s): verified messages per second
// against the goal of 3,500 (what a roadside unit must verify), and hazard latency (reception
// to acceptance, end to end from the frame's due time) p50 and p99 against 100 ms. The load is
// sealed before the run by a generator thread that then only copies frames on schedule into
// a bounded radio buffer (v2x-load-worker.ts, v2x-radio-ring.ts); what it achieved and cost is
// noted. Memory: RSS at the start and peak, the main heap's peak and the queue's high water
// mark during the overload run are noted.
import { Worker } from 'node:worker_threads';
import type { BenchCase, RateSession, RunContext, Suite, SuiteEnv } from '../harness/case.ts';
import { cpuNow } from '../harness/measure.ts';
import type { ClockKind } from '../harness/measure.ts';
import { LatencyHistogram } from '../../v2x/reception/latency-histogram.ts';
import { ReceptionIntake } from '../../v2x/reception/reception-intake.ts';
import type { SignatureVerifier } from '../../v2x/reception/signature-verifier.ts';
import { InlineVerifier } from '../../v2x/reception/signature-verifier.ts';
import { WorkerVerifier } from '../../v2x/reception/verify-workers.ts';
import { benchPipeline, buildFixture, issueCredentials } from './v2x-fixture.ts';
import type { V2xFixture } from './v2x-fixture.ts';
import type { ReceptionPipeline } from '../../v2x/reception/reception-pipeline.ts';
import type { LoadMessage, LoadReport, LoadWorkerData } from './v2x-load-worker.ts';
import { RadioRing } from './v2x-radio-ring.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';

const SUBJECTS = new URL('./v2x-subjects.ts', import.meta.url).href;
const LOAD_WORKER = new URL('./v2x-load-worker.mjs', import.meta.url);
export const GOAL_VERIFIED_PER_S = 3500;
export const GOAL_HAZARD_MS = 100;
/** Messages per verification batch with worker threads (the pipeline's default). */
const FEED_BATCH = 64;

const cores = (n: number) => (n === 1 ? '1 core' : `${n} cores`);
const clockNow = (clock: ClockKind) => (clock === 'cpu' ? cpuNow() : performance.now());

function fixture(ctx: RunContext): Promise<V2xFixture> {
  return ctx.once('v2x-fixture', async () => buildFixture(ctx.quick ? 4000 : 12_000));
}

/**
 * A steady receiver: one pipeline fed the fixture's stream in order, kept topped up to a few
 * verification batches per verifier slot (so the workers never run dry and the queue never
 * sheds), and replaced by a fresh one (a receiver meeting a new set of vehicles, whose
 * certificates it must check first) only when the stream runs out. Runs carry on where the
 * last one stopped: a run that started a fresh receiver each time would mostly measure its
 * first, certificate-laden messages.
 */
class SteadyFeed {
  #p: ReceptionPipeline | undefined;
  #at = 0;
  readonly #fx: V2xFixture;
  readonly #verifier: SignatureVerifier;
  readonly #low: number;

  constructor(fx: V2xFixture, verifier: SignatureVerifier) {
    this.#fx = fx;
    this.#verifier = verifier;
    this.#low = Math.max(32, verifier.parallelism * 2 * FEED_BATCH);
  }

  /** Feeds until `until()`; resolves with the messages accepted, once every one fed is decided. */
  async feed(until: () => boolean): Promise<number> {
    let accepted = 0;
    const msgs = this.#fx.messages;
    // Throughput, not shedding, is measured here: no deadlines, and the queue kept well under its capacity.
    const shared = { parallelism: this.#verifier.parallelism, verify: this.#verifier.verify.bind(this.#verifier), close: async () => undefined };
    while (!until()) {
      if (this.#p === undefined || this.#at >= msgs.length) {
        if (this.#p !== undefined) accepted += await this.#retire(this.#p);
        this.#p = benchPipeline(this.#fx.ring, shared, { queue: { maxWaitMs: [Infinity, Infinity, Infinity] } });
        this.#at = 0;
      }
      const p = this.#p;
      const before = p.counters.accepted;
      const stop = Math.min(msgs.length, this.#at + this.#low);
      while (this.#at < stop) p.receive(msgs[this.#at++]!);
      await p.waitBelow(this.#low);
      accepted += p.counters.accepted - before;
    }
    if (this.#p !== undefined) {
      const before = this.#p.counters.accepted;
      await this.#p.drain();
      accepted += this.#p.counters.accepted - before;
    }
    return accepted;
  }

  async #retire(p: ReceptionPipeline): Promise<number> {
    const before = p.counters.accepted;
    await p.drain();
    const c = p.counters;
    if (c.droppedTotal > 0) throw new Error(`v2x: the pipeline dropped genuine messages: ${JSON.stringify(c.snapshot().dropped)}`);
    return c.accepted - before;
  }
}

/** A session that feeds the fixture's stream through a steady receiver verified by `verifier`. */
async function pipelineSession(ctx: RunContext, verifier: SignatureVerifier): Promise<RateSession> {
  const fx = await fixture(ctx);
  const feed = new SteadyFeed(fx, verifier);
  // The JIT needs about a second of this mix (decoders, queue, verification) before its figure
  // settles: warm up at least that long even in a quick run.
  const w0 = performance.now();
  await feed.feed(() => performance.now() - w0 > Math.max(1000, ctx.settings.warmupMs));
  return {
    run: async (clock, ms = ctx.settings.runMs) => {
      const t0 = clockNow(clock);
      const wall0 = performance.now();
      const n = await feed.feed(() => clockNow(clock) - t0 >= ms || performance.now() - wall0 >= 2 * ms);
      return n / ((clockNow(clock) - t0) / 1000);
    },
    close: () => verifier.close(),
  };
}

/** Feeds the fixture's stream through a steady receiver verified by `verifier` for `ms`, to warm its workers. */
async function warmUp(ctx: RunContext, verifier: SignatureVerifier, ms: number): Promise<void> {
  const feed = new SteadyFeed(await fixture(ctx), verifier);
  const w0 = performance.now();
  await feed.feed(() => performance.now() - w0 >= ms);
}

interface OverloadResult {
  verifiedPerS: number;
  hazardP50: number;
  hazardP99: number;
}

/** The receiver's radio buffer, bytes: about a socket's default receive buffer (208 KiB), a power of two. */
const RADIO_BUFFER_BYTES = 256 * 1024;

function overload(ctx: RunContext): Promise<OverloadResult> {
  return ctx.once('v2x-overload', async () => {
    const capacity = ctx.samplesOf('v2x/pipeline-all-cores');
    if (capacity === undefined || capacity.length === 0) throw new Error('v2x: the all-cores pipeline figure is missing');
    const sorted = [...capacity].sort((a, b) => a - b);
    const offered = Math.round(2 * sorted[sorted.length >> 1]!);
    const durationMs = ctx.quick ? 3000 : 60_000;
    const authority = PrivateKey.generate('P-256');
    const ring = new KeyRing([{ publicKey: authority.publicKey, curve: 'P-256' }]);
    const signers = Math.ceil((offered / 10) * 1.25);
    // Live messages carry the machine's time: certificates valid around now.
    const credentials = issueCredentials(authority, ring, signers, Date.now() - 3_600_000);
    const verifier = new WorkerVerifier(ctx.cores);
    await verifier.ready;
    const radio = new RadioRing(RADIO_BUFFER_BYTES);
    // Hazard latency end to end: from the time the generator was due to put the frame on the
    // air (its generation time, shifted as the schedule was) to acceptance; it includes the
    // frame's wait in the radio buffer, which the pipeline's own figure (from reception) does not.
    const hazardLatency = new LatencyHistogram();
    const hazardInPipeline = new LatencyHistogram();
    let shiftMs = 0;
    let accepted = 0;
    let running = false;
    const p = benchPipeline(ring, verifier, {
      onAccepted: (m) => {
        if (running) accepted++;
        // Hazards still in flight when the run ends count too: the tail is the point.
        if (m.type === 'denm') {
          hazardLatency.add(Date.now() - (m.generationTime + shiftMs));
          hazardInPipeline.add(m.latencyMs);
        }
      },
    }, () => Date.now());
    let rssPeak = 0;
    let heapPeak = 0;
    const sampleMemory = () => {
      const m = process.memoryUsage();
      rssPeak = Math.max(rssPeak, m.rss);
      heapPeak = Math.max(heapPeak, m.heapUsed);
    };
    let memory: ReturnType<typeof setInterval> | undefined;
    // Every turn the intake empties the radio buffer (a copy and a peek per frame), hazards
    // first, and sheds there what the verifiers could not reach anyway.
    const intake = new ReceptionIntake(p, {
      poll: () => {
        for (const f of radio.read(Infinity)) intake.offer(f);
      },
    });
    const data: LoadWorkerData = { authorityPublicKey: authority.publicKey, credentials: credentials.map((c) => ({ secret: c.key.exportSecret(), certificate: c.certificate })), rate: offered, durationMs, ring: radio.buffer };
    const gen = new Worker(LOAD_WORKER, { workerData: data });
    let t0 = performance.now();
    let rssAtStart = 0;
    let sealed: Extract<LoadMessage, { kind: 'sealed' }> | undefined;
    const done = await new Promise<LoadReport>((resolve, reject) => {
      gen.on('message', (m: LoadMessage) => {
        if (m.kind === 'wake') {
          intake.poke();
        } else if (m.kind === 'planned') {
          // The fresh verification workers are warmed (a roadside unit's have run for hours)
          // in the last second or so before the planned start.
          const warmAt = m.startAt - 1300 - Date.now();
          setTimeout(() => void warmUp(ctx, verifier, 1000).catch(reject), Math.max(0, warmAt));
        } else if (m.kind === 'sealed') sealed = m;
        else if (m.kind === 'started') {
          shiftMs = m.shiftMs;
          t0 = performance.now();
          running = true;
          rssAtStart = process.memoryUsage().rss;
          memory = setInterval(sampleMemory, 50);
        } else resolve(m);
      });
      gen.once('error', reject);
      gen.once('exit', (code) => reject(new Error(`v2x load generator exited (code ${code}) before its report`)));
    });
    const elapsed = (performance.now() - t0) / 1000;
    const acceptedInRun = accepted;
    running = false;
    sampleMemory();
    clearInterval(memory);
    await gen.terminate();
    await intake.drain();
    await p.close();
    const c = p.counters.snapshot();
    const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
    ctx.note(
      `v2x overload: offered ${offered.toLocaleString('en-US')} msg/s for ${(durationMs / 1000).toFixed(0)} s (2x the all-cores pipeline median) by a generator thread ` +
        `that sealed the run beforehand (${sealed?.count ?? 0} messages, ${mb(sealed?.bytes ?? 0)}, in ${((sealed?.sealMs ?? 0) / 1000).toFixed(1)} s${(sealed?.count ?? 0) >= 200_000 ? ' on two threads' : ''}, then ${((sealed?.waitMs ?? 0) / 1000).toFixed(1)} s to the planned start) and then only copied frames into a ${RADIO_BUFFER_BYTES / 1024} KiB radio buffer on schedule: ` +
        `it achieved ${((done.sent + done.droppedAtRadio) / (done.elapsedMs / 1000)).toFixed(0)} msg/s (frames late p99 ${done.lateP99Ms.toFixed(0)} ms, max ${done.lateMaxMs.toFixed(0)} ms; schedule shifted ${shiftMs.toFixed(0)} ms), busy ${(100 * done.busyShare).toFixed(0)} % of a core; ` +
        `dropped by the full radio buffer ${done.droppedAtRadio}; received ${c.received}, accepted ${c.accepted}, dropped ${JSON.stringify(c.dropped)}; ${done.hazards} hazards sent; ` +
        `hazard latency in the pipeline (from reception) p99 ${hazardInPipeline.quantile(0.99).toFixed(1)} ms; queue high water ${p.queue.highWater} of ${p.queue.capacity}; intake high water ${intake.highWater} of ${intake.maxFrames} frames, shed there ${intake.shedByLane.join('/')} (hazard/action/awareness); ` +
        `RSS ${mb(rssAtStart)} at the start (with the sealed run), peak ${mb(rssPeak)}; main-thread heap peak ${mb(heapPeak)}.`,
    );
    // Load sheds (shed-*); and when the full radio buffer or the intake lost frames, some were
    // the ones that carried a signer's certificate, whose next messages are then from an unknown
    // signer (asked for, as on the road). Anything else dropping a genuine message is a bug.
    const lostUnread = done.droppedAtRadio + intake.shedByLane.reduce((a, b) => a + b, 0);
    const byLoad = (r: string) => r.startsWith('shed-') || (r === 'unknown-signer' && lostUnread > 0);
    if (Object.keys(c.dropped).some((r) => !byLoad(r))) throw new Error(`v2x overload: genuine messages dropped for other reasons than load: ${JSON.stringify(c.dropped)}`);
    return { verifiedPerS: acceptedInRun / elapsed, hazardP50: hazardLatency.quantile(0.5), hazardP99: hazardLatency.quantile(0.99) };
  });
}

export const v2x: Suite = {
  name: 'v2x',
  description: 'V2X reception: verified messages/s through the pipeline (1 core, all cores) against raw ES256 verification; hazard latency at twice the capacity',
  cases(env: SuiteEnv): BenchCase[] {
    const dur = env.quick ? '3 s' : '60 s';
    return [
      {
        id: 'v2x/raw-verify',
        name: 'raw ES256 verify, OpenSSL via node:crypto, 1 core (reference)',
        unit: 'verifies/s',
        better: 'higher',
        clock: 'cpu',
        open: (ctx) => ctx.openRate({ module: SUBJECTS, params: {}, threads: 1 }),
      },
      {
        id: 'v2x/raw-verify-all-cores',
        name: `raw ES256 verify, ${cores(env.cores)} (reference)`,
        unit: 'verifies/s',
        better: 'higher',
        clock: 'wall',
        open: (ctx) => ctx.openRate({ module: SUBJECTS, params: {}, threads: env.cores }),
      },
      {
        id: 'v2x/pipeline',
        name: 'reception pipeline, genuine CAMs and hazards, 1 core (inline)',
        unit: 'msg/s',
        better: 'higher',
        clock: 'cpu',
        reference: 'v2x/raw-verify',
        open: (ctx) => pipelineSession(ctx, new InlineVerifier()),
      },
      {
        id: 'v2x/pipeline-all-cores',
        name: `reception pipeline, ${cores(env.cores)} (verification worker threads)`,
        unit: 'msg/s',
        better: 'higher',
        clock: 'wall',
        reference: 'v2x/raw-verify-all-cores',
        open: async (ctx) => {
          const w = new WorkerVerifier(env.cores);
          await w.ready;
          return pipelineSession(ctx, w);
        },
      },
      {
        id: 'v2x/overload-verified',
        name: `verified msg/s at twice the capacity, ${dur}, ${cores(env.cores)}`,
        unit: 'msg/s',
        better: 'higher',
        clock: 'wall',
        fixedReference: { name: `goal: a roadside unit verifies ${GOAL_VERIFIED_PER_S.toLocaleString('en-US')} msg/s`, value: GOAL_VERIFIED_PER_S },
        needs: ['v2x/pipeline-all-cores'],
        run: async (ctx) => [(await overload(ctx)).verifiedPerS],
      },
      {
        id: 'v2x/overload-hazard-p99',
        name: `hazard latency p99 at twice the capacity, ${dur}`,
        unit: 'ms',
        better: 'lower',
        clock: 'wall',
        fixedReference: { name: `goal: under ${GOAL_HAZARD_MS} ms`, value: GOAL_HAZARD_MS },
        needs: ['v2x/pipeline-all-cores'],
        run: async (ctx) => [(await overload(ctx)).hazardP99],
      },
      {
        id: 'v2x/overload-hazard-p50',
        name: `hazard latency p50 at twice the capacity, ${dur}`,
        unit: 'ms',
        better: 'lower',
        clock: 'wall',
        fixedReference: { name: `goal: under ${GOAL_HAZARD_MS} ms`, value: GOAL_HAZARD_MS },
        needs: ['v2x/pipeline-all-cores'],
        run: async (ctx) => [(await overload(ctx)).hazardP50],
      },
    ];
  },
};
