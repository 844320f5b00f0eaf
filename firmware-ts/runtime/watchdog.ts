// systemd integration (sd_notify(3)): `READY=1` once the runtime runs, and `WATCHDOG=1` at half
// the unit's WatchdogSec while the main loop is alive, so systemd restarts a hung runtime. Node
// has no unix datagram sockets, so the messages go through the `systemd-notify` command; its
// process is not the main one, hence NotifyAccess=all in deploy/voltrail.service.
import { execFile } from 'node:child_process';

export type NotifySender = (message: string) => Promise<void>;

const systemdNotify: NotifySender = (message) =>
  new Promise((resolve, reject) => execFile('systemd-notify', [message], { timeout: 5000 }, (err) => (err ? reject(err) : resolve())));

export class SystemdNotifier {
  /** Half of WatchdogSec in ms, or undefined when systemd asked for no watchdog. */
  readonly intervalMs: number | undefined;
  readonly enabled: boolean;
  #lastPing = -Infinity;
  #send: NotifySender;
  lastError: string | undefined;

  constructor(env: NodeJS.ProcessEnv = process.env, send: NotifySender = systemdNotify, opts: { watchdog?: boolean } = {}) {
    this.enabled = Boolean(env.NOTIFY_SOCKET);
    const usec = Number(env.WATCHDOG_USEC);
    const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === process.pid;
    this.intervalMs = this.enabled && opts.watchdog !== false && usec > 0 && forUs ? usec / 2000 : undefined;
    this.#send = send;
  }

  #notify(message: string): void {
    if (!this.enabled) return;
    this.#send(message).then(
      () => (this.lastError = undefined),
      (err: Error) => (this.lastError = `systemd-notify ${message}: ${err.message}`),
    );
  }

  ready(): void {
    this.#notify('READY=1');
  }

  stopping(): void {
    this.#notify('STOPPING=1');
  }

  /** Called from the main loop: pings when half the watchdog interval has passed. */
  alive(nowMono: number): void {
    if (this.intervalMs === undefined || nowMono - this.#lastPing < this.intervalMs) return;
    this.#lastPing = nowMono;
    this.#notify('WATCHDOG=1');
  }
}
