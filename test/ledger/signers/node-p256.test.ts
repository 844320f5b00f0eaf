import test from 'ava';
import { createHash } from 'node:crypto';
import { nodeP256Backend } from '../../../ledger/signers/node-p256.ts';
import { nobleBackend } from '../../../ledger/signers/noble.ts';
import { sign1, verify1 } from '../../../ledger/cose/sign1.ts';
import { PrivateKey } from '../../../ledger/keys/private-key.ts';
import { KeyRing } from '../../../ledger/cose/key-ring.ts';
import { ES256 } from '../../../ledger/cose/algorithms.ts';
import { signerContract, malleate, toBytes32 } from '../../helpers/signer-contract.ts';

signerContract(nodeP256Backend());

const sha = (m: Uint8Array) => new Uint8Array(createHash('sha256').update(m).digest());

test('verifyMessage agrees with noble over SHA-256 of the concatenated parts', (t) => {
  const b = nodeP256Backend();
  const noble = nobleBackend('P-256');
  const key = toBytes32(0x1234567890abcdefn);
  const pub = b.publicKey(key);
  for (let i = 0; i < 6; i++) {
    const a = new Uint8Array(10 + i).fill(i);
    const c = new Uint8Array(300 - i).fill(0x40 + i);
    const whole = new Uint8Array([...a, ...c]);
    const sig = noble.sign(sha(whole), key);
    t.true(b.verifyMessage!(sig, [a, c], pub));
    t.true(b.verifyMessage!(sig, [whole], pub));
    t.false(b.verifyMessage!(sig, [c, a], pub), 'parts in another order');
    t.false(b.verifyMessage!(malleate(sig, 'P-256'), [whole], pub), 'high-S refused although OpenSSL accepts it');
    t.false(b.verifyMessage!(sig.subarray(1), [whole], pub), 'short signature');
    t.false(b.verifyMessage!(sig, [whole], new Uint8Array([0x02, ...new Uint8Array(32).fill(0xff)])), 'key off the curve');
  }
});

test('verify1 takes the fast path and refuses what the noble path refuses', (t) => {
  const k = PrivateKey.generate('P-256');
  const ring = new KeyRing([{ publicKey: k.publicKey, curve: 'P-256' }]);
  const msg = sign1({ payload: new Uint8Array([1, 2, 3]), typ: 'application/test', signer: k });
  const opts = { keys: ring.lookup, typ: 'application/test', algs: [ES256] as const, backends: { 'P-256': nodeP256Backend() } };
  t.deepEqual([...verify1(msg, opts).payload], [1, 2, 3]);
  const bad = msg.slice();
  bad[bad.length - 70] ^= 1; // inside the payload
  t.throws(() => verify1(bad, opts), { message: /does not verify|payload|COSE/ });
  const badSig = msg.slice();
  badSig[badSig.length - 1] ^= 1;
  t.throws(() => verify1(badSig, opts), { message: /does not verify/ });
});
