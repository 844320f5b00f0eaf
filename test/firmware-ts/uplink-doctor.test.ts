// doctor's "uplink reachable" item against a real mosquitto: a real MQTT 5 session (not just a
// TCP connect), how far the fleet has acknowledged the ledger, and a red item with what to do
// once the broker is gone.
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../firmware-ts/runtime/config.ts';
import { probeUplink } from '../../firmware-ts/uplink/uplink-probe.ts';
import { writeOffset } from '../../firmware-ts/uplink/resend-offset.ts';
import { makeFleet, provisionBoard } from '../helpers/sim-board.ts';
import { startBroker } from '../helpers/mosquitto.ts';

test('uplink reachable: an MQTT 5 session and the acknowledged share of the ledger; red with a fix when the broker is down', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'vt-probe-'));
  const broker = await startBroker();
  t.teardown(async () => {
    await broker.close();
    await rm(root, { recursive: true, force: true });
  });
  const fleet = await makeFleet(join(root, 'fleet'));
  const board = join(root, 'board');
  const key = await provisionBoard(fleet, board, { battery: 'urn:voltrail:battery:ACME:PK-0009', boardId: 'pi-9' });
  await writeOffset(board, { stored: 1, logId: Buffer.from(key.kid).toString('hex') });
  const cfg = configSchema.parse({ dataDir: board, bms: { driver: 'jbd', port: '/dev/null' }, uplink: { url: broker.url } }).uplink!;

  const up = await probeUplink(cfg, board);
  t.true(up.ok, up.detail);
  t.regex(up.detail, /accepted an MQTT 5 session; the fleet holds 1 of \d+ ledger entries/);

  await broker.stop();
  const down = await probeUplink(cfg, board, 2000);
  t.false(down.ok);
  t.regex(down.detail, new RegExp(`127\\.0\\.0\\.1:${broker.port}`));
  t.regex(down.fix ?? '', /check the network/);

  const badTls = await probeUplink({ ...cfg, tls: { ca: join(root, 'missing.pem'), rejectUnauthorized: true } }, board);
  t.false(badTls.ok);
  t.regex(badTls.detail, /uplink\.tls\.ca: cannot read .*missing\.pem \(ENOENT\)/);
});
