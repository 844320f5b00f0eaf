// What a protocol face reads: the BMS's reported values and a few identity fields. The
// simulated BMS provides it; tests give fixed readings taken from protocol documents.
import type { BmsReadings } from '../bms/simulated-bms.ts';

export interface BmsSource {
  measure(): BmsReadings;
  /** False while the board is unpowered: faces stay silent. */
  readonly powered: boolean;
  readonly hardwareVersion: string;
  readonly productionDate: { year: number; month: number; day: number };
}
