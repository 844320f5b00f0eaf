// A linked pair of real pseudo-terminals made by socat: bytes written to one come out of the
// other, so that serialport (or python-can, or the CLI in a child process) opens a real tty.
//
//   const pair = await ptyPair();          // pair.a, pair.b: '/dev/pts/N' paths
//   ...open pair.a as the device side, pair.b as the host side...
//   await pair.close();                     // kills socat (by its pid): both ends hang up
//
// `ptyPair({ linkA, linkB })` also makes symlinks to the two ends (socat's `link=`), so that a
// test can unplug an adapter (close) and plug a new one in at the same path, as udev would.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface PtyPair {
  /** One end (the symlink when `linkA` was given). */
  readonly a: string;
  /** The other end (the symlink when `linkB` was given). */
  readonly b: string;
  /** socat's process id. */
  readonly pid: number;
  /** Kills socat and waits for it to exit; idempotent. */
  close(): Promise<void>;
}

export interface PtyPairOptions {
  linkA?: string;
  linkB?: string;
  /** Give up if socat has not made both ends by then (default 5000 ms). */
  timeoutMs?: number;
}

export function ptyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const end = (link?: string) => `pty,raw,echo=0${link ? `,link=${link}` : ''}`;
  const child: ChildProcess = spawn('socat', ['-d', '-d', end(options.linkA), end(options.linkB)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let stderr = '';
    const paths: string[] = [];
    let exited = false;
    const exit = new Promise<void>((r) =>
      child.once('exit', () => {
        exited = true;
        r();
      }),
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`socat made no pty pair within ${options.timeoutMs ?? 5000} ms; it said: ${stderr.trim()}`));
    }, options.timeoutMs ?? 5000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start socat (Debian package 'socat'): ${err.message}`));
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      for (const m of chunk.matchAll(/PTY is (\/dev\/pts\/\d+)/g)) paths.push(m[1]!);
      // socat prints both PTY lines, then starts copying: only then is the pair usable.
      if (paths.length >= 2 && /starting data transfer loop/.test(stderr)) {
        clearTimeout(timer);
        child.stderr!.removeAllListeners('data');
        child.stderr!.resume();
        const pair: PtyPair = {
          a: options.linkA ?? paths[0]!,
          b: options.linkB ?? paths[1]!,
          pid: child.pid!,
          close: async () => {
            if (!exited) child.kill('SIGTERM');
            await exit;
          },
        };
        resolve(pair);
      }
    });
    child.once('exit', (code) => {
      if (paths.length < 2) {
        clearTimeout(timer);
        reject(new Error(`socat exited (code ${code}) before making a pty pair: ${stderr.trim()}`));
      }
    });
  });
}
