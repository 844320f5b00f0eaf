import test from 'ava';
import { canFrame, type CanFrame } from '../../../hal/can/frame.ts';
import { decodeLog, encodeMessage, loadDbc, type DecodedLogEntry } from '../../../devices/dbc/index.ts';
import { dbcPath } from '../../helpers/dbc-files.ts';

const ivt = await loadDbc(dbcPath('IVT-S_12082020.dbc'));

async function all(it: AsyncIterable<DecodedLogEntry>): Promise<DecodedLogEntry[]> {
  const out: DecodedLogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const frames: CanFrame[] = [
  canFrame({ id: 0x521, data: [0x00, 0x50, 0xff, 0xff, 0xfc, 0x18], timestamp: 10.5 }),
  canFrame({ id: 0x123, data: [1], timestamp: 10.6 }),
  canFrame({ id: 0x521, remote: true, dlc: 6, timestamp: 10.7 }),
  canFrame({ id: 0x521, data: [0], timestamp: 10.8 }),
  canFrame({ id: 0x521, error: true, data: [], timestamp: 10.9 }),
];

test('one entry per frame, in order, from a sync or an async source', async (t) => {
  const expected = [
    { t: 10.5, id: 0x521, ext: false, name: 'IVT_Msg_Result_I', signals: { IVT_Result_I_System_Error: 0, IVT_Result_I_OCS: 1, IVT_Result_I_Measurement_Error: 1, IVT_Result_I_Channel_Error: 0, IVT_ID_Result_I: 'Vt_Result_inaktive', IVT_MsgCount_Result_I: 0, IVT_Result_I: -1000 } },
    { t: 10.6, id: 0x123, ext: false, unknown: true },
    { t: 10.7, id: 0x521, ext: false, remote: true, name: 'IVT_Msg_Result_I' },
    { t: 10.8, id: 0x521, ext: false, name: 'IVT_Msg_Result_I', error: 'message IVT_Msg_Result_I (id 0x521) is 6 bytes; the frame holds 1' },
    { t: 10.9, id: 0x521, ext: false, unknown: true },
  ];
  const fromSync = await all(decodeLog(ivt, frames));
  // The value name of IVT_ID_Result_I comes from the file; check it rather than assume it.
  const idName = ivt.messageByName('IVT_Msg_Result_I')!.signals.find((s) => s.name === 'IVT_ID_Result_I')!.choices?.get(0);
  (expected[0] as { signals: Record<string, unknown> }).signals.IVT_ID_Result_I = idName ?? 0;
  t.deepEqual(fromSync, expected as DecodedLogEntry[]);
  async function* source(): AsyncGenerator<CanFrame> {
    for (const f of frames) yield f;
  }
  t.deepEqual(await all(decodeLog(ivt, source())), fromSync);
  const raw = await all(decodeLog(ivt, frames.slice(0, 1), { choices: false }));
  t.is((raw[0] as { signals: Record<string, unknown> }).signals.IVT_ID_Result_I, 0);
});

test('decodes what encodeMessage produced for every message of a real DBC', async (t) => {
  const plain = ivt.messages.filter((m) => m.signals.every((s) => !s.multiplexer && !s.multiplexerSwitch));
  const valuesOf = (m: (typeof plain)[number]): Record<string, number> =>
    Object.fromEntries(m.signals.map((s) => [s.name, s.offset >= s.min && s.offset <= s.max ? s.offset : s.max]));
  // The vendor's file gives IVT_Result_As a minimum of -21474836478 (one digit too many for
  // its 32-bit field): strict encode refuses it rather than wrap it.
  t.throws(() => encodeMessage(ivt, 'IVT_Msg_Result_As', { ...valuesOf(ivt.messageByName('IVT_Msg_Result_As')!), IVT_Result_As: -21474836478 }), {
    instanceOf: RangeError,
    message: /signal IVT_Result_As of message IVT_Msg_Result_As .*not representable in 32 signed bits/,
  });
  const encoded = plain.map((m) => encodeMessage(ivt, m.name, valuesOf(m)));
  t.true(encoded.length >= 8);
  const entries = await all(decodeLog(ivt, encoded, { choices: false }));
  for (const [i, e] of entries.entries()) {
    const m = ivt.messageById(encoded[i]!.id)!;
    t.deepEqual(e, { id: m.id, ext: false, name: m.name, signals: valuesOf(m) });
  }
});
