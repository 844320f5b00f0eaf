// The examples in v2x/README.md are checked here, so the documentation stays true.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { bodyFromJson, bodyToJson } from '../../v2x/codec/json-form.ts';
import { decodeBody, encodeBody, MESSAGE_NAMES, MESSAGE_SCHEMA } from '../../v2x/messages/message-types.ts';
import type { MessageName } from '../../v2x/messages/message-types.ts';
import { EnvelopeVerifier, sealMessage } from '../../v2x/security/envelope.ts';
import { PseudonymSigner } from '../../v2x/security/pseudonym-signer.ts';
import { demoKeys } from '../../v2x/demo-keys.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';

const README = readFileSync(new URL('../../v2x/README.md', import.meta.url), 'utf8');

test('every message has a JSON example and its CBOR hex, and they match', (t) => {
  const pairs = [...README.matchAll(/```json (\w+)\n([\s\S]*?)```\n```hex \1\n([\s\S]*?)```/g)];
  t.deepEqual(pairs.map((m) => m[1]).sort(), [...MESSAGE_NAMES].sort());
  for (const [, name, json, hex] of pairs) {
    const type = name as MessageName;
    const body = bodyFromJson(MESSAGE_SCHEMA[type], JSON.parse(json!));
    t.is(Buffer.from(encodeBody(type, body as never)).toString('hex'), hex!.trim(), name);
    t.deepEqual(bodyToJson(MESSAGE_SCHEMA[type], decodeBody(type, Buffer.from(hex!.trim(), 'hex'))), JSON.parse(json!));
  }
});

test('the signed example is reproducible with the demo keys and verifies', (t) => {
  const hex = /```hex signed-cam\n([0-9a-f]+)\n```/.exec(README)![1]!;
  const cam = bodyFromJson(MESSAGE_SCHEMA.cam, JSON.parse(/```json cam\n([\s\S]*?)```/.exec(README)![1]!));
  const d = demoKeys();
  const bytes = sealMessage({ type: 'cam', body: cam as never, generationTime: Date.UTC(2026, 2, 1, 8), signer: new PseudonymSigner(d.pseudonym.key) });
  t.is(Buffer.from(bytes).toString('hex'), hex);
  const v = new EnvelopeVerifier({ authorities: new KeyRing([{ publicKey: d.authority.publicKey, curve: 'P-256' }]).lookup });
  v.learnCertificate(d.pseudonym.certificate);
  t.is(v.open(bytes).type, 'cam');
  t.true(README.includes(Buffer.from(d.authority.publicKey).toString('hex')), 'the README names the demo authority key');
});
