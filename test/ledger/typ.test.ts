import test from 'ava';
import { readFileSync } from 'node:fs';
import { TYP, isTyp } from '../../ledger/typ.ts';

test('every typ is distinct, a media type, and listed in the COSE profile CDDL', (t) => {
  const values = Object.values(TYP);
  t.is(new Set(values).size, values.length);
  const cddl = readFileSync(new URL('../../ledger/cddl/cose.cddl', import.meta.url), 'utf8');
  for (const v of values) {
    t.regex(v, /^application\/vnd\.voltrail\.[a-z0-9-]+\+(cose|cwt)$/);
    t.true(cddl.includes(`"${v}"`), `${v} missing from cose.cddl`);
    t.true(isTyp(v));
  }
  t.false(isTyp('application/cose'));
  t.true(values.length >= 11);
});
