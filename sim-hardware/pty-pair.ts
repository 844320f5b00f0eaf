// A linked pair of pseudo-terminals made by socat (`socat -d -d pty,raw,echo=0 pty,raw,echo=0`):
// bytes written to one end come out of the other, and both ends are real ttys that serialport
// (or python-can, or minicom) can open, so a simulated device on one end looks like a USB
// serial adapter to whatever opens the other. socat prints "N PTY is /dev/pts/X" on stderr for
// each end; it is stopped by its pid on close.
import { spawn, type ChildProcess } from 'node:child_process';

export interface PtyPair {
  /** The end the simulated device opens. */
  readonly device: string;
  /** The end to give to the host (voltrail, a test, another tool). */
  readonly host: string;
  readonly pid: number;
  close(): Promise<void>;
}

export class PtyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PtyError';
  }
}

/** Starts socat and resolves once both pty paths are known. */
export function openPtyPair(opts: { socat?: string; timeoutMs?: number } = {}): Promise<PtyPair> {
  const bin = opts.socat ?? 'socat';
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(bin, ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      reject(new PtyError(`could not start ${bin}: ${(err as Error).message}; install socat (Debian package 'socat')`, { cause: err }));
      return;
    }
    const paths: string[] = [];
    let stderr = '';
    let settled = false;
    const fail = (msg: string, cause?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGTERM');
      reject(new PtyError(msg, { cause }));
    };
    const timer = setTimeout(() => fail(`${bin} did not report two ptys within ${opts.timeoutMs ?? 5000} ms; its output: ${stderr.slice(0, 500)}`), opts.timeoutMs ?? 5000);
    child.on('error', (err: NodeJS.ErrnoException) =>
      fail(err.code === 'ENOENT' ? `'${bin}' was not found: install socat (Debian package 'socat') to make pseudo-terminals` : `${bin} failed: ${err.message}`, err),
    );
    child.on('exit', (code, signal) => fail(`${bin} exited (code ${code}, signal ${signal}) before both ptys were ready: ${stderr.slice(0, 500)}`));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      if (settled) return;
      stderr += chunk;
      for (const m of stderr.matchAll(/PTY is (\S+)/g)) if (!paths.includes(m[1]!)) paths.push(m[1]!);
      // Both ptys are usable once socat starts transferring ("starting data transfer loop").
      if (paths.length >= 2 && /starting data transfer loop/.test(stderr)) {
        settled = true;
        clearTimeout(timer);
        child.stderr!.resume();
        const exited = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
        resolve({
          device: paths[0]!,
          host: paths[1]!,
          pid: child.pid!,
          close: async () => {
            if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
            await exited;
          },
        });
      }
    });
  });
}
