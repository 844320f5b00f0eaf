import test from 'ava';
import { coseKey, keyThumbprint, publicKeyCoordinates } from '../../../ledger/cose/key-thumbprint.ts';
import { encodeCanonical } from '../../../ledger/cbor/canonical-encode.ts';
import { nobleBackend } from '../../../ledger/signers/noble.ts';

// RFC 9679 section 6 (example): the P-256 key of RFC 9052 C.7.1 "meriadoc.brandybuck@buckland.example".
const X = '65eda5a12577c2bae829437fe338701a10aaa375e1bb5b5de108de439c08551d';
const Y = '1e52ed75701163f7f9e40ddf9f341b3dc9ba860af7e0ca7ca7e9eecd0084d19c';
const THUMBPRINT = '496bd8afadf307e5b08c64b0421bf9dc01528a344a43bda88fadd1669da253ec';

test('RFC 9679 example: the thumbprint of the EC2 P-256 key', (t) => {
  const uncompressed = Buffer.from('04' + X + Y, 'hex');
  t.is(Buffer.from(keyThumbprint(uncompressed, 'P-256')).toString('hex'), THUMBPRINT);
  // the same key given compressed (y is even: prefix 02) has the same thumbprint
  const compressed = Buffer.from((parseInt(Y.slice(-1), 16) % 2 ? '03' : '02') + X, 'hex');
  t.is(Buffer.from(keyThumbprint(compressed, 'P-256')).toString('hex'), THUMBPRINT);
  t.is(Buffer.from(encodeCanonical(coseKey(compressed, 'P-256'))).toString('hex'), `a401022001215820${X}225820${Y}`);
});

test('secp256k1 keys use crv 8; the two curves never share a thumbprint', (t) => {
  const pub = nobleBackend('secp256k1').publicKey(new Uint8Array(32).fill(1));
  t.is(coseKey(pub, 'secp256k1').get(-1), 8);
  t.is(publicKeyCoordinates(pub, 'secp256k1').x.length, 32);
  t.throws(() => keyThumbprint(new Uint8Array([2, ...new Uint8Array(32).fill(0xff)]), 'secp256k1'), { instanceOf: RangeError, message: /not a secp256k1 point/ });
  t.throws(() => keyThumbprint(pub.subarray(1), 'secp256k1'), { instanceOf: RangeError });
});
