import test from 'ava';
import { CamGenerationRules, distanceM, headingChangeDeg } from '../../v2x/senders/cam-generation.ts';
import type { CamGenerationOptions } from '../../v2x/senders/cam-generation.ts';
import { braking, headingStep, straight, turning } from '../helpers/trajectories.ts';
import type { Sample } from '../helpers/trajectories.ts';

/** Runs the rules over a trajectory checked every T_CheckCamGen; returns send times and why. */
function run(traj: Sample[], opts?: CamGenerationOptions, dcc?: number) {
  const rules = new CamGenerationRules(opts);
  if (dcc !== undefined) rules.tGenCamDcc = dcc;
  const sent: number[] = [];
  const why: string[] = [];
  for (const s of traj) {
    const trig = rules.check(s.t, s);
    if (trig) {
      sent.push(s.t);
      why.push(trig);
    }
  }
  return { sent, why };
}

const range = (from: number, to: number, step: number) => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

test('straight at constant low speed (3 m/s): 1 Hz, every CAM by the interval rule', (t) => {
  const r = run(straight(3, 10_000));
  t.deepEqual(r.sent, range(0, 10_000, 1000));
  t.deepEqual(r.why, ['first', ...Array(10).fill('interval')]);
});

test('straight on the highway (25 m/s): the 4 m position rule fires every 200 ms', (t) => {
  const r = run(straight(25, 3000));
  t.deepEqual(r.sent, range(0, 3000, 200));
  t.true(r.why.slice(1).every((w) => w === 'dynamics'));
});

test('turning (25 deg/s at 2 m/s for 2 s): heading-triggered every 200 ms, kept for 3 CAMs, then 1 Hz', (t) => {
  const r = run(turning(2, 25, 2000, 7000));
  t.deepEqual(r.sent, [...range(0, 2000, 200), 2200, 2400, 2600, 3600, 4600, 5600, 6600]);
  t.deepEqual(r.why, ['first', ...Array(10).fill('dynamics'), 'interval', 'interval', 'interval', 'interval', 'interval', 'interval', 'interval']);
});

test('braking (3.4 m/s at 3 m/s^2): speed-triggered every 200 ms; stopping relaxes to 1000 ms after 3 CAMs', (t) => {
  const r = run(braking(3.4, 3, 5000));
  t.deepEqual(r.sent, [0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 2600, 3600, 4600]);
  t.deepEqual(r.why.slice(0, 6), ['first', 'dynamics', 'dynamics', 'dynamics', 'dynamics', 'dynamics']);
  t.deepEqual(r.why.slice(6), Array(6).fill('interval'));
});

test('N_GenCam: one heading step keeps its 500 ms interval for N_GenCam CAMs', (t) => {
  t.deepEqual(run(headingStep(1, 10, 500, 5000)).sent, [0, 500, 1000, 1500, 2000, 3000, 4000, 5000]);
  t.deepEqual(run(headingStep(1, 10, 500, 5000), { nGenCam: 1 }).sent, [0, 500, 1000, 2000, 3000, 4000, 5000]);
  t.deepEqual(run(headingStep(1, 10, 500, 5000), { nGenCam: 5 }).sent, [0, 500, 1000, 1500, 2000, 2500, 3000, 4000, 5000]);
});

test('the DCC lower bound stretches triggered intervals (T_GenCam_Dcc = 300 ms on the highway)', (t) => {
  t.deepEqual(run(straight(25, 3000), undefined, 300).sent, range(0, 3000, 300));
  const rules = new CamGenerationRules();
  rules.tGenCamDcc = 50;
  t.is(rules.tGenCamDcc, 100, 'never below T_GenCamMin');
  rules.tGenCamDcc = 5000;
  t.is(rules.tGenCamDcc, 1000, 'never above T_GenCamMax');
});

test('a standing vehicle sends at 1 Hz; the thresholds are strict (> 4 deg, > 4 m, > 0.5 m/s)', (t) => {
  t.deepEqual(run(straight(0, 3000)).sent, [0, 1000, 2000, 3000]);
  t.deepEqual(run(headingStep(0, 4, 500, 2000)).sent, [0, 1000, 2000], 'exactly 4 degrees does not trigger');
  t.deepEqual(run(headingStep(0, 4.1, 500, 2000)).sent, [0, 500, 1000, 1500, 2000]);
  t.is(headingChangeDeg(358, 2), 4);
  t.is(headingChangeDeg(10, 190), 180);
  t.true(Math.abs(distanceM({ latitude: 48, longitude: 11 }, { latitude: 48.001, longitude: 11 }) - 111.195) < 0.01);
});

test('bad parameters are refused by name', (t) => {
  t.throws(() => new CamGenerationRules({ tGenCamMin: 2000 }), { instanceOf: RangeError, message: /tGenCamMin/ });
  t.throws(() => new CamGenerationRules({ nGenCam: 0 }), { instanceOf: RangeError, message: /nGenCam/ });
});
