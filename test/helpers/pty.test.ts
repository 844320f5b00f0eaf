import test from 'ava';
import { SerialPort } from 'serialport';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ptyPair } from './pty.ts';

function open(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200 }, (err) => (err ? reject(err) : resolve(port)));
  });
}

test('ptyPair links two real ttys that serialport opens; close kills socat', async (t) => {
  const pair = await ptyPair();
  t.regex(pair.a, /^\/dev\/pts\/\d+$/);
  t.regex(pair.b, /^\/dev\/pts\/\d+$/);
  const a = await open(pair.a);
  const b = await open(pair.b);
  const got = new Promise<string>((resolve) => b.once('data', (d: Buffer) => resolve(d.toString())));
  a.write('hello\r');
  t.is(await got, 'hello\r');
  await new Promise((r) => a.close(r));
  await new Promise((r) => b.close(r));
  await pair.close();
  await pair.close();
  t.throws(() => process.kill(pair.pid, 0));
});

test('ptyPair makes symlinks when asked, and removes them with socat', async (t) => {
  const linkA = join(tmpdir(), `voltrail-pty-${process.pid}-a`);
  const linkB = join(tmpdir(), `voltrail-pty-${process.pid}-b`);
  const pair = await ptyPair({ linkA, linkB });
  t.is(pair.a, linkA);
  t.true(existsSync(linkB));
  await pair.close();
  t.false(existsSync(linkA));
});
