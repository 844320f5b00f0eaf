// What a collector refuses, against a real mosquitto: forged signatures, records replayed at a
// position they were not made for, another device's log replayed on a topic, a second history
// for stored indexes, a revoked board, a board of another fleet. Each is refused, answered in
// the ack with its reason, counted, and shown by `voltrail collect --status`; the genuine board's
// records are stored around them.
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { systemClock } from '../../hal/clock.ts';
import { PrivateKey } from '../../ledger/keys/private-key.ts';
import { Ledger } from '../../ledger/log/ledger.ts';
import { SegmentLog, type LogEntry } from '../../ledger/log/segment-log.ts';
import { Collector } from '../../firmware-ts/collector/collector.ts';
import { ackTopic, decodeAck, encodeBatch, recordsTopic, type Ack } from '../../firmware-ts/uplink/wire.ts';
import { createLogger, silentLogger } from '../../firmware-ts/runtime/logger.ts';
import { startBroker } from '../helpers/mosquitto.ts';
import { runCli } from '../helpers/cli.ts';
import { ledgerOf, makeFleet, provisionBoard } from '../helpers/sim-board.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A provisioned board's log with `n` telemetry records after the provisioned record, each signed. */
async function boardLog(dir: string, key: PrivateKey, n: number): Promise<LogEntry[]> {
  const ledger = await Ledger.open({ dir: ledgerOf(dir), signer: key, mode: 'per-record', clock: systemClock });
  for (let i = 0; i < n; i++) await ledger.append('telemetry', new Map([[1, 3_700_000 + i]]));
  await ledger.close();
  const log = await SegmentLog.open(ledgerOf(dir), { readOnly: true });
  const out: LogEntry[] = [];
  for await (const e of log.entries()) out.push(e);
  return out;
}

test('forged, replayed, conflicting, revoked and foreign records are refused, counted and shown; genuine ones stored', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'vt-refuse-'));
  const broker = await startBroker();
  t.teardown(async () => {
    await broker.close();
    await rm(root, { recursive: true, force: true });
  });
  const fleet = await makeFleet(join(root, 'fleet'));
  const other = await makeFleet(join(root, 'other-fleet'), 'Other fleet');

  const goodKey = await provisionBoard(fleet, join(root, 'good'), { battery: 'urn:voltrail:battery:ACME:PK-0001', boardId: 'pi-good' });
  const good = await boardLog(join(root, 'good'), goodKey, 5);
  const secondKey = await provisionBoard(fleet, join(root, 'second'), { battery: 'urn:voltrail:battery:ACME:PK-0002', boardId: 'pi-second' });
  const second = await boardLog(join(root, 'second'), secondKey, 2);
  const stolenKey = await provisionBoard(fleet, join(root, 'stolen'), { battery: 'urn:voltrail:battery:ACME:PK-0003', boardId: 'pi-stolen' });
  const stolen = await boardLog(join(root, 'stolen'), stolenKey, 2);
  const foreignKey = await provisionBoard(other, join(root, 'foreign'), { battery: 'urn:voltrail:battery:ACME:PK-0004', boardId: 'pi-foreign' });
  const foreign = await boardLog(join(root, 'foreign'), foreignKey, 2);
  // The stolen board's key is revoked from before its first record.
  await fleet.revoke(hex(stolenKey.kid), 'stolen', Date.now() - 3_600_000);
  const crl = join(root, 'crl.cose');
  await writeFile(crl, (await fleet.revocationList()).bytes);

  const dataDir = join(root, 'collected');
  const collectors = await Promise.all(
    ['r1', 'r2'].map((id) => Collector.start({ url: broker.url, topicPrefix: 'fleet', dataDir, clientId: id, authority: fleet.publicKey, revocationFiles: [crl], logger: process.env.VT_DEBUG ? createLogger({ level: 'warn' }) : silentLogger() })),
  );
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'attacker' });
  t.teardown(async () => {
    await client.endAsync();
    for (const c of collectors) await c.close();
  });
  for (let i = 0; i < 100 && !collectors.every((c) => c.connected); i++) await new Promise((r) => setTimeout(r, 50));

  const acks = new Map<string, (a: Ack) => void>();
  client.on('message', (topic, payload) => acks.get(topic)?.(decodeAck(new Uint8Array(payload))));
  const send = async (logId: string, from: number, entries: LogEntry[]): Promise<Ack> => {
    const topic = ackTopic('fleet', logId);
    await client.subscribeAsync(topic, { qos: 1 });
    const got = new Promise<Ack>((resolve) => acks.set(topic, resolve));
    await client.publishAsync(recordsTopic('fleet', logId), Buffer.from(encodeBatch({ from, entries })), { qos: 1 });
    return got;
  };
  const goodId = hex(goodKey.kid);

  // A record whose signature was altered: the provisioned record before it is stored, it is not.
  const tampered = { ...good[1]!, payload: new Uint8Array(good[1]!.payload) };
  tampered.payload[tampered.payload.length - 1]! ^= 0x01;
  let ack = await send(goodId, 0, [good[0]!, tampered, good[2]!]);
  t.is(ack.stored, 1);
  t.is(ack.refused?.reason, 'forged', ack.refused?.detail);

  // A genuine record replayed at another position (record 3 sent as entry 1).
  ack = await send(goodId, 1, [good[3]!]);
  t.is(ack.refused?.reason, 'replayed', ack.refused?.detail);
  t.regex(ack.refused!.detail, /record 1 carries sequence [2-9]/);

  // The genuine rest is stored after the refusals.
  ack = await send(goodId, 1, good.slice(1));
  t.is(ack.stored, good.length, JSON.stringify([ack.refused, good.map((e) => e.kind), collectors.map((c) => c.counters)]));
  t.is(ack.refused, undefined);

  // Another history for indexes the fleet holds: the second board's log sent as the first's.
  ack = await send(goodId, 0, second.slice(0, 2));
  t.is(ack.refused?.reason, 'conflict', ack.refused?.detail);
  t.is(ack.stored, good.length, 'the stored history is untouched');

  // The second board's whole log replayed on a topic of its own making.
  const fakeId = hex(PrivateKey.generate('secp256k1').kid);
  ack = await send(fakeId, 0, second);
  t.is(ack.refused?.reason, 'replayed', ack.refused?.detail);
  t.is(ack.stored, 0);

  // The revoked board, and a board of another fleet.
  ack = await send(hex(stolenKey.kid), 0, stolen);
  t.is(ack.refused?.reason, 'revoked', ack.refused?.detail);
  ack = await send(hex(foreignKey.kid), 0, foreign);
  t.is(ack.refused?.reason, 'uncertified', ack.refused?.detail);

  // A message that is not a batch at all.
  await client.publishAsync(recordsTopic('fleet', goodId), Buffer.from('not cbor'), { qos: 1 });
  ack = await new Promise<Ack>((resolve) => acks.set(ackTopic('fleet', goodId), resolve));
  t.is(ack.refused?.reason, 'malformed');

  const total = (r: string) => collectors.reduce((n, c) => n + c.counters.refused[r as keyof typeof c.counters.refused], 0);
  t.deepEqual(
    { forged: total('forged'), replayed: total('replayed'), conflict: total('conflict'), revoked: total('revoked'), uncertified: total('uncertified'), malformed: total('malformed') },
    { forged: 1, replayed: 2, conflict: 1, revoked: 1, uncertified: 1, malformed: 1 },
  );
  t.is(collectors.reduce((n, c) => n + c.counters.entriesStored, 0), good.length, 'only the genuine board is stored');

  // The same counts from the CLI, read from the instances' status files.
  for (const c of collectors) await c.close();
  const st = await runCli(['collect', '--status', '--data-dir', dataDir, '--json']);
  t.is(st.code, 0, st.stderr);
  const summary = JSON.parse(st.stdout) as { totals: { refused: Record<string, number>; entriesStored: number }; devices: { logId: string; entries: number; batteryId?: string }[] };
  t.is(summary.totals.refused.revoked, 1);
  t.is(summary.totals.refused.forged, 1);
  t.is(summary.totals.entriesStored, good.length);
  t.deepEqual(
    summary.devices.filter((d) => d.entries > 0).map((d) => [d.logId, d.entries, d.batteryId]),
    [[goodId, good.length, 'urn:voltrail:battery:ACME:PK-0001']],
  );
  const text = await runCli(['collect', '--status', '--data-dir', dataDir]);
  t.regex(text.stdout, /refused: forged 1, revoked 1, replayed 2, conflict 1|refused: .*revoked 1/);
});
