// Starts a real mosquitto broker (Debian's /usr/sbin/mosquitto) for a test: a free port on
// 127.0.0.1, a generated config, anonymous clients allowed, in-memory persistence only. The
// broker can be stopped (by its pid) and started again on the same port, to make an outage.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface Broker {
  port: number;
  url: string;
  /** Stops the broker (SIGTERM to its pid) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and removes its folder. */
  close(): Promise<void>;
  /** What the broker wrote to stderr (its log). */
  log(): string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function startBroker(): Promise<Broker> {
  const dir = await mkdtemp(join(tmpdir(), 'vt-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 100000', 'max_inflight_messages 0', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n'),
  );
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    const c = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    for (let i = 0; i < 200; i++) {
      if (await accepting(port)) return;
      const done = await Promise.race([exited, new Promise<'wait'>((r) => setTimeout(() => r('wait'), 25))]);
      if (done !== 'wait') throw new Error(`mosquitto exited (${String(done)}) before listening on ${port}: ${log}`);
    }
    throw new Error(`mosquitto did not listen on ${port} within 5 s: ${log}`);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    if (c.pid !== undefined) process.kill(c.pid, 'SIGTERM');
    await exited;
  };
  await start();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    stop,
    start,
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
    log: () => log,
  };
}
