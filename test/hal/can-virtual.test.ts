import test from 'ava';
import { VirtualCanHub } from '../../hal/can/virtual.ts';
import { canFrame } from '../../hal/can/frame.ts';
import { CanOperationError, CanTimeoutError } from '../../hal/can/errors.ts';
import { ManualClock } from '../../hal/clock.ts';

test('hubs are separate: a frame on one hub never reaches another', async (t) => {
  const h1 = new VirtualCanHub('one');
  const h2 = new VirtualCanHub('two');
  const a = h1.open();
  const b = h1.open();
  const c = h2.open();
  await a.send(canFrame({ id: 0x10, data: [1] }));
  t.deepEqual([...(await b.receive(100)).data], [1]);
  await t.throwsAsync(c.receive(20), { instanceOf: CanTimeoutError });
  await Promise.all([a.close(), b.close(), c.close()]);
});

test('loopback: a bus receives its own frames only when asked', async (t) => {
  const hub = new VirtualCanHub();
  const plain = hub.open();
  const looped = hub.open({ loopback: true });
  await plain.send(canFrame({ id: 1 }));
  await t.throwsAsync(plain.receive(10), { instanceOf: CanTimeoutError });
  t.is((await looped.receive(100)).id, 1);
  await looped.send(canFrame({ id: 2 }));
  t.is((await looped.receive(100)).id, 2);
  t.is((await plain.receive(100)).id, 2);
  await plain.close();
  await looped.close();
  t.is(hub.size, 0);
});

test('CAN FD frames with BRS and ESI pass through unchanged', async (t) => {
  const hub = new VirtualCanHub();
  const a = hub.open();
  const b = hub.open();
  const data = Uint8Array.from({ length: 64 }, (_, i) => i);
  await a.send(canFrame({ id: 0x1abcdef, extended: true, data, fd: true, brs: true, esi: true }));
  const got = await b.receive(100);
  t.true(got.fd && got.brs && got.esi && got.extended);
  t.deepEqual(got.data, data);
  await a.close();
  await b.close();
});

test('a slow reader loses the oldest frames; the drop is counted as overruns', async (t) => {
  const hub = new VirtualCanHub();
  const a = hub.open();
  const b = hub.open({ queueCapacity: 4 });
  for (let i = 0; i < 10; i++) await a.send(canFrame({ id: i }));
  t.is(b.stats().overruns, 6);
  t.is((await b.receive(0)).id, 6);
  t.is(a.stats().sent, 10);
  await a.close();
  await b.close();
});

test('periodic sending follows the clock and stops on request', async (t) => {
  const clock = new ManualClock();
  const hub = new VirtualCanHub('p', { clock });
  const a = hub.open();
  const b = hub.open();
  const task = a.sendPeriodic(canFrame({ id: 0x100, data: [0xaa] }), 100);
  await new Promise((r) => setImmediate(r));
  t.is(b.stats().received, 1);
  for (let i = 0; i < 3; i++) {
    clock.advance(100);
    await new Promise((r) => setImmediate(r));
  }
  t.is(b.stats().received, 4);
  task.modify(canFrame({ id: 0x100, data: [0xbb] }));
  clock.advance(100);
  await new Promise((r) => setImmediate(r));
  task.stop();
  await task.done;
  clock.advance(1000);
  await new Promise((r) => setImmediate(r));
  t.is(b.stats().received, 5);
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) ids.push((await b.receive(0)).data[0]!);
  t.deepEqual(ids, [0xaa, 0xaa, 0xaa, 0xaa, 0xbb]);
  t.is(task.error, undefined);
  await a.close();
  await b.close();
});

test('periodic sending with a count ends by itself', async (t) => {
  const hub = new VirtualCanHub();
  const a = hub.open();
  const b = hub.open();
  const task = a.sendPeriodic(canFrame({ id: 7 }), 1, { count: 3 });
  await task.done;
  t.is(b.stats().received, 3);
  await a.close();
  await b.close();
});

test('close is idempotent, ends iterators and rejects pending receives', async (t) => {
  const hub = new VirtualCanHub();
  const a = hub.open();
  const it = a.frames();
  const pendingNext = it.next();
  const pendingReceive = a.receive();
  await Promise.all([a.close(), a.close()]);
  t.deepEqual(await pendingNext, { done: true, value: undefined });
  await t.throwsAsync(pendingReceive, { instanceOf: CanOperationError, message: /closed/ });
  await t.throwsAsync(a.send(canFrame({ id: 1 })), { instanceOf: CanOperationError });
  t.throws(() => a.sendPeriodic(canFrame({ id: 1 }), 10), { instanceOf: CanOperationError });
});

test('receiveQueueFromOpen false: a bus read only through frames() keeps no receive() queue, so nothing overruns; receive() then queues from its first call', async (t) => {
  const hub = new VirtualCanHub();
  const sender = hub.open();
  const iterating = hub.open({ queueCapacity: 4, receiveQueueFromOpen: false });
  const eager = hub.open({ queueCapacity: 4 });
  const it = iterating.frames()[Symbol.asyncIterator]();
  const got: number[] = [];
  for (let i = 0; i < 10; i++) {
    await sender.send(canFrame({ id: i }));
    got.push((await it.next()).value!.id);
  }
  t.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.is(iterating.stats().overruns, 0, 'no unread receive() queue filled up');
  t.is(eager.stats().overruns, 6, 'the default keeps a receive() queue from open: 10 frames into 4 places');
  await t.throwsAsync(iterating.receive(5), { instanceOf: CanTimeoutError });
  await sender.send(canFrame({ id: 42 }));
  t.is((await iterating.receive(100)).id, 42);
  await it.return?.();
  await Promise.all([sender.close(), iterating.close(), eager.close()]);
});
