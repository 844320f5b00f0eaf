import test from 'ava';
import { centiPercent, deciCelsius, milliamperes, millivolts, toFixedPoint } from '../../ledger/fixed-point.ts';

test('rounds to the nearest unit, ties away from zero, decimal inputs as written', (t) => {
  t.is(millivolts(3.6505, 'cell'), 3651);
  t.is(millivolts(3.6504, 'cell'), 3650);
  t.is(millivolts(-3.6505, 'x'), -3651);
  t.is(milliamperes(-12.3455, 'current'), -12346);
  t.is(deciCelsius(25.05, 'temp'), 251);
  t.is(deciCelsius(-0.05, 'temp'), -1);
  t.is(deciCelsius(-0.04, 'temp'), 0);
  t.true(Object.is(deciCelsius(-0.04, 'temp'), 0)); // never -0
  t.is(centiPercent(87.125, 'soc'), 8713);
  t.is(toFixedPoint(1.005, 100, 'x'), 101); // 100.49999999999999 as a double
  t.is(toFixedPoint(0.285, 100, 'x'), 29);
});

test('out of range and non-numbers are refused, naming the field', (t) => {
  t.throws(() => centiPercent(100.01, 'soc'), { instanceOf: RangeError, message: /^soc: 100\.01 is out of range \(0 to 100\)/ });
  t.throws(() => deciCelsius(4000, 'temperatures[3]'), { instanceOf: RangeError, message: /temperatures\[3\]/ });
  t.throws(() => millivolts(NaN, 'pack'), { instanceOf: RangeError, message: /pack: NaN/ });
  t.throws(() => millivolts(Infinity, 'pack'), { instanceOf: RangeError });
  t.throws(() => millivolts('3.6' as unknown as number, 'cell'), { instanceOf: TypeError, message: /cell/ });
  t.throws(() => milliamperes(3e6, 'current'), { instanceOf: RangeError });
});
