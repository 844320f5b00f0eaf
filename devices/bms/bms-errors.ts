// Errors a BMS driver raises, each naming where (port or bus) and saying what to check.

export class BmsError extends Error {
  /** The port or bus, e.g. `/dev/ttyUSB0`, `slcan:/dev/ttyACM0@500000`. */
  readonly where: string;
  constructor(where: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BmsError';
    this.where = where;
  }
}

/** The BMS did not answer (in time, after retries). */
export class BmsTimeoutError extends BmsError {
  constructor(where: string, message: string, options?: ErrorOptions) {
    super(where, message, options);
    this.name = 'BmsTimeoutError';
  }
}

/** The port or bus is gone or cannot be opened. */
export class BmsLinkError extends BmsError {
  constructor(where: string, message: string, options?: ErrorOptions) {
    super(where, message, options);
    this.name = 'BmsLinkError';
  }
}

/** The BMS answered, but refused the request or sent something this driver cannot read. */
export class BmsProtocolError extends BmsError {
  constructor(where: string, message: string, options?: ErrorOptions) {
    super(where, message, options);
    this.name = 'BmsProtocolError';
  }
}
