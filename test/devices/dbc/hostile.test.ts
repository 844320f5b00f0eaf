// Hostile DBC text: whatever the input, the parser either gives a database or a DbcParseError
// naming a line of the input; it never throws anything else or hangs, and what it gives can
// decode frames without crashing.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { canFrame } from '../../../hal/can/frame.ts';
import { DbcParseError, dbcText, decodeFrame, parseDbc } from '../../../devices/dbc/index.ts';
import { dbcPath } from '../../helpers/dbc-files.ts';

const TOKENS = [
  'VERSION', 'NS_', 'BS_', 'BU_', 'BO_', 'SG_', 'CM_', 'BA_DEF_', 'BA_DEF_DEF_', 'BA_', 'VAL_', 'VAL_TABLE_', 'SIG_VALTYPE_',
  'SG_MUL_VAL_', 'SIG_GROUP_', 'BO_TX_BU_', 'EV_', 'M', 'm0', 'm1M', 'X', 'Node', 'INT', 'ENUM', 'STRING', 'FLOAT', 'HEX',
  '0', '1', '7', '8', '64', '100', '2147483748', '3221225472', '-1', '1.5', '1e-5', '"a"', '"multi\nline"', '""',
  ':', ';', '|', '@', '+', '-', '(', ')', '[', ']', ',', '\n', '\n ', ' ', '{', '#', '"',
];

function check(t: ExecutionContext, text: string): boolean {
  const lines = text.split('\n').length;
  try {
    const db = parseDbc(text, { file: 'fuzz.dbc' });
    for (const m of db.messages) {
      const data = new Uint8Array(m.length).fill(0xa5);
      try {
        decodeFrame(db, canFrame({ id: m.id, extended: m.extended, data, fd: m.length > 8 }));
      } catch (err) {
        // A message length that is no CAN length is refused by canFrame; nothing else may throw.
        if (!(err instanceof RangeError)) throw err;
      }
    }
    return true;
  } catch (err) {
    if (err instanceof DbcParseError && err.file === 'fuzz.dbc' && err.line >= 1 && err.line <= lines) return true;
    t.log(JSON.stringify(text.length > 400 ? `${text.slice(0, 400)}...` : text), err);
    return false;
  }
}

test('random token soup: a database or a DbcParseError with a line of the input', (t) => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }), (toks) => check(t, toks.join(' '))),
    { seed: 11, numRuns: 2000 },
  );
  t.pass();
});

test('a signal defined twice in a message is read with a warning; the first definition is kept', (t) => {
  const db = parseDbc('BO_ 1 M: 8 N\n SG_ S : 0|8@1+ (1,0) [0|0] "" N\n SG_ S : 8|8@1+ (1,0) [0|0] "" N\n', { file: 'dup.dbc' });
  t.deepEqual(db.warnings, [{ file: 'dup.dbc', line: 3, message: 'signal S is defined twice in message M; the first definition is kept' }]);
  t.is(db.messageById(1)!.signals.length, 1);
  t.is(db.messageById(1)!.signals[0]!.startBit, 0);
});

test('a real DBC with lines deleted, duplicated or cut short', (t) => {
  const lines = dbcText(readFileSync(dbcPath('iso165_IMD.dbc'))).split('\n');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(lines.length - 1), fc.constantFrom('delete', 'duplicate', 'cut'), fc.nat(200)), { minLength: 1, maxLength: 4 }),
      (edits) => {
        const copy = [...lines];
        for (const [at, what, n] of edits) {
          const i = at % copy.length;
          if (what === 'delete') copy.splice(i, 1);
          else if (what === 'duplicate') copy.splice(i, 0, copy[i]!);
          else copy[i] = copy[i]!.slice(0, n % (copy[i]!.length + 1));
        }
        return check(t, copy.join('\n'));
      },
    ),
    { seed: 12, numRuns: 150 },
  );
  t.pass();
});
