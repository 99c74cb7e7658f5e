// The download pipeline of one agent: space check → fetch the personalised torrent → engine →
// verify the DCP → place it in ingestDir → keep seeding. Each torrent's state lives in the
// history (so a restart continues where it stopped); the engine is asked, never assumed.
import path from 'node:path';
import type { Logger } from 'pino';
import { Session, parseTorrent, type Torrent, type TorrentStatus, type EngineAlert } from '../../engine/index.js';
import { verifyDcp } from '../../dcp/index.js';
import type { AgentConfig } from '../config/config.js';
import type { HistoryEntry, HistoryStore } from './history-store.js';
import type { ResumeStore } from './resume-store.js';
import { spaceShortfall } from '../monitoring/disk-space.js';
import { formatBytes } from '../../util/bytes.js';
import { diskUsage } from '../../util/disk-usage.js';
import { placeInIngest, alreadyPlaced } from './ingest.js';
import type { DiskFullGuard } from './disk-full.js';
import type { TorrentStateName } from '../monitoring/status-types.js';

/** How many times a DCP that fails verification is rechecked and re-downloaded before a person must act. */
const MAX_VERIFY_ATTEMPTS = 3;

export interface PipelineHooks {
  /** fetch the torrent personalised for this peer from the entry's group */
  fetchTorrent(entry: HistoryEntry): Promise<Buffer>;
  /** called after every persisted state change (the agent reports it to the server) */
  stateChanged(entry: HistoryEntry): void;
}

interface Live {
  torrent: Torrent;
  /** after forceRecheck, ignore "finished" until libtorrent has actually started checking */
  awaitingCheckSince?: number;
  verifyAttempts: number;
  verifying: boolean;
  /** resume data on disk already says "complete" */
  savedComplete?: boolean;
}

export class Downloads {
  private readonly live = new Map<string, Live>();
  private readonly starting = new Set<string>();
  private lastStatus = new Map<string, TorrentStatus>();
  /** pieces that failed their hash check, per info hash (status and logs) */
  readonly hashFailures = new Map<string, number>();
  private verifyChain: Promise<unknown> = Promise.resolve();
  minFreeBytes: number;

  constructor(
    readonly session: Session,
    private readonly cfg: AgentConfig,
    private readonly history: HistoryStore,
    private readonly resume: ResumeStore,
    private readonly hooks: PipelineHooks,
    private readonly log: Logger,
    /** a full disk during a download: message, alarm, resume when space is back */
    private readonly diskFull?: DiskFullGuard,
  ) {
    this.minFreeBytes = cfg.minFreeBytes;
    session.on('save-resume-data', (a: EngineAlert) => {
      if (a.infoHash && a.resumeData) void this.resume.save(a.infoHash, a.resumeData).catch((err: unknown) => this.log.warn({ err, infoHash: a.infoHash }, 'could not store resume data'));
    });
    session.on('torrent-finished', (a: EngineAlert) => {
      const entry = this.entryByHash(a.infoHash);
      if (entry) void this.saveResume(entry.infoHash);
      void this.tick();
    });
    session.on('hash-failed', (a: EngineAlert) => {
      if (a.infoHash) this.hashFailures.set(a.infoHash, (this.hashFailures.get(a.infoHash) ?? 0) + 1);
      this.log.warn({ infoHash: a.infoHash, piece: a.pieceIndex }, 'a piece failed its hash check; it will be fetched again from another peer');
    });
    session.on('alert', (a: EngineAlert) => this.log.trace({ alert: a.type, infoHash: a.infoHash, peer: a.peer, numPeers: a.numPeers }, a.message));
    session.on('state-changed', (a: EngineAlert) => {
      // A full hash check of existing data means resume data was missing or refused: worth a line.
      if (a.state === 'checking_files') this.log.info({ infoHash: a.infoHash, previousState: a.previousState }, 'checking files on disk against the torrent');
    });
    if (diskFull) diskFull.attach(session);
    else session.on('file-error', (a: EngineAlert) => this.log.error({ infoHash: a.infoHash, error: a.error }, 'disk error while writing a download'));
  }

  private entryByHash(infoHash?: string): HistoryEntry | undefined {
    return infoHash ? this.history.all().find((e) => e.infoHash === infoHash) : undefined;
  }

  status(infoHash: string): TorrentStatus | undefined {
    return this.lastStatus.get(infoHash);
  }

  torrent(infoHash: string): Torrent | undefined {
    return this.live.get(infoHash)?.torrent;
  }

  private async setState(entry: HistoryEntry, patch: Partial<HistoryEntry>): Promise<HistoryEntry> {
    const before = this.history.get(entry.name);
    const next = (await this.history.update(entry.name, patch)) ?? entry;
    if (!before || before.state !== next.state || before.message !== next.message) {
      this.log.info({ name: next.name, infoHash: next.infoHash, state: next.state, message: next.message }, `${next.name}: ${next.state}`);
      this.hooks.stateChanged(next);
    }
    return next;
  }

  /** Re-adds every torrent of the history that has its .torrent stored (crash or clean restart). */
  async restore(): Promise<void> {
    for (const entry of this.history.all()) {
      const bytes = await this.resume.loadTorrent(entry.infoHash);
      if (!bytes) continue; // never fetched: the next reconcile starts it like a new one
      let resumeData = await this.resume.load(entry.infoHash);
      try {
        this.addToEngine(entry, bytes, resumeData);
      } catch (err) {
        // Resume data torn or refused: a full check of what is on disk is slower but loses nothing.
        this.log.warn({ err, name: entry.name }, `${entry.name}: resume data refused; checking the files on disk instead`);
        resumeData = undefined;
        try {
          this.addToEngine(entry, bytes);
        } catch (err2) {
          await this.setState(entry, { state: 'failed', message: `cannot resume: ${(err2 as Error).message}` });
          continue;
        }
      }
      this.log.info({ name: entry.name, state: entry.state, withResumeData: Boolean(resumeData) }, `${entry.name}: resumed from the previous run`);
      if (entry.state === 'verifying' || entry.state === 'ready') await this.setState(entry, { state: 'checking' });
    }
  }

  private addToEngine(entry: HistoryEntry, bytes: Buffer, resumeData?: Buffer): void {
    const torrent = this.session.addTorrent({ torrent: bytes, savePath: this.cfg.downloadDir, resumeData, paused: entry.state === 'paused' });
    this.live.set(entry.infoHash, { torrent, verifyAttempts: 0, verifying: false });
  }

  /** One pass over the history: start what can start, follow the engine, verify what finished. */
  async tick(): Promise<void> {
    await this.diskFull?.check((ih) => this.live.get(ih)?.torrent);
    for (const s of this.session.statusAll()) this.lastStatus.set(s.infoHash, s);
    for (const entry of this.history.all()) {
      const live = this.live.get(entry.infoHash);
      if (!live) {
        if (entry.state === 'queued' || entry.state === 'checking' || entry.state === 'downloading') await this.tryStart(entry);
        continue;
      }
      await this.follow(entry, live);
    }
  }

  private async tryStart(entry: HistoryEntry): Promise<void> {
    if (this.starting.has(entry.infoHash)) return;
    this.starting.add(entry.infoHash);
    try {
      const usage = await diskUsage(this.cfg.downloadDir);
      // Files are sparse: downloads under way still need their missing bytes, so count them as taken.
      let committed = 0;
      for (const st of this.lastStatus.values()) if (!st.isFinished) committed += Math.max(0, st.totalWanted - st.totalWantedDone);
      const short = spaceShortfall(usage.free - committed, entry.sizeBytes, this.minFreeBytes);
      if (short > 0) {
        const message = `waiting for disk space: ${formatBytes(short)} more needed on ${this.cfg.downloadDir}`;
        if (entry.state !== 'queued' || entry.message !== message) await this.setState(entry, { state: 'queued', message });
        return;
      }
      let bytes = await this.resume.loadTorrent(entry.infoHash);
      if (!bytes) {
        bytes = await this.hooks.fetchTorrent(entry);
        const info = parseTorrent(bytes);
        // The listing promised this name and info hash; anything else is not what the group offered.
        if (info.infoHash !== entry.infoHash || info.name !== entry.name) {
          throw new Error(`the server sent ${info.name} (${info.infoHash}) for ${entry.name} (${entry.infoHash})`);
        }
        await this.resume.saveTorrent(entry.infoHash, bytes);
      }
      this.addToEngine(entry, bytes, await this.resume.load(entry.infoHash));
      await this.setState(entry, { state: 'downloading', message: undefined });
    } catch (err) {
      const message = `could not start: ${(err as Error).message}`;
      this.log.warn({ err, name: entry.name }, message);
      if (entry.message !== message) await this.setState(entry, { state: 'queued', message });
    } finally {
      this.starting.delete(entry.infoHash);
    }
  }

  private async follow(entry: HistoryEntry, live: Live): Promise<void> {
    const st = this.lastStatus.get(entry.infoHash);
    if (!st || live.verifying) return;
    if (entry.state === 'paused') return;
    const checking = st.state === 'checking_files' || st.state === 'checking_resume_data';
    if (live.awaitingCheckSince !== undefined) {
      // libtorrent starts the recheck asynchronously: until it has, "finished" is stale news.
      if (checking || Date.now() - live.awaitingCheckSince > 10_000) live.awaitingCheckSince = undefined;
      else return;
    }
    if (checking) {
      if (entry.state !== 'checking' && entry.state !== 'failed') await this.setState(entry, { state: 'checking' });
      return;
    }
    const complete = st.isFinished || st.isSeeding || st.progress >= 1;
    if (!complete) {
      const waiting = this.diskFull?.message(entry.infoHash);
      // `paused` is only ever a person's: a full disk keeps the download `downloading`, with why it waits.
      if (waiting !== undefined) {
        if (entry.state !== 'downloading' || entry.message !== waiting) await this.setState(entry, { state: 'downloading', message: waiting });
        return;
      }
      if (entry.state === 'downloading' && entry.message?.startsWith('waiting: disk full')) await this.setState(entry, { state: 'downloading', message: undefined });
      else if (entry.state !== 'downloading' && entry.state !== 'failed') await this.setState(entry, { state: 'downloading', message: undefined });
      else if (entry.state === 'failed' && entry.verify.state === 'failed') await this.setState(entry, { state: 'downloading' });
      return;
    }
    if (entry.state === 'seeding') return;
    if (entry.state === 'failed' && live.verifyAttempts >= MAX_VERIFY_ATTEMPTS) return;
    if (entry.state === 'ready') {
      await this.setState(entry, { state: 'seeding' });
      return;
    }
    // Finished downloading (or rechecked complete after a failed verify): verify before ingest.
    void this.verifyAndIngest(entry.name, live);
  }

  /** Verifies downloadDir/<name>; on success places it in ingestDir, on failure rechecks the bad pieces. */
  verifyAndIngest(name: string, live: Live | undefined = undefined): Promise<void> {
    const entry0 = this.history.get(name);
    if (!entry0) return Promise.resolve();
    const l = live ?? this.live.get(entry0.infoHash);
    if (!l || l.verifying) return Promise.resolve();
    l.verifying = true;
    const run = async (): Promise<void> => {
      let entry = await this.setState(entry0, { state: 'verifying', message: undefined, verify: { state: 'running', failed: [] } });
      l.verifyAttempts++;
      const dir = path.join(this.cfg.downloadDir, name);
      const report = await verifyDcp(dir);
      if (!report.ok) {
        const failed = report.failures.map((f) => ({ path: f.path, reason: f.reason }));
        const list = failed.map((f) => `${f.path} (${f.reason})`).join('; ');
        const last = l.verifyAttempts >= MAX_VERIFY_ATTEMPTS;
        entry = await this.setState(entry, {
          state: 'failed',
          verify: { state: 'failed', failed },
          message: last ? `verification failed ${l.verifyAttempts} times: ${list}; a person must check this DCP` : `verification failed: ${list}; re-checking and fetching the bad pieces again`,
        });
        if (!last) await this.recheck(entry, l);
        return;
      }
      entry = await this.setState(entry, { verify: { state: 'passed', failed: [] } });
      if (!(await alreadyPlaced(this.cfg.downloadDir, this.cfg.ingestDir, name))) {
        await placeInIngest(this.cfg.downloadDir, this.cfg.ingestDir, name);
      }
      entry = await this.setState(entry, { state: 'ready', completedAt: entry.completedAt ?? new Date().toISOString(), message: `in ${path.join(this.cfg.ingestDir, name)}` });
      l.verifyAttempts = 0;
      const st = l.torrent.status();
      // Bytes fetched by this run: after a crash and resume, this is what had to be re-fetched.
      this.log.info({ name, size: entry.sizeBytes, downloadedThisRun: st.totalPayloadDownload, hashFailures: this.hashFailures.get(entry.infoHash) ?? 0 }, `${name}: complete and ingested`);
      await this.setState(entry, { state: 'seeding' });
    };
    const p = this.verifyChain.then(run).catch(async (err: unknown) => {
      this.log.error({ err, name }, `${name}: verify or ingest failed`);
      const cur = this.history.get(name);
      if (cur) await this.setState(cur, { state: 'failed', message: (err as Error).message });
      l.verifyAttempts = MAX_VERIFY_ATTEMPTS; // do not loop on an ingest problem; a person must act
    });
    this.verifyChain = p.finally(() => {
      l.verifying = false;
    });
    return this.verifyChain as Promise<void>;
  }

  /** Hash-checks every piece on disk again so the damaged ones are fetched anew. The torrent is
   * re-added without resume data rather than force-rechecked in place: a torrent that was seeding
   * has dropped the seeds from its peer list, and a fresh one finds them again at once. */
  private async recheck(entry: HistoryEntry, l: Live): Promise<void> {
    const bytes = await this.resume.loadTorrent(entry.infoHash);
    if (!bytes) {
      l.awaitingCheckSince = Date.now();
      l.torrent.forceRecheck();
      return;
    }
    await this.session.removeTorrent(l.torrent);
    // The stored resume data claims every piece: a restart must not trust it any more.
    await this.resume.remove(entry.infoHash);
    l.torrent = this.session.addTorrent({ torrent: bytes, savePath: this.cfg.downloadDir });
    l.awaitingCheckSince = Date.now();
  }

  async pause(infoHash: string): Promise<void> {
    const entry = this.entryByHash(infoHash);
    const live = this.live.get(infoHash);
    if (!entry) throw Object.assign(new Error(`no torrent ${infoHash}`), { code: 'NOT_FOUND' });
    live?.torrent.pause();
    await this.setState(entry, { state: 'paused' });
  }

  async resumeTorrent(infoHash: string): Promise<void> {
    const entry = this.entryByHash(infoHash);
    if (!entry) throw Object.assign(new Error(`no torrent ${infoHash}`), { code: 'NOT_FOUND' });
    const live = this.live.get(infoHash);
    live?.torrent.resume();
    await this.setState(entry, { state: live ? 'downloading' : 'queued' });
    await this.tick();
  }

  async reverify(infoHash: string): Promise<void> {
    const entry = this.entryByHash(infoHash);
    if (!entry) throw Object.assign(new Error(`no torrent ${infoHash}`), { code: 'NOT_FOUND' });
    const live = this.live.get(infoHash);
    const st = live?.torrent.status();
    if (!live || !st || !(st.isFinished || st.isSeeding)) throw Object.assign(new Error(`${entry.name} is not downloaded yet; it is verified by itself when complete`), { code: 'NOT_READY' });
    live.verifyAttempts = 0;
    await this.verifyAndIngest(entry.name, live);
  }

  async saveResume(infoHash: string): Promise<void> {
    const live = this.live.get(infoHash);
    if (!live) return;
    try {
      const complete = live.torrent.status().isSeeding;
      await this.resume.save(infoHash, await live.torrent.saveResumeData());
      live.savedComplete = complete;
    } catch (err) {
      this.log.warn({ err, infoHash }, 'could not save resume data');
    }
  }

  /** Periodic save: a seeding torrent whose complete state is already on disk has nothing new to say. */
  async saveAllResume(opts: { all?: boolean } = {}): Promise<void> {
    const due = [...this.live].filter(([, l]) => opts.all || !(l.savedComplete && l.torrent.status().isSeeding));
    await Promise.all(due.map(([h]) => this.saveResume(h)));
  }

  /** Waits for a verify in progress (shutdown must not cut an ingest rename in half). */
  async idle(): Promise<void> {
    await this.verifyChain.catch(() => undefined);
  }

  stateOf(entry: HistoryEntry): TorrentStateName {
    return entry.state;
  }
}
