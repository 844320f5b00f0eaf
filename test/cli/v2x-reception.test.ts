// `voltrail v2x listen` and `voltrail v2x sim` as a user runs them: real processes, real UDP.
import test from 'ava';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { runCli, VOLTRAIL } from '../helpers/cli.ts';
import { demoKeys } from '../../v2x/demo-keys.ts';
import { sealMessage } from '../../v2x/security/envelope.ts';
import { PseudonymSigner } from '../../v2x/security/pseudonym-signer.ts';
import { EXAMPLES } from '../helpers/v2x-fixtures.ts';

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('listen accepts a genuine message and counts the duplicate, junk, oversized and forged ones by reason', async (t) => {
  t.timeout(180_000);
  const port = await freePort();
  const child = spawn(process.execPath, [VOLTRAIL, 'v2x', 'listen', '--on', `udp://127.0.0.1:${port}`, '--demo-keys', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const listening = new Promise<void>((resolve) =>
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('listening on')) resolve();
    }),
  );
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  await listening;
  const demo = demoKeys();
  const now = Date.now();
  const good = sealMessage({ type: 'cam', body: EXAMPLES.cam, generationTime: now, signer: new PseudonymSigner(demo.pseudonym.key), certificate: demo.pseudonym.certificate });
  const forged = good.slice();
  forged[forged.length - 1]! ^= 1;
  const tx = createSocket('udp4');
  const send = (b: Uint8Array) => new Promise<void>((r, j) => tx.send(b, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  await send(good);
  await send(good);
  await send(new Uint8Array([0xde, 0xad]));
  await send(new Uint8Array(3000));
  await send(forged);
  tx.close();
  const deadline = Date.now() + 60_000;
  while (!stdout.includes('"type":"cam"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  child.kill('SIGINT');
  t.is(await closed, 0, stderr);
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const accepted = lines.filter((l) => l.type !== undefined);
  t.is(accepted.length, 1);
  t.is((accepted[0]!.body as { stationId: number }).stationId, EXAMPLES.cam.stationId);
  t.is(accepted[0]!.signer, Buffer.from(demo.pseudonym.info.digest).toString('hex'));
  // The forged copy carries the genuine one's signer and time: checked before the genuine one is
  // accepted it fails its signature; after, the replay check refuses it first. Never accepted.
  const { counters } = lines.at(-1) as { counters: { received: number; accepted: number; dropped: Record<string, number> } };
  const { 'bad-signature': badSignature = 0, replay = 0, ...rest } = counters.dropped;
  t.is(badSignature + replay, 1, JSON.stringify(counters));
  t.deepEqual({ received: counters.received, accepted: counters.accepted, dropped: rest }, { received: 5, accepted: 1, dropped: { duplicate: 1, malformed: 1, size: 1 } });
});

test('listen without an authority to verify against says what to give', async (t) => {
  t.timeout(120_000);
  const r = await runCli(['v2x', 'listen', '--on', 'udp://127.0.0.1:45999', '--duration', '1']);
  t.is(r.code, 2);
  t.regex(r.stderr, /--authority HEX .* or --demo-keys/);
});

test('sim runs vehicles, a roadside unit and attackers, with a JSON summary each second', async (t) => {
  t.timeout(180_000);
  // Every attacker's reason is covered on a ManualClock (test/v2x/sim); here, on a machine
  // that may be loaded, the process runs, verifies, refuses junk and its counts add up.
  const r = await runCli(['v2x', 'sim', '--vehicles', '8', '--rsu', '--attackers', '4', '--duration', '5', '--json'], { timeoutMs: 170_000 });
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.true(lines.length >= 2);
  const last = JSON.parse(lines.at(-1)!) as { vehicles: number; accepted: number; received: number; dropped: Record<string, number> };
  t.is(last.vehicles, 8);
  t.true(last.accepted > 0, JSON.stringify(last));
  t.true((last.dropped.malformed ?? 0) > 0, JSON.stringify(last.dropped));
  t.is(last.received, last.accepted + Object.values(last.dropped).reduce((a, b) => a + b, 0));
});
