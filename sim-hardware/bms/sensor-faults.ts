// What is wrong with the BMS's sensors right now: per-channel offsets, drift, stuck readings and
// open wires. The fault injector (../faults.ts) writes it; the simulated BMS applies it between
// the plant and its quantiser, so a fault looks to every protocol face exactly as it would on a
// real board.

export class SensorFaults {
  /** Constant error added to each cell-voltage channel, V. */
  readonly cellOffsetV: Float64Array;
  /** Drift rate of each cell-voltage channel, V per second; accumulates into cellOffsetV. */
  readonly cellDriftVPerS: Float64Array;
  /** A stuck channel keeps the last value it read when it stuck (NaN = not stuck). */
  readonly cellStuckV: Float64Array;
  /** Open sense wire above cell i: cell i reads ~0 V and cell i+1 reads both cells (as a
   * daisy-chained AFE measuring differential inputs does when one input floats). */
  readonly cellOpenWire: Uint8Array;
  readonly tempOffsetC: Float64Array;
  readonly tempStuckC: Float64Array;
  /** Open thermistor: the divider reads full scale, i.e. a very cold temperature. */
  readonly tempOpen: Uint8Array;
  /** Error added to the current sensor, A. */
  currentOffsetA = 0;

  constructor(cells: number, tempSensors: number) {
    this.cellOffsetV = new Float64Array(cells);
    this.cellDriftVPerS = new Float64Array(cells);
    this.cellStuckV = new Float64Array(cells).fill(NaN);
    this.cellOpenWire = new Uint8Array(cells);
    this.tempOffsetC = new Float64Array(tempSensors);
    this.tempStuckC = new Float64Array(tempSensors).fill(NaN);
    this.tempOpen = new Uint8Array(tempSensors);
  }

  /** Moves the drifting channels on by dtS seconds. */
  advance(dtS: number): void {
    for (let i = 0; i < this.cellDriftVPerS.length; i++) {
      if (this.cellDriftVPerS[i] !== 0) this.cellOffsetV[i] = this.cellOffsetV[i]! + this.cellDriftVPerS[i]! * dtS;
    }
  }
}
