// RFC 6979 nonce agreement with python3-ecdsa (pure Python, independent of noble and OpenSSL):
// for random keys and digests, its deterministic signature, normalised to low-S, is byte for
// byte ours, on secp256k1 and P-256.
import test from 'ava';
import fc from 'fast-check';
import { nobleBackend } from '../../../ledger/signers/noble.ts';
import { runPython } from '../../helpers/python.ts';

const SCRIPT = String.raw`
import sys, json, hashlib
from ecdsa import SigningKey, SECP256k1, NIST256p
from ecdsa.util import sigencode_strings_canonize
CURVES = {'secp256k1': SECP256k1, 'P-256': NIST256p}
out = []
for c in json.load(sys.stdin):
    sk = SigningKey.from_string(bytes.fromhex(c['privateKey']), curve=CURVES[c['curve']], hashfunc=hashlib.sha256)
    r, s = sk.sign_digest_deterministic(bytes.fromhex(c['digest']), hashfunc=hashlib.sha256, sigencode=sigencode_strings_canonize)
    out.append({'sig': (r + s).hex(), 'publicKey': sk.get_verifying_key().to_string('compressed').hex()})
print(json.dumps(out))
`;

const ORDER = {
  secp256k1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
  'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
};

test('python3-ecdsa RFC 6979 signatures (low-S) equal ours, for random keys and digests', async (t) => {
  const cases: { curve: 'secp256k1' | 'P-256'; privateKey: string; digest: string }[] = [];
  fc.assert(
    fc.property(fc.bigInt({ min: 1n, max: ORDER['P-256'] - 1n }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.boolean(), (k, digest, k1) => {
      const curve = k1 ? 'secp256k1' : 'P-256';
      cases.push({ curve, privateKey: (k % (ORDER[curve] - 1n) + 1n).toString(16).padStart(64, '0'), digest: Buffer.from(digest).toString('hex') });
    }),
    { numRuns: 40, seed: 6979 },
  );
  const theirs = await runPython<{ sig: string; publicKey: string }[]>(SCRIPT, cases);
  cases.forEach((c, i) => {
    const b = nobleBackend(c.curve);
    const key = Buffer.from(c.privateKey, 'hex');
    t.is(Buffer.from(b.sign(Buffer.from(c.digest, 'hex'), key)).toString('hex'), theirs[i]!.sig, `${c.curve} case ${i}`);
    t.is(Buffer.from(b.publicKey(key)).toString('hex'), theirs[i]!.publicKey);
  });
});
