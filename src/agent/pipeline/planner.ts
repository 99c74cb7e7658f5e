// The agent's planner: from what the groups list (the target), what a person asked for (intent),
// what the pipeline reached (history), what the engine shows and the free-space reading, the list
// of steps (steps.ts) that brings the agent closer to the target. Pure: no I/O, no clock of its
// own; the same input gives the same steps, and once they are applied it gives none.
import type { TorrentStatus } from '../../engine/index.js';
import type { TorrentSummary } from '../../protocol/index.js';
import type { ConflictEntry, HistoryEntry } from './history-store.js';
import type { Intent } from './intent-store.js';
import { planReconcile } from './reconciler.js';
import { keepReason } from './retention.js';
import { MAX_VERIFY_ATTEMPTS, type Step } from './steps.js';
import { spaceShortfall } from '../monitoring/disk-space.js';
import { formatBytes } from '../../util/bytes.js';

export interface GroupListing {
  id: string;
  /** the last list the server gave (kept while the server cannot be reached) */
  torrents?: TorrentSummary[];
  /** the latest poll of this group succeeded: an info hash missing from `torrents` was withdrawn */
  listedOk: boolean;
}

export interface EngineView {
  status: TorrentStatus;
  /** re-added for a recheck and libtorrent has not shown the check yet: "finished" is stale */
  awaitingCheck: boolean;
  /** resume data on disk already says "complete" */
  savedComplete: boolean;
  lastResumeSaveAt: number;
}

export interface PlanInput {
  now: number;
  /** the groups of the running config (a group not here was left) */
  groups: GroupListing[];
  history: { get(name: string): HistoryEntry | undefined; versions?(name: string): HistoryEntry[]; all(): HistoryEntry[]; conflicts(): ConflictEntry[] };
  /** groups that offer a DCP we took from another group, by name */
  offers: ReadonlyMap<string, ReadonlySet<string>>;
  intent(infoHash: string): Intent;
  engine: ReadonlyMap<string, EngineView>;
  /** info hashes whose .torrent is stored in dataDir */
  storedTorrents: ReadonlySet<string>;
  /** info hashes with a long step in flight */
  busy: ReadonlySet<string>;
  /** a verification is running (one at a time: it reads the whole DCP) */
  verifying: boolean;
  /** free bytes on downloadDir from the shared sampler; null before the first reading */
  freeBytes: number | null;
  minFreeBytes: number;
  downloadDir: string;
  resumeSaveMs: number;
  reportIntervalMs: number;
  /** what was last reported per info hash (key = state and message) and when */
  reported: ReadonlyMap<string, { key: string; at: number }>;
  /** a failed fetch or add is not tried again before this time */
  retryAt: ReadonlyMap<string, number>;
  /** why a download waits on a full disk (disk-full.ts), while it does: libtorrent holds it, not a person */
  waitingForDisk(infoHash: string): string | undefined;
  /** the DCP's key state as reported (encrypted DCPs), so a change is reported again */
  kdmKey(infoHash: string): string;
  /** retention.keepDays of the config (0: retired DCPs are never removed) */
  keepDays?: number;
  /** info hashes with an in-use marker in their folders (read by the agent before planning) */
  inUse?: ReadonlySet<string>;
}

/** The state the status, the page and the reports show: a person's pause wins over the pipeline. */
export function shownState(e: HistoryEntry, intent: Intent): HistoryEntry['state'] {
  return intent.paused && e.state !== 'retired' ? 'paused' : e.state;
}

export function reportKey(e: HistoryEntry, intent: Intent, kdm = ''): string {
  return `${shownState(e, intent)}|${e.message ?? ''}|${kdm}`;
}

export function plan(input: PlanInput): Step[] {
  const steps: Step[] = [];
  const targets = input.groups.filter((g) => g.torrents).map((g) => ({ group: g.id, torrents: g.torrents! }));
  const r = planReconcile(targets, input.history, input.offers, new Date(input.now));
  for (const a of r.add) steps.push({ kind: 'create', ...a });
  for (const c of r.conflicts) steps.push({ kind: 'conflict', conflict: c });
  steps.push(...planAccepted(input));
  for (const o of r.offers) {
    const e = input.history.get(o.name);
    if (e) steps.push({ kind: 'offer', name: o.name, infoHash: e.infoHash, group: o.group });
  }
  // Sparse files: downloads under way still need their missing bytes, so count them as taken.
  let committed = 0;
  for (const v of input.engine.values()) if (!v.status.isFinished) committed += Math.max(0, v.status.totalWanted - v.status.totalWantedDone);
  // One verification at a time: the flag also covers a verify planned earlier in this pass.
  const budget = { committed, verifying: input.verifying };
  for (const e of input.history.all()) steps.push(...planEntry(input, e, budget));
  return steps;
}

/** Re-releases a person accepted that are not in the history yet, while their group offers them. */
function planAccepted(input: PlanInput): Step[] {
  const out: Step[] = [];
  const have = new Set(input.history.all().map((e) => e.infoHash));
  for (const c of input.history.conflicts()) {
    const ih = c.offeredInfoHash;
    if (have.has(ih) || !input.intent(ih).accept) continue;
    const offered = input.groups.find((g) => g.id === c.group)?.torrents?.find((t) => t.name === c.name && t.infoHash.toLowerCase() === ih);
    if (!offered) continue;
    have.add(ih);
    out.push({ kind: 'accept', name: c.name, infoHash: ih, group: c.group, size: offered.size, replaces: c.knownInfoHash });
  }
  return out;
}

function retireReason(input: PlanInput, e: HistoryEntry): string | undefined {
  if (e.supersededBy) return `replaced in ingest by the accepted re-release ${e.supersededBy.slice(0, 12)}: no longer shared`;
  const listedElsewhere = input.groups.some((g) => g.id !== e.group && g.torrents?.some((t) => t.infoHash.toLowerCase() === e.infoHash));
  if (listedElsewhere) return undefined;
  const own = input.groups.find((g) => g.id === e.group);
  if (!own) return `group ${e.group} left: no longer shared`;
  if (own.listedOk && own.torrents && !own.torrents.some((t) => t.infoHash.toLowerCase() === e.infoHash)) {
    return `withdrawn or cleaned up on the server (no longer listed by group ${e.group}): no longer shared`;
  }
  return undefined;
}

function removalDue(input: PlanInput, e: HistoryEntry): boolean {
  // Nothing the server still lists goes: every group must have answered its last poll.
  if (!input.groups.every((g) => g.listedOk && g.torrents)) return false;
  const listed = new Set(input.groups.flatMap((g) => g.torrents!.map((t) => t.infoHash.toLowerCase())));
  const joined = new Set(input.groups.map((g) => g.id));
  const deleting = input.intent(e.infoHash).delete ? new Set([e.infoHash]) : undefined;
  return keepReason(e, { now: input.now, keepDays: input.keepDays ?? 0, joined, listed, inUse: input.inUse ?? new Set(), deleting }) === null;
}

function planEntry(input: PlanInput, e: HistoryEntry, budget: Budget): Step[] {
  const ih = e.infoHash;
  const intent = input.intent(ih);
  const live = input.engine.get(ih);
  const steps: Step[] = [];
  const last = input.reported.get(ih);
  const shown = shownState(e, intent);
  const reportDue = !last || last.key !== reportKey(e, intent, input.kdmKey(ih)) || (shown === 'downloading' && input.now - last.at >= input.reportIntervalMs);
  const report = (): Step[] => (reportDue ? [...steps, { kind: 'report', infoHash: ih }] : steps);

  if (e.state === 'retired') {
    if (live) steps.push({ kind: 'retire', infoHash: ih, message: e.message ?? 'retired' });
    else if (!input.busy.has(ih) && removalDue(input, e)) steps.push({ kind: 'remove', infoHash: ih });
    return report();
  }
  const busy = input.busy.has(ih);
  if (!busy) {
    const why = retireReason(input, e);
    if (why) return [{ kind: 'retire', infoHash: ih, message: why }];
  }
  if (live) {
    if (intent.paused && !live.status.paused) steps.push({ kind: 'pause', infoHash: ih });
    // A full disk pauses the engine torrent; the disk-full guard lets it go when space is back.
    if (!intent.paused && live.status.paused && input.waitingForDisk(ih) === undefined) steps.push({ kind: 'resume', infoHash: ih });
  }
  if (busy) return report();
  if (!live) {
    if ((input.retryAt.get(ih) ?? 0) > input.now) return report();
    if (input.storedTorrents.has(ih)) {
      steps.push({ kind: 'add-to-engine', infoHash: ih, paused: Boolean(intent.paused) });
      return report();
    }
    if (intent.paused || input.freeBytes === null) return report();
    const short = spaceShortfall(input.freeBytes - budget.committed, e.sizeBytes, input.minFreeBytes);
    if (short > 0) {
      const message = spaceMessage(short, input.downloadDir);
      if (e.state !== 'queued' || e.message !== message) steps.push({ kind: 'wait-for-space', infoHash: ih, shortfallBytes: short });
      return report();
    }
    budget.committed += e.sizeBytes;
    steps.push({ kind: 'fetch-torrent', infoHash: ih });
    return report();
  }
  steps.push(...followEngine(e, intent, live, input, budget));
  return report();
}

interface Budget {
  committed: number;
  verifying: boolean;
}

export function spaceMessage(shortfallBytes: number, downloadDir: string): string {
  return `waiting for disk space: ${formatBytes(shortfallBytes)} more needed on ${downloadDir}`;
}

/** What a torrent in the engine needs next, from what the engine shows and what the history says.
 * A resume-data save comes after the torrent's other steps: it is a quick step, so the loop waits
 * for its durable write (an fsync that, right after a download, waits for the download's dirty
 * pages: 0.7 s measured under load) before it would start a verify or ingest planned after it.
 * Only a recheck must follow it, since the recheck deletes the resume data a later save would
 * write back. */
function followEngine(e: HistoryEntry, intent: Intent, live: EngineView, input: PlanInput, budget: Budget): Step[] {
  const ih = e.infoHash;
  const s = live.status;
  const phase = enginePhase(s);
  const save: Step[] = [];
  if (!phase.checking && !phase.resumeCheck) {
    if (phase.complete && !live.savedComplete) save.push({ kind: 'save-resume', infoHash: ih });
    else if (!(live.savedComplete && s.isSeeding) && input.now - live.lastResumeSaveAt >= input.resumeSaveMs) save.push({ kind: 'save-resume', infoHash: ih });
  }
  if (e.recheck) return [...save, { kind: 'recheck', infoHash: ih }];
  return [...nextSteps(e, intent, live, input, budget, phase), ...save];
}

/** Where the engine is with a torrent: checking its files, checking resume data, or complete. */
function enginePhase(s: EngineView['status']): { checking: boolean; resumeCheck: boolean; complete: boolean } {
  const resumeCheck = s.state === 'checking_resume_data';
  const checking = s.state === 'checking_files';
  return { checking, resumeCheck, complete: !checking && !resumeCheck && (s.isFinished || s.isSeeding || s.progress >= 1) };
}

function nextSteps(e: HistoryEntry, intent: Intent, live: EngineView, input: PlanInput, budget: Budget, { checking, resumeCheck, complete }: ReturnType<typeof enginePhase>): Step[] {
  const ih = e.infoHash;
  const s = live.status;
  const out: Step[] = [];
  if (intent.reverify) {
    if (complete && !live.awaitingCheck && !budget.verifying) {
      budget.verifying = true;
      out.push({ kind: 'verify', infoHash: ih, requested: true });
    }
    return out;
  }
  if (live.awaitingCheck || resumeCheck) return out;
  const terminal = e.state === 'failed' && (e.verify.state === 'passed' || (e.verifyAttempts ?? 0) >= MAX_VERIFY_ATTEMPTS);
  if (terminal) return out; // a person must ask for a re-verify
  if (checking) {
    if (e.state !== 'checking') out.push({ kind: 'set-state', infoHash: ih, state: 'checking' });
    return out;
  }
  if (!complete) {
    // `paused` is only ever a person's: a full disk keeps the download `downloading`, saying why it waits.
    const waiting = input.waitingForDisk(ih);
    if (waiting !== undefined) {
      if (e.state !== 'downloading' || e.message !== waiting) out.push({ kind: 'set-state', infoHash: ih, state: 'downloading', message: waiting });
    } else if (e.state !== 'downloading' || e.message?.startsWith('waiting: ')) {
      out.push({ kind: 'set-state', infoHash: ih, state: 'downloading', resetVerify: e.verify.state === 'passed' });
    }
    return out;
  }
  if (e.verify.state === 'passed') {
    if (e.state === 'ready') out.push({ kind: 'set-state', infoHash: ih, state: 'seeding' });
    else if (e.state !== 'seeding') out.push({ kind: 'ingest', infoHash: ih });
    return out;
  }
  // Complete but not verified: verify, one DCP at a time, never while a person holds it paused.
  if (!intent.paused && !budget.verifying) {
    budget.verifying = true;
    out.push({ kind: 'verify', infoHash: ih, requested: false });
  }
  return out;
}
