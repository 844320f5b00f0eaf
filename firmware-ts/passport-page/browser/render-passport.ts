// Draws a verified (or refused) passport into the page: the verdict first, then identity, status
// history, state of health and capacity over time, temperature history, events, and what was
// checked. Text from the bundle only ever goes in through textContent. A refused passport still
// shows what it claims, under the red verdict, marked as unverified, so a recycler can see what
// the seller is asserting; a public view says what the legitimate-interest view would add.
import { eventStrip, lineChart } from './svg-chart.ts';
import { eventMarks, type EventEntry, type Fact, type PassportView } from './passport-view.ts';

const EVENTS_SHOWN = 30;

/** What each verifier failure code (ledger/passport/verify.ts) means for the person holding the phone. */
const FAILURE_MEANING: Record<string, string> = {
  malformed: 'The file is damaged or is not a battery passport.',
  'crl-rollback': 'An older revocation list was put in to hide a revoked key.',
  'wrong-authority': 'It is not signed by the fleet authority this page trusts: a substituted key, or another fleet.',
  'wrong-battery': 'Part of it belongs to another battery.',
  'wrong-key': 'A certificate binds another key than the one that signed.',
  uncertified: 'A record is signed by a key that no certificate binds: a substituted key.',
  'bad-signature': 'A signed item was changed after it was signed.',
  revoked: 'It was signed by a key revoked before (a lost, stolen or compromised board).',
  expired: "It was signed outside the certificate's validity.",
  'not-yet-valid': "It was signed outside the certificate's validity.",
  'bad-rotation': 'A key change is not signed by both the old and the new key.',
  'bad-status': 'A status change is not signed by an authorised party, or is not allowed.',
  reordered: 'Records of the history are out of order.',
  'missing-record': 'Records were removed from the history.',
  'bad-inclusion': 'A record is not part of the signed history.',
  'bad-consistency': 'The signed history was rewritten between two checkpoints.',
  truncated: 'The history was cut short.',
  'rolled-back': 'An older state of the history is shown than a witness has seen.',
  'bad-witness': 'A witness countersignature does not check out.',
  'counter-rollback': 'A lifecycle counter went backwards.',
  'bad-link': "A replacement board's link to the previous board's history does not match it.",
};

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

export function when(t: number): string {
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

function facts(list: readonly Fact[], id: string): HTMLElement {
  const dl = h('dl', { class: 'facts', id });
  for (const f of list) dl.append(h('dt', {}, f.label), h('dd', {}, f.value, ...(f.note ? [' ', h('small', {}, f.note)] : [])));
  return dl;
}

function card(title: string, id: string, ...body: Node[]): HTMLElement {
  return h('section', { class: 'card', id }, h('h2', {}, title), ...body);
}

function eventItem(e: EventEntry): HTMLElement {
  return h('li', { class: `l${e.level}` }, h('span', { class: 'when' }, when(e.time)), ' ', h('strong', {}, e.type), ...(e.detail ? [': ', e.detail] : []));
}

/** Sets the verdict box: `checking` while verifying, then `ok` (green) or `fail` (red, with the reason). */
export function showVerdict(state: 'checking' | 'ok' | 'fail', title: string, reason: string, meaning = ''): void {
  const box = document.getElementById('verdict')!;
  box.hidden = false;
  box.dataset.state = state;
  document.getElementById('verdict-title')!.textContent = title;
  const summary = document.getElementById('verdict-meaning')!;
  summary.textContent = meaning;
  summary.hidden = !meaning;
  document.getElementById('verdict-reason')!.textContent = reason;
  if (state !== 'checking') document.getElementById('progress')!.hidden = true;
}

export function showProgress(stage: string, done: number, total: number): void {
  document.getElementById('progress')!.hidden = false;
  const bar = document.getElementById('progress-bar') as HTMLProgressElement;
  bar.max = Math.max(1, total);
  bar.value = Math.min(done, total);
  const pct = total > 0 ? Math.floor((100 * done) / total) : 0;
  document.getElementById('progress-text')!.textContent = `${stage} ${pct} %`;
}

export function renderPassport(view: PassportView, fullAvailable: boolean): void {
  if (view.ok) {
    showVerdict('ok', 'Verified', `Every signature, proof and certificate checks out against the pinned fleet authority key. ${view.tier === 'full' ? 'Full history' : 'Public view'} of ${view.batteryId}.`);
  } else {
    const code = view.failure?.code ?? '';
    showVerdict('fail', 'Not verified', view.failure ? `${view.failure.message} (${code})` : 'the passport could not be verified', FAILURE_MEANING[code] ?? 'Do not rely on this passport.');
  }
  const root = document.getElementById('passport')!;
  root.replaceChildren();
  root.dataset.tier = view.tier;
  const s = view.series;
  const hasUsage = [s.soh, s.sohBms, s.capacity, s.resistance, s.cycles, s.hotHours, s.coldHours].some((x) => x.length > 0) || view.events.length > 0;
  if (!view.ok) root.append(h('p', { class: 'card tier-note' }, 'What was read before the check failed is shown below; none of it is verified: do not rely on it.'));

  root.append(card('Battery', 'identity', facts([{ label: 'Battery id', value: view.batteryId }, ...view.identity], 'identity-facts')));

  const statuses = h('ol', { class: 'timeline', id: 'status-history' });
  if (view.ok || view.statuses.length) root.append(card('Status history', 'status', statuses));
  for (const s of view.statuses) statuses.append(h('li', {}, h('strong', {}, s.status), ' ', h('span', { class: 'when' }, when(s.time)), h('br'), `signed by ${s.signer}`, ...(s.note ? [` — ${s.note}`] : [])));
  if (view.statuses.length === 0) statuses.append(h('li', {}, h('strong', {}, 'original'), ' ', h('span', { class: 'when' }, 'no status change recorded')));

  if (!view.ok && !hasUsage) {
    // Nothing of the history was read before the failure: no empty charts under a red verdict.
  } else if (view.tier === 'public') {
    root.append(
      card(
        'Usage history',
        'usage-public',
        h('p', { class: 'tier-note', id: 'public-note' }, fullAvailable
          ? 'This is the public view. State of health, capacity, temperature history and events are shown to authorised recyclers: sign in with your access token below.'
          : 'This is the public view; this server holds no legitimate-interest view of this battery.'),
      ),
    );
  } else {
    if (view.lifecycle.length) root.append(card('Lifecycle accounts', 'lifecycle', facts(view.lifecycle, 'lifecycle-facts')));
    root.append(
      card(
        'State of health and capacity',
        'health',
        lineChart({
          id: 'chart-soh',
          title: 'State of health',
          unit: '%',
          yMax: 100,
          series: [
            { name: 'certified energy', points: view.series.soh },
            ...(view.series.sohBms.length ? [{ name: 'reported by the BMS', points: view.series.sohBms, tone: 3 }] : []),
          ],
        }),
        lineChart({ id: 'chart-capacity', title: 'Remaining capacity', unit: 'Ah', series: [{ name: 'capacity', points: view.series.capacity, tone: 1 }] }),
        lineChart({ id: 'chart-cycles', title: 'Full equivalent cycles', unit: 'cycles', yMin: 0, series: [{ name: 'cycles', points: view.series.cycles, tone: 2 }] }),
        ...(view.series.resistance.length ? [lineChart({ id: 'chart-resistance', title: 'Internal resistance increase', unit: '%', series: [{ name: 'increase', points: view.series.resistance, tone: 3 }] })] : []),
      ),
    );
    root.append(
      card(
        'Temperature history',
        'temperature',
        lineChart({
          id: 'chart-temperature',
          title: 'Time at extreme temperatures',
          unit: 'h',
          yMin: 0,
          series: [
            { name: 'hot', points: view.series.hotHours, tone: 1 },
            { name: 'cold', points: view.series.coldHours, tone: 0 },
          ],
        }),
      ),
    );
    const recent = [...view.events].sort((a, b) => b.time - a.time);
    const list = h('ul', { class: 'events', id: 'event-list' }, ...recent.slice(0, EVENTS_SHOWN).map(eventItem));
    const more = recent.length > EVENTS_SHOWN ? [h('details', {}, h('summary', {}, `${recent.length - EVENTS_SHOWN} older events`), h('ul', { class: 'events' }, ...recent.slice(EVENTS_SHOWN).map(eventItem)))] : [];
    root.append(card('Events', 'events', eventStrip({ id: 'chart-events', title: `${view.events.length} events`, marks: eventMarks(view.events), from: view.span?.from, to: view.span?.to }), list, ...more));
  }
  if (view.checked.length) root.append(card('What was checked', 'checked', h('ul', { class: 'checked' }, ...view.checked.map((c) => h('li', {}, c)))));
}
