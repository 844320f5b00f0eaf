#!/usr/bin/python3
# Writes test/vectors/ecdsa-secp256k1.json and ecdsa-p256.json: Wycheproof-style ECDSA vectors
# for voltrail's profile (SHA-256 digest, r||s 64 bytes, low-S only), computed with the
# independent pure-Python `ecdsa` package (Debian python3-ecdsa: RFC 6979 nonces).
# Run it again only to regenerate: /usr/bin/python3 test/vectors/make-ecdsa-vectors.py
import hashlib, json, os
from ecdsa import SigningKey, SECP256k1, NIST256p
from ecdsa.util import sigencode_strings_canonize

HERE = os.path.dirname(os.path.abspath(__file__))

def i2b(n): return n.to_bytes(32, 'big')

def vectors(curve, name):
    n = curve.order
    tests = []
    tid = [0]
    def add(comment, pub, digest, sig, result, flags=(), msg=None):
        tid[0] += 1
        tests.append({'tcId': tid[0], 'comment': comment, 'publicKey': pub.hex(), 'digest': digest.hex(),
                      'message': (msg if msg is not None else current_msg[0]).hex(),
                      'sig': sig.hex(), 'result': result, 'flags': list(flags)})
    current_msg = [b'']
    # RFC 6979 deterministic signatures over SHA-256 of short messages, private keys 1, 2, ... and a few large ones
    keys = [1, 2, 3, 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721, n - 1, n // 2,
            0x1F2E3D4C5B6A79880102030405060708090A0B0C0D0E0F101112131415161718 % n]
    msgs = [b'sample', b'test', b'Satoshi Nakamoto', b'', b'voltrail record 1', bytes(range(200))]
    signed = []
    for d in keys:
        sk = SigningKey.from_secret_exponent(d, curve=curve, hashfunc=hashlib.sha256)
        pub = sk.get_verifying_key().to_string('compressed')
        for m in msgs:
            digest = hashlib.sha256(m).digest()
            r_b, s_b = sk.sign_digest_deterministic(digest, hashfunc=hashlib.sha256, sigencode=sigencode_strings_canonize)
            sig = r_b + s_b
            current_msg[0] = m
            signed.append({'privateKey': i2b(d).hex(), 'publicKey': pub.hex(), 'message': m.hex(), 'digest': digest.hex(), 'sig': sig.hex()})
            add(f'RFC 6979 low-S, key {d:#x}'[:60] + f', message {m[:20]!r}', pub, digest, sig, 'valid')
    # hostile signatures, Wycheproof style, around one valid signature
    base = signed[len(msgs) * 3 + 1]
    pub = bytes.fromhex(base['publicKey']); digest = bytes.fromhex(base['digest']); sig = bytes.fromhex(base['sig'])
    current_msg[0] = bytes.fromhex(base['message'])
    assert hashlib.sha256(current_msg[0]).digest() == digest
    r = int.from_bytes(sig[:32], 'big'); s = int.from_bytes(sig[32:], 'big')
    add('malleated: s replaced by n - s (high-S)', pub, digest, i2b(r) + i2b(n - s), 'invalid', ['HighS'])
    add('r = 0', pub, digest, i2b(0) + i2b(s), 'invalid', ['RangeCheck'])
    add('s = 0', pub, digest, i2b(r) + i2b(0), 'invalid', ['RangeCheck'])
    add('r = 0, s = 0', pub, digest, i2b(0) + i2b(0), 'invalid', ['RangeCheck'])
    add('r = n', pub, digest, i2b(n) + i2b(s), 'invalid', ['RangeCheck'])
    add('s = n', pub, digest, i2b(r) + i2b(n), 'invalid', ['RangeCheck'])
    if r + n < 2 ** 256:
        add('r + n (same value mod n, >= n)', pub, digest, i2b(r + n) + i2b(s), 'invalid', ['RangeCheck'])
    add('r = 2^256 - 1', pub, digest, b'\xff' * 32 + i2b(s), 'invalid', ['RangeCheck'])
    add('r = 1, s = 1', pub, digest, i2b(1) + i2b(1), 'invalid', ['EdgeCase'])
    add('s = n - 1 (high-S)', pub, digest, i2b(r) + i2b(n - 1), 'invalid', ['HighS'])
    add('63 bytes', pub, digest, sig[:63], 'invalid', ['Length'])
    add('65 bytes', pub, digest, sig + b'\x00', 'invalid', ['Length'])
    add('empty signature', pub, digest, b'', 'invalid', ['Length'])
    der = b'\x30' + bytes([4 + 2 * 33]) + b'\x02\x21\x00' + sig[:32] + b'\x02\x21\x00' + sig[32:]
    add('DER instead of r||s', pub, digest, der, 'invalid', ['Encoding'])
    add('r and s swapped', pub, digest, sig[32:] + sig[:32], 'invalid', ['Modified'])
    add('last bit of s flipped', pub, digest, sig[:63] + bytes([sig[63] ^ 1]), 'invalid', ['Modified'])
    add('other digest', pub, hashlib.sha256(b'other').digest(), sig, 'invalid', ['Modified'], b'other')
    # public keys that are not points of the curve
    x = int.from_bytes(pub[1:], 'big')
    p = curve.curve.p()
    bad_x = None
    for cand in range(x + 1, x + 200):
        rhs = (pow(cand, 3, p) + curve.curve.a() * cand + curve.curve.b()) % p
        if pow(rhs, (p - 1) // 2, p) != 1:  # no square root: no point with this x
            bad_x = cand
            break
    add('public key x has no point on the curve', bytes([2]) + i2b(bad_x), digest, sig, 'invalid', ['InvalidPublicKey'])
    add('public key x >= p', bytes([2]) + i2b(p + 1 if p + 1 < 2 ** 256 else 2 ** 256 - 1), digest, sig, 'invalid', ['InvalidPublicKey'])
    add('public key prefix 0x05', bytes([5]) + pub[1:], digest, sig, 'invalid', ['InvalidPublicKey'])
    add('public key, other y (negated point)', bytes([pub[0] ^ 1]) + pub[1:], digest, sig, 'invalid', ['Modified'])
    add('public key truncated', pub[:32], digest, sig, 'invalid', ['InvalidPublicKey'])
    return {'algorithm': 'ECDSA', 'curve': name, 'hash': 'SHA-256 (digest given)', 'encoding': 'r||s, 32 bytes each',
            'profile': 'voltrail: RFC 6979 deterministic, low-S required (s <= n/2)',
            'generatedBy': 'test/vectors/make-ecdsa-vectors.py with python3-ecdsa',
            'signatures': signed, 'tests': tests}

for curve, name, fname in [(SECP256k1, 'secp256k1', 'ecdsa-secp256k1.json'), (NIST256p, 'P-256', 'ecdsa-p256.json')]:
    with open(os.path.join(HERE, fname), 'w') as f:
        json.dump(vectors(curve, name), f, indent=1)
        f.write('\n')
