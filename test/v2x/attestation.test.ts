import test from 'ava';
import { ManualClock } from '../../hal/clock.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { AttestationVerifier, signAttestation } from '../../v2x/attestation/attestation.ts';
import { AttestationResponder } from '../../v2x/attestation/attestation-responder.ts';
import { fleetIdentityVerifier, issueVehicleIdentity } from '../../v2x/attestation/vehicle-identity.ts';
import { EnvelopeVerifier } from '../../v2x/security/envelope.ts';
import { MessageSealer } from '../../v2x/security/message-sealer.ts';
import { PseudonymManager } from '../../v2x/security/pseudonym-manager.ts';
import type { AttestationAnswer } from '../../v2x/messages/attestation-messages.ts';
import { V2xError } from '../../v2x/v2x-error.ts';
import { makeAuthority, makePool, T0 } from '../helpers/v2x-fixtures.ts';

const fleet = makeAuthority('secp256k1'); // the fleet authority signs identity statements
const v2xAuthority = makeAuthority('P-256'); // and pseudonym certificates (may be another key)
const CHALLENGER = 900_001;

function setup() {
  const clock = new ManualClock(T0);
  // Station side.
  const stationPseudonyms = new PseudonymManager(makePool(v2xAuthority, 1), { clock });
  const stationSealer = new MessageSealer({ pseudonyms: stationPseudonyms, clock });
  const verifier = new AttestationVerifier({ challengerId: CHALLENGER, clock, identity: fleetIdentityVerifier({ authorities: fleet.ring.lookup }) });
  // Vehicle side.
  const identityKey = PrivateKey.generate('secp256k1');
  const identityStatement = issueVehicleIdentity(fleet.key, { vehicleId: 'WVWZZZ1JZXW000001', publicKey: identityKey.publicKey, curve: 'secp256k1', notBefore: T0 - 86_400_000, notAfter: T0 + 365 * 86_400_000 });
  const pseudonyms = new PseudonymManager(makePool(v2xAuthority, 3), { clock });
  const sealer = new MessageSealer({ pseudonyms, clock });
  const responder = new AttestationResponder({ sealer, clock, identityKey, identityStatement, consent: (id) => id === CHALLENGER });
  const envelopes = new EnvelopeVerifier({ authorities: v2xAuthority.ring.lookup });
  return { clock, stationSealer, verifier, identityKey, identityStatement, pseudonyms, responder, envelopes };
}

function exchange(s: ReturnType<typeof setup>, delayMs = 200) {
  const { body } = s.verifier.challenge();
  const challengeMsg = s.envelopes.open(s.stationSealer.seal('attestationChallenge', body));
  s.clock.advance(delayMs);
  const pseudonymBefore = s.pseudonyms.current.digest;
  const answerBytes = s.responder.respond(challengeMsg)!;
  const answer = s.envelopes.open(answerBytes);
  return { answer, statement: (answer.body as AttestationAnswer).statement, pseudonymBefore };
}

const reason = (fn: () => unknown) => {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    if (err instanceof V2xError) return err.reason;
    throw err;
  }
};

test('a valid answer reveals the vehicle identity bound to the pseudonym that carried it', (t) => {
  const s = setup();
  const { answer, statement, pseudonymBefore } = exchange(s);
  t.deepEqual([...answer.signer], [...pseudonymBefore]);
  const r = s.verifier.verify(statement, answer.signer);
  t.is(r.vehicle.vehicleId, 'WVWZZZ1JZXW000001');
  t.deepEqual([...r.vehicle.publicKey], [...s.identityKey.publicKey]);
  t.deepEqual([...r.pseudonym], [...pseudonymBefore]);
  t.notDeepEqual([...s.pseudonyms.current.digest], [...pseudonymBefore], 'the vehicle changed pseudonym after revealing itself');
});

test('the same answer replayed (same nonce) is refused', (t) => {
  const s = setup();
  const { answer, statement } = exchange(s);
  s.verifier.verify(statement, answer.signer);
  t.is(reason(() => s.verifier.verify(statement, answer.signer)), 'replayed');
});

test('an answer to another challenger is refused, and one this challenger never issued', (t) => {
  const s = setup();
  const { answer, statement } = exchange(s);
  const other = new AttestationVerifier({ challengerId: CHALLENGER + 1, clock: s.clock, identity: fleetIdentityVerifier({ authorities: fleet.ring.lookup }) });
  t.is(reason(() => other.verify(statement, answer.signer)), 'wrong-challenger');
  const sameIdFresh = new AttestationVerifier({ challengerId: CHALLENGER, clock: s.clock, identity: fleetIdentityVerifier({ authorities: fleet.ring.lookup }) });
  t.is(reason(() => sameIdFresh.verify(statement, answer.signer)), 'unknown-challenge');
});

test('a stale answer is refused (5 s default)', (t) => {
  const s = setup();
  const { answer, statement } = exchange(s, 5_100);
  t.is(reason(() => s.verifier.verify(statement, answer.signer)), 'stale');
});

test('an answer signed by a key no fleet statement certifies is refused', (t) => {
  const s = setup();
  const { body, time } = s.verifier.challenge();
  const rogue = PrivateKey.generate('secp256k1');
  // The rogue key presents the real vehicle's statement (for another key) ...
  const borrowed = signAttestation({ challenge: body, challengeTime: time, pseudonym: s.pseudonyms.current.digest, identityKey: rogue, identityStatement: s.identityStatement, now: T0 });
  t.is(reason(() => s.verifier.verify(borrowed)), 'uncertified');
  // ... or a statement for itself signed by someone other than the fleet.
  const selfMade = issueVehicleIdentity(PrivateKey.generate('secp256k1'), { vehicleId: 'X', publicKey: rogue.publicKey, curve: 'secp256k1', notBefore: T0 - 1, notAfter: T0 + 1e9 });
  const { body: b2, time: t2 } = s.verifier.challenge();
  const selfSigned = signAttestation({ challenge: b2, challengeTime: t2, pseudonym: s.pseudonyms.current.digest, identityKey: rogue, identityStatement: selfMade, now: T0 });
  t.is(reason(() => s.verifier.verify(selfSigned)), 'uncertified');
});

test('an answer carried by another pseudonym than it names is refused; a forged signature too', (t) => {
  const s = setup();
  const { answer, statement } = exchange(s);
  t.is(reason(() => s.verifier.verify(statement, new Uint8Array(8).fill(1))), 'not-bound');
  const forged = statement.slice();
  forged[forged.length - 3]! ^= 1;
  t.is(reason(() => s.verifier.verify(forged, answer.signer)), 'bad-signature');
});

test('the vehicle does not answer challengers it did not consent to, nor challenges for another pseudonym', (t) => {
  const s = setup();
  const clock = s.clock;
  const strangerPseudonyms = new PseudonymManager(makePool(v2xAuthority, 1), { clock });
  const strangerSealer = new MessageSealer({ pseudonyms: strangerPseudonyms, clock });
  const stranger = new AttestationVerifier({ challengerId: 12345, clock, identity: fleetIdentityVerifier({ authorities: fleet.ring.lookup }) });
  t.is(s.responder.respond(s.envelopes.open(strangerSealer.seal('attestationChallenge', stranger.challenge().body))), undefined);
  const targeted = s.verifier.challenge(new Uint8Array(8).fill(9)).body;
  t.is(s.responder.respond(s.envelopes.open(s.stationSealer.seal('attestationChallenge', targeted))), undefined);
});
