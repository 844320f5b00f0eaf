// The simulator's roads: a square grid of two-way streets around a centre point (a city block
// pattern, `blocks` x `blocks` blocks of `blockM` metres), in local metres east/north of the
// centre and converted to WGS 84 for the messages. Vehicles drive from intersection to
// intersection, choosing a random way on at each (never a U-turn unless at the grid's edge),
// at their own cruising speed, braking to a stop at the centre intersection on red.
export interface LocalPoint {
  /** Metres east of the centre. */
  x: number;
  /** Metres north of the centre. */
  y: number;
}

const M_PER_DEG_LAT = 111_195;

export class RoadNetwork {
  readonly centre: { latitude: number; longitude: number };
  readonly blocks: number;
  readonly blockM: number;

  constructor(opts: { centre?: { latitude: number; longitude: number }; blocks?: number; blockM?: number } = {}) {
    this.centre = opts.centre ?? { latitude: 48.137216, longitude: 11.575487 };
    this.blocks = opts.blocks ?? 6;
    this.blockM = opts.blockM ?? 150;
    if (!(this.blocks >= 1 && this.blocks % 2 === 0)) throw new RangeError(`blocks: ${this.blocks}; expected an even number >= 2 (the centre is an intersection)`);
  }

  /** Half the grid's width, m: intersections lie at multiples of blockM within +-extent. */
  get extent(): number {
    return (this.blocks / 2) * this.blockM;
  }

  /** WGS 84 degrees of a local point. */
  toWgs84(p: LocalPoint): { latitude: number; longitude: number } {
    const latitude = this.centre.latitude + p.y / M_PER_DEG_LAT;
    const longitude = this.centre.longitude + p.x / (M_PER_DEG_LAT * Math.cos((this.centre.latitude * Math.PI) / 180));
    return { latitude, longitude };
  }

  /** The intersection grid index nearest a point. */
  snap(p: LocalPoint): LocalPoint {
    return { x: Math.round(p.x / this.blockM) * this.blockM, y: Math.round(p.y / this.blockM) * this.blockM };
  }

  /** Next intersections reachable from `at` (not back to `from` unless it is the only way). */
  exits(at: LocalPoint, from: LocalPoint | undefined): LocalPoint[] {
    const e = this.extent;
    const all = [
      { x: at.x + this.blockM, y: at.y },
      { x: at.x - this.blockM, y: at.y },
      { x: at.x, y: at.y + this.blockM },
      { x: at.x, y: at.y - this.blockM },
    ].filter((p) => Math.abs(p.x) <= e + 1e-6 && Math.abs(p.y) <= e + 1e-6);
    const onward = from === undefined ? all : all.filter((p) => Math.abs(p.x - from.x) > 1e-6 || Math.abs(p.y - from.y) > 1e-6);
    return onward.length > 0 ? onward : all;
  }
}
