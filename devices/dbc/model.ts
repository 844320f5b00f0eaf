// The neutral DBC database model: what a parsed DBC file says, independent of the file syntax
// (Vector "DBC File Format Documentation" 1.0.5). Everything here is plain data and read-only
// once parsed; the codec compiles the bit layout of each message separately (codec-plan.ts).

export type ByteOrder = 'little_endian' | 'big_endian';
export type SignalValueType = 'integer' | 'float32' | 'float64';
export type DbcAttributeValue = number | string;
export type DbcObjectType = 'database' | 'node' | 'message' | 'signal' | 'env_var';

/** A `BA_DEF_` definition with its `BA_DEF_DEF_` default. */
export interface DbcAttributeDefinition {
  readonly name: string;
  readonly objectType: DbcObjectType;
  readonly valueType: 'INT' | 'HEX' | 'FLOAT' | 'STRING' | 'ENUM';
  readonly min?: number;
  readonly max?: number;
  /** ENUM labels; a `BA_` value of an ENUM attribute is an index into this list. */
  readonly enumValues?: readonly string[];
  readonly defaultValue?: DbcAttributeValue;
}

export interface DbcAttributes {
  /** Every `BA_DEF_`, by attribute name. */
  readonly definitions: ReadonlyMap<string, DbcAttributeDefinition>;
  /** `BA_` values given for the database itself (no object). */
  readonly database: ReadonlyMap<string, DbcAttributeValue>;
  /** `BA_` values given for nodes (`BU_`), by node name. */
  readonly nodes: ReadonlyMap<string, ReadonlyMap<string, DbcAttributeValue>>;
}

export interface DbcNode {
  readonly name: string;
  readonly comment?: string;
  readonly attributes: ReadonlyMap<string, DbcAttributeValue>;
}

export interface DbcSignal {
  readonly name: string;
  /** DBC start bit: the LSB for little endian (`@1`), the MSB in sawtooth numbering for big endian (`@0`). */
  readonly startBit: number;
  readonly length: number;
  readonly byteOrder: ByteOrder;
  /** Two's complement raw value (`-`). */
  readonly signed: boolean;
  readonly valueType: SignalValueType;
  readonly factor: number;
  readonly offset: number;
  /** Physical range; min = max = 0 means "no range given". */
  readonly min: number;
  readonly max: number;
  readonly unit: string;
  readonly receivers: readonly string[];
  /** This signal is a multiplexer switch (`M`, or `mNM`). */
  readonly multiplexer: boolean;
  /** Switch values for which this signal is present (from `mN`, or expanded `SG_MUL_VAL_` ranges). */
  readonly multiplexerIds?: readonly number[];
  /** Name of the switch this signal depends on (`M` signal, or the `SG_MUL_VAL_` switch). */
  readonly multiplexerSwitch?: string;
  /** Inclusive switch value ranges for which this signal is present. */
  readonly multiplexerRanges?: readonly (readonly [number, number])[];
  /** `VAL_` names (or the `VAL_TABLE_` they refer to), by raw value. */
  readonly choices?: ReadonlyMap<number, string>;
  readonly comment?: string;
  readonly attributes: ReadonlyMap<string, DbcAttributeValue>;
  /** Initial value from the `GenSigStartValue` attribute, raw. */
  readonly initialRaw?: number;
}

export interface DbcMessage {
  /** Arbitration id without the DBC's bit 31 flag. */
  readonly id: number;
  readonly extended: boolean;
  readonly name: string;
  /** Payload length in bytes. */
  readonly length: number;
  /** CAN FD: length above 8 or a `VFrameFormat` attribute naming an FD format. */
  readonly fd?: boolean;
  readonly sender: string;
  /** Extra transmitters from `BO_TX_BU_`. */
  readonly senders: readonly string[];
  readonly signals: readonly DbcSignal[];
  /** `GenMsgCycleTime` (explicit, or a non-zero default), in milliseconds. */
  readonly cycleTimeMs?: number;
  readonly comment?: string;
  readonly attributes: ReadonlyMap<string, DbcAttributeValue>;
  /** `SIG_GROUP_`s of this message: group name -> signal names. */
  readonly signalGroups: ReadonlyMap<string, readonly string[]>;
}

export interface DbcWarning {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface DbcComments {
  /** The database comment (`CM_ "..."`). */
  readonly database?: string;
  /** Comments on environment variables (`CM_ EV_`), by name. */
  readonly envVars: ReadonlyMap<string, string>;
}

export interface DbcEnvVar {
  readonly name: string;
  readonly type: number;
  readonly min: number;
  readonly max: number;
  readonly unit: string;
  readonly initial: number;
  readonly id: number;
  readonly accessType: string;
  readonly accessNodes: readonly string[];
}

export interface DbcDatabase {
  readonly file?: string;
  readonly version: string;
  /** Real messages; the `VECTOR__INDEPENDENT_SIG_MSG` pseudo-message is not among them. */
  readonly messages: readonly DbcMessage[];
  /** Signals of the `VECTOR__INDEPENDENT_SIG_MSG` pseudo-message (defined, sent by nobody). */
  readonly independentSignals: readonly DbcSignal[];
  readonly nodes: readonly DbcNode[];
  /** `VAL_TABLE_` definitions by table name. */
  readonly valueTables: ReadonlyMap<string, ReadonlyMap<number, string>>;
  readonly attributes: DbcAttributes;
  readonly comments: DbcComments;
  readonly envVars: readonly DbcEnvVar[];
  /** Sections read but not understood, each with file and line. */
  readonly warnings: readonly DbcWarning[];
  messageById(id: number, extended?: boolean): DbcMessage | undefined;
  messageByName(name: string): DbcMessage | undefined;
}
