// What the passport page shows, as plain data: the verification worker turns the verifier's
// report into this (browser/report-to-view.ts) and posts it to the page, which draws it
// (browser/render-passport.ts). Structured-clone safe: numbers, strings, arrays, plain objects.
import type { Mark, Point } from './svg-chart.ts';

export type Tier = 'public' | 'full';

export interface Fact {
  label: string;
  value: string;
  /** How the value came to be (measured, reported by the BMS, derived), when the passport says. */
  note?: string;
}

export interface StatusEntry {
  status: string;
  time: number;
  signer: string;
  note?: string;
}

export interface EventEntry {
  time: number;
  type: string;
  /** 0 info, 1 warning, 2 fault */
  level: number;
  detail?: string;
}

export interface PassportView {
  ok: boolean;
  /** Why verification failed: the verifier's code and message, naming the item. */
  failure?: { code: string; message: string };
  tier: Tier;
  batteryId: string;
  /** Identity and static data: manufacturer, model, chemistry, rated capacity, ... */
  identity: Fact[];
  /** Latest values of the lifecycle accounts (legitimate-interest view only). */
  lifecycle: Fact[];
  series: {
    /** State of certified energy, % (derived on the board). */
    soh: Point[];
    /** State of health as the BMS reports it, %. */
    sohBms: Point[];
    capacity: Point[];
    /** Internal resistance increase, %. */
    resistance: Point[];
    cycles: Point[];
    /** Cumulative hours at extreme high / low temperature. */
    hotHours: Point[];
    coldHours: Point[];
  };
  events: EventEntry[];
  statuses: StatusEntry[];
  /** What was checked, one line each (e.g. "1,024 records in 2 board logs, each proven"). */
  checked: string[];
  /** The history's time span, ms. */
  span?: { from: number; to: number };
}

export function eventMarks(events: readonly EventEntry[]): Mark[] {
  return events.map((e) => ({ t: e.time, label: e.detail ? `${e.type}: ${e.detail}` : e.type, level: e.level }));
}

/** Messages between the page and the verification worker. */
export type ToWorker = {
  bytes: ArrayBuffer;
  trust: { publicKey: string; curve: string }[];
  /** Revocation lists the server's operator holds, hex. */
  revocationLists: string[];
  tier: Tier;
};
export type FromWorker =
  | { kind: 'progress'; stage: string; done: number; total: number }
  | { kind: 'result'; view: PassportView }
  | { kind: 'error'; message: string };
