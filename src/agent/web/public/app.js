// Status page logic: polls /api/status, draws it with textContent only (names come from the
// network, so never as HTML), and sends actions with the session's CSRF token.
import { bandwidthLine, bytes, duration, rate } from '/format.js';

const STATE_WORDS = {
  queued: 'Waiting',
  checking: 'Checking files',
  downloading: 'Downloading',
  verifying: 'Verifying the DCP',
  ready: 'Ready for ingest',
  seeding: 'Ready · sharing with other cinemas',
  failed: 'Failed',
  paused: 'Paused',
  retired: 'Retired · no longer shared',
};
const VERIFY_WORDS = {
  none: 'Not checked yet',
  pending: 'Will be checked when complete',
  running: 'Checking every file against the packing list…',
  passed: 'DCP checked: complete and intact',
  failed: 'DCP check failed',
};
const KDM_WORDS = {
  valid: 'Keys (KDM) valid',
  'waiting-for-dcp': 'KDM waiting for its DCP',
  'not-yet-valid': 'KDM not valid yet',
  expired: 'KDM EXPIRED',
  'not-for-this-server': 'KDM is for another server',
  'keys-missing': 'KDM lacks keys',
  'signature-invalid': 'KDM signature INVALID',
  'signature-not-checked': 'KDM signature not checked',
  missing: 'Encrypted: NO KDM',
};
const GROUP_WORDS = {
  joining: 'Connecting',
  joined: 'Connected',
  unauthorized: 'Password refused',
  'not-found': 'Unknown to the server',
  unreachable: 'Server unreachable',
};
const HEALTH_WORDS = { ok: 'OK', degraded: 'DEGRADED', rebuilding: 'Rebuilding', failing: 'FAILING', unknown: 'not reported by this system' };

const $ = (id) => document.getElementById(id);
let session = { passwordSet: false, loggedIn: false, actionsAvailable: false, pollIntervalMs: 1000 };
let timer = null;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function when(iso) {
  if (!iso) return '–';
  const t = new Date(iso);
  const ago = Math.round((Date.now() - t.getTime()) / 1000);
  const clock = t.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
  return ago >= 0 && ago < 3600 ? `${clock} (${duration(ago)} ago)` : clock;
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers);
  if ((options.method === 'POST' || options.method === 'DELETE') && session.csrfToken) headers['x-csrf-token'] = session.csrfToken;
  const res = await fetch(path, Object.assign({ credentials: 'same-origin' }, options, { headers }));
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw Object.assign(new Error((body && body.message) || `HTTP ${res.status}`), { status: res.status });
  return body;
}

function notice(text, bad) {
  const n = $('notice');
  n.textContent = text;
  n.className = bad ? 'notice bad' : 'notice';
  n.hidden = false;
  clearTimeout(notice.t);
  notice.t = setTimeout(() => { n.hidden = true; }, 6000);
}

async function act(path, label, init = { method: 'POST' }) {
  try {
    const r = await api(path, init);
    notice(r.message);
  } catch (e) {
    if (e.status === 401) await refreshSession();
    notice(`${label}: ${e.message}`, true);
  }
  refresh();
}

function drawAccount() {
  const canAct = session.actionsAvailable && session.loggedIn;
  $('login-form').hidden = !session.passwordSet || session.loggedIn;
  $('logout-button').hidden = !session.loggedIn;
  $('account-state').textContent = !session.passwordSet
    ? 'Read-only: no web password is set in the agent config'
    : session.loggedIn ? 'Logged in' : 'Log in to pause, resume or re-check';
  $('poll-now').hidden = !canAct;
  $('join-form').hidden = !(session.passwordSet && session.loggedIn);
  document.body.classList.toggle('can-act', canAct);
  document.body.classList.toggle('logged-in', session.passwordSet && session.loggedIn);
}

async function refreshSession() {
  try { session = await api('/api/session'); } catch { /* the status poll shows the outage */ }
  drawAccount();
}

function torrentCard(t) {
  const card = el('article', 'torrent');
  card.dataset.infohash = t.infoHash;
  const head = el('div', 'torrent-head');
  head.append(el('h3', 'name'), el('span', 'badge'));
  const bar = el('progress', 'bar');
  bar.max = 1000;
  const facts = el('div', 'torrent-facts');
  const verify = el('div', 'verify');
  const failed = el('ul', 'failed plain');
  const kdm = el('div', 'kdm');
  const message = el('p', 'message');
  const actions = el('div', 'actions');
  const toggle = el('button', 'action toggle');
  toggle.type = 'button';
  const recheck = el('button', 'action recheck', 'Check again');
  recheck.type = 'button';
  toggle.addEventListener('click', () => {
    const paused = card.dataset.state === 'paused';
    act(`/api/torrents/${t.infoHash}/${paused ? 'resume' : 'pause'}`, paused ? 'Resume' : 'Pause');
  });
  recheck.addEventListener('click', () => act(`/api/torrents/${t.infoHash}/reverify`, 'Check again'));
  actions.append(toggle, recheck);
  card.append(head, bar, facts, verify, failed, kdm, message, actions);
  return card;
}

function fillTorrent(card, t) {
  card.dataset.state = t.state;
  card.className = `torrent state-${t.state}`;
  card.querySelector('.name').textContent = t.name;
  card.querySelector('.badge').textContent = STATE_WORDS[t.state] || t.state;
  const bar = card.querySelector('.bar');
  bar.value = Math.round(t.progress * 1000);
  bar.setAttribute('aria-label', `${t.name}: ${(t.progress * 100).toFixed(1)} %`);
  const f = card.querySelector('.torrent-facts');
  const parts = [
    `${(t.progress * 100).toFixed(1)} %`,
    t.sizeBytes ? `${bytes(t.progress * t.sizeBytes)} of ${bytes(t.sizeBytes)}` : null,
    // A rate left over from before a pause or completion would mislead; show it only while fetching.
    ['downloading', 'checking'].includes(t.state) ? `↓ ${rate(t.downloadBps)}` : null,
    `↑ ${rate(t.uploadBps)}`,
    `${t.peers} ${t.peers === 1 ? 'peer' : 'peers'}`,
    t.state === 'downloading' ? `${duration(t.etaSeconds)} left` : null,
    `group ${t.group}`,
  ].filter(Boolean);
  f.replaceChildren(...parts.map((p) => el('span', null, p)));
  const v = card.querySelector('.verify');
  v.textContent = VERIFY_WORDS[t.verify.state] || t.verify.state;
  v.className = `verify verify-${t.verify.state}`;
  card.querySelector('.failed').replaceChildren(...t.verify.failed.map((x) => el('li', null, `${x.path}: ${x.reason}`)));
  const k = card.querySelector('.kdm');
  k.hidden = !t.kdm;
  if (t.kdm) {
    const until = t.kdm.notValidAfter ? ` until ${when(t.kdm.notValidAfter)}` : '';
    k.textContent = `${KDM_WORDS[t.kdm.state] || t.kdm.state}${t.kdm.state === 'valid' ? until : ''}${t.kdm.message && t.kdm.state !== 'valid' ? ` – ${t.kdm.message}` : ''}`;
    k.className = `kdm kdm-${t.kdm.state}`;
  }
  // Two versions of one name: say which is which (an accepted re-release, the one it replaced).
  const version = t.replaces ? `Re-release replacing version ${t.replaces.slice(0, 12)}; it takes the name in ingest once verified.` : t.replacedBy ? `Replaced in ingest by the re-release ${t.replacedBy.slice(0, 12)}.` : '';
  card.querySelector('.message').textContent = [version, t.message].filter(Boolean).join(' ');
  const toggle = card.querySelector('.toggle');
  toggle.textContent = t.state === 'paused' ? 'Resume' : 'Pause';
  toggle.disabled = t.state === 'failed';
  card.querySelector('.recheck').disabled = !['ready', 'seeding', 'failed', 'paused'].includes(t.state);
}

function drawTorrents(list) {
  const box = $('torrents');
  const existing = new Map([...box.children].map((c) => [c.dataset.infohash, c]));
  const cards = list.map((t) => {
    const card = existing.get(t.infoHash) || torrentCard(t);
    fillTorrent(card, t);
    return card;
  });
  // Cards are reused so a button under the finger or the pointer is not replaced every second.
  box.replaceChildren(...cards);
  $('no-torrents').hidden = list.length > 0;
}

function drawAlarms(alarms) {
  $('alarms').replaceChildren(...alarms.map((a) => {
    const b = el('div', `banner ${a.severity}`);
    b.append(el('strong', null, a.severity === 'critical' ? 'ALARM' : 'Warning'), el('span', null, a.message), el('small', null, `since ${when(a.since)}`));
    return b;
  }));
}

function drawStorage(s) {
  const disks = (s.system && s.system.disks) || [s.disk];
  const seen = new Set();
  $('disks').replaceChildren(...disks.filter((d) => !seen.has(d.path) && seen.add(d.path)).map((d) => {
    const box = el('div', 'disk');
    const used = d.total ? (d.total - d.free) / d.total : 0;
    const m = el('meter');
    Object.assign(m, { min: 0, max: 1, low: 0.8, high: 0.92, optimum: 0.2, value: used });
    box.append(el('div', 'disk-path', d.path), m, el('div', 'muted', `${bytes(d.free)} free of ${bytes(d.total)} (${Math.round(used * 100)} % used)`));
    return box;
  }));
  const health = (s.system && s.system.storage) || [];
  $('storage-health').replaceChildren(...health.map((h) => {
    const li = el('li', `health-${h.state}`);
    const label = h.device === 'storage' ? 'RAID and drive health' : `${h.kind === 'raid' ? 'RAID' : 'Drive'} ${h.device}`;
    li.append(el('strong', null, `${label}: `), el('span', null, HEALTH_WORDS[h.state] || h.state));
    if (h.detail) li.append(el('small', 'muted', ` ${h.detail}`));
    return li;
  }));
}

function draw(s) {
  $('agent-id').textContent = s.id;
  const counts = {};
  for (const t of s.torrents) counts[t.state] = (counts[t.state] || 0) + 1;
  const words = Object.entries(counts).map(([k, n]) => `${n} ${(STATE_WORDS[k] || k).toLowerCase()}`);
  $('summary').textContent = s.torrents.length ? words.join(' · ') : 'Nothing to download';
  drawAlarms(s.alarms || []);
  drawTorrents(s.torrents);
  drawStorage(s);
  $('net-rx').textContent = rate(s.network.rxBps);
  $('net-tx').textContent = rate(s.network.txBps);
  $('bandwidth').textContent = s.bandwidth ? bandwidthLine(s.bandwidth) : '–';
  $('last-poll').textContent = when(s.lastPollAt);
  $('uptime').textContent = duration(s.uptime);
  $('version').textContent = s.version;
  $('process').textContent = s.system ? `${s.system.process.cpuPercent} % · ${bytes(s.system.process.rssBytes)}` : '–';
  $('groups').replaceChildren(...(s.groups || []).map((g) => {
    const li = el('li', `group group-${g.state}`);
    li.append(el('strong', null, g.id), el('span', null, ` ${GROUP_WORDS[g.state] || g.state}`));
    if (g.message) li.append(el('small', 'muted', ` – ${g.message}`));
    const leave = el('button', 'action leave', 'Leave');
    leave.type = 'button';
    leave.addEventListener('click', () => {
      if (window.confirm(`Leave group ${g.id}? Its DCPs stop sharing and are kept until retention removes them.`)) {
        act(`/api/groups/${encodeURIComponent(g.id)}`, `Leave ${g.id}`, { method: 'DELETE' });
      }
    });
    li.append(leave);
    return li;
  }));
  const reclaim = s.reclaimable || [];
  $('reclaim-panel').hidden = reclaim.length === 0;
  $('reclaim').replaceChildren(...reclaim.map((r) => el('li', null, `${r.name}: ${bytes(r.bytes)} (${r.keptBecause})`)));
  const conflicts = s.conflicts || [];
  $('conflicts-panel').hidden = conflicts.length === 0;
  $('conflicts').replaceChildren(...conflicts.map((c) => {
    const li = el('li', 'conflict');
    li.append(el('p', null, `Group ${c.group} offers “${c.name}” with different content than the copy already here (a re-release?). It is not downloaded until you accept it.`));
    const have = c.known ? ` – ${STATE_WORDS[c.known.state] || c.known.state}${c.known.inIngest ? ', in the ingest folder' : ''}, ${bytes(c.known.sizeBytes)}` : '';
    const offered = c.offered ? ` – ${bytes(c.offered.sizeBytes)}` : ' – no longer listed by the group';
    li.append(el('p', 'muted', `Here: ${c.knownInfoHash}${have}`), el('p', 'muted', `Offered: ${c.offeredInfoHash}${offered}`));
    if (c.accepted) li.append(el('p', null, 'Accepted: the new version is on its way.'));
    else if (c.offered) {
      const actions = el('div', 'actions');
      const accept = el('button', 'action accept', 'Accept the new version');
      accept.type = 'button';
      accept.addEventListener('click', () => {
        if (window.confirm(`Accept the new version of ${c.name}? It downloads beside the old one and replaces it in the ingest folder once verified; the old one is retired.`)) {
          act('/api/accept', `Accept ${c.name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: c.name }) });
        }
      });
      actions.append(accept);
      li.append(actions);
    }
    return li;
  }));
  $('history').replaceChildren(...(s.history || []).slice().reverse().map((h) => {
    const tr = el('tr');
    tr.append(el('td', null, h.name), el('td', null, h.group), el('td', null, when(h.addedAt)), el('td', null, when(h.completedAt)), el('td', null, STATE_WORDS[h.state] || h.state));
    return tr;
  }));
}

async function refresh() {
  let s;
  try {
    s = await api('/api/status');
  } catch {
    $('offline').hidden = false;
    return;
  }
  $('offline').hidden = true;
  draw(s);
}

function loop() {
  clearTimeout(timer);
  refresh().finally(() => { timer = setTimeout(loop, session.pollIntervalMs || 1000); });
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const pw = $('password');
  try {
    session = await api('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: pw.value }) });
    pw.value = '';
    notice('Logged in.');
  } catch (e) {
    notice(e.message, true);
  }
  drawAccount();
  refresh();
});
$('logout-button').addEventListener('click', async () => {
  await api('/api/logout', { method: 'POST' }).catch(() => null);
  session.csrfToken = undefined;
  await refreshSession();
});
$('join-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const id = $('join-group'), pw = $('join-password');
  const body = JSON.stringify({ id: id.value.trim(), password: pw.value });
  await act('/api/groups', `Join ${id.value.trim()}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  pw.value = '';
});
$('poll-now').addEventListener('click', () => act('/api/poll-now', 'Check for new DCPs'));

refreshSession().then(loop);
