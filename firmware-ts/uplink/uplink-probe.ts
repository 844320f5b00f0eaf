// `voltrail doctor`'s "uplink reachable" item: a real MQTT 5 session with the configured broker,
// TLS files and client id (a TCP connect proves little: the broker may refuse MQTT 5, the TLS
// chain or the credentials), a subscription to this board's ack topic, and how far the fleet
// has acknowledged the ledger (the resend offset against the ledger's entries).
import mqtt from 'mqtt';
import { existsSync } from 'node:fs';
import { SegmentLog } from '../../ledger/log/segment-log.ts';
import { ledgerDir } from '../runtime/data-dir.ts';
import { logIdOf, readTls, type UplinkConfig } from './board-uplink.ts';
import { readOffset } from './resend-offset.ts';
import { redact } from './uplink.ts';
import { ackTopic } from './wire.ts';

export interface ProbeResult {
  ok: boolean;
  detail: string;
  fix?: string;
}

export async function probeUplink(config: UplinkConfig, dataDir: string | undefined, timeoutMs = 5000): Promise<ProbeResult> {
  let tls;
  try {
    tls = await readTls(config.tls);
  } catch (err) {
    return { ok: false, detail: (err as Error).message, fix: 'correct uplink.tls in the config, or copy the PEM files there' };
  }
  let logId: string | undefined;
  let backlog = '';
  if (dataDir) {
    try {
      logId = (await logIdOf(dataDir)).logId;
      const stored = await readOffset(dataDir, logId);
      if (existsSync(ledgerDir(dataDir))) {
        const log = await SegmentLog.open(ledgerDir(dataDir), { readOnly: true });
        backlog = `; the fleet holds ${stored} of ${log.length} ledger entries`;
        await log.close();
      }
    } catch {
      // not provisioned: the key and certificate items say so
    }
  }
  const client = mqtt.connect(config.url, {
    protocolVersion: 5,
    // Not the board's own id: a running board keeps its session.
    clientId: `${config.clientId ?? 'voltrail'}-doctor-${process.pid}`,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: timeoutMs,
    ...(tls ? { ca: tls.ca && Buffer.from(tls.ca), cert: tls.cert && Buffer.from(tls.cert), key: tls.key && Buffer.from(tls.key), rejectUnauthorized: tls.rejectUnauthorized ?? true } : {}),
  });
  const where = redact(config.url);
  try {
    const failure = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(`no MQTT 5 session within ${timeoutMs / 1000} s`), timeoutMs);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
      client.once('error', (err) => {
        clearTimeout(timer);
        resolve(err.message);
      });
    });
    if (failure) {
      return { ok: false, detail: `${where}: ${failure}`, fix: /certificate|self.signed|unable to verify/i.test(failure) ? "the broker's certificate does not verify: set uplink.tls.ca to the CA that signed it" : 'check the network, the uplink.url host and port, credentials, and that the broker speaks MQTT 5' };
    }
    if (logId) {
      const topic = ackTopic(config.topicPrefix, logId);
      const granted = await client.subscribeAsync(topic, { qos: 1 }).catch((err: Error) => err);
      if (granted instanceof Error || granted.some((g) => g.qos > 2)) {
        return { ok: false, detail: `${where}: the broker refused the subscription to ${topic}`, fix: "check the broker's access rules for this board" };
      }
    }
    return { ok: true, detail: `${where} accepted an MQTT 5 session${tls ? ' over TLS' : ''}${backlog}` };
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}
