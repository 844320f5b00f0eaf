// One error tree for every CAN backend, after python-can's CanError hierarchy: a caller can
// catch CanError, or tell the kind apart with `kind` without knowing the backend.
import { ReasonError } from '../reason-error.ts';

export type CanErrorKind =
  | 'initialization'
  | 'timeout'
  | 'disconnected'
  | 'bus-off'
  | 'overrun'
  | 'closed'
  | 'not-permitted'
  | 'operation';

export class CanError extends ReasonError<CanErrorKind> {
  override name = 'CanError';
  /** The reason, under python-can's word for it. */
  get kind(): CanErrorKind {
    return this.reason;
  }
}

/** The bus could not be opened: wrong device, wrong spec, missing driver. */
export class CanInitializationError extends CanError {
  constructor(message: string, options?: ErrorOptions) {
    super('initialization', message, options);
    this.name = 'CanInitializationError';
  }
}

/** No frame (or no acknowledgement) arrived in time. */
export class CanTimeoutError extends CanError {
  constructor(message: string, options?: ErrorOptions) {
    super('timeout', message, options);
    this.name = 'CanTimeoutError';
  }
}

/** Sending was refused because the bus was opened listen-only (safety default on real buses). */
export class CanNotPermittedError extends CanError {
  constructor(message: string, options?: ErrorOptions) {
    super('not-permitted', message, options);
    this.name = 'CanNotPermittedError';
  }
}

/** A running bus failed: disconnected adapter, bus-off, receive overrun, operation on a closed bus. */
export class CanOperationError extends CanError {
  constructor(kind: Exclude<CanErrorKind, 'initialization' | 'timeout' | 'not-permitted'>, message: string, options?: ErrorOptions) {
    super(kind, message, options);
    this.name = 'CanOperationError';
  }
}
