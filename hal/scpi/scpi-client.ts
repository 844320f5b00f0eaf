// A SCPI instrument client (IEEE 488.2 common commands and SCPI 1999 syntax) over any line
// transport (scpi-transport.ts: a raw TCP socket, port 5025 by convention, or a serial line).
// Commands are lines ending in LF; a query waits for one response line. `checked` commands are followed by SYST:ERR? until the queue is empty, so an instrument
// that refused a setting fails loudly (an unnoticed -222 "Data out of range" on a bench means a
// test that did not test what it claims).
import { ScpiError, type ScpiTransport } from './scpi-transport.ts';

export { ScpiError, openScpi, openScpiSerial, openScpiTcp, type ScpiTransport } from './scpi-transport.ts';

export interface ScpiError488 {
  code: number;
  message: string;
}

export class ScpiClient {
  readonly transport: ScpiTransport;
  readonly timeoutMs: number;
  constructor(transport: ScpiTransport, o: { timeoutMs?: number } = {}) {
    this.transport = transport;
    this.timeoutMs = o.timeoutMs ?? 2000;
  }

  get address(): string {
    return this.transport.address;
  }

  /** Sends a command that has no answer. */
  send(command: string): Promise<void> {
    if (/[\r\n]/.test(command)) return Promise.reject(new RangeError(`SCPI command ${JSON.stringify(command)}: one line, without CR or LF`));
    return this.transport.write(command);
  }

  /** Sends a query and returns its answer line. */
  async query(command: string): Promise<string> {
    if (!command.includes('?')) throw new RangeError(`SCPI query '${command}': a query ends its header with '?'`);
    await this.send(command);
    return this.transport.readLine(this.timeoutMs);
  }

  async queryNumber(command: string): Promise<number> {
    const a = await this.query(command);
    const v = Number.parseFloat(a);
    if (!Number.isFinite(v)) throw new ScpiError(this.address, `'${command}' answered '${a}', not a number`);
    return v;
  }

  /** *IDN?: manufacturer, model, serial number, firmware. */
  async identify(): Promise<{ manufacturer: string; model: string; serial: string; firmware: string; raw: string }> {
    const raw = await this.query('*IDN?');
    const [manufacturer = '', model = '', serial = '', firmware = ''] = raw.split(',').map((s) => s.trim());
    return { manufacturer, model, serial, firmware, raw };
  }

  reset(): Promise<void> {
    return this.send('*RST');
  }

  clear(): Promise<void> {
    return this.send('*CLS');
  }

  /** *OPC?: waits until every command sent before has completed. */
  async operationComplete(): Promise<void> {
    const a = await this.query('*OPC?');
    if (a.trim() !== '1') throw new ScpiError(this.address, `*OPC? answered '${a}', expected 1`);
  }

  /** Reads SYST:ERR? until the queue is empty ("0,..."); at most 32 entries. */
  async errors(): Promise<ScpiError488[]> {
    const out: ScpiError488[] = [];
    for (let i = 0; i < 32; i++) {
      const a = await this.query('SYST:ERR?');
      const m = /^\s*([+-]?\d+)\s*,\s*"?(.*?)"?\s*$/.exec(a);
      if (!m) throw new ScpiError(this.address, `SYST:ERR? answered '${a}', not <code>,"<message>"`);
      if (Number(m[1]) === 0) break;
      out.push({ code: Number(m[1]), message: m[2]! });
    }
    return out;
  }

  /** Sends a command (or query), waits for completion and fails if the instrument queued an error. */
  async checked(command: string): Promise<string | null> {
    const answer = command.includes('?') ? await this.query(command) : (await this.send(command), null);
    await this.operationComplete();
    const errs = await this.errors();
    if (errs.length) throw new ScpiError(this.address, `'${command}' was refused: ${errs.map((e) => `${e.code} ${e.message}`).join('; ')}`);
    return answer;
  }

  // Power supplies and electronic loads (SCPI 1999 Vol. 2, SOURce and MEASure subsystems).
  setVoltage(v: number): Promise<string | null> {
    return this.checked(`VOLT ${v}`);
  }
  setCurrent(a: number): Promise<string | null> {
    return this.checked(`CURR ${a}`);
  }
  /** Output of a supply, input of a load: OUTP is what both accept as the SCPI standard. */
  setOutput(on: boolean): Promise<string | null> {
    return this.checked(`OUTP ${on ? 'ON' : 'OFF'}`);
  }
  /** Load mode: CURR, VOLT, POW or RES. */
  setMode(mode: 'CURR' | 'VOLT' | 'POW' | 'RES'): Promise<string | null> {
    return this.checked(`FUNC ${mode}`);
  }
  measureVoltage(): Promise<number> {
    return this.queryNumber('MEAS:VOLT?');
  }
  measureCurrent(): Promise<number> {
    return this.queryNumber('MEAS:CURR?');
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
