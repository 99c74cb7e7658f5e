// The distributor console: logs in with the group id and owner password, then asks the server
// for the group's delivery status every few seconds and draws every DCP × every cinema. Text from
// reports is only ever set as text, never as HTML: any cinema of the group writes its reports.
import { ago, bytes, duration, rate } from '/format.js';
import { attention, isSeeder, kdmWords, sinceLastReport, stateWords, totals, verifyWords, who } from '/deliveries.js';

const $ = (id) => document.getElementById(id);
let csrf = '';
let pollMs = 5000;
let timer = 0;

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

async function api(method, url, body) {
  const headers = { 'x-csrf-token': csrf };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  return { status: res.status, data };
}

function showLogin(message) {
  clearTimeout(timer);
  csrf = '';
  document.body.classList.remove('logged-in');
  $('login-panel').hidden = false;
  $('logout-button').hidden = true;
  $('attention-panel').hidden = true;
  $('no-dcps').hidden = true;
  $('dcps').replaceChildren();
  $('group-id').textContent = '';
  $('summary').textContent = 'Deliveries of your DCPs to every cinema.';
  $('login-error').hidden = !message;
  $('login-error').textContent = message ?? '';
}

function loggedIn(session) {
  csrf = session.csrfToken;
  pollMs = session.pollIntervalMs ?? pollMs;
  document.body.classList.add('logged-in');
  $('login-panel').hidden = true;
  $('login-error').hidden = true;
  $('logout-button').hidden = false;
  $('group-id').textContent = `· group ${session.group}`;
  void refresh();
}

const pct = (p) => `${(p.progress * 100).toFixed(1)}%`;

function peerRow(t, p, nowMs, group) {
  const since = sinceLastReport(p, nowMs);
  // A finished or stopped peer's last download rate would read as if it were still downloading.
  const receiving = ['downloading', 'checking', 'queued'].includes(p.state);
  const rates = [receiving && p.downloadBps ? `↓ ${rate(p.downloadBps)}` : null, p.state !== 'retired' && p.uploadBps ? `↑ ${rate(p.uploadBps)}` : null].filter(Boolean).join(' ') || '–';
  const note = attention(t, p, nowMs, group);
  const failed = p.verify && p.verify.state === 'failed' && p.verify.failed.length
    ? el('ul', { class: 'failed' }, ...p.verify.failed.map((f) => el('li', { text: f.reason.includes(f.path) ? f.reason : `${f.path}: ${f.reason}` })))
    : null;
  const bar = el('progress', { class: 'bar', max: '1', value: String(p.progress), 'aria-label': `${who(p)} progress` });
  const cell = (label, cls, ...content) => el('td', { class: cls, 'data-label': label }, el('div', {}, ...content));
  const row = el('tr', { class: `peer state-${p.state} flag-${p.flag}`, 'data-peer': p.peer },
    cell('Cinema', 'who', el('strong', { text: p.name ?? p.peer }), p.name || p.site ? el('small', { class: 'muted', text: [p.name ? p.peer : null, p.site].filter(Boolean).join(' · ') }) : null),
    cell('State', 'state', el('span', { class: 'badge', text: stateWords(p) }), p.flag !== 'ok' && p.flag !== 'not-started' ? el('span', { class: 'flag', text: p.flag.replace('-', ' ') }) : null, p.decision ? el('small', { class: 'decision muted', text: p.decision }) : null),
    cell('Progress', 'progress', ...(p.state === 'retired' ? [el('span', { class: 'muted', text: '–' })] : [bar, el('span', { text: pct(p) })])),
    cell('Rate', 'rate', rates),
    cell('ETA', 'eta', p.state === 'downloading' ? duration(p.etaSeconds) : '–'),
    cell('Last report', 'seen', el('span', { text: ago(since), title: p.updatedAt ?? 'never reported' })),
    cell('Verification', `verify verify-${p.verify?.state ?? 'none'}`, el('span', { text: p.verify?.state === 'failed' ? 'failed' : verifyWords(p.verify) }), failed),
    cell('KDM', `kdm kdm-${p.kdm?.state ?? 'none'}`, kdmWords(p.kdm)),
  );
  // What to do about it, on its own line under the cinema.
  return note ? [row, el('tr', { class: `note-row flag-${p.state === 'failed' ? 'failed' : p.flag}`, 'data-peer': p.peer }, el('td', { colspan: '8', class: 'note', text: note }))] : [row];
}

function dcpPanel(t, nowMs, group) {
  const sum = totals(t);
  const seeders = t.peers.filter(isSeeder);
  const cinemas = t.peers.filter((p) => !isSeeder(p));
  const facts = [bytes(t.size), `published ${new Date(t.createdAt).toLocaleString()}`, `info hash ${t.infoHash.slice(0, 12)}…`];
  const seederLine = seeders.length
    ? el('p', { class: 'seeders' }, 'Seeders: ', ...seeders.map((s, i) => el('span', { class: `seeder state-${s.state}`, 'data-peer': s.peer, text: `${i ? ', ' : ''}${who(s)} ${stateWords(s).toLowerCase()}, ↑ ${rate(s.uploadBps ?? 0)} (${ago(sinceLastReport(s, nowMs))})` })))
    : el('p', { class: 'seeders muted', text: t.retired ? 'No seeder reports on it.' : 'No seeder reports: cinemas can only get it from each other. Start one with cineswarm publish --seed.' });
  const table = cinemas.length
    ? el('div', { class: 'table-wrap' }, el('table', { class: 'deliveries' },
        el('thead', {}, el('tr', {}, ...['Cinema', 'State', 'Progress', 'Rate', 'ETA', 'Last report', 'Verification', 'KDM'].map((h) => el('th', { text: h })))),
        el('tbody', {}, ...cinemas.flatMap((p) => peerRow(t, p, nowMs, group)))))
    : el('p', { class: 'muted', text: 'No cinema has reported on it yet, and the roster is empty. Set the roster to see who has not started.' });
  return el('article', { class: `panel dcp${t.retired ? ' retired' : ''}`, 'data-name': t.name, 'data-info-hash': t.infoHash },
    el('div', { class: 'panel-head' }, el('h2', { text: t.name }), el('span', { class: `totals${sum.ready === sum.cinemas && sum.cinemas ? ' all-ready' : ''}`, text: sum.text })),
    t.retired ? el('p', { class: 'withdrawn', text: `${t.retired.reason === 'withdrawn' ? 'Withdrawn by the distributor' : 'Cleaned up by the server'} on ${new Date(t.retired.at).toLocaleString()}: cinemas stop sharing it and report it retired.` }) : null,
    el('p', { class: 'facts muted', text: facts.join(' · ') }),
    seederLine,
    table,
  );
}

function draw(s, skewMs) {
  const nowMs = Date.now() + skewMs;
  const notes = [];
  for (const t of s.torrents) for (const p of t.peers) {
    const n = attention(t, p, nowMs, s.group);
    if (n) notes.push({ n, flag: p.state === 'failed' ? 'failed' : p.flag });
  }
  $('attention').replaceChildren(...notes.map(({ n, flag }) => el('li', { class: `flag-${flag}`, text: n })));
  $('attention-panel').hidden = notes.length === 0;
  $('no-dcps').hidden = s.torrents.length > 0;
  $('dcps').replaceChildren(...s.torrents.map((t) => dcpPanel(t, nowMs, s.group)));
  const listed = s.torrents.filter((t) => !t.retired).length;
  const cinemas = new Set(s.torrents.flatMap((t) => t.peers.filter((p) => !isSeeder(p)).map((p) => p.peer)));
  $('summary').textContent = `${listed} DCP${listed === 1 ? '' : 's'} · ${cinemas.size} cinema${cinemas.size === 1 ? '' : 's'} · ${s.roster.length} on the roster · ${notes.length ? `${notes.length} need${notes.length === 1 ? 's' : ''} attention` : 'nothing needs attention'} · updated ${new Date().toLocaleTimeString()}`;
}

async function refresh() {
  clearTimeout(timer);
  try {
    const { status, data } = await api('GET', '/api/console/status');
    $('offline').hidden = true;
    if (status === 401 || status === 403) return showLogin(data?.message ?? 'Log in again.');
    if (status !== 200) {
      $('offline').hidden = false;
      $('offline').textContent = data?.message ?? `The server answered ${status}. Retrying…`;
    } else {
      draw(data, Date.parse(data.now) - Date.now());
    }
  } catch {
    $('offline').hidden = false;
    $('offline').textContent = 'Lost contact with the server. Retrying…';
  }
  timer = setTimeout(refresh, pollMs);
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const button = $('login-button');
  button.disabled = true;
  $('login-error').hidden = true;
  try {
    const { status, data } = await api('POST', '/api/console/login', { group: $('login-group').value.trim(), password: $('login-password').value });
    $('login-password').value = '';
    if (status === 200) loggedIn(data);
    else showLogin(data?.message ?? `The server refused the login (${status}).`);
  } catch {
    showLogin('Could not reach the server. Check the address and try again.');
  } finally {
    button.disabled = false;
  }
});

$('logout-button').addEventListener('click', async () => {
  await api('POST', '/api/console/logout').catch(() => undefined);
  showLogin();
});

// A page opened with a live session (a reload) goes straight to the deliveries.
fetch('/api/console/session', { credentials: 'same-origin' })
  .then((r) => r.json())
  .then((s) => (s.loggedIn ? loggedIn(s) : showLogin()))
  .catch(() => showLogin('Could not reach the server. Reload the page to try again.'));
