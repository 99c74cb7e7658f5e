// The planner as tables, without an engine: each row is what the agent knows (target, intent,
// history, engine status, disk) and the steps it must plan — including none.
import test from 'ava';
import { plan, reportKey, type EngineView, type PlanInput } from '../../../src/agent/pipeline/planner.js';
import type { HistoryEntry } from '../../../src/agent/pipeline/history-store.js';
import type { Intent } from '../../../src/agent/pipeline/intent-store.js';
import type { Step } from '../../../src/agent/pipeline/steps.js';
import type { TorrentStatus } from '../../../src/engine/index.js';

const H = 'a'.repeat(40);
const H2 = 'b'.repeat(40);
const GB = 1e9;
const NOW = Date.parse('2026-12-01T20:00:00Z');

function entry(p: Partial<HistoryEntry> = {}): HistoryEntry {
  return { name: 'FILM_FTR', infoHash: H, group: 'g', sizeBytes: 2 * GB, addedAt: 'x', state: 'seeding', verify: { state: 'passed', failed: [] }, ...p };
}

function status(p: Partial<TorrentStatus> = {}): TorrentStatus {
  const done = p.isSeeding ?? true;
  return {
    infoHash: H, name: 'FILM_FTR', savePath: '/d', state: done ? 'seeding' : 'downloading', paused: false, progress: done ? 1 : 0.4,
    totalWanted: 2 * GB, totalWantedDone: done ? 2 * GB : 0.8 * GB, totalDownload: 0, totalPayloadDownload: 0, totalPayloadUpload: 0,
    allTimeDownload: 0, allTimeUpload: 0, downloadRate: 0, uploadRate: 0, numPeers: 0, numSeeds: 0, numPieces: 10,
    isSeeding: done, isFinished: done, uploadMode: false, superSeeding: false, errorCode: null, error: null, ...p,
  };
}

function live(st: Partial<TorrentStatus> = {}, v: Partial<EngineView> = {}): EngineView {
  return { status: status(st), awaitingCheck: false, savedComplete: true, lastResumeSaveAt: NOW, ...v };
}

interface Row {
  entries?: HistoryEntry[];
  intent?: Record<string, Intent>;
  engine?: Record<string, EngineView>;
  listed?: { id: string; hashes?: string[]; ok?: boolean }[];
  stored?: string[];
  busy?: string[];
  verifying?: boolean;
  freeBytes?: number | null;
  minFreeBytes?: number;
  /** by default every entry was reported in its present state a moment ago */
  reported?: 'now' | 'never';
  diskFull?: Record<string, string>;
}

function input(r: Row): PlanInput {
  const entries = r.entries ?? [];
  const intents = r.intent ?? {};
  const intent = (ih: string): Intent => intents[ih] ?? {};
  const listed = r.listed ?? [{ id: 'g', hashes: entries.map((e) => e.infoHash) }];
  return {
    now: NOW,
    groups: listed.map((g) => ({ id: g.id, listedOk: g.ok ?? true, torrents: g.hashes?.map((h) => ({ name: entries.find((e) => e.infoHash === h)?.name ?? `NEW_${h.slice(0, 4)}`, infoHash: h, size: 2 * GB, createdAt: 'x' })) })),
    history: { get: (n) => entries.find((e) => e.name === n), all: () => entries, conflicts: () => [] },
    offers: new Map(),
    intent,
    engine: new Map(Object.entries(r.engine ?? {})),
    storedTorrents: new Set(r.stored ?? Object.keys(r.engine ?? {})),
    busy: new Set(r.busy ?? []),
    verifying: r.verifying ?? false,
    freeBytes: r.freeBytes === undefined ? 100 * GB : r.freeBytes,
    minFreeBytes: r.minFreeBytes ?? 0,
    downloadDir: '/srv/incoming',
    resumeSaveMs: 30_000,
    reportIntervalMs: 30_000,
    reported: new Map(r.reported === 'never' ? [] : entries.map((e) => [e.infoHash, { key: reportKey(e, intent(e.infoHash)), at: NOW }])),
    retryAt: new Map(),
    waitingForDisk: (ih) => r.diskFull?.[ih],
    kdmKey: () => '',
  };
}

const kinds = (steps: Step[]) => steps.map((s) => (s.kind === 'set-state' ? `set-state:${s.state}` : s.kind));

const rows: [string, Row, string[]][] = [
  ['a seeding DCP, nothing asked: nothing to do (steady state)', { entries: [entry()], engine: { [H]: live() } }, []],
  ['a new name in the listing: create it', { listed: [{ id: 'g', hashes: [H2] }] }, ['create']],
  ['queued, room on disk, no .torrent yet: fetch it', { entries: [entry({ state: 'queued', verify: { state: 'pending', failed: [] } })], stored: [] }, ['fetch-torrent']],
  ['queued, disk too full: wait for space', { entries: [entry({ state: 'queued', verify: { state: 'pending', failed: [] } })], stored: [], freeBytes: 1 * GB }, ['wait-for-space']],
  ['already waiting with that message: nothing new', { entries: [entry({ state: 'queued', message: 'waiting for disk space: 1.0 GB more needed on /srv/incoming', verify: { state: 'pending', failed: [] } })], stored: [], freeBytes: 1 * GB }, []],
  ['reserve counted: fits the disk but not with minFreeBytes', { entries: [entry({ state: 'queued', verify: { state: 'pending', failed: [] } })], stored: [], freeBytes: 3 * GB, minFreeBytes: 2 * GB }, ['wait-for-space']],
  ['no disk reading yet: do not start', { entries: [entry({ state: 'queued' })], stored: [], freeBytes: null }, []],
  ['.torrent stored (restart): add it to the engine', { entries: [entry({ state: 'downloading' })], stored: [H] }, ['add-to-engine']],
  ['in the engine, downloading, history says queued: record downloading', { entries: [entry({ state: 'queued', verify: { state: 'pending', failed: [] } })], engine: { [H]: live({ isSeeding: false }) } }, ['set-state:downloading']],
  ['complete, not verified: verify', { entries: [entry({ state: 'downloading', verify: { state: 'pending', failed: [] } })], engine: { [H]: live() } }, ['verify']],
  ['complete but another verify runs: wait', { entries: [entry({ state: 'downloading', verify: { state: 'pending', failed: [] } })], engine: { [H]: live() }, verifying: true }, []],
  ['verified, not placed: ingest', { entries: [entry({ state: 'verifying' })], engine: { [H]: live() } }, ['ingest']],
  ['ready: seeding', { entries: [entry({ state: 'ready' })], engine: { [H]: live() } }, ['set-state:seeding']],
  ['seeding, a person pauses: pause only', { entries: [entry()], engine: { [H]: live() }, intent: { [H]: { paused: true } } }, ['pause']],
  ['seeding, paused, a person resumes: resume only, no verify', { entries: [entry()], engine: { [H]: live({ paused: true }) } }, ['resume']],
  ['paused while verifying: pause the engine torrent, nothing else', { entries: [entry({ state: 'verifying', verify: { state: 'running', failed: [] } })], engine: { [H]: live() }, busy: [H], intent: { [H]: { paused: true } } }, ['pause']],
  ['paused and complete but unverified: do not start a verify', { entries: [entry({ state: 'downloading', verify: { state: 'pending', failed: [] } })], engine: { [H]: live({ paused: true }) }, intent: { [H]: { paused: true } } }, []],
  ['failed 3 times (persisted): nothing until a person asks', { entries: [entry({ state: 'failed', verifyAttempts: 3, verify: { state: 'failed', failed: [] } })], engine: { [H]: live() } }, []],
  ['failed 3 times, a person asks for a re-verify: verify', { entries: [entry({ state: 'failed', verifyAttempts: 3, verify: { state: 'failed', failed: [] } })], engine: { [H]: live() }, intent: { [H]: { reverify: true } } }, ['verify']],
  ['failed once, recheck asked: recheck', { entries: [entry({ state: 'failed', verifyAttempts: 1, recheck: true, verify: { state: 'failed', failed: [] } })], engine: { [H]: live() } }, ['recheck']],
  ['re-added for a recheck, engine not checking yet: wait', { entries: [entry({ state: 'failed', verifyAttempts: 1, verify: { state: 'failed', failed: [] } })], engine: { [H]: live({}, { awaitingCheck: true }) } }, []],
  ['full check of the files: checking', { entries: [entry()], engine: { [H]: live({ state: 'checking_files', isSeeding: false, isFinished: false, progress: 0.5 }) } }, ['set-state:checking']],
  ['resume data being checked: no state change', { entries: [entry()], engine: { [H]: live({ state: 'checking_resume_data', isSeeding: false, isFinished: false, progress: 0 }) } }, []],
  ['data lost after it verified: downloading again, verify reset', { entries: [entry()], engine: { [H]: live({ isSeeding: false }) } }, ['set-state:downloading']],
  ['withdrawn: its group lists it no more', { entries: [entry()], engine: { [H]: live() }, listed: [{ id: 'g', hashes: [] }] }, ['retire']],
  ['group left (not in the config any more)', { entries: [entry()], engine: { [H]: live() }, listed: [] }, ['retire']],
  ['the group poll failed: an old list says nothing', { entries: [entry()], engine: { [H]: live() }, listed: [{ id: 'g', hashes: [], ok: false }] }, []],
  ['own group withdrew it, another group still lists it: kept, and that group is told', { entries: [entry()], engine: { [H]: live() }, listed: [{ id: 'g', hashes: [] }, { id: 'h', hashes: [H] }] }, ['offer']],
  ['retired and out of the engine: nothing', { entries: [entry({ state: 'retired', message: 'group g left' })], listed: [] }, []],
  ['disk full: the engine holds it paused; no resume, downloading with why it waits', { entries: [entry({ state: 'downloading', verify: { state: 'pending', failed: [] } })], engine: { [H]: live({ isSeeding: false, paused: true }) }, diskFull: { [H]: 'waiting: disk full on /d, 1.0 GB needed' } }, ['set-state:downloading']],
  ['space back: the waiting message goes', { entries: [entry({ state: 'downloading', message: 'waiting: disk full on /d, 1.0 GB needed', verify: { state: 'pending', failed: [] } })], engine: { [H]: live({ isSeeding: false }) } }, ['set-state:downloading']],
  ['never reported: report', { entries: [entry()], engine: { [H]: live() }, reported: 'never' }, ['report']],
  ['complete, resume data not saved complete yet: save it', { entries: [entry()], engine: { [H]: live({}, { savedComplete: false }) } }, ['save-resume']],
  ['just complete, not verified, resume data not saved: the verify starts before the save waits on the disk', { entries: [entry({ state: 'downloading', verify: { state: 'pending', failed: [] } })], engine: { [H]: live({}, { savedComplete: false }) } }, ['verify', 'save-resume']],
  ['verified, resume data due: the ingest starts before the save', { entries: [entry({ state: 'verifying' })], engine: { [H]: live({}, { savedComplete: false }) } }, ['ingest', 'save-resume']],
  ['recheck asked, resume data not saved: save first (the recheck deletes it)', { entries: [entry({ state: 'failed', verifyAttempts: 1, recheck: true, verify: { state: 'failed', failed: [] } })], engine: { [H]: live({}, { savedComplete: false }) } }, ['save-resume', 'recheck']],
];

for (const [title, row, want] of rows) {
  test(`plan: ${title}`, (t) => {
    t.deepEqual(kinds(plan(input(row))), want);
  });
}

test('plan: one verification at a time, even for two DCPs complete in the same pass', (t) => {
  const a = entry({ state: 'downloading', verify: { state: 'pending', failed: [] } });
  const b = entry({ name: 'OTHER_FTR', infoHash: H2, state: 'downloading', verify: { state: 'pending', failed: [] } });
  t.deepEqual(kinds(plan(input({ entries: [a, b], engine: { [H]: live(), [H2]: live({ infoHash: H2 }) } }))), ['verify']);
});

test('plan: two queued DCPs share the free space: only the first that fits starts', (t) => {
  const a = entry({ state: 'queued', verify: { state: 'pending', failed: [] } });
  const b = entry({ name: 'OTHER_FTR', infoHash: H2, state: 'queued', verify: { state: 'pending', failed: [] } });
  const steps = plan(input({ entries: [a, b], stored: [], freeBytes: 3 * GB }));
  t.deepEqual(steps.map((s) => [s.kind, 'infoHash' in s ? s.infoHash : '']), [['fetch-torrent', H], ['wait-for-space', H2]]);
});

test('plan: the retire step says why', (t) => {
  const [left] = plan(input({ entries: [entry()], engine: { [H]: live() }, listed: [] }));
  t.like(left, { kind: 'retire', infoHash: H });
  t.regex((left as { message: string }).message, /group g left/);
  const [gone] = plan(input({ entries: [entry()], engine: { [H]: live() }, listed: [{ id: 'g', hashes: [] }] }));
  t.regex((gone as { message: string }).message, /withdrawn or cleaned up/);
});

test('plan: a paused DCP is added to the engine paused after a restart', (t) => {
  const steps = plan(input({ entries: [entry()], stored: [H], intent: { [H]: { paused: true } } }));
  t.deepEqual(steps.filter((s) => s.kind === 'add-to-engine'), [{ kind: 'add-to-engine', infoHash: H, paused: true }]);
});

test('plan: a re-release is accepted only once a person asked and while its group lists it; the replaced version retires', (t) => {
  const old = entry({ state: 'retired', message: 'withdrawn', retiredAt: new Date(NOW).toISOString() });
  const conflict = { name: 'FILM_FTR', group: 'g', knownInfoHash: H, offeredInfoHash: H2, seenAt: 'x' };
  const base = (over: Partial<PlanInput> = {}): PlanInput => {
    const i = input({ entries: [old], listed: [{ id: 'g', hashes: [] }] });
    return {
      ...i,
      groups: [{ id: 'g', listedOk: true, torrents: [{ name: 'FILM_FTR', infoHash: H2, size: 3 * GB, createdAt: 'x' }] }],
      history: { ...i.history, versions: (n) => [old].filter((e) => e.name === n), conflicts: () => [conflict] },
      ...over,
    };
  };
  // Recorded but not accepted: nothing (the conflict step is the reconciler's, already recorded).
  t.deepEqual(plan(base()).filter((s) => s.kind === 'accept'), []);
  const asked = base({ intent: (ih) => (ih === H2 ? { accept: true } : {}) });
  t.deepEqual(plan(asked).filter((s) => s.kind === 'accept'), [{ kind: 'accept', name: 'FILM_FTR', infoHash: H2, group: 'g', size: 3 * GB, replaces: H }]);
  // The group stopped listing it: nothing to take.
  t.deepEqual(plan({ ...asked, groups: [{ id: 'g', listedOk: true, torrents: [] }] }).filter((s) => s.kind === 'accept'), []);
  // Swapped out of ingest while another group still lists the old version: it retires all the same.
  const replaced = entry({ supersededBy: H2 });
  const [r] = plan(input({ entries: [replaced], engine: { [H]: live() }, listed: [{ id: 'g', hashes: [H] }] }));
  t.like(r, { kind: 'retire', infoHash: H });
  t.regex((r as { message: string }).message, /replaced in ingest by the accepted re-release b{12}/);
});

test('plan: left with --delete, a retired DCP goes at once, not keepDays later; never while marked in use', (t) => {
  const retired = entry({ state: 'retired', message: 'group g left', retiredAt: new Date(NOW).toISOString() });
  const row = (intent: Intent, inUse: string[] = []) => ({ ...input({ entries: [retired], listed: [], intent: { [H]: intent } }), keepDays: 30, inUse: new Set(inUse) });
  t.deepEqual(kinds(plan(row({}))), [], 'a plain leave keeps it');
  t.deepEqual(kinds(plan(row({ delete: true }))), ['remove']);
  t.deepEqual(kinds(plan(row({ delete: true }, [H]))), []);
});
