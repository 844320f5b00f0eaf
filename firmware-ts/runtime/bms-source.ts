// Opens the BMS a configuration names (config.ts `bms`), as a driver the runtime reads
// snapshots from. CAN kinds open their bus through hal/can/spec.ts (listen-only on real
// buses); the generic kind reads the user's DBC and a mapping file (devices/bms/mapping-file.ts,
// format in devices/README.md); JBD and Daly poll a serial port through hal/serial.
import { SerialPort } from 'serialport';
import { SerialPortLink } from '../../hal/serial/serialport-link.ts';
import { JbdUartDriver } from '../../devices/bms/jbd-uart.ts';
import { DalyUartDriver } from '../../devices/bms/daly-uart.ts';
import type { UartBmsDriver } from '../../devices/bms/uart-bms-driver.ts';
import { FOXBMS_RULES } from '../../devices/bms/profiles/foxbms.ts';
import { checkMapping, loadMapping, MappingError } from '../../devices/bms/mapping-file.ts';
import type { Clock } from '../../hal/clock.ts';
import type { CanBus } from '../../hal/can/bus.ts';
import { openBus } from '../../hal/can/spec.ts';
import { CanError } from '../../hal/can/errors.ts';
import { loadDbc } from '../../devices/dbc/index.ts';
import { CanBmsDriver } from '../../devices/bms/can-bms-driver.ts';
import { VOLTRAIL_DBC_PATH, VOLTRAIL_RULES } from '../../devices/bms/profiles/voltrail.ts';
import { UserError } from '../cli/errors.ts';
import type { BmsConfig } from './config.ts';
import type { BmsSource } from './runtime.ts';

export interface OpenedBms {
  driver: BmsSource;
  close(): Promise<void>;
}

/** A polled UART driver seen as a BmsSource: its answers are the frames it decoded. */
function uartSource(driver: UartBmsDriver, source: string): BmsSource {
  return {
    source,
    start: (signal) => driver.start(signal),
    snapshot: () => driver.snapshot(),
    get counters() {
      const c = driver.counters;
      return { frames: c.responses + c.rejected, decoded: c.responses, unknown: 0, rejected: c.rejected, ...(c.lastError ? { lastError: c.lastError } : {}) };
    },
  };
}

async function openCan(spec: string): Promise<CanBus> {
  try {
    // The drivers read with frames(): no queue for receive() that nobody would read.
    return await openBus(spec, { receiveQueueFromOpen: false });
  } catch (err) {
    if (err instanceof CanError) throw new UserError(`bms.bus ${spec}: ${err.message}`, 1, { cause: err });
    throw err;
  }
}

export async function openBms(cfg: BmsConfig, clock: Clock, staleMargin: number): Promise<OpenedBms> {
  switch (cfg.driver) {
    case 'voltrail-can': {
      const db = await loadDbc(VOLTRAIL_DBC_PATH);
      const bus = await openCan(cfg.bus);
      const driver = new CanBmsDriver({ source: 'voltrail', bus, db, rules: VOLTRAIL_RULES, clock, staleMargin });
      return { driver, close: () => bus.close() };
    }
    case 'foxbms-can': {
      if (!cfg.dbc) throw new UserError("bms.dbc: the foxbms-can driver needs the foxBMS DBC (foxbms.dbc from your foxBMS 2 release, tools/dbc/); add 'dbc: FILE'", 2);
      const db = await loadDbcOrError(cfg.dbc);
      const bus = await openCan(cfg.bus);
      const driver = new CanBmsDriver({ source: 'foxbms', bus, db, rules: FOXBMS_RULES, clock, staleMargin });
      return { driver, close: () => bus.close() };
    }
    case 'dbc': {
      const db = await loadDbcOrError(cfg.dbc);
      let mapping;
      try {
        mapping = await loadMapping(cfg.map);
        checkMapping(mapping, db, cfg.dbc);
      } catch (err) {
        if (err instanceof MappingError) throw new UserError(`bms.map: ${err.message}`, 1, { cause: err });
        throw err;
      }
      const bus = await openCan(cfg.bus);
      const driver = new CanBmsDriver({
        source: mapping.source,
        bus,
        db,
        rules: mapping.rules,
        clock,
        staleMargin,
        ...(mapping.counts ? { counts: mapping.counts } : {}),
      });
      return { driver, close: () => bus.close() };
    }
    case 'jbd':
    case 'daly': {
      const link = new SerialPortLink(new SerialPort({ path: cfg.port, baudRate: cfg.baudRate, autoOpen: false }));
      const opts = { link, clock };
      const uart: UartBmsDriver = cfg.driver === 'jbd' ? new JbdUartDriver(opts) : new DalyUartDriver(opts);
      return { driver: uartSource(uart, cfg.driver), close: () => uart.close() };
    }
  }
}

async function loadDbcOrError(path: string) {
  try {
    return await loadDbc(path);
  } catch (err) {
    throw new UserError(`bms.dbc ${path}: ${(err as Error).message}`, 1, { cause: err });
  }
}
