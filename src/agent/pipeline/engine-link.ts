// The pipeline's hold on the libtorrent session: which torrents are in the engine, what the
// engine last showed of each (for the planner), resume data saves, and the engine alerts that
// matter to the pipeline (each one only tells the loop that something changed).
import type { Logger } from 'pino';
import type { EngineAlert, Session, Torrent, TorrentStatus } from '../../engine/index.js';
import type { EngineView } from './planner.js';
import type { ResumeStore } from './resume-store.js';
import type { DiskFullGuard } from './disk-full.js';
import type { CorruptPeersGuard } from './corrupt-peers.js';
import type { AssetChecker } from './asset-checks.js';

/** libtorrent starts a recheck asynchronously; "finished" before it shows is stale, for so long at most. */
const AWAIT_CHECK_MS = 10_000;

interface Live {
  torrent: Torrent;
  awaitingCheckSince?: number;
  savedComplete: boolean;
  lastResumeSaveAt: number;
}

export class EngineLink {
  private readonly live = new Map<string, Live>();
  private readonly lastStatus = new Map<string, TorrentStatus>();
  /** pieces that failed their hash check since start, per info hash (corrupt peers) */
  readonly hashFailures = new Map<string, number>();
  /** checks each asset as its download completes (set by the agent) */
  assetChecks?: AssetChecker;

  constructor(
    readonly session: Session,
    private readonly resume: ResumeStore,
    /** where a torrent's files go: its own folder under downloadDir (download-layout.ts) */
    private readonly savePath: (infoHash: string) => string,
    private readonly changed: (reason: string) => void,
    private readonly log: Logger,
    /** a full disk during a download: message, alarm, downloading again when space is back */
    diskFull?: DiskFullGuard,
    /** peers sending damaged data: bans logged once, a download only they could finish */
    corrupt?: CorruptPeersGuard,
  ) {
    session.on('save-resume-data', (a: EngineAlert) => {
      if (a.infoHash && a.resumeData) void this.resume.save(a.infoHash, a.resumeData).catch((err: unknown) => this.log.warn({ err, infoHash: a.infoHash }, 'could not store resume data'));
    });
    session.on('torrent-finished', () => this.changed('engine: torrent finished'));
    session.on('hash-failed', (a: EngineAlert) => {
      if (a.infoHash) this.hashFailures.set(a.infoHash, (this.hashFailures.get(a.infoHash) ?? 0) + 1);
      // one line per torrent (the guard's), not one per damaged piece
      if (!corrupt) this.log.warn({ infoHash: a.infoHash, piece: a.pieceIndex }, 'a piece failed its hash check; it will be fetched again from another peer');
    });
    session.on('alert', (a: EngineAlert) => this.log.trace({ alert: a.type, infoHash: a.infoHash, peer: a.peer, numPeers: a.numPeers }, a.message));
    session.on('state-changed', (a: EngineAlert) => {
      // A full hash check of existing data means resume data was missing or refused: worth a line.
      if (a.state === 'checking_files') this.log.info({ infoHash: a.infoHash, previousState: a.previousState }, 'checking files on disk against the torrent');
      this.changed('engine: state changed');
    });
    corrupt?.attach(session);
    if (diskFull) diskFull.attach(session);
    else session.on('file-error', (a: EngineAlert) => this.log.error({ infoHash: a.infoHash, error: a.error }, 'disk error while writing a download'));
  }

  has(infoHash: string): boolean {
    return this.live.has(infoHash);
  }

  torrent(infoHash: string): Torrent | undefined {
    return this.live.get(infoHash)?.torrent;
  }

  status(infoHash: string): TorrentStatus | undefined {
    return this.lastStatus.get(infoHash);
  }

  /** Reads every torrent's status once and returns what the planner needs of each. */
  snapshot(now: number): Map<string, EngineView> {
    for (const s of this.session.statusAll()) this.lastStatus.set(s.infoHash, s);
    const out = new Map<string, EngineView>();
    for (const [ih, l] of this.live) {
      const status = this.lastStatus.get(ih) ?? l.torrent.status();
      if (l.awaitingCheckSince !== undefined && (status.state === 'checking_files' || now - l.awaitingCheckSince > AWAIT_CHECK_MS)) l.awaitingCheckSince = undefined;
      out.set(ih, { status, awaitingCheck: l.awaitingCheckSince !== undefined, savedComplete: l.savedComplete, lastResumeSaveAt: l.lastResumeSaveAt });
    }
    return out;
  }

  /** Adds a torrent; resume data that libtorrent refuses falls back to checking the files on disk. */
  /** `checkAssets`: hash each asset as it completes (not for a DCP that verified already: a restart
   * of an agent seeding many DCPs must not read them all again). */
  add(infoHash: string, bytes: Buffer, resumeData: Buffer | undefined, paused: boolean, checkAssets = true): { withResumeData: boolean } {
    const add = (rd: Buffer | undefined) => this.session.addTorrent({ torrent: bytes, savePath: this.savePath(infoHash), resumeData: rd, paused });
    let torrent: Torrent;
    let withResumeData = Boolean(resumeData);
    try {
      torrent = add(resumeData);
    } catch (err) {
      if (!resumeData) throw err;
      this.log.warn({ err, infoHash }, 'resume data refused; checking the files on disk instead');
      torrent = add(undefined);
      withResumeData = false;
    }
    this.live.set(infoHash, { torrent, savedComplete: false, lastResumeSaveAt: Date.now() });
    if (checkAssets) this.track(infoHash, torrent, bytes);
    return { withResumeData };
  }

  /** Hash-checks every piece on disk again so damaged ones are fetched anew. Re-added without
   * resume data rather than force-rechecked in place: a torrent that was seeding has dropped the
   * seeds from its peer list, and a fresh one finds them again at once. */
  async recheck(infoHash: string, bytes: Buffer | undefined, paused: boolean): Promise<void> {
    const l = this.live.get(infoHash);
    if (!l) return;
    // The stored resume data claims every piece: a restart must not trust it any more.
    await this.resume.remove(infoHash);
    if (!bytes) {
      l.torrent.forceRecheck();
    } else {
      this.assetChecks?.untrack(infoHash);
      await this.session.removeTorrent(l.torrent);
      l.torrent = this.session.addTorrent({ torrent: bytes, savePath: this.savePath(infoHash), paused });
      this.track(infoHash, l.torrent, bytes);
    }
    l.savedComplete = false;
    l.awaitingCheckSince = Date.now();
  }

  /** Takes a torrent out of the engine; its files stay where they are. */
  async remove(infoHash: string): Promise<void> {
    const l = this.live.get(infoHash);
    if (!l) return;
    await this.saveResume(infoHash);
    this.live.delete(infoHash);
    this.lastStatus.delete(infoHash);
    this.assetChecks?.untrack(infoHash);
    await this.session.removeTorrent(l.torrent);
  }

  private track(infoHash: string, torrent: Torrent, bytes: Buffer): void {
    try {
      this.assetChecks?.track(infoHash, torrent, bytes);
    } catch (err) {
      this.log.warn({ err, infoHash }, 'assets will be checked only once the download is complete');
    }
  }

  async saveResume(infoHash: string): Promise<void> {
    const l = this.live.get(infoHash);
    if (!l) return;
    l.lastResumeSaveAt = Date.now();
    try {
      const complete = l.torrent.status().isSeeding;
      await this.resume.save(infoHash, await l.torrent.saveResumeData());
      l.savedComplete = complete;
    } catch (err) {
      this.log.warn({ err, infoHash }, 'could not save resume data');
    }
  }

  /** Shutdown: resume data of every torrent, whatever the engine says. */
  async saveAll(): Promise<void> {
    await Promise.all([...this.live.keys()].map((h) => this.saveResume(h)));
  }
}
