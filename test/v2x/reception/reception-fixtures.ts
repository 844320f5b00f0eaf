// Shared material for the reception tests: an authority, pseudonyms, a pipeline on a
// ManualClock at T0 that records what it accepted and dropped, and message builders.
import { ManualClock } from '../../../hal/clock.ts';
import type { MessageBodies, MessageName } from '../../../v2x/messages/message-types.ts';
import type { Cam } from '../../../v2x/messages/cam.ts';
import { sealMessage } from '../../../v2x/security/envelope.ts';
import type { PseudonymCredential } from '../../../v2x/security/pseudonym-manager.ts';
import { PseudonymSigner } from '../../../v2x/security/pseudonym-signer.ts';
import { ReceptionPipeline } from '../../../v2x/reception/reception-pipeline.ts';
import type { AcceptedMessage, DroppedMessage, ReceptionOptions } from '../../../v2x/reception/reception-pipeline.ts';
import { EXAMPLES, makeAuthority, makePool, T0 } from '../../helpers/v2x-fixtures.ts';
import type { Authority } from '../../helpers/v2x-fixtures.ts';

export { EXAMPLES, T0 };

export interface Rig {
  clock: ManualClock;
  authority: Authority;
  pool: PseudonymCredential[];
  pipeline: ReceptionPipeline;
  accepted: AcceptedMessage[];
  dropped: DroppedMessage[];
  requested: string[];
}

export function rig(opts: Partial<ReceptionOptions> = {}, pseudonyms = 3): Rig {
  const clock = new ManualClock(T0);
  const authority = makeAuthority();
  const pool = makePool(authority, pseudonyms);
  const accepted: AcceptedMessage[] = [];
  const dropped: DroppedMessage[] = [];
  const requested: string[] = [];
  const pipeline = new ReceptionPipeline({
    clock,
    authorities: authority.ring.lookup,
    onAccepted: (m) => accepted.push(m),
    onDropped: (d) => dropped.push(d),
    requestCertificate: (d) => requested.push(Buffer.from(d).toString('hex')),
    ...opts,
  });
  return { clock, authority, pool, pipeline, accepted, dropped, requested };
}

export function seal<N extends MessageName>(cred: PseudonymCredential, type: N, body: MessageBodies[N], generationTime: number, attach = true): Uint8Array {
  return sealMessage({ type, body, generationTime, signer: new PseudonymSigner(cred.key), certificate: attach ? cred.certificate : undefined });
}

/** A CAM at `lat` (1e-7 degree) moving north at `speed` (0.01 m/s). */
export function cam(lat: number, speed = 1389, lon = 115_754_870): Cam {
  return { ...EXAMPLES.cam, position: { latitude: lat, longitude: lon }, speed, longitudinalAcceleration: 0 };
}
