// A battery whose board rotated its key and was then replaced: the passport carries both boards'
// logs; the verifier follows the rotation (records and checkpoints by the key certified at that
// point) and the replacement link (the new board names the old board's final checkpoint), and
// refuses a bundle that leaves the first board out or puts the boards out of order.
import test from 'ava';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadKeyFile } from '../../../ledger/keys/keyfile.ts';
import { exportPassport } from '../../../ledger/passport/export.ts';
import { encodeBundle } from '../../../ledger/passport/bundle.ts';
import { verifyPassport } from '../../../ledger/passport/verify.ts';
import { certificateRequest, ensureDeviceKey, installCertificate, lastCheckpointLink, readProvisioned, rotateDeviceKey } from '../../../firmware-ts/identity/board-identity.ts';
import { ledgerDir } from '../../../firmware-ts/runtime/data-dir.ts';
import { BATTERY, DATA, DAY, makeWorld, PASS, runBoard } from '../../helpers/passport-world.ts';

type World = Awaited<ReturnType<typeof makeWorld>>;
let world: World;
let boardB: string;
const quiet = () => undefined;

test.before(async () => {
  world = await makeWorld(2);
  const { clock, fleet } = world;
  clock.advance(DAY);
  await rotateDeviceKey({ dataDir: world.board, passphrase: PASS, fleetKey: fleet.publicKey, certify: async (r) => (await fleet.sign(r, { now: clock.now() })).certificate, clock, progress: quiet });
  const prov = (await readProvisioned(world.board))!;
  const rotated = await loadKeyFile(join(world.board, prov.keyFile), PASS);
  const stateA = { events: world.state.events + 1, efc: world.state.efc };
  await runBoard({ ...world, key: rotated }, 1, stateA);
  // The board is replaced: the new one links to the old one's last checkpoint.
  clock.advance(DAY);
  boardB = join(world.root, 'board-b');
  const { key, file } = await ensureDeviceKey(boardB, PASS, quiet);
  const { certificate } = await fleet.sign(certificateRequest(key, BATTERY, 'pi-b', DATA, clock.now()), { now: clock.now() });
  await installCertificate({ dataDir: boardB, key, keyFile: file, certificate, fleetKey: fleet.publicKey, clock, replaces: await lastCheckpointLink(ledgerDir(world.board)), progress: quiet });
  await runBoard({ ...world, board: boardB, key }, 1, { events: 2, efc: 0 });
});
test.after.always(async () => {
  if (world) await rm(world.root, { recursive: true, force: true });
});

const trust = () => ({ trust: world.fleet.publicKey });

test('a rotated and replaced board: both logs verify, in order, with the rotation followed', async (t) => {
  const { bundle } = await exportPassport({ ledgers: [ledgerDir(world.board), ledgerDir(boardB)], tier: 'full' });
  const r = verifyPassport(encodeBundle(bundle), trust());
  t.true(r.ok, r.failure && `${r.failure.code} ${r.failure.where}: ${r.failure.message}`);
  t.deepEqual(r.boards.map((b) => b.boardId), ['pi-a', 'pi-b']);
  t.is(r.boards[0]!.keys.length, 2, 'the provisioned key and the rotated one');
  t.true(r.events.some((e) => e.type === 'key-rotated'));
  t.true(r.events.some((e) => e.type === 'board-replaced' && e.board === 1));
  t.is(bundle.certificates.length, 3);
});

test('a bundle without the first board, or with the boards swapped, is refused', async (t) => {
  const onlyB = verifyPassport(encodeBundle((await exportPassport({ ledgers: [ledgerDir(boardB)], tier: 'full' })).bundle), trust());
  t.false(onlyB.ok);
  t.is(onlyB.failure?.code, 'bad-link');
  const swapped = verifyPassport(encodeBundle((await exportPassport({ ledgers: [ledgerDir(boardB), ledgerDir(world.board)], tier: 'full' })).bundle), trust());
  t.false(swapped.ok);
  t.is(swapped.failure?.code, 'bad-link');
});
