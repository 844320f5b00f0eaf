// The machine a run measured, for the report: every figure is only comparable with figures
// from the same machine, and the ratios with ratios from the same run.
import os from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  /** Total memory, bytes. */
  memory: number;
  node: string;
  os: string;
  /** When the run started, ISO 8601 UTC. */
  date: string;
  /** Load averages (1, 5, 15 min) when the run started: other work sharing the CPU. */
  load: number[];
}

export function describeMachine(now: Date = new Date()): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() || os.arch(),
    cores: os.availableParallelism(),
    memory: os.totalmem(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: now.toISOString(),
    load: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
