// The traffic simulator on a ManualClock: genuine vehicles and the roadside unit are heard and
// accepted, every attacker's traffic lands under its own reason and none of it is accepted.
import test from 'ava';
import { ManualClock } from '../../../hal/clock.ts';
import { TrafficSimulation } from '../../../v2x/sim/traffic-simulation.ts';
import type { Liar } from '../../../v2x/sim/sim-attackers.ts';
import { greenAxis } from '../../../v2x/sim/sim-stations.ts';
import { RoadNetwork } from '../../../v2x/sim/road-network.ts';

test('vehicles, a roadside unit and four kinds of attacker for 6 s', async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 8));
  const sim = new TrafficSimulation({ clock, vehicles: 16, rsu: true, attackers: 4, seed: 5, hazardsPerSecond: 1 });
  // Certified by the fleet authority: the vehicles, the roadside unit and the liar (an insider).
  const liar = sim.attackers.find((a): a is Liar => a.kind === 'liar')!;
  const certified = new Set([...sim.vehicles.map((v) => v.sealer.digest), sim.rsu!.sealer.digest, liar.me.sealer.digest].map((d) => Buffer.from(d).toString('hex')));
  for (let i = 0; i < 60; i++) {
    sim.step();
    clock.advance(100);
    await new Promise((r) => setImmediate(r));
    await sim.pipeline.drain();
  }
  const s = sim.summary();
  t.is(s.received, s.accepted + Object.values(s.dropped).reduce((a, b) => a + b, 0));
  for (const reason of ['bad-signature', 'bad-certificate', 'malformed', 'size', 'unknown-signer', 'implausible-position'] as const) {
    t.true((s.dropped[reason] ?? 0) > 0, `nothing dropped as ${reason}: ${JSON.stringify(s.dropped)}`);
  }
  t.true((s.dropped.replay ?? 0) + (s.dropped.duplicate ?? 0) + (s.dropped.stale ?? 0) > 0);
  t.is(sim.pipeline.map.neighbours.size >= 14, true, `${sim.pipeline.map.neighbours.size} neighbours`);
  t.true([...sim.pipeline.map.neighbours.keys()].every((id) => certified.has(id)));
  t.is(sim.pipeline.map.intersections.size, 1);
  t.is(sim.pipeline.map.chargingStations.size, 1);
  t.true(s.hazards >= 1);
  t.true(s.latencyMs.hazardP99 >= 0);
  await sim.close();
});

test('the traffic light cycles north-south, amber, east-west, amber', (t) => {
  t.is(greenAxis(0), 'ns');
  t.is(greenAxis(12_500), undefined);
  t.is(greenAxis(15_000), 'ew');
  t.is(greenAxis(29_999), undefined);
  t.is(greenAxis(30_000), 'ns');
  const net = new RoadNetwork({ blocks: 2, blockM: 100 });
  t.is(net.exits({ x: 100, y: 100 }, { x: 0, y: 100 }).length, 1); // a corner: the only way on
  t.throws(() => new RoadNetwork({ blocks: 3 }), { instanceOf: RangeError });
});
