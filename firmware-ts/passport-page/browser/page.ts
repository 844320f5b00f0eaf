// The passport page's script: on a battery's link (the URL its QR code carries) it fetches the
// bundle in the tier this device may see, verifies it in a Web Worker with the ledger's own
// verifier (progress shown as it goes), and draws the result; on the front page it offers the id
// search. The access token for the legitimate-interest view stays in this device's storage and
// goes only to this server, as an RFC 6750 bearer token.
import { renderPassport, showProgress, showVerdict } from './render-passport.ts';
import type { FromWorker, Tier, ToWorker } from './passport-view.ts';

const TOKEN_KEY = 'voltrail-passport-token';

function storedToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function storeToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Private browsing without storage: the token then lasts for this page only.
  }
}

async function errorText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: string };
    return body.error ?? `the server answered ${res.status}`;
  } catch {
    return `the server answered ${res.status}`;
  }
}

function authHeaders(token: string | null): HeadersInit {
  return token ? { authorization: `Bearer ${token}` } : {};
}

async function showWho(): Promise<void> {
  const token = storedToken();
  const who = document.getElementById('who')!;
  const out = document.getElementById('sign-out')!;
  if (!token) {
    who.textContent = 'public view';
    out.hidden = true;
    return;
  }
  const res = await fetch('/api/whoami', { headers: authHeaders(token) });
  if (res.ok) {
    const body = (await res.json()) as { name: string };
    who.textContent = `signed in: ${body.name}`;
    out.hidden = false;
  } else {
    storeToken(null);
    who.textContent = 'public view';
    document.getElementById('token-message')!.textContent = `Your access token was not accepted: ${await errorText(res)}`;
    out.hidden = true;
  }
}

function verifyInWorker(msg: ToWorker): Promise<FromWorker & { kind: 'result' }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker('/assets/verify-worker.js');
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.kind === 'progress') showProgress(m.stage, m.done, m.total);
      else {
        worker.terminate();
        if (m.kind === 'result') resolve(m);
        else reject(new Error(m.message));
      }
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(e.message || 'the verification worker failed to start'));
    };
    worker.postMessage(msg, [msg.bytes]);
  });
}

async function openPassport(batteryId: string): Promise<void> {
  document.title = `Battery passport: ${batteryId}`;
  showVerdict('checking', 'Checking…', `Fetching the passport of ${batteryId}`);
  const config = (await (await fetch('/api/config')).json()) as { trust: ToWorker['trust']; revocationLists: string[] };
  let token = storedToken();
  let res = await fetch(`/api/passports/${encodeURIComponent(batteryId)}/bundle`, { headers: authHeaders(token) });
  if (res.status === 401 && token) {
    // A revoked or mistyped token: fall back to the public view and say so.
    document.getElementById('token-message')!.textContent = `Your access token was not accepted: ${await errorText(res)}`;
    storeToken(null);
    token = null;
    res = await fetch(`/api/passports/${encodeURIComponent(batteryId)}/bundle`);
  }
  if (!res.ok) {
    showVerdict('fail', 'No passport', await errorText(res));
    return;
  }
  const tier = (res.headers.get('voltrail-tier') ?? 'public') as Tier;
  const fullAvailable = res.headers.get('voltrail-full-available') === 'yes';
  const bytes = await res.arrayBuffer();
  if (config.trust.length === 0) {
    showVerdict('fail', 'Not verified', 'this server pins no fleet authority key to verify against (start it with --trust KEY)');
    return;
  }
  showVerdict('checking', 'Checking…', `Verifying ${bytes.byteLength.toLocaleString('en')} bytes in this browser`);
  showProgress('starting', 0, 1);
  try {
    const t0 = performance.now();
    const { view } = await verifyInWorker({ bytes, trust: config.trust, revocationLists: config.revocationLists, tier });
    renderPassport(view, fullAvailable);
    // How long this browser took (worker start included): shown to nobody, read by the tests.
    document.getElementById('passport')!.dataset.verifyMs = String(Math.round(performance.now() - t0));
  } catch (err) {
    showVerdict('fail', 'Not verified', `the passport could not be read: ${(err as Error).message}`);
  }
}

async function search(q: string): Promise<void> {
  const list = document.getElementById('search-results')!;
  const res = await fetch(`/api/passports?q=${encodeURIComponent(q)}`);
  if (!res.ok) {
    list.replaceChildren(Object.assign(document.createElement('li'), { textContent: await errorText(res) }));
    return;
  }
  const { results } = (await res.json()) as { results: { batteryId: string; label?: string; url: string }[] };
  list.replaceChildren(
    ...results.map((r) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = new URL(r.url).pathname;
      a.textContent = r.batteryId;
      li.append(a);
      if (r.label) li.append(document.createElement('br'), r.label);
      return li;
    }),
  );
  if (results.length === 0) list.replaceChildren(Object.assign(document.createElement('li'), { textContent: `no passport matches '${q}'` }));
}

function wireForms(batteryId: string | undefined): void {
  document.getElementById('search-form')!.addEventListener('submit', (e) => {
    e.preventDefault();
    void search((document.getElementById('search-q') as HTMLInputElement).value.trim());
  });
  document.getElementById('token-form')!.addEventListener('submit', (e) => {
    e.preventDefault();
    const input = document.getElementById('token') as HTMLInputElement;
    const token = input.value.trim();
    input.value = '';
    void (async () => {
      const res = await fetch('/api/whoami', { headers: authHeaders(token) });
      const msg = document.getElementById('token-message')!;
      if (!res.ok) {
        msg.textContent = `Not accepted: ${await errorText(res)}`;
        return;
      }
      storeToken(token);
      msg.textContent = 'Signed in.';
      await showWho();
      if (batteryId) await openPassport(batteryId);
    })();
  });
  document.getElementById('sign-out')!.addEventListener('click', () => {
    storeToken(null);
    document.getElementById('token-message')!.textContent = 'Signed out.';
    void showWho().then(() => (batteryId ? openPassport(batteryId) : undefined));
  });
}

function start(): void {
  const batteryId = document.querySelector<HTMLMetaElement>('meta[name="voltrail-battery"]')?.content || undefined;
  wireForms(batteryId);
  void showWho();
  if (batteryId) {
    openPassport(batteryId).catch((err: Error) => showVerdict('fail', 'Not verified', `the passport could not be fetched: ${err.message}`));
  } else {
    const q = new URLSearchParams(location.search).get('q');
    if (q) {
      (document.getElementById('search-q') as HTMLInputElement).value = q;
      void search(q);
    }
  }
}

start();
