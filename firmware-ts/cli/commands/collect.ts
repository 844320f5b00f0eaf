// `voltrail collect`: the fleet collector (firmware-ts/UPLINK.md), run on the fleet's machines,
// never on a board. `collect --broker URL --data-dir DIR --trust KEY` receives the boards'
// batches through the collectors' MQTT 5 shared subscription, verifies and stores them; start
// as many instances on one data folder as the load needs. `collect init` makes the witness key
// and has the fleet authority endorse it; `collect --status` sums every instance's counters.
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { parseDuration } from '../parse.ts';
import type { PublicKeyRef } from '../../../ledger/identity/device-cert.ts';
import { openAuthority, askPassphrase, userFacing } from './fleet.ts';

interface RunFlags {
  broker?: string;
  dataDir: string;
  trust?: string;
  crl?: string[];
  topicPrefix: string;
  clientId?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  insecure?: boolean;
  passphraseFile?: string;
  duration?: number;
  status?: boolean;
  json?: boolean;
  logLevel: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The fleet key: 66 hex digits, or a file holding them (or fleet.json of a fleet folder). */
async function parseTrust(text: string | undefined): Promise<PublicKeyRef> {
  if (!text) throw new UserError('give --trust KEY: the fleet authority public key (66 hex digits from voltrail fleet init), the only trust anchor', 2);
  let hex = text.trim();
  if (!/^0[23][0-9a-fA-F]{64}$/.test(hex)) {
    let content: string;
    try {
      content = (await readFile(resolve(text), 'utf8')).trim();
    } catch {
      throw new UserError(`--trust ${text}: neither a compressed public key (66 hex digits) nor a readable file`, 2);
    }
    hex = content.startsWith('{') ? String((JSON.parse(content) as { publicKey?: unknown }).publicKey ?? '') : content;
    if (!/^0[23][0-9a-fA-F]{64}$/.test(hex)) throw new UserError(`--trust ${text}: the file holds no compressed public key (66 hex digits)`, 2);
  }
  return { publicKey: new Uint8Array(Buffer.from(hex, 'hex')), curve: 'secp256k1' };
}

async function readPem(flag: string, file: string | undefined): Promise<Uint8Array | undefined> {
  if (!file) return undefined;
  try {
    return new Uint8Array(await readFile(resolve(file)));
  } catch (err) {
    throw new UserError(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 2);
  }
}

async function showStatus(dataDir: string, json: boolean): Promise<void> {
  const { fleetSummary } = await import('../../collector/collector-status.ts');
  const s = await fleetSummary(dataDir);
  if (json) {
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    return;
  }
  const refused = Object.entries(s.totals.refused).filter(([, n]) => n > 0);
  const lines = [
    `instances: ${s.instances.length === 0 ? 'none has run on this folder' : s.instances.map((i) => `${i.clientId} (${i.live ? (i.connected ? 'running, connected' : 'running, not connected') : 'stopped'}; ${i.entriesStored} entries stored)`).join(', ')}`,
    `batches ${s.totals.batches}, entries stored ${s.totals.entriesStored}, resent duplicates ${s.totals.duplicates}, countersignatures ${s.totals.countersignatures}${s.totals.busy ? `, busy ${s.totals.busy}` : ''}${s.totals.droppedEntries ? `, dropped ${s.totals.droppedEntries}` : ''}`,
    `refused: ${refused.length === 0 ? 'none' : refused.map(([r, n]) => `${r} ${n}`).join(', ')}${s.totals.refusedEntries ? ` (${s.totals.refusedEntries} entries)` : ''}`,
    ...(s.lastRefusal ? [`last refusal: ${s.lastRefusal.at} log ${s.lastRefusal.logId.slice(0, 16)}… ${s.lastRefusal.reason}: ${s.lastRefusal.detail}`] : []),
    `devices: ${s.devices.length}`,
    ...s.devices.map((d) => `  ${d.logId.slice(0, 16)}…  ${d.batteryId ?? '(not yet certified)'}  ${d.entries} entries, ${d.records} records, ${d.checkpoints} checkpoints, ${d.witnesses} witness entries${d.lastRecordTime ? `, last record ${d.lastRecordTime}` : ''}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function runCollector(f: RunFlags): Promise<void> {
  if (!f.broker) throw new UserError('give --broker URL (mqtt://host:1883 or mqtts://host:8883), or --status to show the counters', 2);
  if (!/^mqtts?:\/\//.test(f.broker)) throw new UserError(`--broker ${f.broker}: use mqtt://host:port or mqtts://host:port`, 2);
  const { checkTopicPrefix } = await import('../../uplink/wire.ts');
  try {
    checkTopicPrefix(f.topicPrefix, '--topic-prefix');
  } catch (err) {
    throw new UserError((err as Error).message, 2);
  }
  const authority = await parseTrust(f.trust);
  const { Collector } = await import('../../collector/collector.ts');
  const { loadWitness } = await import('../../collector/witness-setup.ts');
  const { createLogger } = await import('../../runtime/logger.ts');
  const { readPassphrase } = await import('../../../ledger/keys/passphrase.ts');
  const dataDir = resolve(f.dataDir);
  const logger = createLogger({ level: f.logLevel });
  let witness;
  try {
    witness = await loadWitness(dataDir, () => readPassphrase({ file: f.passphraseFile }), authority);
  } catch (err) {
    userFacing(err);
  }
  if (!witness) logger.warn(`no witness key in ${dataDir} (voltrail collect init): records are verified and stored, checkpoints are not countersigned`);
  const tls = f.tlsCa || f.tlsCert || f.tlsKey || f.insecure ? { ca: await readPem('--tls-ca', f.tlsCa), cert: await readPem('--tls-cert', f.tlsCert), key: await readPem('--tls-key', f.tlsKey), rejectUnauthorized: !f.insecure } : undefined;
  let collector;
  try {
    collector = await Collector.start({
      url: f.broker,
      topicPrefix: f.topicPrefix,
      dataDir,
      clientId: f.clientId,
      tls,
      authority,
      revocationFiles: (f.crl ?? []).map((c) => resolve(c)),
      witness: witness && { key: witness.key, endorsement: witness.endorsement },
      logger,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UserError(`--crl: ${(err as Error).message}`, 2);
    userFacing(err);
  }
  process.stderr.write(`voltrail: collecting from ${f.broker} into ${dataDir} as ${collector.clientId}${witness ? `, witness '${witness.endorsed.name}'` : ''} (Ctrl-C to stop)\n`);
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer = f.duration ? setTimeout(stop, f.duration) : undefined;
  await new Promise<void>((r) => (ac.signal.aborted ? r() : ac.signal.addEventListener('abort', () => r(), { once: true })));
  clearTimeout(timer);
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await collector.close();
  const c = collector.counters;
  const refused = Object.entries(c.refused).filter(([, n]) => n > 0);
  if (f.json) process.stdout.write(JSON.stringify(collector.status(false)) + '\n');
  else process.stdout.write(`stored ${c.entriesStored} entries from ${c.batches} batches; refused: ${refused.length ? refused.map(([r, n]) => `${r} ${n}`).join(', ') : 'none'}\n`);
}

export function registerCollect(program: Command): void {
  const cmd = program
    .command('collect')
    .description('fleet collector: receive, verify and store device records over MQTT 5 (shared subscription; run several on one data folder)')
    .option('--broker <url>', 'the MQTT 5 broker: mqtt://host:1883 or mqtts://host:8883')
    .option('--data-dir <dir>', 'the fleet data folder (shared by all instances)', 'fleet-data')
    .option('--trust <key>', "the fleet authority's public key (66 hex digits) or a file holding it (or its fleet.json)")
    .option('--crl <file>', 'a signed revocation list (voltrail fleet crl); repeatable; re-read when it changes', collect)
    .option('--topic-prefix <prefix>', 'the topic prefix of the boards (their uplink.topicPrefix)', 'voltrail')
    .option('--client-id <id>', 'the MQTT client id of this instance (default: unique per process)')
    .option('--tls-ca <file>', "PEM file of the CA that signed the broker's certificate")
    .option('--tls-cert <file>', "this collector's client certificate (PEM)")
    .option('--tls-key <file>', "this collector's client key (PEM)")
    .option('--insecure', "accept a broker certificate that does not verify (testing only)")
    .option('--passphrase-file <file>', 'the witness key passphrase (else VOLTRAIL_KEY_PASSPHRASE)')
    .option('--duration <time>', 'stop after this long (default: until Ctrl-C)', parseDuration)
    .option('--log-level <level>', 'fatal, error, warn, info, debug', 'info')
    .option('--status', 'show the counters of every instance on --data-dir and the devices it holds, then exit')
    .option('--json', 'print as JSON')
    .action(async (f: RunFlags) => {
      if (f.status) return showStatus(resolve(f.dataDir), f.json === true);
      await runCollector(f);
    });

  // --data-dir, --passphrase-file and --json belong to `collect` (commander gives them to the
  // parent even after the subcommand name); init reads them from there.
  cmd
    .command('init')
    .description("make this collector's witness key (sealed, in --data-dir) and have the fleet authority endorse it, so it can countersign checkpoints")
    .requiredOption('--name <name>', 'the witness name countersignatures carry, e.g. depot-3')
    .requiredOption('--fleet-dir <dir>', 'the fleet authority folder (voltrail fleet init)')
    .option('--valid-days <n>', 'endorsement validity in days', (v) => Number(v), 3650)
    .option('--fleet-passphrase-file <file>', 'passphrase of the fleet key (else VOLTRAIL_KEY_PASSPHRASE, else a prompt)')
    .action(async (o: { name: string; fleetDir: string; validDays: number; fleetPassphraseFile?: string }, self: Command) => {
      const p = self.parent!.opts<{ dataDir: string; passphraseFile?: string; json?: boolean }>();
      try {
        const { mkdir } = await import('node:fs/promises');
        const { initWitness } = await import('../../collector/witness-setup.ts');
        const dataDir = resolve(p.dataDir);
        await mkdir(dataDir, { recursive: true });
        const fleet = await openAuthority(resolve(o.fleetDir), o.fleetPassphraseFile);
        const passphrase = await askPassphrase(p.passphraseFile, true);
        const r = await initWitness({ dataDir, name: o.name, passphrase, fleet, validDays: o.validDays });
        const text = `${r.keyCreated ? 'Made' : 'Kept'} the witness key ${resolve(dataDir, 'witness.key')} (kid ${r.kid})\nEndorsed by the fleet authority ${fleet.file.name} as '${o.name}': ${r.endorsement}\nStart collectors: voltrail collect --broker URL --data-dir ${p.dataDir} --trust ${fleet.file.publicKey}\n`;
        process.stdout.write(p.json ? JSON.stringify({ ...r, name: o.name, dataDir }) + '\n' : text);
      } catch (err) {
        userFacing(err);
      }
    });
}
