// One worker thread of a rate session (rate-workers.ts). Kept alive across sessions (starting
// a thread that loads TypeScript costs far more CPU than a short measurement); per session it
// imports the subject module, asks it to prepare its operation, warms up, then does one timed
// run per `run` message, waiting first on a barrier shared with the other workers of its set
// so that "all cores" means all cores at the same time.
import { parentPort, workerData } from 'node:worker_threads';
import { cpuNow, timedRun, warmUp } from './measure.ts';
import type { RateWorkerData, RateWorkerReply, RateWorkerCommand } from './rate-workers.ts';

/** A reusable barrier over shared memory: [0] arrivals, [1] generation. */
function barrierWait(cells: Int32Array, parties: number): void {
  const generation = Atomics.load(cells, 1);
  if (Atomics.add(cells, 0, 1) === parties - 1) {
    Atomics.store(cells, 0, 0);
    Atomics.add(cells, 1, 1);
    Atomics.notify(cells, 1);
  } else {
    while (Atomics.load(cells, 1) === generation) Atomics.wait(cells, 1, generation);
  }
}

const data = workerData as RateWorkerData;
const port = parentPort!;
const cells = new Int32Array(data.barrier);
const reply = (message: RateWorkerReply): void => port.postMessage(message);
const wall = (): number => performance.now();

let op: (() => number) | undefined;
let chunk = 1;

async function handle(command: RateWorkerCommand): Promise<RateWorkerReply | undefined> {
  switch (command.kind) {
    case 'open': {
      const subject = (await import(command.module)) as { prepare?: (params: unknown) => Promise<() => number> | (() => number) };
      if (typeof subject.prepare !== 'function') throw new TypeError(`${command.module} exports no prepare(params) function`);
      op = await subject.prepare(command.params);
      barrierWait(cells, data.parties); // everyone prepared: warm up together
      chunk = warmUp(op, command.warmupMs);
      return { ready: true };
    }
    case 'run':
      if (!op) throw new Error('benchmark worker: run before open');
      barrierWait(cells, data.parties);
      return { rate: timedRun(op, chunk, command.runMs, command.clock === 'cpu' ? cpuNow : wall, wall) };
    case 'release':
      op = undefined;
      return undefined;
  }
}

port.on('message', (command: RateWorkerCommand) => {
  handle(command).then(
    (m) => m && reply(m),
    (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
  );
});
