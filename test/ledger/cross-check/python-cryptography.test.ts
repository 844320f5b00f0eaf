// Our COSE_Sign1 messages, checked by independent code: Python's cbor2 takes the message
// apart and rebuilds Sig_structure, python3-cryptography (OpenSSL) verifies the ECDSA
// signature (r||s converted to DER), derives the public key from the private key and
// recomputes the RFC 9679 kid.
import test from 'ava';
import { sign1 } from '../../../ledger/cose/sign1.ts';
import { PrivateKey } from '../../../ledger/keys/private-key.ts';
import { TYP } from '../../../ledger/typ.ts';
import { encodeCanonical } from '../../../ledger/cbor/canonical-encode.ts';
import type { CborValue } from '../../../ledger/cbor/value.ts';
import { runPython } from '../../helpers/python.ts';

const SCRIPT = String.raw`
import sys, json, hashlib, cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.exceptions import InvalidSignature

CURVES = {'secp256k1': (ec.SECP256K1(), 8, -47), 'P-256': (ec.SECP256R1(), 1, -7)}
out = []
for case in json.load(sys.stdin):
    curve, crv, alg = CURVES[case['curve']]
    priv = ec.derive_private_key(int(case['privateKey'], 16), curve)
    pub = priv.public_key()
    pub_c = pub.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    pub_u = pub.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    cose_key = {1: 2, -1: crv, -2: pub_u[1:33], -3: pub_u[33:]}
    kid = hashlib.sha256(cbor2.dumps(cose_key, canonical=True)).hexdigest()
    msg = cbor2.loads(bytes.fromhex(case['message']))
    ok_tag = isinstance(msg, cbor2.CBORTag) and msg.tag == 18
    protected, unprotected, payload, sig = msg.value
    header = cbor2.loads(protected)
    tbs = cbor2.dumps(['Signature1', protected, bytes.fromhex(case['aad']), payload])
    r = int.from_bytes(sig[:32], 'big'); s = int.from_bytes(sig[32:], 'big')
    results = {}
    for name, data in [('good', tbs), ('tampered', tbs[:-1] + bytes([tbs[-1] ^ 1]))]:
        try:
            pub.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
            results[name] = True
        except InvalidSignature:
            results[name] = False
    out.append({'tag': ok_tag, 'publicKey': pub_c.hex(), 'kid': kid, 'alg': header.get(1), 'hdrKid': header.get(4).hex(),
                'typ': header.get(16), 'payload': payload.hex(), 'verifies': results['good'], 'tamperedVerifies': results['tampered'], 'sLen': len(sig)})
print(json.dumps(out))
`;

test('python3-cryptography verifies our ES256K and ES256 signatures and agrees on keys and kids', async (t) => {
  const cases: { curve: string; privateKey: string; message: string; aad: string; key: PrivateKey; payload: Uint8Array; typ: string }[] = [];
  for (const curve of ['secp256k1', 'P-256'] as const) {
    for (let i = 0; i < 6; i++) {
      const secret = new Uint8Array(32).map((_, j) => (i * 31 + j * 7 + (curve === 'P-256' ? 3 : 0)) & 0xff);
      const key = PrivateKey.fromBytes(secret, curve);
      const payload = encodeCanonical(new Map<number, CborValue>([[1, i], [2, Array.from({ length: 96 }, (_, c) => 3600 + c)], [3, 'x'.repeat(i * 50)]]));
      const typ = i % 2 ? TYP.record : TYP.v2xMessage;
      const aad = new Uint8Array(i % 3);
      const message = sign1({ payload, typ, signer: key, externalAad: aad });
      cases.push({ curve, privateKey: Buffer.from(secret).toString('hex'), message: Buffer.from(message).toString('hex'), aad: Buffer.from(aad).toString('hex'), key, payload, typ });
    }
  }
  const results = await runPython<{ tag: boolean; publicKey: string; kid: string; alg: number; hdrKid: string; typ: string; payload: string; verifies: boolean; tamperedVerifies: boolean; sLen: number }[]>(
    SCRIPT,
    cases.map(({ curve, privateKey, message, aad }) => ({ curve, privateKey, message, aad })),
  );
  t.is(results.length, cases.length);
  results.forEach((r, i) => {
    const c = cases[i]!;
    t.true(r.tag);
    t.true(r.verifies, `case ${i} (${c.curve}) does not verify in OpenSSL`);
    t.false(r.tamperedVerifies);
    t.is(r.publicKey, Buffer.from(c.key.publicKey).toString('hex'));
    t.is(r.kid, Buffer.from(c.key.kid).toString('hex'));
    t.is(r.hdrKid, r.kid);
    t.is(r.alg, c.curve === 'secp256k1' ? -47 : -7);
    t.is(r.typ, c.typ);
    t.is(r.payload, Buffer.from(c.payload).toString('hex'));
    t.is(r.sLen, 64);
  });
});
