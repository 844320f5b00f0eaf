// The simulator's attackers, one kind each, to show every defence of the reception pipeline
// at work (each lands under its own drop reason, none is ever accepted):
//   forger   CAMs naming a genuine vehicle's signer digest, signed with its own uncertified
//            key (bad-signature); every other one attaches a certificate from a rogue
//            authority (bad-certificate);
//   replayer records what it hears and sends it again 0.2 to 4 s later (duplicate, replay,
//            stale);
//   flooder  500 frames a second of junk, oversized frames and messages from signers nobody
//            certified (malformed, size, unknown-signer): all refused before any cryptography;
//   liar     an insider with a genuine pseudonym that reports teleporting positions and
//            hazards far from where it is (implausible-*).
import type { RoadNetwork } from './road-network.ts';
import type { OpensslSealer } from './openssl-sealer.ts';
import type { Send, SimVehicle } from './sim-stations.ts';

export const ATTACKER_KINDS = ['forger', 'replayer', 'flooder', 'liar'] as const;
export type AttackerKind = (typeof ATTACKER_KINDS)[number];

export interface Attacker {
  kind: AttackerKind;
  tick(now: number, send: Send): void;
  /** A frame heard on the channel (replayers record them). */
  hear?(bytes: Uint8Array, now: number): void;
}

const indexOf = (haystack: Uint8Array, needle: Uint8Array) => Buffer.from(haystack.buffer, haystack.byteOffset, haystack.length).indexOf(Buffer.from(needle));

export class Forger implements Attacker {
  readonly kind = 'forger';
  #n = 0;
  constructor(
    private readonly uncertified: OpensslSealer,
    private readonly rogue: OpensslSealer,
    private readonly victims: readonly SimVehicle[],
    private readonly random: () => number,
  ) {}
  tick(now: number, send: Send): void {
    const victim = this.victims[Math.floor(this.random() * this.victims.length)]!;
    const body = { ...victim.camBody(), speed: 0 };
    if (this.#n++ % 2 === 0) {
      // The victim's digest in the kid, our signature: the receiver holds the victim's certificate.
      const forged = this.uncertified.seal('cam', body, now, false);
      const at = indexOf(forged, this.uncertified.digest);
      forged.set(victim.sealer.digest, at);
      send(forged);
    } else send(this.rogue.seal('cam', body, now, true));
  }
}

export class Replayer implements Attacker {
  readonly kind = 'replayer';
  readonly #heard: { bytes: Uint8Array; at: number }[] = [];
  constructor(private readonly random: () => number) {}
  hear(bytes: Uint8Array, now: number): void {
    if (this.#heard.length >= 512) this.#heard.shift();
    this.#heard.push({ bytes, at: now });
  }
  tick(now: number, send: Send): void {
    for (let k = 0; k < 5; k++) {
      const old = this.#heard.filter((h) => now - h.at >= 200 && now - h.at <= 4000);
      if (old.length === 0) return;
      send(old[Math.floor(this.random() * old.length)]!.bytes);
    }
  }
}

export class Flooder implements Attacker {
  readonly kind = 'flooder';
  constructor(
    private readonly uncertified: OpensslSealer,
    private readonly victims: readonly SimVehicle[],
    private readonly random: () => number,
  ) {}
  tick(now: number, send: Send): void {
    for (let k = 0; k < 50; k++) {
      const r = this.random();
      if (r < 0.4) send(Uint8Array.from({ length: 40 + Math.floor(this.random() * 200) }, () => Math.floor(this.random() * 256)));
      else if (r < 0.5) send(new Uint8Array(4000));
      else if (k % 10 === 0) {
        // Signed messages cost a signature to make: a tenth of them, unknown signers.
        const v = this.victims[Math.floor(this.random() * this.victims.length)]!;
        send(this.uncertified.seal('cam', v.camBody(), now, false));
      } else send(new Uint8Array([0xd2, 0x84, 0x41, 0xa0, 0xa0, 0x40, 0x40]));
    }
  }
}

export class Liar implements Attacker {
  readonly kind = 'liar';
  #k = 0;
  #started = false;
  constructor(
    readonly me: SimVehicle,
    private readonly net: RoadNetwork,
  ) {}
  tick(now: number, send: Send): void {
    if (this.#k++ % 5 !== 0) return; // every 500 ms
    const body = this.me.camBody();
    // Teleports 400 m back and forth along the x axis.
    const at = this.net.toWgs84({ x: (this.#k % 2 === 0 ? 200 : -200) + this.me.pos.x, y: this.me.pos.y });
    body.position = { latitude: Math.round(at.latitude * 1e7), longitude: Math.round(at.longitude * 1e7) };
    send(this.me.sealer.seal('cam', body, now, !this.#started));
    this.#started = true;
    if (this.#k % 20 === 1) {
      const far = this.net.toWgs84({ x: this.me.pos.x + 3000, y: this.me.pos.y });
      const denm = {
        actionId: { originatingStationId: this.me.stationId, sequenceNumber: this.#k & 0xffff },
        eventType: { cause: 2, subCause: 0 },
        eventPosition: { latitude: Math.round(far.latitude * 1e7), longitude: Math.round(far.longitude * 1e7) },
        detectionTime: now,
        referenceTime: now,
        validity: 60,
        relevanceDistance: 500,
        repetitionInterval: 0,
      };
      send(this.me.sealer.seal('denm', denm, now, true));
    }
  }
}
