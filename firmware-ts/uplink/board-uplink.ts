// The runtime's side of the uplink: turns the config's `uplink` section into a running Uplink
// for this board's ledger. The log id (the topic's device part) is the kid of the first key in
// identity.json, the key that signed the log's first record: it stays the same after rotations.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { RuntimeConfig } from '../runtime/config.ts';
import { ledgerDir, readIdentity } from '../runtime/data-dir.ts';
import type { Logger } from '../runtime/logger.ts';
import { UserError } from '../cli/errors.ts';
import type { PublicKeyRef } from '../../ledger/identity/device-cert.ts';
import { Uplink, type UplinkOptions, type UplinkTls } from './uplink.ts';

export type UplinkConfig = NonNullable<RuntimeConfig['uplink']>;

/** Reads the TLS files the config names; errors name the field and the file. */
export async function readTls(tls: UplinkConfig['tls']): Promise<UplinkTls | undefined> {
  if (!tls) return undefined;
  const read = async (field: 'ca' | 'cert' | 'key') => {
    const f = tls[field];
    if (!f) return undefined;
    try {
      return new Uint8Array(await readFile(resolve(f)));
    } catch (err) {
      throw new UserError(`uplink.tls.${field}: cannot read ${resolve(f)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  return { ca: await read('ca'), cert: await read('cert'), key: await read('key'), rejectUnauthorized: tls.rejectUnauthorized };
}

/** The log id of a data folder: hex kid of the key that signed its first record. */
export async function logIdOf(dataDir: string): Promise<{ logId: string; fleetKey?: PublicKeyRef }> {
  const id = await readIdentity(dataDir);
  const kid = id?.keys[0]?.kid;
  if (!kid) throw new UserError(`${resolve(dataDir)}: no identity.json with a key; the uplink needs the board's identity (voltrail provision)`);
  const fleet = (id as { fleetPublicKey?: unknown }).fleetPublicKey;
  return { logId: kid, ...(typeof fleet === 'string' ? { fleetKey: { publicKey: new Uint8Array(Buffer.from(fleet, 'hex')), curve: 'secp256k1' as const } } : {}) };
}

export interface BoardUplinkOptions {
  config: UplinkConfig;
  dataDir: string;
  durable: () => number;
  appendWitness: UplinkOptions['appendWitness'];
  requestCheckpoint: UplinkOptions['requestCheckpoint'];
  logger: Logger;
}

export async function startBoardUplink(o: BoardUplinkOptions): Promise<Uplink> {
  const c = o.config;
  return Uplink.start({
    url: c.url,
    topicPrefix: c.topicPrefix,
    ...(await logIdOf(o.dataDir)),
    clientId: c.clientId,
    tls: await readTls(c.tls),
    dataDir: o.dataDir,
    ledgerDir: ledgerDir(o.dataDir),
    durable: o.durable,
    appendWitness: o.appendWitness,
    requestCheckpoint: o.requestCheckpoint,
    windowEntries: c.windowEntries,
    windowBytes: c.windowBytes,
    batchEntries: c.batchEntries,
    ackTimeoutMs: c.ackTimeoutMs,
    logger: o.logger,
  });
}
