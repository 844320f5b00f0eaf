// `voltrail v2x`: sign and send one V2X message (send), encode a message body to canonical CBOR
// (encode), and show what a message says, verified against a fleet authority key or plainly
// marked unverified (decode). Listening and the reception pipeline come later.
import type { Command } from 'commander';
import { Option } from 'commander';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { PrivateKey } from '../../../ledger/keys/private-key.ts';
import { KeyRing } from '../../../ledger/cose/key-ring.ts';
import { decodeCbor } from '../../../ledger/cbor/decode.ts';
import { Tagged } from '../../../ledger/cbor/value.ts';
import type { Curve } from '../../../ledger/signers/backend.ts';
import { bodyFromJson, bodyToJson, fieldTypeAt, setPath } from '../../../v2x/codec/json-form.ts';
import { decodeBody, encodeBody, isMessageName, MESSAGE_NAMES, MESSAGE_SCHEMA } from '../../../v2x/messages/message-types.ts';
import type { MessageName } from '../../../v2x/messages/message-types.ts';
import type { AttestationAnswer, AttestationChallenge } from '../../../v2x/messages/attestation-messages.ts';
import { decodePayload, EnvelopeVerifier, parseEnvelope, sealMessage } from '../../../v2x/security/envelope.ts';
import type { OpenedMessage } from '../../../v2x/security/envelope.ts';
import { issuePseudonymCertificate } from '../../../v2x/security/pseudonym-certificate.ts';
import type { PseudonymCertificate } from '../../../v2x/security/pseudonym-certificate.ts';
import { PseudonymSigner } from '../../../v2x/security/pseudonym-signer.ts';
import { readStatement, signAttestation } from '../../../v2x/attestation/attestation.ts';
import { issueVehicleIdentity } from '../../../v2x/attestation/vehicle-identity.ts';
import { demoKeys } from '../../../v2x/demo-keys.ts';
import { V2xError } from '../../../v2x/v2x-error.ts';
import { UserError } from '../errors.ts';
import { registerV2xReception } from './v2x-reception.ts';

/** Command-line names (kebab-case) of the message types. */
const CLI_NAME: Record<MessageName, string> = {
  cam: 'cam',
  denm: 'denm',
  spat: 'spat',
  chargingOffer: 'charging-offer',
  reservation: 'reservation',
  receipt: 'receipt',
  attestationChallenge: 'attestation-challenge',
  attestation: 'attestation',
};
const BY_CLI = new Map(MESSAGE_NAMES.map((n) => [CLI_NAME[n], n]));
const TYPES = MESSAGE_NAMES.map((n) => CLI_NAME[n]);

function typeOf(text: string): MessageName {
  const n = BY_CLI.get(text) ?? (isMessageName(text) ? text : undefined);
  if (n === undefined) throw new UserError(`unknown message type '${text}'; one of: ${TYPES.join(', ')}`, 2);
  return n;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function readJson(file: string): unknown {
  if (!existsSync(file)) throw new UserError(`${file}: no such file`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new UserError(`${file}: not JSON (${(err as Error).message})`);
  }
}

/** `--field a.b=1` values: text (hex for bytes) where the spec has bytes or text, else numbers. */
function parseFieldValue(type: MessageName, path: string, text: string): unknown {
  const kind = fieldTypeAt(MESSAGE_SCHEMA[type], path)?.kind;
  if (kind === 'bytes' || kind === 'text') return text;
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

function bodyFrom(type: MessageName, flags: { json?: string; field?: string[] }): unknown {
  const base = flags.json ? readJson(flags.json) : {};
  if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new UserError(`${flags.json}: expected a JSON object with the ${CLI_NAME[type]} fields`);
  const obj = structuredClone(base) as Record<string, unknown>;
  for (const f of flags.field ?? []) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new UserError(`--field ${f}: write it as path=value, e.g. --field speed=1389 or --field position.latitude=481372160`, 2);
    setPath(obj, f.slice(0, eq), parseFieldValue(type, f.slice(0, eq), f.slice(eq + 1)));
  }
  try {
    return bodyFromJson(MESSAGE_SCHEMA[type], obj);
  } catch (err) {
    throw new UserError(`${flags.json ?? '--field'}: ${(err as Error).message}`);
  }
}

/** Runs an encoder, turning its field errors into user errors that name the input. */
function checked<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new UserError(`${where}: ${err.message}`);
    throw err;
  }
}

interface Signing {
  signer: PseudonymSigner;
  certificate: Uint8Array;
  authority: PrivateKey;
  identityKey: PrivateKey;
  identityStatement: Uint8Array;
  demo: boolean;
}

function signingKeys(alg: string, demo: boolean, now: number): Signing {
  const curve: Curve = alg === 'ES256K' ? 'secp256k1' : 'P-256';
  if (demo) {
    const d = demoKeys(curve);
    return { signer: new PseudonymSigner(d.pseudonym.key), certificate: d.pseudonym.certificate, authority: d.authority, identityKey: d.identityKey, identityStatement: d.identityStatement, demo };
  }
  // A throwaway authority and pseudonym: enough to show and test the format end to end. Real
  // pseudonym pools come from the fleet authority (provisioning).
  const authority = PrivateKey.generate('P-256');
  const key = PrivateKey.generate(curve);
  const certificate = issuePseudonymCertificate(authority, { publicKey: key.publicKey, curve, notBefore: now - 3_600_000, notAfter: now + 86_400_000, permissions: MESSAGE_NAMES });
  const identityKey = PrivateKey.generate('secp256k1');
  const identityStatement = issueVehicleIdentity(authority, { vehicleId: 'THROWAWAY-VEHICLE', publicKey: identityKey.publicKey, curve: 'secp256k1', notBefore: now - 3_600_000, notAfter: now + 86_400_000 });
  return { signer: new PseudonymSigner(key), certificate, authority, identityKey, identityStatement, demo };
}

function parseTime(text: string | undefined): number {
  if (text === undefined) return Date.now();
  if (/^\d+$/.test(text)) return Number(text);
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UserError(`--time ${text}: give ms since the Unix epoch or an ISO 8601 time such as 2026-01-01T00:00:00Z`, 2);
  return t;
}

function readMessageBytes(file: string | undefined, hexText: string | undefined): Uint8Array {
  if (hexText !== undefined) {
    const h = hexText.replace(/\s+/g, '').replace(/^0x/, '');
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(h)) throw new UserError('--hex: expected an even number of hex digits', 2);
    return new Uint8Array(Buffer.from(h, 'hex'));
  }
  if (file === undefined) throw new UserError('give a FILE or --hex HEX', 2);
  if (!existsSync(file)) throw new UserError(`${file}: no such file`);
  const raw = readFileSync(file);
  const text = raw.toString('latin1').trim();
  // A file holding hex text (as `send` prints) is read as hex; anything else as raw bytes.
  return /^(?:[0-9a-fA-F]{2})+$/.test(text) ? new Uint8Array(Buffer.from(text, 'hex')) : new Uint8Array(raw);
}

async function sendUdp(url: string, bytes: Uint8Array): Promise<void> {
  const m = /^udp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(url);
  if (!m) throw new UserError(`--to ${url}: expected udp://HOST:PORT, e.g. udp://239.1.2.3:4000 or udp://127.0.0.1:4000`, 2);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new UserError(`--to ${url}: port ${port} is not 1..65535`, 2);
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => socket.send(bytes, port, host, (err) => (err ? reject(err) : resolve())));
  } catch (err) {
    throw new UserError(`--to ${url}: could not send (${(err as Error).message})`);
  } finally {
    socket.close();
  }
}

function certSummary(c: PseudonymCertificate) {
  return {
    digest: hex(c.digest),
    curve: c.curve,
    notBefore: new Date(c.notBefore).toISOString(),
    notAfter: new Date(c.notAfter).toISOString(),
    permissions: [...c.permissions].map((p) => CLI_NAME[p]),
    issuer: hex(c.issuer),
  };
}

function describeBody(type: MessageName, body: unknown): unknown {
  const json = bodyToJson(MESSAGE_SCHEMA[type], body) as Record<string, unknown>;
  if (type === 'attestation') {
    try {
      const { statement } = readStatement((body as AttestationAnswer).statement);
      json.statementContent = {
        ...statement,
        nonce: hex(statement.nonce),
        pseudonym: hex(statement.pseudonym),
        identityKey: hex(statement.identityKey),
        identityStatement: `${statement.identityStatement.length} bytes`,
      };
    } catch (err) {
      json.statementContent = `unreadable: ${(err as Error).message}`;
    }
  }
  return json;
}

export function registerV2x(program: Command): void {
  const v2x = program.command('v2x').description('V2X messages: send one, encode a body, decode and verify; listen through the reception pipeline; simulate traffic');
  registerV2xReception(v2x);

  v2x
    .command('send')
    .description('sign one V2X message with a pseudonym key and send it (UDP), write it (--out) or print it as hex')
    .argument('<type>', `message type: ${TYPES.join(' | ')}`)
    .option('--json <file>', 'the message body as JSON (field names as in v2x/README.md; bytes as hex)')
    .option('--field <path=value...>', 'set a field (repeatable), e.g. --field speed=1389 --field position.latitude=481372160')
    .option('--to <url>', 'send over UDP, e.g. udp://239.1.2.3:4000')
    .option('--out <file>', 'write the message bytes to a file')
    .addOption(new Option('--alg <alg>', 'signature algorithm of the pseudonym').choices(['ES256', 'ES256K']).default('ES256'))
    .option('--time <time>', 'generation time (ms since the Unix epoch or ISO 8601; default now)')
    .option('--challenge <hex-or-file>', 'for attestation: the challenge message being answered')
    .option('--demo-keys', 'sign with the published demonstration keys (v2x/demo-keys.ts) instead of a throwaway authority')
    .option('--json-output', 'print a JSON summary instead of the hex')
    .action(async (typeText: string, flags: { json?: string; field?: string[]; to?: string; out?: string; alg: string; time?: string; challenge?: string; demoKeys?: boolean; jsonOutput?: boolean }) => {
      const type = typeOf(typeText);
      const now = parseTime(flags.time);
      const keys = signingKeys(flags.alg, flags.demoKeys === true, now);
      let body: unknown;
      if (type === 'attestation') {
        if (flags.challenge === undefined) throw new UserError('send attestation: give --challenge (the attestation-challenge message to answer, hex or file)', 2);
        const raw = existsSync(flags.challenge) ? readMessageBytes(flags.challenge, undefined) : readMessageBytes(undefined, flags.challenge);
        let challenge;
        try {
          challenge = decodePayload(parseEnvelope(raw).payload);
        } catch (err) {
          throw new UserError(`--challenge: ${(err as Error).message}`);
        }
        if (challenge.type !== 'attestationChallenge') throw new UserError(`--challenge: that is a ${CLI_NAME[challenge.type]} message, not an attestation-challenge`);
        const statement = signAttestation({ challenge: challenge.body as AttestationChallenge, challengeTime: challenge.generationTime, pseudonym: keys.signer.kid, identityKey: keys.identityKey, identityStatement: keys.identityStatement, now });
        body = { statement } satisfies AttestationAnswer;
      } else {
        body = bodyFrom(type, flags);
      }
      const bytes = checked(flags.json ?? 'message', () => sealMessage({ type, body: body as never, generationTime: now, signer: keys.signer, certificate: keys.certificate }));
      if (flags.out) writeFileSync(flags.out, bytes);
      if (flags.to) await sendUdp(flags.to, bytes);
      const authority = hex(keys.authority.publicKey);
      if (flags.jsonOutput) {
        process.stdout.write(JSON.stringify({ type: CLI_NAME[type], bytes: bytes.length, hex: hex(bytes), signer: hex(keys.signer.kid), authority, demoKeys: keys.demo, to: flags.to, out: flags.out }, null, 2) + '\n');
      } else {
        if (!flags.out && !flags.to) process.stdout.write(hex(bytes) + '\n');
        process.stderr.write(
          `${CLI_NAME[type]}: ${bytes.length} bytes signed by pseudonym ${hex(keys.signer.kid)} (${flags.alg})${flags.to ? `, sent to ${flags.to}` : ''}${flags.out ? `, written to ${flags.out}` : ''}\n` +
            `  ${keys.demo ? 'demo' : 'throwaway'} fleet authority ${authority}: check it with  voltrail v2x decode ... --authority ${authority}\n`,
        );
      }
    });

  v2x
    .command('encode')
    .description('encode a message body to canonical CBOR (unsigned), as hex')
    .argument('<type>', `message type: ${TYPES.join(' | ')}`)
    .option('--json <file>', 'the message body as JSON')
    .option('--field <path=value...>', 'set a field (repeatable)')
    .option('--out <file>', 'write the bytes to a file instead of printing hex')
    .action((typeText: string, flags: { json?: string; field?: string[]; out?: string }) => {
      const type = typeOf(typeText);
      if (!flags.json && !flags.field?.length) throw new UserError('encode: give --json FILE (or --field path=value ...)', 2);
      const bytes = checked(flags.json ?? '--field', () => encodeBody(type, bodyFrom(type, flags) as never));
      if (flags.out) writeFileSync(flags.out, bytes);
      else process.stdout.write(hex(bytes) + '\n');
    });

  v2x
    .command('decode')
    .description('show a V2X message: verified with --authority, else marked unverified; or a bare body with --type')
    .argument('[file]', 'a file with the message (raw bytes, or hex text)')
    .option('--hex <hex>', 'the message as hex')
    .option('--authority <hex...>', 'fleet authority public key(s) (compressed P-256 or secp256k1 hex) to verify against')
    .option('--type <type>', 'decode a bare message body of this type (from `encode`)')
    .option('--json', 'print JSON')
    .action((file: string | undefined, flags: { hex?: string; authority?: string[]; type?: string; json?: boolean }) => {
      const bytes = readMessageBytes(file, flags.hex);
      const where = file ?? '--hex';
      if (flags.type !== undefined) {
        const type = typeOf(flags.type);
        let body;
        try {
          body = decodeBody(type, bytes);
        } catch (err) {
          throw new UserError(`${where}: ${(err as Error).message}`);
        }
        const out = { type: CLI_NAME[type], body: describeBody(type, body) };
        process.stdout.write(flags.json ? JSON.stringify(out, null, 2) + '\n' : `${CLI_NAME[type]} (bare body, no signature)\n${JSON.stringify(out.body, null, 2)}\n`);
        return;
      }
      let top;
      try {
        top = decodeCbor(bytes, { maxSize: 4096 });
      } catch (err) {
        throw new UserError(`${where}: not CBOR (${(err as Error).message})`);
      }
      if (!(top instanceof Tagged)) throw new UserError(`${where}: not a signed V2X message (no COSE_Sign1 tag 18); for a bare body give --type`);
      let result: Record<string, unknown>;
      let ok = true;
      try {
        const env = parseEnvelope(bytes);
        const p = decodePayload(env.payload);
        result = {
          type: CLI_NAME[p.type],
          generationTime: new Date(p.generationTime).toISOString(),
          signer: hex(env.signer),
          alg: env.alg === -7 ? 'ES256' : 'ES256K',
          certificateAttached: env.certificate !== undefined,
          certRequests: p.certRequests.map(hex),
          body: describeBody(p.type, p.body),
        };
        if (flags.authority?.length) {
          const ring = new KeyRing();
          for (const a of flags.authority) {
            const k = Buffer.from(a, 'hex');
            if (!/^0[23][0-9a-fA-F]{64}$/.test(a)) throw new UserError(`--authority ${a}: expected a compressed public key, 66 hex digits starting 02 or 03`, 2);
            try {
              ring.add(k, 'P-256');
            } catch {
              ring.add(k, 'secp256k1');
            }
          }
          const verifier = new EnvelopeVerifier({ authorities: ring.lookup });
          try {
            const m: OpenedMessage = verifier.open(bytes);
            result.verified = true;
            result.certificate = certSummary(m.certificate);
          } catch (err) {
            if (!(err instanceof V2xError)) throw err;
            ok = false;
            result.verified = false;
            result.refused = { reason: err.reason, message: err.message };
          }
        } else {
          result.verified = false;
          result.note = 'signature not checked: give --authority HEX to verify';
          if (env.certificate) result.certificate = `${env.certificate.length} bytes (not checked without --authority)`;
        }
      } catch (err) {
        if (err instanceof V2xError) throw new UserError(`${where}: ${err.message} (${err.reason})`);
        throw err;
      }
      if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else {
        const head = result.verified ? 'VERIFIED' : result.refused ? `REFUSED (${(result.refused as { reason: string }).reason})` : 'UNVERIFIED';
        process.stdout.write(
          `${head}  ${String(result.type)} at ${String(result.generationTime)}, signer ${String(result.signer)} (${String(result.alg)})${result.certificateAttached ? ', certificate attached' : ''}\n` +
            (result.refused ? `  ${(result.refused as { message: string }).message}\n` : '') +
            (result.note ? `  ${String(result.note)}\n` : '') +
            `${JSON.stringify(result.body, null, 2)}\n`,
        );
      }
      process.exitCode = ok ? 0 : 1;
    });
}
