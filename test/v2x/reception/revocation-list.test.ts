// The pseudonym revocation list: its bytes conform to v2x/cddl/revocation.cddl, it reads back
// (sorted, deduplicated digests), and it refuses a rogue authority, an altered list and bad
// input; the OpenSSL sealer's envelopes conform to the envelope CDDL too.
import test from 'ava';
import { decodeCbor } from '../../../ledger/cbor/decode.ts';
import type { Tagged } from '../../../ledger/cbor/value.ts';
import { issueRevocationList, readRevocationList, RevocationStore } from '../../../v2x/reception/revocation-list.ts';
import { OpensslSealer } from '../../../v2x/sim/openssl-sealer.ts';
import { check, loadCddl } from '../../helpers/cddl-check.ts';
import { makeAuthority, makePool } from '../../helpers/v2x-fixtures.ts';
import { EXAMPLES, T0 } from './reception-fixtures.ts';

const CDDL = loadCddl(new URL('../../../v2x/cddl/', import.meta.url));
const d = (n: number) => new Uint8Array(8).fill(n);

test('a revocation list conforms to the CDDL and reads back sorted and deduplicated', (t) => {
  const a = makeAuthority();
  const bytes = issueRevocationList(a.key, { issued: T0, nextUpdate: T0 + 86_400_000, revoked: [d(9), d(1), d(9)] });
  const top = decodeCbor(bytes) as Tagged;
  t.is(check(CDDL, 'revocation-list', top), undefined);
  t.is(check(CDDL, 'revocation-claims', decodeCbor((top.value as Uint8Array[])[2]!)), undefined);
  const list = readRevocationList(bytes, a.ring.lookup);
  t.is(list.size, 2);
  t.true(list.has(d(9)));
  t.true(list.has('0101010101010101'));
  t.false(list.has(d(2)));
  t.is(list.issued, T0);
  t.is(list.nextUpdate, T0 + 86_400_000);
});

test('a list from another authority, or altered, is refused; bad input names the field', (t) => {
  const a = makeAuthority();
  const store = new RevocationStore(a.ring.lookup);
  const rogue = issueRevocationList(makeAuthority().key, { issued: T0, nextUpdate: T0 + 1000, revoked: [d(1)] });
  t.throws(() => store.load(rogue), { message: /revocation list/ });
  const good = issueRevocationList(a.key, { issued: T0, nextUpdate: T0 + 1000, revoked: [d(1)] });
  const altered = good.slice();
  altered[altered.length - 70]! ^= 1;
  t.throws(() => store.load(altered));
  t.true(store.load(good));
  t.true(store.isRevoked('0101010101010101'));
  t.throws(() => issueRevocationList(a.key, { issued: T0, nextUpdate: T0 + 1000, revoked: [new Uint8Array(7)] }), { instanceOf: RangeError, message: /revoked\[0\]/ });
  t.throws(() => issueRevocationList(a.key, { issued: T0, nextUpdate: T0, revoked: [] }), { instanceOf: RangeError, message: /nextUpdate/ });
});

test('the OpenSSL sealer makes envelopes that conform to the envelope CDDL', (t) => {
  const cred = makePool(makeAuthority(), 1)[0]!;
  const s = new OpensslSealer(cred);
  for (const attach of [false, true]) {
    t.is(check(CDDL, 'v2x-message', decodeCbor(s.seal('denm', EXAMPLES.denm, T0, attach))), undefined);
  }
});
