import test from 'ava';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli as run } from '../helpers/cli.ts';

const runCli = (args: string[]) => run(args, { timeoutMs: 120_000 });
import { demoKeys } from '../../v2x/demo-keys.ts';
import { EnvelopeVerifier } from '../../v2x/security/envelope.ts';
import { KeyRing } from '../../ledger/cose/key-ring.ts';
import { bodyToJson } from '../../v2x/codec/json-form.ts';
import { MESSAGE_SCHEMA } from '../../v2x/messages/message-types.ts';
import { EXAMPLES } from '../helpers/v2x-fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'voltrail-v2x-cli-'));
const demo = demoKeys();
const AUTHORITY = Buffer.from(demo.authority.publicKey).toString('hex');
const camJson = join(dir, 'cam.json');
writeFileSync(camJson, JSON.stringify(bodyToJson(MESSAGE_SCHEMA.cam, EXAMPLES.cam)));
const receiptJson = join(dir, 'receipt.json');
writeFileSync(receiptJson, JSON.stringify(bodyToJson(MESSAGE_SCHEMA.receipt, EXAMPLES.receipt)));

test.serial('send writes a signed message that decode verifies against the authority, and marks unverified without one', async (t) => {
  t.timeout(180_000); // each run starts a fresh process; slow when the machine is loaded
  const out = join(dir, 'cam.cbor');
  const s = await runCli(['v2x', 'send', 'cam', '--json', camJson, '--demo-keys', '--out', out, '--time', '2026-03-01T08:00:00Z']);
  t.is(s.code, 0, s.stderr);
  t.regex(s.stderr, new RegExp(`--authority ${AUTHORITY}`));
  const ok = await runCli(['v2x', 'decode', out, '--authority', AUTHORITY, '--json']);
  const plain = await runCli(['v2x', 'decode', out]);
  const wrong = await runCli(['v2x', 'decode', out, '--authority', Buffer.from(demo.identityKey.publicKey).toString('hex')]);
  t.is(ok.code, 0, ok.stderr);
  const r = JSON.parse(ok.stdout) as { verified: boolean; type: string; body: { speed: number }; generationTime: string; certificate: { permissions: string[] } };
  t.true(r.verified);
  t.is(r.type, 'cam');
  t.is(r.body.speed, EXAMPLES.cam.speed);
  t.is(r.generationTime, '2026-03-01T08:00:00.000Z');
  t.true(r.certificate.permissions.includes('charging-offer'));
  t.is(plain.code, 0);
  t.regex(plain.stdout, /^UNVERIFIED {2}cam at 2026-03-01T08:00:00.000Z/);
  t.is(wrong.code, 1);
  t.regex(wrong.stdout, /^REFUSED \(bad-certificate\)/);
});

test.serial('fields as flags; an out-of-range field is refused naming it; unknown types are usage errors', async (t) => {
  t.timeout(180_000); // each run starts a fresh process; slow when the machine is loaded
  const flagged = await runCli(['v2x', 'send', 'cam', '--json', camJson, '--field', 'speed=2000', '--field', 'position.latitude=-1', '--alg', 'ES256K', '--json-output']);
  const bad = await runCli(['v2x', 'send', 'cam', '--json', camJson, '--field', 'heading=3600']);
  const unknown = await runCli(['v2x', 'send', 'teleport', '--json', camJson]);
  t.is(flagged.code, 0, flagged.stderr);
  const f = JSON.parse(flagged.stdout) as { hex: string; authority: string };
  const v = new EnvelopeVerifier({ authorities: new KeyRing([{ publicKey: Buffer.from(f.authority, 'hex'), curve: 'P-256' }]).lookup });
  const m = v.open(Buffer.from(f.hex, 'hex'));
  t.is((m.body as { speed: number }).speed, 2000);
  t.is((m.body as { position: { latitude: number } }).position.latitude, -1);
  t.is(m.certificate.curve, 'secp256k1', '--alg ES256K');
  t.is(bad.code, 1);
  t.regex(bad.stderr, /cam\.heading: 3600 is out of range \[0, 3599\] 0\.1 degree/);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown message type 'teleport'/);
});

test.serial('encode prints canonical CBOR of a body; decode --type reads it back', async (t) => {
  t.timeout(180_000); // each run starts a fresh process; slow when the machine is loaded
  const e = await runCli(['v2x', 'encode', 'receipt', '--json', receiptJson]);
  t.is(e.code, 0, e.stderr);
  const d = await runCli(['v2x', 'decode', '--hex', e.stdout.trim(), '--type', 'receipt', '--json']);
  t.is(d.code, 0, d.stderr);
  t.deepEqual((JSON.parse(d.stdout) as { body: unknown }).body, JSON.parse(readFileSync(receiptJson, 'utf8')));
  const bad = await runCli(['v2x', 'decode', '--hex', e.stdout.trim().replace(/^aa/, 'b80a'), '--type', 'receipt']);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /receipt: CBOR at byte 0: argument 10 should be in the initial byte/);
});

test.serial('send --to udp:// delivers one datagram on loopback', async (t) => {
  t.timeout(180_000); // each run starts a fresh process; slow when the machine is loaded
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const port = socket.address().port;
  const got = new Promise<Buffer>((r) => socket.once('message', (m) => r(m)));
  const s = await runCli(['v2x', 'send', 'cam', '--json', camJson, '--demo-keys', '--to', `udp://127.0.0.1:${port}`]);
  t.is(s.code, 0, s.stderr);
  const msg = await got;
  socket.close();
  const v = new EnvelopeVerifier({ authorities: new KeyRing([{ publicKey: demo.authority.publicKey, curve: 'P-256' }]).lookup });
  t.is(v.open(msg).type, 'cam');
  const badUrl = await runCli(['v2x', 'send', 'cam', '--json', camJson, '--to', 'tcp://x:1']);
  t.is(badUrl.code, 2);
});

test.serial('attestation: answer a challenge message; decode shows the statement', async (t) => {
  t.timeout(180_000); // each run starts a fresh process; slow when the machine is loaded
  const ch = join(dir, 'challenge.hex');
  const c = await runCli(['v2x', 'send', 'attestation-challenge', '--field', 'challengerId=900001', '--field', `nonce=${'11'.repeat(16)}`, '--demo-keys']);
  t.is(c.code, 0, c.stderr);
  writeFileSync(ch, c.stdout);
  const a = await runCli(['v2x', 'send', 'attestation', '--challenge', ch, '--demo-keys']);
  t.is(a.code, 0, a.stderr);
  const d = await runCli(['v2x', 'decode', '--hex', a.stdout.trim(), '--authority', AUTHORITY, '--json']);
  t.is(d.code, 0, d.stderr);
  const r = JSON.parse(d.stdout) as { verified: boolean; body: { statementContent: { challengerId: number; nonce: string } } };
  t.true(r.verified);
  t.is(r.body.statementContent.challengerId, 900001);
  t.is(r.body.statementContent.nonce, '11'.repeat(16));
  const noChallenge = await runCli(['v2x', 'send', 'attestation']);
  t.is(noChallenge.code, 2);
  t.regex(noChallenge.stderr, /--challenge/);
});
