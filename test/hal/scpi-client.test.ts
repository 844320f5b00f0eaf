// The SCPI client against the simulated instrument, over both transports a bench uses: a raw
// TCP socket and a real serial line (a socat pty pair opened by serialport). One contract,
// run against each transport.
import test from 'ava';
import { createServer, type Socket } from 'node:net';
import { ScpiClient, ScpiError, openScpi, openScpiSerial, openScpiTcp, type ScpiTransport } from '../../hal/scpi/scpi-client.ts';
import { SimulatedScpiInstrument } from '../../sim-hardware/scpi/scpi-instrument.ts';
import { serveScpiSerial, serveScpiTcp } from '../../sim-hardware/scpi/scpi-server.ts';
import { ptyPair } from '../helpers/pty.ts';

const pack = { packVoltageV: 57.6, currentA: 0 };

type Open = (inst: SimulatedScpiInstrument) => Promise<{ transport: ScpiTransport; close: () => Promise<void> }>;

const overTcp: Open = async (inst) => {
  const server = await serveScpiTcp(inst);
  const transport = await openScpiTcp(server.host, server.port);
  return { transport, close: async () => (await transport.close(), await server.close()) };
};

const overPty: Open = async (inst) => {
  const pair = await ptyPair();
  const device = await serveScpiSerial(inst, pair.a);
  const transport = await openScpiSerial(pair.b);
  return { transport, close: async () => (await transport.close(), await device.close(), await pair.close()) };
};

for (const [name, open] of [['tcp', overTcp], ['pty', overPty]] as const) {
  test(`${name}: *IDN?, *RST, *OPC?, settings, output and measurements of an electronic load`, async (t) => {
    const inst = new SimulatedScpiInstrument({ kind: 'eload', pack, maxCurrentA: 300, serial: 'EL1' });
    const { transport, close } = await open(inst);
    t.teardown(close);
    const c = new ScpiClient(transport);
    const id = await c.identify();
    t.is(id.manufacturer, 'voltrail');
    t.is(id.serial, 'EL1');
    await c.reset();
    await c.operationComplete();
    await c.setMode('CURR');
    await c.setCurrent(120.5);
    await c.setOutput(true);
    t.is(await c.query('FUNC?'), 'CURR');
    t.is(await c.queryNumber('CURR?'), 120.5);
    t.is(await c.query('OUTP?'), '1');
    t.deepEqual(inst.state, { output: true, mode: 'CURR', voltageV: 0, currentA: 120.5, powerW: 0, resistanceOhm: 1000 });
    t.is(await c.measureVoltage(), 57.6);
    // Long forms, optional nodes and several commands in one message, as SCPI allows.
    await c.send(':SOURce:CURRent:LEVel:IMMediate 80;:INPut OFF');
    t.is(await c.queryNumber('SOUR:CURR?'), 80);
    t.is(await c.query('INP?'), '0');
    t.deepEqual(await c.errors(), []);
  });

  test(`${name}: a refused setting is read from SYST:ERR? and fails the checked command, naming it`, async (t) => {
    const inst = new SimulatedScpiInstrument({ kind: 'eload', pack, maxCurrentA: 300 });
    const { transport, close } = await open(inst);
    t.teardown(close);
    const c = new ScpiClient(transport);
    const err = await t.throwsAsync(c.setCurrent(500), { instanceOf: ScpiError });
    t.regex(err!.message, /'CURR 500' was refused: -222 Data out of range/);
    t.is(inst.state.currentA, 0, 'the setting did not change');
    await c.send('BOGUS:CMD 1');
    const errs = await c.errors();
    t.deepEqual(errs, [{ code: -113, message: 'Undefined header' }]);
    t.deepEqual(await c.errors(), [], 'the queue is empty once read');
  });
}

test('a power supply: VOLT and CURR are its CV set point and current limit; FUNC is not a supply command', async (t) => {
  const inst = new SimulatedScpiInstrument({ kind: 'psu', pack: { packVoltageV: 60, currentA: -20 } });
  const { transport, close } = await overTcp(inst);
  t.teardown(close);
  const c = new ScpiClient(transport);
  await c.setVoltage(67.2);
  await c.setCurrent(25);
  await c.setOutput(true);
  t.deepEqual(inst.demand(), { kind: 'voltage', v: 67.2, maxChargeA: 25 });
  t.is(await c.measureCurrent(), 20, 'the supply sees the charge current it sources');
  await t.throwsAsync(c.setMode('CURR'), { message: /-224 Illegal parameter value/ });
});

test('the error queue is bounded: overflow is reported as -350 in its last place', (t) => {
  const inst = new SimulatedScpiInstrument({ kind: 'eload', pack });
  for (let i = 0; i < 40; i++) inst.handle('NOPE');
  t.is(inst.errors.length, 16);
  t.is(inst.errors.at(-1), '-350,"Queue overflow"');
});

test('a query that gets no answer times out, naming the instrument', async (t) => {
  // A socket that accepts and never answers.
  const accepted: Socket[] = [];
  const silent = createServer((sock) => void accepted.push(sock));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    for (const sock of accepted) sock.destroy();
    return new Promise<void>((r) => silent.close(() => r()));
  });
  const port = (silent.address() as { port: number }).port;
  const c = new ScpiClient(await openScpiTcp('127.0.0.1', port), { timeoutMs: 200 });
  t.teardown(() => c.close());
  const err = await t.throwsAsync(c.query('*IDN?'));
  t.regex(err!.message, new RegExp(`^tcp:127\\.0\\.0\\.1:${port}: no answer within 200 ms`));
});

test('addresses: refused connection, missing serial port and bad address forms say what to check', async (t) => {
  const free = createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', () => r()));
  const port = (free.address() as { port: number }).port;
  await new Promise<void>((r) => free.close(() => r()));
  await t.throwsAsync(openScpi(`tcp:127.0.0.1:${port}`), { message: /cannot connect \(ECONNREFUSED\): check the address/ });
  await t.throwsAsync(openScpi('serial:/dev/nonexistent-scpi'), { message: /serial:\/dev\/nonexistent-scpi: cannot open .*is the instrument plugged in/ });
  await t.throwsAsync(openScpi('gpib:5'), { instanceOf: RangeError, message: /write tcp:HOST\[:PORT\] .* or serial:PATH\[@BAUD\]/ });
});
