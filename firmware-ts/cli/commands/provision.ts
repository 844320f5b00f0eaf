// `voltrail provision`: binds this board's key to a battery, once, for the battery's life.
// Steps (each kept when already done, so re-running is safe): the device key (sealed, 0600;
// a ledger identity key, never a V2X pseudonym), the config with the BMS wiring, the certificate
// request, the certificate (from a local fleet authority with --fleet-dir, or later with
// --install-cert), identity.json and the signed "provisioned" record; `--replaces` links a
// replacement board to the old board's last checkpoint; `--rotate` rotates the key.
// Asks for missing values on a terminal; scripts give flags.
import { Option } from 'commander';
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { systemClock } from '../../../hal/clock.ts';
import { batteryDataFrom } from '../../../ledger/identity/battery-data.ts';
import { parseBatteryId } from '../../../ledger/identity/battery-id.ts';
import { hex } from '../../../ledger/identity/claims.ts';
import type { PublicKeyRef } from '../../../ledger/identity/device-cert.ts';
import { loadKeyFile } from '../../../ledger/keys/keyfile.ts';
import { UserError } from '../errors.ts';
import {
  certificateRequest,
  ensureDeviceKey,
  installCertificate,
  lastCheckpointLink,
  readCertificateFile,
  readProvisioned,
  rotateDeviceKey,
  DEVICE_KEY_FILE,
} from '../../identity/board-identity.ts';
import { BMS_CHOICES, writeBmsConfig, type BmsChoice } from '../../identity/bms-config.ts';
import { ledgerDir, readIdentity } from '../../runtime/data-dir.ts';
import { askPassphrase, openAuthority, userFacing } from './fleet.ts';
import { parsePositiveNumber } from '../parse.ts';

interface Flags {
  dataDir: string;
  config?: string;
  batteryId?: string;
  boardId?: string;
  manufacturer?: string;
  model?: string;
  chemistry?: string;
  capacityAh?: number;
  massKg?: number;
  nominalV?: number;
  manufactured?: string;
  bms?: BmsChoice;
  bus?: string;
  port?: string;
  dbc?: string;
  map?: string;
  passphraseFile?: string;
  fleetDir?: string;
  fleetPassphraseFile?: string;
  fleetKey?: string;
  validDays?: number;
  requestOut?: string;
  installCert?: string;
  replaces?: string;
  rotate?: boolean;
}

const say = (line: string) => process.stdout.write(`  ${line}\n`);

function parseFleetKey(text: string | undefined): PublicKeyRef | undefined {
  if (text === undefined) return undefined;
  if (!/^0[23][0-9a-fA-F]{64}$/.test(text)) throw new UserError(`--fleet-key ${text}: expected the fleet authority's compressed public key (66 hex digits from voltrail fleet init)`, 2);
  return { publicKey: new Uint8Array(Buffer.from(text, 'hex')), curve: 'secp256k1' };
}

function defaultBoardId(): string {
  // A Raspberry Pi's serial number when there is one, else the host name.
  for (const f of ['/proc/device-tree/serial-number', '/sys/firmware/devicetree/base/serial-number']) {
    try {
      const s = readFileSync(f, 'latin1').replace(/\0/g, '').trim();
      if (s) return s.slice(0, 64);
    } catch {
      /* not a Pi */
    }
  }
  return hostname().slice(0, 64) || 'board';
}

/** Fills missing battery fields by asking on a terminal; without one, names the missing flags. */
async function completeFlags(f: Flags): Promise<void> {
  const fields: [keyof Flags, string, 'text' | 'number'][] = [
    ['batteryId', 'Battery id (<manufacturer-id>:<serial> or urn:voltrail:battery:...)', 'text'],
    ['manufacturer', 'Manufacturer', 'text'],
    ['model', 'Model', 'text'],
    ['chemistry', 'Chemistry (NMC, LFP, NCA, LTO, ...)', 'text'],
    ['capacityAh', 'Rated capacity (Ah)', 'number'],
    ['massKg', 'Mass (kg)', 'number'],
    ['bms', `BMS (${Object.keys(BMS_CHOICES).join(', ')})`, 'text'],
  ];
  const missing = fields.filter(([k]) => f[k] === undefined);
  if (missing.length === 0) return;
  if (!process.stdin.isTTY) {
    throw new UserError(`missing ${missing.map(([k]) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).join(', ')} (or run in a terminal to be asked)`, 2);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (const [k, q, kind] of missing) {
      for (;;) {
        const a = (await rl.question(`${q}: `)).trim();
        if (a === '') continue;
        if (kind === 'number') {
          const n = Number(a);
          if (!Number.isFinite(n) || n <= 0) {
            process.stderr.write('  a positive number, please\n');
            continue;
          }
          (f as unknown as Record<string, unknown>)[k] = n;
        } else if (k === 'bms' && !(a in BMS_CHOICES)) {
          process.stderr.write(`  one of ${Object.keys(BMS_CHOICES).join(', ')}\n`);
          continue;
        } else (f as unknown as Record<string, unknown>)[k] = a;
        break;
      }
    }
    if ((f.bms === 'jbd' || f.bms === 'daly') && !f.port) f.port = (await rl.question('Serial port (e.g. /dev/ttyUSB0): ')).trim();
    if (f.bms && f.bms !== 'jbd' && f.bms !== 'daly' && !f.bus) f.bus = (await rl.question('CAN bus (e.g. socketcan:can0): ')).trim();
  } finally {
    rl.close();
  }
}

const DOCTOR_CHECKS =
  'config file and BMS wiring, device key file (mode 0600, passphrase), certificate (fleet signature, this key, battery, validity), BMS answers, clock, ledger verifies, uplink';

async function endWithDoctor(program: Command, config: string, dataDir: string): Promise<void> {
  const doctor = program.commands.find((c) => c.name() === 'doctor');
  if (doctor && !doctor.description().includes('not yet available')) {
    process.stdout.write(`Running voltrail doctor --config ${config}\n`);
    await doctor.parseAsync(['--config', config], { from: 'user' });
    return;
  }
  process.stdout.write(`Next: voltrail doctor --config ${config} (it will check: ${DOCTOR_CHECKS}); then voltrail run --config ${config}\n  data folder: ${resolve(dataDir)}\n`);
}

async function provision(program: Command, f: Flags): Promise<void> {
  const dataDir = resolve(f.dataDir);
  const config = resolve(f.config ?? join(dataDir, 'voltrail.yaml'));
  const clock = systemClock;
  const existing = await readIdentity(dataDir);
  if (existing?.simulated) throw new UserError(`${dataDir} is a simulator's data folder; give --data-dir an empty folder for the board`);

  if (f.rotate) {
    if (!f.fleetDir) throw new UserError('--rotate needs the fleet authority: give --fleet-dir DIR (on the bench where the authority is local)', 2);
    const prov = await readProvisioned(dataDir);
    if (!prov) throw new UserError(`${dataDir} is not provisioned yet; run voltrail provision first`);
    const pass = await askPassphrase(f.passphraseFile, false);
    const auth = await openAuthority(resolve(f.fleetDir), f.fleetPassphraseFile);
    process.stdout.write(`Rotating the device key of battery ${prov.batteryId}\n`);
    const r = await rotateDeviceKey({ dataDir, passphrase: pass, fleetKey: auth.publicKey, certify: async (req) => (await auth.sign(req, { validDays: f.validDays })).certificate, clock, progress: say });
    process.stdout.write(`Rotated: ${r.oldKid.slice(0, 16)}… -> ${r.newKid.slice(0, 16)}… at record ${r.seq}. Restart the runtime to sign with the new key.\n`);
    return;
  }

  if (f.installCert) {
    const fleetKey = parseFleetKey(f.fleetKey) ?? (existing as { fleetPublicKey?: string } | undefined)?.fleetPublicKey;
    const fk = typeof fleetKey === 'string' ? parseFleetKey(fleetKey) : fleetKey;
    if (!fk) throw new UserError('--install-cert needs --fleet-key HEX: the fleet authority public key (from voltrail fleet init) the certificate must be signed with', 2);
    process.stdout.write(`Installing the certificate ${resolve(f.installCert)}\n`);
    const pass = await askPassphrase(f.passphraseFile, false);
    const keyFile = resolve(dataDir, DEVICE_KEY_FILE);
    if (!existsSync(keyFile)) throw new UserError(`${keyFile}: no device key on this board; run voltrail provision --request-out FILE first`);
    const key = await loadKeyFile(keyFile, pass);
    say(`opened the device key ${keyFile} (kid ${hex(key.kid)})`);
    const certificate = await readCertificateFile(resolve(f.installCert));
    const replaces = f.replaces ? await lastCheckpointLink(ledgerDir(resolve(f.replaces))) : undefined;
    const { cert } = await installCertificate({ dataDir, key, keyFile, certificate, fleetKey: fk, batteryId: f.batteryId ? parseBatteryId(f.batteryId).urn : undefined, clock, replaces, progress: say });
    process.stdout.write(`Provisioned: this board signs for battery ${cert.batteryId}.\n`);
    await endWithDoctor(program, config, dataDir);
    return;
  }

  const prov = await readProvisioned(dataDir);
  if (prov) {
    process.stdout.write(`This board is already provisioned for battery ${prov.batteryId}: kept the key ${prov.keyFile}, the certificate and identity.json (nothing was changed).\n`);
    await endWithDoctor(program, config, dataDir);
    return;
  }
  await completeFlags(f);
  const batteryId = parseBatteryId(f.batteryId!).urn;
  const battery = batteryDataFrom({ manufacturer: f.manufacturer!, model: f.model!, chemistry: f.chemistry!, capacityAh: f.capacityAh!, massKg: f.massKg!, nominalV: f.nominalV, manufactured: f.manufactured });
  const boardId = f.boardId ?? defaultBoardId();
  process.stdout.write(`Provisioning board ${boardId} onto battery ${batteryId}\n`);
  const wrote = await writeBmsConfig(config, dataDir, { bms: f.bms!, bus: f.bus, port: f.port, dbc: f.dbc, map: f.map });
  say(wrote ? `wrote the config ${config} (data folder and BMS ${f.bms} wiring only; other settings keep their defaults)` : `kept the existing config ${config}`);
  const pass = await askPassphrase(f.passphraseFile, true);
  const { key, file } = await ensureDeviceKey(dataDir, pass, say);
  const request = certificateRequest(key, batteryId, boardId, battery, clock.now());
  if (f.requestOut || !f.fleetDir) {
    const out = resolve(f.requestOut ?? join(dataDir, 'certificate-request.cbor'));
    await writeFile(out, request);
    say(`wrote the certificate request ${out} (signed by the device key; ${request.length} bytes)`);
    process.stdout.write(
      `Next: on the fleet authority, voltrail fleet sign ${out} --out device-cert.cbor; then here, voltrail provision --data-dir ${f.dataDir} --install-cert device-cert.cbor --fleet-key FLEET_PUBLIC_KEY${f.replaces ? ` --replaces ${f.replaces}` : ''}\n`,
    );
    return;
  }
  const auth = await openAuthority(resolve(f.fleetDir), f.fleetPassphraseFile);
  const { certificate, entry } = await auth.sign(request, { validDays: f.validDays });
  say(`the fleet authority ${auth.file.name} issued certificate ${entry.serial} (valid to ${entry.expires})`);
  const replaces = f.replaces ? await lastCheckpointLink(ledgerDir(resolve(f.replaces))) : undefined;
  await installCertificate({ dataDir, key, keyFile: file, certificate, fleetKey: auth.publicKey, batteryId, clock, replaces, progress: say });
  process.stdout.write(`Provisioned: this board signs for battery ${batteryId}.\n`);
  await endWithDoctor(program, config, dataDir);
}

export function registerProvision(program: Command): void {
  program
    .command('provision')
    .description('provision this board onto a battery: device key, BMS wiring, certificate request, certificate, signed "provisioned" record (safe to re-run)')
    .option('--data-dir <dir>', "the board's data folder (key, identity.json, ledger)", '/var/lib/voltrail')
    .option('--config <file>', 'the config file to write (default DATA_DIR/voltrail.yaml; an existing one is kept)')
    .option('--battery-id <id>', 'the battery: <manufacturer-id>:<serial> or urn:voltrail:battery:<manufacturer-id>:<serial>')
    .option('--board-id <id>', "this board's id (default: the Raspberry Pi serial number, else the host name)")
    .option('--manufacturer <name>', 'battery manufacturer')
    .option('--model <name>', 'battery model')
    .option('--chemistry <name>', 'cell chemistry (NMC, LFP, NCA, LTO, ...)')
    .option('--capacity-ah <ah>', 'rated capacity in Ah', parsePositiveNumber)
    .option('--mass-kg <kg>', 'battery mass in kg', parsePositiveNumber)
    .option('--nominal-v <v>', 'nominal voltage in V', parsePositiveNumber)
    .option('--manufactured <date>', 'manufacture date, YYYY-MM-DD')
    .addOption(new Option('--bms <driver>', 'the BMS on this battery').choices(Object.keys(BMS_CHOICES)))
    .option('--bus <spec>', 'CAN bus of a CAN BMS (socketcan:can0, slcan:/dev/ttyACM0@500000, virtual:NAME)')
    .option('--port <path>', 'serial port of a JBD or Daly BMS')
    .option('--dbc <file>', 'with --bms dbc: the BMS DBC file')
    .option('--map <file>', 'with --bms dbc: the signal mapping file')
    .option('--passphrase-file <file>', "the device key's passphrase (else VOLTRAIL_KEY_PASSPHRASE, else a prompt)")
    .option('--fleet-dir <dir>', 'a local fleet authority folder (bench): sign the certificate here')
    .option('--fleet-passphrase-file <file>', "with --fleet-dir: the fleet key's passphrase (else VOLTRAIL_KEY_PASSPHRASE, else a prompt)")
    .option('--valid-days <n>', 'with --fleet-dir: certificate validity in days', parsePositiveNumber)
    .option('--request-out <file>', 'write the certificate request here for a remote fleet authority (then --install-cert)')
    .option('--install-cert <file>', 'install a certificate from voltrail fleet sign (needs --fleet-key)')
    .option('--fleet-key <hex>', 'the fleet authority public key the certificate must be signed with')
    .option('--replaces <dir>', "the replaced board's data folder (or the collector's copy): link to its last checkpoint")
    .option('--rotate', 'rotate the device key (new key, certificate, rotation statement signed by both keys); needs --fleet-dir')
    .action(async (flags: Flags) => {
      try {
        await provision(program, { ...flags, validDays: flags.validDays === undefined ? undefined : Math.round(flags.validDays) });
      } catch (err) {
        userFacing(err);
      }
    });
}
