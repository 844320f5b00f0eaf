// Cooperative awareness generation frequency, ETSI EN 302 637-2 V1.4.1 section 6.1.3. Checked
// every T_CheckCamGen (= T_GenCamMin, 100 ms), a CAM is generated when
//   1) the time since the last CAM is >= T_GenCam_Dcc and, since the last CAM, the heading
//      changed by more than 4 degrees, the position by more than 4 m, or the speed by more
//      than 0.5 m/s ("dynamics"); T_GenCam then becomes the time since the last CAM; or
//   2) the time since the last CAM is >= T_GenCam and >= T_GenCam_Dcc ("interval").
// After N_GenCam (3) consecutive CAMs by condition 2, T_GenCam returns to T_GenCamMax
// (1000 ms). T_GenCam_Dcc is the lower bound that congestion control (ETSI TS 102 687) sets;
// it stays T_GenCamMin until that control exists. Pure logic: time comes in as an argument.

export interface Kinematics {
  /** WGS 84 latitude, degrees. */
  latitude: number;
  /** WGS 84 longitude, degrees. */
  longitude: number;
  /** Heading, degrees clockwise from north. */
  heading: number;
  /** Speed, m/s. */
  speed: number;
}

export interface CamGenerationOptions {
  tGenCamMin?: number;
  tGenCamMax?: number;
  nGenCam?: number;
  headingThresholdDeg?: number;
  positionThresholdM?: number;
  speedThresholdMs?: number;
}

export type CamTrigger = 'first' | 'dynamics' | 'interval';

/** WGS 84 mean Earth radius (IUGG), m. */
const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

/** Great-circle distance in m (haversine): exact enough at the 4 m scale anywhere. */
export function distanceM(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const dLat = (b.latitude - a.latitude) * RAD;
  const dLon = (b.longitude - a.longitude) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * RAD) * Math.cos(b.latitude * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Smallest angle between two headings, degrees (0..180). */
export function headingChangeDeg(a: number, b: number): number {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

export class CamGenerationRules {
  readonly tGenCamMin: number;
  readonly tGenCamMax: number;
  readonly nGenCam: number;
  readonly #heading: number;
  readonly #position: number;
  readonly #speed: number;
  #tGenCam: number;
  #tGenCamDcc: number;
  #consecutiveInterval = 0;
  #last: { time: number; k: Kinematics } | undefined;

  constructor(opts: CamGenerationOptions = {}) {
    this.tGenCamMin = opts.tGenCamMin ?? 100;
    this.tGenCamMax = opts.tGenCamMax ?? 1000;
    this.nGenCam = opts.nGenCam ?? 3;
    this.#heading = opts.headingThresholdDeg ?? 4;
    this.#position = opts.positionThresholdM ?? 4;
    this.#speed = opts.speedThresholdMs ?? 0.5;
    if (!(this.tGenCamMin > 0 && this.tGenCamMin <= this.tGenCamMax)) throw new RangeError(`tGenCamMin: ${this.tGenCamMin}; expected 0 < T_GenCamMin <= T_GenCamMax (${this.tGenCamMax})`);
    if (!(Number.isInteger(this.nGenCam) && this.nGenCam >= 1)) throw new RangeError(`nGenCam: ${this.nGenCam}; expected a whole number >= 1`);
    this.#tGenCam = this.tGenCamMax;
    this.#tGenCamDcc = this.tGenCamMin;
  }

  /** T_CheckCamGen: how often `check` should run. */
  get checkInterval(): number {
    return this.tGenCamMin;
  }

  /** The current T_GenCam, ms. */
  get tGenCam(): number {
    return this.#tGenCam;
  }

  get tGenCamDcc(): number {
    return this.#tGenCamDcc;
  }

  /** The congestion-control lower bound, clamped to [T_GenCamMin, T_GenCamMax]. */
  set tGenCamDcc(ms: number) {
    if (!Number.isFinite(ms)) throw new RangeError(`tGenCamDcc: ${ms}; expected a number of ms`);
    this.#tGenCamDcc = Math.min(this.tGenCamMax, Math.max(this.tGenCamMin, ms));
  }

  /** Whether to generate a CAM at `now` (ms) for state `k`; records it as sent when so. */
  check(now: number, k: Kinematics): CamTrigger | undefined {
    const last = this.#last;
    if (last === undefined) {
      this.#last = { time: now, k: { ...k } };
      return 'first';
    }
    const elapsed = now - last.time;
    if (elapsed >= this.#tGenCamDcc) {
      const dynamic =
        headingChangeDeg(k.heading, last.k.heading) > this.#heading ||
        distanceM(k, last.k) > this.#position ||
        Math.abs(k.speed - last.k.speed) > this.#speed;
      if (dynamic) {
        this.#tGenCam = Math.min(this.tGenCamMax, Math.max(this.tGenCamMin, elapsed));
        this.#consecutiveInterval = 0;
        this.#last = { time: now, k: { ...k } };
        return 'dynamics';
      }
    }
    if (elapsed >= this.#tGenCam && elapsed >= this.#tGenCamDcc) {
      this.#consecutiveInterval++;
      if (this.#consecutiveInterval >= this.nGenCam) {
        this.#tGenCam = this.tGenCamMax;
        this.#consecutiveInterval = 0;
      }
      this.#last = { time: now, k: { ...k } };
      return 'interval';
    }
    return undefined;
  }
}
