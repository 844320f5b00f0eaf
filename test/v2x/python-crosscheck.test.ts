// Independent check: python3-cryptography (OpenSSL) verifies our ES256 V2X signatures over a
// Sig_structure that python3-cbor2 builds itself from the message parts (RFC 9052 section 4.4).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { decodeCbor } from '../../ledger/cbor/decode.ts';
import type { Tagged } from '../../ledger/cbor/value.ts';
import { sealMessage } from '../../v2x/security/envelope.ts';
import { PseudonymSigner } from '../../v2x/security/pseudonym-signer.ts';
import { MESSAGE_NAMES } from '../../v2x/messages/message-types.ts';
import { EXAMPLES, makeAuthority, makePool, T0 } from '../helpers/v2x-fixtures.ts';

const PY = `
import sys, json, cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives import hashes
from cryptography.exceptions import InvalidSignature
out = []
for case in json.load(sys.stdin):
    msg = cbor2.loads(bytes.fromhex(case["message"]))
    assert msg.tag == 18
    prot, unprot, payload, sig = msg.value
    header = cbor2.loads(prot)
    to_be_signed = cbor2.dumps(["Signature1", prot, b"", payload])
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(case["publicKey"]))
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        key.verify(der, to_be_signed, ec.ECDSA(hashes.SHA256()))
        ok = True
    except InvalidSignature:
        ok = False
    out.append({"ok": ok, "alg": header[1], "kid": header[4].hex(), "typ": header[16]})
print(json.dumps(out))
`;

test('python3-cryptography verifies ES256 V2X messages and certificates over its own Sig_structure', (t) => {
  const authority = makeAuthority('P-256');
  const [cred] = makePool(authority, 1);
  const signer = new PseudonymSigner(cred!.key);
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const cases = MESSAGE_NAMES.map((name) => ({
    message: hex(sealMessage({ type: name, body: EXAMPLES[name] as never, generationTime: T0, signer, certificate: cred!.certificate })),
    publicKey: hex(cred!.key.publicKey),
  }));
  const tampered = Buffer.from(cases[0]!.message, 'hex');
  tampered[tampered.length - 70]! ^= 1;
  cases.push({ message: tampered.toString('hex'), publicKey: cases[0]!.publicKey });
  cases.push({ message: hex(cred!.certificate), publicKey: hex(authority.key.publicKey) });
  const r = spawnSync('/usr/bin/python3', ['-c', PY], { input: JSON.stringify(cases), encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ok: boolean; alg: number; kid: string; typ: string }[];
  for (const o of out.slice(0, MESSAGE_NAMES.length)) {
    t.true(o.ok);
    t.is(o.alg, -7);
    t.is(o.kid, hex(cred!.key.kid.subarray(0, 8)));
    t.is(o.typ, 'application/vnd.voltrail.v2x-message+cose');
  }
  t.false(out[MESSAGE_NAMES.length]!.ok, 'a tampered payload fails under OpenSSL too');
  t.true(out.at(-1)!.ok, 'the authority signature on the certificate');
  t.is(out.at(-1)!.typ, 'application/vnd.voltrail.v2x-pseudonym-cert+cose');
  const certClaims = ((decodeCbor(cred!.certificate) as Tagged).value as Uint8Array[])[2]!;
  t.true(certClaims.length < 160, 'a certificate is small enough to ride once a second');
});
