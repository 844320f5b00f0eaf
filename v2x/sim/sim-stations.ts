// The stations of the traffic simulator: vehicles that follow the ETSI CAM generation rules
// (senders/cam-generation.ts, with the DCC lower bound) while driving the road grid and now
// and then raise a hazard (a DENM repeated every second for a few seconds), and the roadside
// unit at the centre intersection that runs its traffic light (SPaT twice a second) and
// offers its chargers (every 5 s). Each signs with its own pseudonym through the OpenSSL
// sealer and attaches its certificate on the first message, about once a second after, and
// on every hazard, as MessageSealer does.
import type { Cam } from '../messages/cam.ts';
import type { ChargingOffer } from '../messages/charging.ts';
import type { Denm } from '../messages/denm.ts';
import type { Spat } from '../messages/spat.ts';
import { CamGenerationRules } from '../senders/cam-generation.ts';
import { camFromState } from '../senders/cam-sender.ts';
import type { RoadNetwork, LocalPoint } from './road-network.ts';
import type { OpensslSealer } from './openssl-sealer.ts';

const CERT_INTERVAL_MS = 1000;
/** Traffic-light cycle, ms: north-south green, amber, east-west green, amber. */
const GREEN_MS = 12_000;
const AMBER_MS = 3000;
const CYCLE_MS = 2 * (GREEN_MS + AMBER_MS);

export type Send = (bytes: Uint8Array) => void;

const toE7 = (p: { latitude: number; longitude: number }) => ({ latitude: Math.round(p.latitude * 1e7), longitude: Math.round(p.longitude * 1e7) });

/** Which axis has green at `t` (ms), or none (amber / all red). */
export function greenAxis(t: number): 'ns' | 'ew' | undefined {
  const c = ((t % CYCLE_MS) + CYCLE_MS) % CYCLE_MS;
  if (c < GREEN_MS) return 'ns';
  if (c < GREEN_MS + AMBER_MS) return undefined;
  if (c < 2 * GREEN_MS + AMBER_MS) return 'ew';
  return undefined;
}

export class SimVehicle {
  readonly sealer: OpensslSealer;
  readonly stationId: number;
  readonly rules = new CamGenerationRules();
  pos: LocalPoint;
  #from: LocalPoint | undefined;
  #to: LocalPoint;
  speed = 0;
  readonly cruise: number;
  #lastCertAt = -Infinity;
  #hazard: { denm: Denm; until: number; nextAt: number } | undefined;
  #sequence = 0;
  readonly #net: RoadNetwork;
  readonly #random: () => number;

  constructor(net: RoadNetwork, sealer: OpensslSealer, stationId: number, random: () => number) {
    this.#net = net;
    this.sealer = sealer;
    this.stationId = stationId;
    this.#random = random;
    const e = net.extent / net.blockM;
    const pick = () => (Math.floor(random() * (2 * e + 1)) - e) * net.blockM;
    this.pos = random() < 0.5 ? { x: pick(), y: (random() * 2 - 1) * net.extent } : { x: (random() * 2 - 1) * net.extent, y: pick() };
    this.#to = net.snap(this.pos);
    this.cruise = 8 + random() * 6; // 29 to 50 km/h
  }

  get heading(): number {
    const dx = this.#to.x - this.pos.x;
    const dy = this.#to.y - this.pos.y;
    return dx === 0 && dy === 0 ? 0 : ((Math.atan2(dx, dy) * 180) / Math.PI + 360) % 360;
  }

  /** Drives for `dtMs`; stops for red at the centre intersection. */
  drive(dtMs: number, now: number): void {
    const dt = dtMs / 1000;
    let dist = Math.hypot(this.#to.x - this.pos.x, this.#to.y - this.pos.y);
    if (dist < 0.5) {
      const exits = this.#net.exits(this.#to, this.#from);
      this.#from = this.#to;
      this.#to = exits[Math.floor(this.#random() * exits.length)]!;
      dist = Math.hypot(this.#to.x - this.pos.x, this.#to.y - this.pos.y);
    }
    const toCentre = this.#to.x === 0 && this.#to.y === 0;
    const axis = this.#to.x === this.pos.x ? 'ns' : 'ew';
    // Brake (4 m/s^2, comfortable) to stop 5 m before a red light at the centre.
    const mustStop = toCentre && greenAxis(now) !== axis && dist > 4;
    const stopIn = Math.max(0, dist - 5);
    const target = mustStop ? Math.min(this.cruise, Math.sqrt(2 * 4 * stopIn)) : this.cruise;
    this.speed = Math.max(0, this.speed + Math.max(-4 * dt, Math.min(2 * dt, target - this.speed)));
    const step = Math.min(dist, this.speed * dt);
    if (dist > 0) {
      this.pos = { x: this.pos.x + ((this.#to.x - this.pos.x) / dist) * step, y: this.pos.y + ((this.#to.y - this.pos.y) / dist) * step };
    }
  }

  #attach(now: number): boolean {
    if (now - this.#lastCertAt < CERT_INTERVAL_MS) return false;
    this.#lastCertAt = now;
    return true;
  }

  camBody(): Cam {
    const { latitude, longitude } = this.#net.toWgs84(this.pos);
    return camFromState(this.stationId, { latitude, longitude, heading: this.heading, speed: this.speed, longitudinalAcceleration: 0, yawRate: 0, stationType: 5, length: 4.6, width: 1.85, stateOfCharge: 70 });
  }

  /** One T_CheckCamGen check: a CAM when the rules say so, and any hazard repetition due. */
  tick(now: number, send: Send): void {
    const { latitude, longitude } = this.#net.toWgs84(this.pos);
    if (this.rules.check(now, { latitude, longitude, heading: this.heading, speed: this.speed }) !== undefined) {
      send(this.sealer.seal('cam', this.camBody(), now, this.#attach(now)));
    }
    const h = this.#hazard;
    if (h !== undefined && now >= h.nextAt) {
      if (now > h.until) this.#hazard = undefined;
      else {
        send(this.sealer.seal('denm', { ...h.denm, referenceTime: now }, now, true));
        this.#lastCertAt = now;
        h.nextAt = now + h.denm.repetitionInterval;
      }
    }
  }

  /** Raises a stationary-vehicle hazard at this position, repeated every second for 5 s. */
  raiseHazard(now: number): void {
    if (this.#hazard !== undefined) return;
    const denm: Denm = {
      actionId: { originatingStationId: this.stationId, sequenceNumber: this.#sequence++ & 0xffff },
      eventType: { cause: 94, subCause: 2 },
      eventPosition: toE7(this.#net.toWgs84(this.pos)),
      detectionTime: now,
      referenceTime: now,
      validity: 60,
      relevanceDistance: 500,
      repetitionInterval: 1000,
    };
    this.#hazard = { denm, until: now + 5000, nextAt: now };
  }
}

export class SimRoadsideUnit {
  readonly sealer: OpensslSealer;
  readonly stationId: number;
  #lastSpat = -Infinity;
  #lastOffer = -Infinity;
  #lastCertAt = -Infinity;
  readonly #net: RoadNetwork;

  constructor(net: RoadNetwork, sealer: OpensslSealer, stationId: number) {
    this.#net = net;
    this.sealer = sealer;
    this.stationId = stationId;
  }

  spat(now: number): Spat {
    const c = ((now % CYCLE_MS) + CYCLE_MS) % CYCLE_MS;
    // Each axis: green, amber, then red for the other axis's green and amber.
    const group = (id: number, greenFrom: number) => {
      const rel = (c - greenFrom + CYCLE_MS) % CYCLE_MS;
      const cycleStart = now - rel;
      const phases = [
        { phase: 6, end: cycleStart + GREEN_MS },
        { phase: 8, end: cycleStart + GREEN_MS + AMBER_MS },
        { phase: 3, end: cycleStart + CYCLE_MS },
      ];
      const i = rel < GREEN_MS ? 0 : rel < GREEN_MS + AMBER_MS ? 1 : 2;
      const at = (k: number) => ({ phase: phases[k % 3]!.phase, minEndTime: phases[k % 3]!.end + (k >= 3 ? CYCLE_MS : 0) });
      return { signalGroupId: id, approachId: id, laneIds: [id * 2 - 1, id * 2], current: at(i), next: [at(i + 1), at(i + 2)] };
    };
    return { intersectionId: 1201, revision: 1, signalGroups: [group(1, 0), group(2, GREEN_MS + AMBER_MS)] };
  }

  offer(now: number): ChargingOffer {
    const slot = Math.floor(now / 60_000);
    return {
      stationId: this.stationId,
      position: toE7(this.#net.toWgs84({ x: 20, y: 20 })),
      currency: 'EUR',
      connectors: [
        { connectorId: 1, connectorType: 1, maxPower: 150_000, status: slot % 3 === 0 ? 1 : 0, pricePerKwh: 5900, availableFrom: now, availableUntil: now + 3_600_000 },
        { connectorId: 2, connectorType: 0, maxPower: 22_000, status: 0, pricePerKwh: 3900, availableFrom: now, availableUntil: now + 3_600_000 },
      ],
    };
  }

  tick(now: number, send: Send): void {
    const attach = () => {
      if (now - this.#lastCertAt < CERT_INTERVAL_MS) return false;
      this.#lastCertAt = now;
      return true;
    };
    if (now - this.#lastSpat >= 500) {
      this.#lastSpat = now;
      send(this.sealer.seal('spat', this.spat(now), now, attach()));
    }
    if (now - this.#lastOffer >= 5000) {
      this.#lastOffer = now;
      send(this.sealer.seal('chargingOffer', this.offer(now), now, attach()));
    }
  }
}
