import test from 'ava';
import { opensslVerifyBackend, loadOpensslVerify } from '../../../ledger/signers/openssl-verify.ts';
import { nobleBackend } from '../../../ledger/signers/noble.ts';
import { selfTest } from '../../../ledger/signers/pick.ts';
import { signerContract } from '../../helpers/signer-contract.ts';

signerContract(opensslVerifyBackend('secp256k1'));
signerContract(opensslVerifyBackend('P-256'));

test('it is available here and passes the self-test against noble on both curves', (t) => {
  for (const curve of ['secp256k1', 'P-256'] as const) {
    const b = loadOpensslVerify(curve);
    t.truthy(b);
    t.is(selfTest(b!, nobleBackend(curve)), undefined);
  }
});

test('uncompressed public keys verify too', async (t) => {
  const { createHash } = await import('node:crypto');
  const { secp256k1 } = await import('@noble/curves/secp256k1.js');
  const key = new Uint8Array(32).fill(4);
  const msg = new Uint8Array([1, 2, 3]);
  const b = opensslVerifyBackend('secp256k1');
  const sig = b.sign(createHash('sha256').update(msg).digest(), key);
  t.true(b.verifyMessage!(sig, msg, secp256k1.getPublicKey(key, false)));
});
