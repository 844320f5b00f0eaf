// One worker thread of a rate session (rate-workers.ts): imports the subject module, asks it to
// prepare its operation, warms up, then does one timed run per `run` message, waiting on a
// barrier shared with the other workers first so that "all cores" means all cores at once.
import { parentPort, workerData } from 'node:worker_threads';
import { timedRun, warmUp } from './measure.ts';
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
const reply = (message: RateWorkerReply): void => port.postMessage(message);

try {
  const subject = (await import(data.module)) as { prepare?: (params: unknown) => Promise<() => number> | (() => number) };
  if (typeof subject.prepare !== 'function') throw new TypeError(`${data.module} exports no prepare(params) function`);
  const op = await subject.prepare(data.params);
  const cells = new Int32Array(data.barrier);
  barrierWait(cells, data.parties); // everyone prepared: warm up together
  const chunk = warmUp(op, data.warmupMs);
  reply({ ready: true });
  port.on('message', (command: RateWorkerCommand) => {
    if (command.close) {
      port.close();
      return;
    }
    try {
      barrierWait(cells, data.parties);
      reply({ rate: timedRun(op, chunk, command.runMs) });
    } catch (err) {
      reply({ error: err instanceof Error ? err.message : String(err) });
    }
  });
} catch (err) {
  reply({ error: err instanceof Error ? err.message : String(err) });
}
