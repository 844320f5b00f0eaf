// The CanBus contract (hal/can/bus.ts), one suite run against every backend that can run here:
// virtual, slcan over a real pty pair to the emulated adapter, and replay (what applies to a
// read-only bus). socketcan needs a kernel with CAN and is compile-checked only.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CanBus } from '../../hal/can/bus.ts';
import { BusBase } from '../../hal/can/bus-base.ts';
import { formatCandumpLine } from '../../hal/can/candump-log.ts';
import { CanNotPermittedError, CanOperationError, CanTimeoutError } from '../../hal/can/errors.ts';
import { canFrame } from '../../hal/can/frame.ts';
import type { CanFrame } from '../../hal/can/frame.ts';
import { openReplay } from '../../hal/can/replay.ts';
import { openSlcan } from '../../hal/can/slcan.ts';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import { SlcanAdapter } from '../../sim-hardware/slcan-adapter.ts';
import { ptyPair } from '../helpers/pty.ts';

interface Setup {
  bus: CanBus;
  /** Makes the `incoming` frames given to open() arrive at `bus`. */
  arrive(): Promise<void>;
  /** Another node on the same wire (absent for a replay). */
  peer?: CanBus;
  close(): Promise<void>;
}

interface Backend {
  name: string;
  /** The bus can transmit when opened with transmit: true. */
  sends: boolean;
  /** The bus opens listen-only unless asked to transmit (real buses). */
  listenOnlyByDefault: boolean;
  fd: boolean;
  /** Nothing arriving means waiting, rather than the end of the source. */
  live: boolean;
  open(incoming: CanFrame[], opts: { transmit: boolean }): Promise<Setup>;
}

const sendAll = async (bus: CanBus, frames: CanFrame[]) => {
  for (const f of frames) await bus.send(f);
};

const BACKENDS: Backend[] = [
  {
    name: 'virtual',
    sends: true,
    listenOnlyByDefault: false,
    fd: true,
    live: true,
    async open(incoming) {
      const hub = new VirtualCanHub('contract');
      const bus = hub.open();
      const peer = hub.open();
      return { bus, peer, arrive: () => sendAll(peer, incoming), close: async () => void (await Promise.all([bus.close(), peer.close()])) };
    },
  },
  {
    name: 'slcan',
    sends: true,
    listenOnlyByDefault: true,
    fd: false,
    live: true,
    async open(incoming, { transmit }) {
      const pair = await ptyPair();
      const hub = new VirtualCanHub('contract');
      const peer = hub.open();
      const adapter = await SlcanAdapter.open({ path: pair.a, bus: hub.open() });
      const bus = await openSlcan({ path: pair.b, bitrate: 500_000, transmit });
      return {
        bus,
        peer,
        arrive: () => sendAll(peer, incoming),
        close: async () => {
          await bus.close();
          await adapter.close();
          await peer.close();
          await pair.close();
        },
      };
    },
  },
  {
    name: 'replay',
    sends: false,
    listenOnlyByDefault: true,
    fd: true,
    live: false,
    async open(incoming) {
      const path = join(mkdtempSync(join(tmpdir(), 'voltrail-replay-')), 'in.log');
      const lines = incoming.map((frame, i) => formatCandumpLine({ timeUs: 1_700_000_000_000_000 + i * 1000, iface: 'can0', frame }));
      writeFileSync(path, lines.join('\n') + '\n');
      const bus = await openReplay({ path, timing: 'fast' });
      return { bus, arrive: async () => {}, close: () => bus.close() };
    },
  },
];

const SAMPLE: CanFrame[] = [
  canFrame({ id: 0x123, data: [0xde, 0xad, 0xbe, 0xef] }),
  canFrame({ id: 0x1abcdef0, extended: true, data: [1, 2, 3, 4, 5, 6, 7, 8] }),
  canFrame({ id: 0x7ff, data: [] }),
  canFrame({ id: 0x000, data: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] }),
  canFrame({ id: 0x321, remote: true, dlc: 4 }),
  canFrame({ id: 0x12345, extended: true, remote: true, dlc: 0 }),
  canFrame({ id: 0x5, extended: true, data: [0x55] }),
];

const FD_SAMPLE: CanFrame[] = [
  canFrame({ id: 0x100, fd: true, data: new Uint8Array(64).fill(0xa5), brs: true }),
  canFrame({ id: 0x1000, extended: true, fd: true, data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], esi: true }),
];

const view = (f: CanFrame) => ({
  id: f.id,
  extended: f.extended,
  remote: f.remote,
  dlc: f.dlc,
  fd: f.fd,
  brs: f.brs,
  esi: f.esi,
  data: Buffer.from(f.data).toString('hex'),
});

async function take(it: AsyncIterator<CanFrame>, n: number): Promise<CanFrame[]> {
  const out: CanFrame[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

async function receiveN(bus: CanBus, n: number): Promise<CanFrame[]> {
  const out: CanFrame[] = [];
  for (let i = 0; i < n; i++) out.push(await bus.receive(5000));
  return out;
}

for (const backend of BACKENDS) {
  const name = (title: string) => `${backend.name}: ${title}`;

  test(name('frames arrive in order, to receive() and to every iterator, timestamped'), async (t) => {
    const s = await backend.open(SAMPLE, { transmit: false });
    const it1 = s.bus.frames();
    const it2 = s.bus.frames();
    const got1 = take(it1, SAMPLE.length);
    const got2 = take(it2, SAMPLE.length);
    const got3 = receiveN(s.bus, SAMPLE.length);
    await s.arrive();
    const [a, b, c] = await Promise.all([got1, got2, got3]);
    t.deepEqual(a.map(view), SAMPLE.map(view));
    t.deepEqual(b.map(view), SAMPLE.map(view));
    t.deepEqual(c.map(view), SAMPLE.map(view));
    t.true(a.every((f) => typeof f.timestamp === 'number' && f.timestamp > 1e9));
    t.is(s.bus.stats().received, SAMPLE.length);
    t.is(s.bus.stats().malformed, 0);
    await it1.return?.();
    await s.close();
  });

  test(name('filters pass only the matching ids'), async (t) => {
    const incoming = [
      canFrame({ id: 0x123 }),
      canFrame({ id: 0x223 }),
      canFrame({ id: 0x1abcdef0, extended: true }),
      canFrame({ id: 0x0f0, extended: true }),
      canFrame({ id: 0x1ff, data: [1] }),
    ];
    const s = await backend.open(incoming, { transmit: false });
    s.bus.setFilters([{ id: 0x100, mask: 0x700, extended: false }, { id: 0x1abcdef0, extended: true }]);
    const got = receiveN(s.bus, 3);
    await s.arrive();
    t.deepEqual((await got).map((f) => f.id), [0x123, 0x1abcdef0, 0x1ff]);
    await s.close();
  });

  test(name('close is idempotent, ends iterators and rejects pending and later calls'), async (t) => {
    const s = await backend.open([], { transmit: false });
    const it = s.bus.frames();
    const next = it.next();
    const pending = s.bus.receive();
    await Promise.all([s.bus.close(), s.bus.close()]);
    t.deepEqual(await next, { done: true, value: undefined });
    const err = await t.throwsAsync(pending, { instanceOf: CanOperationError });
    t.true(err?.kind === 'closed');
    await t.throwsAsync(s.bus.receive(10), { instanceOf: CanOperationError, message: /closed/ });
    await t.throwsAsync(s.bus.send(canFrame({ id: 1 })));
    t.deepEqual(await s.bus.frames().next(), { done: true, value: undefined });
    await s.close();
  });

  if (backend.live) {
    test(name('receive gives up with CanTimeoutError when nothing comes'), async (t) => {
      const s = await backend.open([], { transmit: false });
      await t.throwsAsync(s.bus.receive(30), { instanceOf: CanTimeoutError, message: /30 ms/ });
      await s.close();
    });
  }

  if (backend.listenOnlyByDefault) {
    test(name('a listen-only bus refuses to send and says which flag to give'), async (t) => {
      const s = await backend.open([], { transmit: false });
      t.false(s.bus.canTransmit);
      const err = await t.throwsAsync(s.bus.send(canFrame({ id: 0x100, data: [1] })), { instanceOf: CanNotPermittedError });
      t.is(err?.kind, 'not-permitted');
      if (backend.sends) t.regex(err!.message, /transmit: true.*--transmit/);
      if (s.bus instanceof BusBase) t.throws(() => (s.bus as BusBase).sendPeriodic(canFrame({ id: 1 }), 10), { instanceOf: CanNotPermittedError });
      t.is(s.bus.stats().sent, 0);
      await s.close();
    });
  }

  if (backend.sends) {
    test(name('sent frames reach the other nodes unchanged'), async (t) => {
      const s = await backend.open([], { transmit: true });
      t.true(s.bus.canTransmit);
      const got = receiveN(s.peer!, SAMPLE.length);
      await sendAll(s.bus, SAMPLE);
      t.deepEqual((await got).map(view), SAMPLE.map(view));
      t.is(s.bus.stats().sent, SAMPLE.length);
      await s.close();
    });

    test(name('periodic sending sends the frame each period until its count'), async (t) => {
      const s = await backend.open([], { transmit: true });
      const task = (s.bus as BusBase).sendPeriodic(canFrame({ id: 0x42, data: [7] }), 5, { count: 3 });
      const got = await receiveN(s.peer!, 3);
      await task.done;
      t.is(task.error, undefined);
      t.deepEqual(got.map((f) => f.id), [0x42, 0x42, 0x42]);
      await s.close();
    });
  }

  if (backend.fd) {
    test(name('CAN FD frames keep their length and flags'), async (t) => {
      const s = await backend.open(FD_SAMPLE, { transmit: false });
      const got = receiveN(s.bus, FD_SAMPLE.length);
      await s.arrive();
      t.deepEqual((await got).map(view), FD_SAMPLE.map(view));
      await s.close();
    });
  } else if (backend.sends) {
    test(name('a CAN FD frame is refused with a RangeError saying why'), async (t) => {
      const s = await backend.open([], { transmit: true });
      await t.throwsAsync(s.bus.send(FD_SAMPLE[0]!), { instanceOf: RangeError, message: /classic CAN only/ });
      await s.close();
    });
  }
}
