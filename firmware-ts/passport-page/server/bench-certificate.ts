// A self-signed TLS certificate for a bench or a workshop LAN: a phone's camera and WebCrypto
// need a secure context (https), and no public CA will certify a LAN address. Made with the
// `openssl` command (Debian package `openssl`): a P-256 key (0600) and an X.509 v3 certificate
// whose subjectAltName lists every host name and IP address the phone may use (RFC 5280
// section 4.2.1.6; browsers ignore the CN). Production sites use a certificate from their CA
// through --tls-cert / --tls-key instead.
import { execFile } from 'node:child_process';
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BenchCertificate {
  keyFile: string;
  certFile: string;
  /** The subjectAltName entries, e.g. `DNS:localhost`, `IP:192.168.1.20`. */
  names: string[];
  /** False when both files were there already and were kept. */
  created: boolean;
}

/** localhost, 127.0.0.1, ::1 and this machine's non-internal IPv4 addresses (what a phone on the LAN dials). */
export function defaultHostNames(): string[] {
  const ips = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && a.family === 'IPv4')
    .map((a) => a!.address);
  return ['localhost', '127.0.0.1', '::1', ...ips];
}

function subjectAltName(hosts: string[]): string[] {
  return [...new Set(hosts)].map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`));
}

/**
 * Writes `key.pem` (0600) and `cert.pem` into `dir` with openssl, unless both exist (then they
 * are kept, so a phone that accepted the certificate once keeps accepting it).
 */
export async function makeBenchCertificate(dir: string, opts: { hosts?: string[]; days?: number; openssl?: string } = {}): Promise<BenchCertificate> {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  const names = subjectAltName(opts.hosts?.length ? opts.hosts : defaultHostNames());
  if (existsSync(keyFile) && existsSync(certFile)) return { keyFile, certFile, names, created: false };
  const days = opts.days ?? 825;
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new RangeError(`days: ${days} is outside 1..3650`);
  for (const n of names) {
    // The names go into an openssl -addext argument; nothing but host-name and address characters may.
    if (!/^(DNS|IP):[A-Za-z0-9.:*-]+$/.test(n)) throw new RangeError(`host '${n.slice(n.indexOf(':') + 1)}' is not a host name or an IP address`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // openssl truncates an existing file and keeps its mode: the key is never readable by others, not even for a moment.
  await writeFile(keyFile, '', { mode: 0o600 });
  const openssl = opts.openssl ?? 'openssl';
  try {
    await run(
      openssl,
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyFile, '-out', certFile, '-days', String(days),
        '-subj', '/CN=voltrail passport bench',
        '-addext', `subjectAltName=${names.join(',')}`,
        '-addext', 'keyUsage=critical,digitalSignature',
        '-addext', 'extendedKeyUsage=serverAuth',
      ],
      { timeout: 30_000 },
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`'${openssl}' was not found: install the Debian package 'openssl' (scripts/setup.sh does), or give --tls-cert and --tls-key`, { cause: err });
    throw new Error(`openssl could not make the certificate: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
  await chmod(keyFile, 0o600);
  if (((await stat(keyFile)).mode & 0o077) !== 0) throw new Error(`${keyFile}: could not make the key private (mode 0600)`);
  return { keyFile, certFile, names, created: true };
}
