// `voltrail v2x sim`: N vehicles on a road grid, optionally a roadside unit at the centre
// intersection (traffic light, charging offers) and K attackers (forger, replayer, flooder,
// liar in turn), all on one simulated channel; one receiving station at the centre (the
// roadside unit's receiver, or an observer) runs the full reception pipeline. Every 100 ms
// (T_CheckCamGen) each station moves and sends what its rules say; the channel's measured busy
// ratio drives one reactive DCC shared by the vehicles (they all hear the same channel), whose
// T_off becomes their CAM generation lower bound. `summary()` gives the live figures: messages
// and verifications per second, drops by reason, latency percentiles, queue, CBR and state.
import type { Clock } from '../../hal/clock.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { MESSAGE_NAMES } from '../messages/message-types.ts';
import { issuePseudonymCertificate, verifyPseudonymCertificate } from '../security/pseudonym-certificate.ts';
import type { PseudonymCredential } from '../security/pseudonym-manager.ts';
import { LatencyHistogram } from '../reception/latency-histogram.ts';
import { ReactiveDcc } from '../reception/reactive-dcc.ts';
import { ReceptionPipeline } from '../reception/reception-pipeline.ts';
import type { DropReason } from '../reception/drop-reason.ts';
import type { SignatureVerifier } from '../reception/signature-verifier.ts';
import { seededRandom } from '../../hal/seeded-random.ts';
import { SimulatedChannel } from '../transports/simulated-channel.ts';
import type { V2xTransport } from '../transports/transport.ts';
import { RoadNetwork } from './road-network.ts';
import { OpensslSealer } from './openssl-sealer.ts';
import { SimRoadsideUnit, SimVehicle } from './sim-stations.ts';
import { ATTACKER_KINDS, Flooder, Forger, Liar, Replayer } from './sim-attackers.ts';
import type { Attacker } from './sim-attackers.ts';

export const TICK_MS = 100;

export interface TrafficSimulationOptions {
  clock: Clock;
  vehicles: number;
  rsu?: boolean;
  attackers?: number;
  /** Verification backend of the receiving station (default inline). */
  verifier?: SignatureVerifier;
  seed?: number;
  /** Hazards raised per second across all vehicles (default 0.5). */
  hazardsPerSecond?: number;
  network?: RoadNetwork;
  /** Channel loss probability (default 0.01) and delay (default 2 ms). */
  loss?: number;
  delayMs?: number;
}

export interface SimSummary {
  /** Seconds of simulated time since the start. */
  t: number;
  vehicles: number;
  /** Over the last summary interval, per second. */
  framesPerSecond: number;
  acceptedPerSecond: number;
  received: number;
  accepted: number;
  dropped: Partial<Record<DropReason, number>>;
  latencyMs: { p50: number; p99: number; hazardP50: number; hazardP99: number; hazardMax: number };
  queued: number;
  cbr: number;
  dcc: string;
  neighbours: number;
  hazards: number;
}

function credential(authority: PrivateKey, ring: KeyRing, notBefore: number): PseudonymCredential {
  const key = PrivateKey.generate('P-256');
  const certificate = issuePseudonymCertificate(authority, { publicKey: key.publicKey, curve: 'P-256', notBefore, notAfter: notBefore + 7 * 86_400_000, permissions: MESSAGE_NAMES });
  return { key, certificate, info: verifyPseudonymCertificate(certificate, { authorities: ring.lookup }) };
}

export class TrafficSimulation {
  readonly clock: Clock;
  readonly channel: SimulatedChannel;
  readonly network: RoadNetwork;
  readonly pipeline: ReceptionPipeline;
  readonly vehicles: SimVehicle[] = [];
  readonly rsu: SimRoadsideUnit | undefined;
  readonly attackers: Attacker[] = [];
  readonly dcc = new ReactiveDcc();
  readonly latency = new LatencyHistogram();
  readonly hazardLatency = new LatencyHistogram();
  readonly #random: () => number;
  readonly #hazardRate: number;
  readonly #start: number;
  readonly #tx: V2xTransport;
  #last: { at: number; received: number; accepted: number };
  #lastTick: number;

  constructor(opts: TrafficSimulationOptions) {
    if (!Number.isSafeInteger(opts.vehicles) || opts.vehicles < 1) throw new RangeError(`vehicles: ${opts.vehicles}; expected a whole number >= 1`);
    const attackers = opts.attackers ?? 0;
    if (!Number.isSafeInteger(attackers) || attackers < 0) throw new RangeError(`attackers: ${attackers}; expected a whole number >= 0`);
    this.clock = opts.clock;
    this.#random = seededRandom(opts.seed ?? 1);
    this.#hazardRate = opts.hazardsPerSecond ?? 0.5;
    this.network = opts.network ?? new RoadNetwork();
    this.channel = new SimulatedChannel({ clock: opts.clock, loss: opts.loss ?? 0.01, delayMs: opts.delayMs ?? 2, seed: (opts.seed ?? 1) + 1 });
    const authority = PrivateKey.generate('P-256');
    const ring = new KeyRing([{ publicKey: authority.publicKey, curve: 'P-256' }]);
    const now = opts.clock.now();
    const nb = now - 3_600_000;
    const ids = new Set<number>();
    const stationId = () => {
      let id: number;
      do id = Math.floor(this.#random() * 0xffff_ffff);
      while (ids.has(id));
      ids.add(id);
      return id;
    };
    for (let i = 0; i < opts.vehicles; i++) this.vehicles.push(new SimVehicle(this.network, new OpensslSealer(credential(authority, ring, nb)), stationId(), this.#random));
    if (opts.rsu) this.rsu = new SimRoadsideUnit(this.network, new OpensslSealer(credential(authority, ring, nb)), stationId());
    const rogueAuthority = PrivateKey.generate('P-256');
    const rogueRing = new KeyRing([{ publicKey: rogueAuthority.publicKey, curve: 'P-256' }]);
    for (let k = 0; k < attackers; k++) {
      const kind = ATTACKER_KINDS[k % ATTACKER_KINDS.length]!;
      const uncertified = () => new OpensslSealer(credential(rogueAuthority, rogueRing, nb));
      if (kind === 'forger') this.attackers.push(new Forger(uncertified(), uncertified(), this.vehicles, this.#random));
      else if (kind === 'replayer') this.attackers.push(new Replayer(this.#random));
      else if (kind === 'flooder') this.attackers.push(new Flooder(uncertified(), this.vehicles, this.#random));
      else this.attackers.push(new Liar(new SimVehicle(this.network, new OpensslSealer(credential(authority, ring, nb)), stationId(), this.#random), this.network));
    }
    this.pipeline = new ReceptionPipeline({
      clock: opts.clock,
      authorities: ring.lookup,
      verifier: opts.verifier,
      onAccepted: (m) => {
        this.latency.add(m.latencyMs);
        if (m.type === 'denm') this.hazardLatency.add(m.latencyMs);
      },
    });
    const centre = this.network.toWgs84({ x: 0, y: 0 });
    this.pipeline.setOwnPosition({ latitude: Math.round(centre.latitude * 1e7), longitude: Math.round(centre.longitude * 1e7) });
    const rx = this.channel.attach('receiver');
    rx.onFrame((f) => this.pipeline.receive(f.bytes, f.busyRatio));
    const replayers = this.attackers.filter((a) => a.hear !== undefined);
    if (replayers.length > 0) this.channel.attach('replayers').onFrame((f) => replayers.forEach((a) => a.hear!(f.bytes, this.clock.now())));
    this.#tx = this.channel.attach('stations');
    this.#start = opts.clock.monotonic();
    this.#lastTick = this.#start;
    this.#last = { at: this.#start, received: 0, accepted: 0 };
  }

  /** One T_CheckCamGen: every station moves and sends what is due. */
  step(): void {
    const mono = this.clock.monotonic();
    const now = this.clock.now();
    const dt = Math.min(1000, mono - this.#lastTick || TICK_MS);
    this.#lastTick = mono;
    this.dcc.update(this.channel.busyRatio, mono);
    const send = (b: Uint8Array) => void this.#tx.send(b);
    if (this.#random() < (this.#hazardRate * dt) / 1000) this.vehicles[Math.floor(this.#random() * this.vehicles.length)]!.raiseHazard(now);
    for (const v of this.vehicles) {
      v.drive(dt, now);
      v.rules.tGenCamDcc = this.dcc.tOffMs;
      v.tick(now, send);
    }
    this.rsu?.tick(now, send);
    for (const a of this.attackers) a.tick(now, send);
    if (Math.floor(mono / 1000) !== Math.floor((mono - dt) / 1000)) this.pipeline.expire();
  }

  /** Steps every TICK_MS on the clock until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    // Ticks on a fixed schedule: the time a step takes does not stretch the period.
    let next = this.clock.monotonic();
    while (!signal.aborted) {
      this.step();
      next = Math.max(next + TICK_MS, this.clock.monotonic() - TICK_MS);
      try {
        await this.clock.sleep(Math.max(0, next - this.clock.monotonic()), signal);
      } catch {
        return;
      }
    }
  }

  /** Live figures; the per-second rates and latency cover the time since the last call. */
  summary(): SimSummary {
    const mono = this.clock.monotonic();
    const c = this.pipeline.counters;
    const secs = Math.max(1e-3, (mono - this.#last.at) / 1000);
    const s: SimSummary = {
      t: (mono - this.#start) / 1000,
      vehicles: this.vehicles.length,
      framesPerSecond: (c.received - this.#last.received) / secs,
      acceptedPerSecond: (c.accepted - this.#last.accepted) / secs,
      received: c.received,
      accepted: c.accepted,
      dropped: c.snapshot().dropped,
      latencyMs: {
        p50: this.latency.quantile(0.5),
        p99: this.latency.quantile(0.99),
        hazardP50: this.hazardLatency.quantile(0.5),
        hazardP99: this.hazardLatency.quantile(0.99),
        hazardMax: this.hazardLatency.max,
      },
      queued: this.pipeline.pending,
      cbr: this.pipeline.cbr.cbr,
      dcc: this.pipeline.dcc.state.name,
      neighbours: this.pipeline.map.neighbours.size,
      hazards: this.pipeline.map.events.size,
    };
    this.#last = { at: mono, received: c.received, accepted: c.accepted };
    this.latency.reset();
    this.hazardLatency.reset();
    return s;
  }

  async close(): Promise<void> {
    await this.pipeline.close();
  }
}
