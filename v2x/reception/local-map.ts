// Stage 9 of reception: the local dynamic map: what verified, plausible messages say about the
// surroundings now. Neighbours by signer (last CAM; forgotten after `neighbourTtlMs` without
// one, as ETSI's LDM drops stale awareness), active hazards by action id (until detection time
// + validity, or a cancellation / negation), traffic-light states by intersection and charging
// offers by station (until replaced or stale). Every table is bounded; `expire(now)` drops
// what ran out. `apply` returns the application event the message makes.
import type { Cam } from '../messages/cam.ts';
import type { ChargingOffer } from '../messages/charging.ts';
import type { Denm } from '../messages/denm.ts';
import type { Spat } from '../messages/spat.ts';
import type { DecodedPayload } from '../security/envelope.ts';

export interface Neighbour {
  signerId: string;
  cam: Cam;
  generationTime: number;
  lastSeen: number;
}

export interface ActiveEvent {
  key: string;
  denm: Denm;
  signerId: string;
  expiresAt: number;
}

export type MapEvent =
  | { kind: 'neighbour'; isNew: boolean; neighbour: Neighbour }
  | { kind: 'hazard'; change: 'new' | 'update' | 'terminated'; event: ActiveEvent }
  | { kind: 'spat'; spat: Spat }
  | { kind: 'charging'; offer: ChargingOffer }
  | { kind: 'message'; type: string };

export interface LocalMapOptions {
  neighbourTtlMs?: number;
  /** How long a SPaT or charging offer stays without a refresh, ms (default 10000). */
  infrastructureTtlMs?: number;
  maxNeighbours?: number;
  maxEvents?: number;
}

const actionKey = (d: Denm) => `${d.actionId.originatingStationId}:${d.actionId.sequenceNumber}`;

function boundedSet<K, V>(m: Map<K, V>, k: K, v: V, max: number): void {
  m.delete(k);
  if (m.size >= max) m.delete(m.keys().next().value!);
  m.set(k, v);
}

export class LocalMap {
  readonly neighbours = new Map<string, Neighbour>();
  readonly events = new Map<string, ActiveEvent>();
  readonly intersections = new Map<number, { spat: Spat; at: number }>();
  readonly chargingStations = new Map<number, { offer: ChargingOffer; at: number }>();
  readonly #neighbourTtl: number;
  readonly #infraTtl: number;
  readonly #maxNeighbours: number;
  readonly #maxEvents: number;

  constructor(opts: LocalMapOptions = {}) {
    this.#neighbourTtl = opts.neighbourTtlMs ?? 3000;
    this.#infraTtl = opts.infrastructureTtlMs ?? 10_000;
    this.#maxNeighbours = opts.maxNeighbours ?? 4096;
    this.#maxEvents = opts.maxEvents ?? 1024;
  }

  apply(signerId: string, p: DecodedPayload, now: number): MapEvent {
    switch (p.type) {
      case 'cam': {
        const isNew = !this.neighbours.has(signerId);
        const neighbour = { signerId, cam: p.body as Cam, generationTime: p.generationTime, lastSeen: now };
        boundedSet(this.neighbours, signerId, neighbour, this.#maxNeighbours);
        return { kind: 'neighbour', isNew, neighbour };
      }
      case 'denm': {
        const denm = p.body as Denm;
        const key = actionKey(denm);
        const event = { key, denm, signerId, expiresAt: denm.detectionTime + denm.validity * 1000 };
        if (denm.termination !== undefined) {
          this.events.delete(key);
          return { kind: 'hazard', change: 'terminated', event };
        }
        const change = this.events.has(key) ? 'update' : 'new';
        boundedSet(this.events, key, event, this.#maxEvents);
        return { kind: 'hazard', change, event };
      }
      case 'spat': {
        const spat = p.body as Spat;
        boundedSet(this.intersections, spat.intersectionId, { spat, at: now }, 256);
        return { kind: 'spat', spat };
      }
      case 'chargingOffer': {
        const offer = p.body as ChargingOffer;
        boundedSet(this.chargingStations, offer.stationId, { offer, at: now }, 256);
        return { kind: 'charging', offer };
      }
      default:
        return { kind: 'message', type: p.type };
    }
  }

  /** Drops neighbours, events and infrastructure states that ran out at `now` (wall ms). */
  expire(now: number): void {
    for (const [k, n] of this.neighbours) if (now - n.lastSeen > this.#neighbourTtl) this.neighbours.delete(k);
    for (const [k, e] of this.events) if (now > e.expiresAt) this.events.delete(k);
    for (const [k, s] of this.intersections) if (now - s.at > this.#infraTtl) this.intersections.delete(k);
    for (const [k, c] of this.chargingStations) if (now - c.at > this.#infraTtl) this.chargingStations.delete(k);
  }
}
