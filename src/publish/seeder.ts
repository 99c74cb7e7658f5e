// The long-running seeder of a publisher data dir (`cineswarm seed`, `publish --seed --data`): every
// DCP recorded there is seeded from its resume data, so a restart (clean or after kill -9) never
// re-hashes; a file whose size or mtime moved since it was known good is re-checked before any of it
// is served, and refused when its pieces no longer match.
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { EngineError, Session, parseTorrent, type EngineAlert, type Torrent } from '../engine/index.js';
import { seederSessionSettings } from '../engine/settings.js';
import { ServerClient, type GroupAuth } from '../protocol/index.js';
import { log as rootLog } from '../util/log.js';
import { DEFAULT_SUPER_SEEDING, watchSuperSeeding, superSeedingOption } from './initial-seeding.js';
import { waitChecked, waitSeeding } from './torrent-waits.js';
import { seederReport, type SeederEntryState } from './seeder-report.js';
import { changedFiles, statTorrentFiles, type FileChange, type PublishedRecord, type PublishedStore } from './published-store.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export interface SeederOptions {
  store: PublishedStore;
  /** BitTorrent listen address, HOST:PORT */
  listen: string;
  /** bytes/s for the whole seeder, 0 = unlimited */
  uploadLimit?: number;
  /** seed only these info hashes (publish --seed seeds the DCP it published) */
  only?: string[];
  /**
   * info hashes whose files this process hashed into their torrent moments ago (publish --seed): seed
   * mode then trusts every piece instead of hashing each again when it is first asked for
   */
  piecesVerified?: string[];
  /** how often resume data is refreshed (default 60 s; it is also saved once seeding and on stop) */
  resumeEveryMs?: number;
  /** how often the seeder reports (state, upload rate) to the server (default 15 s) */
  reportEveryMs?: number;
  /** how often it looks for DCPs newly published from the dir (default 60 s) */
  scanEveryMs?: number;
  log?: Logger;
  /** what a person running the command should read, one event per DCP change */
  onEvent?: (e: SeederEvent) => void;
}

export type SeederEvent =
  | { type: 'seeding'; record: PublishedRecord; from: 'resume-data' | 'seed-mode' | 'recheck' }
  | { type: 'rechecking'; record: PublishedRecord; changes: FileChange[] }
  | { type: 'refused'; record: PublishedRecord; reason: string }
  | { type: 'withdrawn'; record: PublishedRecord }
  | { type: 'broken-record'; file: string; reason: string };

type EntryState = SeederEntryState;

interface Entry {
  record: PublishedRecord;
  state: EntryState;
  torrent?: Torrent;
  message?: string;
  stopSuperSeeding?: () => void;
  /** refused: the files as they were then; once they differ (restored?) the DCP is tried again */
  refusedFiles?: string;
}

export class Seeder {
  readonly session: Session;
  readonly #o: SeederOptions;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #clients = new Map<string, ServerClient>();
  readonly #brokenSeen = new Set<string>();
  readonly #timers: NodeJS.Timeout[] = [];
  #scanning: Promise<void> | undefined;
  #stopped = false;

  constructor(o: SeederOptions) {
    this.#o = o;
    this.#log = o.log ?? rootLog.child({ component: 'seeder' });
    const base = seederSessionSettings({ listenInterfaces: o.listen, version: VERSION, superSeeding: DEFAULT_SUPER_SEEDING === 'on', uploadLimit: o.uploadLimit });
    this.session = new Session({ ...base, uploadRateLimit: o.uploadLimit ?? 0 });
    this.session.on('state-changed', (a: EngineAlert) => {
      const e = a.infoHash ? this.#entries.get(a.infoHash) : undefined;
      this.#log.info({ name: e?.record.name, infoHash: a.infoHash, from: a.previousState, to: a.state }, 'torrent state');
    });
  }

  get listenPort(): number {
    return this.session.listenPort;
  }

  /** Adds every recorded DCP, then keeps reports, resume data and the record list fresh. */
  async start(): Promise<void> {
    await this.scan();
    await this.dropWithdrawn();
    const every = (ms: number, fn: () => Promise<void>) => {
      const t = setInterval(() => void fn().catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'periodic seeder work failed')), ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#o.resumeEveryMs ?? 60_000, () => this.saveAllResumeData());
    every(this.#o.reportEveryMs ?? 15_000, () => this.#reportAll());
    every(this.#o.scanEveryMs ?? 60_000, async () => {
      await this.scan();
      await this.dropWithdrawn();
    });
  }

  /** What each DCP of the dir is doing now. */
  entries(): { infoHash: string; name: string; group: string; state: EntryState; message?: string }[] {
    return [...this.#entries.values()].map((e) => ({ infoHash: e.record.infoHash, name: e.record.name, group: e.record.group, state: e.state, message: e.message }));
  }

  /** Picks up records not seen yet (a DCP published from the same dir meanwhile). */
  scan(): Promise<void> {
    this.#scanning ??= this.#scan().finally(() => (this.#scanning = undefined));
    return this.#scanning;
  }

  async #scan(): Promise<void> {
    const { records, broken } = await this.#o.store.list();
    for (const b of broken) {
      if (this.#brokenSeen.has(b.file)) continue;
      this.#brokenSeen.add(b.file);
      this.#log.error({ file: b.file, reason: b.reason }, 'unreadable publish record');
      this.#o.onEvent?.({ type: 'broken-record', ...b });
    }
    const fresh = records.filter((r) => !this.#entries.has(r.infoHash) && (!this.#o.only || this.#o.only.includes(r.infoHash)));
    // Entries go in first so a concurrent scan cannot add the same DCP twice.
    for (const r of fresh) this.#entries.set(r.infoHash, { record: r, state: 'checking' });
    const retry: Entry[] = [];
    for (const e of this.#entries.values()) {
      if (e.state === 'refused' && e.refusedFiles !== undefined && (await this.#filesNow(e)) !== e.refusedFiles) retry.push(e);
    }
    for (const e of retry) {
      this.#log.info({ name: e.record.name }, 'files of a refused DCP changed; trying it again');
      e.state = 'checking';
      e.refusedFiles = undefined;
    }
    await Promise.all([...fresh.map((r) => this.#entries.get(r.infoHash)!), ...retry].map((e) => this.#add(e)));
  }

  /**
   * Stops seeding what the distributor withdrew (the group no longer lists it): the tracker no
   * longer announces it and the cinemas retire it. Only a listing the server gave counts.
   */
  async dropWithdrawn(): Promise<void> {
    const groups = new Map<string, PublishedRecord>();
    for (const e of this.#entries.values()) if (e.state === 'seeding') groups.set(`${e.record.server} ${e.record.group}`, e.record);
    for (const r of groups.values()) {
      let listed: Set<string>;
      try {
        listed = new Set((await this.#client(r.server).listTorrents({ id: r.group, password: r.ownerPassword })).list.map((t) => t.infoHash));
      } catch (err) {
        this.#log.warn({ group: r.group, err: (err as Error).message }, 'could not list the group; seeding on');
        continue;
      }
      for (const e of this.#entries.values()) {
        if (e.state !== 'seeding' || e.record.server !== r.server || e.record.group !== r.group || listed.has(e.record.infoHash)) continue;
        e.state = 'retired';
        e.message = 'withdrawn by the distributor';
        e.stopSuperSeeding?.();
        if (e.torrent) await this.session.removeTorrent(e.torrent).catch(() => undefined);
        e.torrent = undefined;
        this.#log.info({ name: e.record.name, group: e.record.group }, 'withdrawn from the group; no longer seeding');
        this.#o.onEvent?.({ type: 'withdrawn', record: e.record });
        await this.#report(e);
      }
    }
  }

  async #add(e: Entry): Promise<void> {
    const r = e.record;
    const savePath = path.dirname(r.contentDir);
    try {
      const torrent = await this.#o.store.torrent(r.infoHash);
      if (parseTorrent(torrent).name !== path.basename(r.contentDir)) throw new Error(`the torrent's folder name is not ${path.basename(r.contentDir)}`);
      const changes = await changedFiles(r);
      const missing = changes.find((c) => c.why === 'missing');
      if (missing) return this.#refuse(e, `${missing.path} is missing from ${savePath}`);
      if (changes.length === 0) {
        const resume = await this.#o.store.resumeData(r.infoHash);
        e.torrent = this.#addTorrent(r.infoHash, torrent, savePath, resume);
        await this.#seeding(e, resume ? 'resume-data' : 'seed-mode');
        return;
      }
      await this.#recheck(e, torrent, savePath, changes);
    } catch (err) {
      if (!this.#stopped) await this.#refuse(e, (err as Error).message);
    }
  }

  #addTorrent(infoHash: string, torrent: Buffer, savePath: string, resume: Buffer | undefined): Torrent {
    // Without resume data the files were just hashed by publish: seed mode checks each piece the
    // first time a peer asks for it instead of reading the whole DCP up front.
    // A torrent re-checked after a change (#recheck) is not a seed while it checks and seeds without it.
    const superSeeding = superSeedingOption(DEFAULT_SUPER_SEEDING);
    const piecesVerified = this.#o.piecesVerified?.includes(infoHash) ?? false;
    if (!resume) return this.session.addTorrent({ torrent, savePath, seedMode: true, piecesVerified, ...superSeeding });
    try {
      return this.session.addTorrent({ torrent, savePath, resumeData: resume, ...superSeeding });
    } catch (err) {
      if (!(err instanceof EngineError) || err.code !== 'BAD_RESUME_DATA') throw err;
      this.#log.warn({ err: err.message }, 'resume data unusable; seeding in seed mode (pieces checked as they are asked for)');
      return this.session.addTorrent({ torrent, savePath, seedMode: true, ...superSeeding });
    }
  }

  /**
   * Some file moved since its pieces were known good: libtorrent hashes the whole torrent again, with
   * every file at priority 0 so a torrent found incomplete never downloads into the distributor's
   * master copy. Only pieces that pass are ever served, during the check and after it.
   */
  async #recheck(e: Entry, torrent: Buffer, savePath: string, changes: FileChange[]): Promise<void> {
    const r = e.record;
    this.#log.warn({ name: r.name, changes }, 'files changed since they were published; re-checking before serving');
    this.#o.onEvent?.({ type: 'rechecking', record: r, changes });
    await this.#o.store.dropResumeData(r.infoHash);
    // Taken before the check: a change made while it runs shows again at the next start.
    const files = await statTorrentFiles(torrent, savePath);
    const info = parseTorrent(torrent);
    const t = this.session.addTorrent({ torrent, savePath });
    e.torrent = t;
    for (let i = 0; i < info.files.length; i++) t.setFilePriority(i, 0);
    void this.#report(e);
    await waitChecked(this.session, t);
    const pieces = t.pieceStates();
    const bad = pieces.filter((p) => !p).length;
    if (bad > 0) {
      await this.session.removeTorrent(t).catch(() => undefined);
      e.torrent = undefined;
      const first = changes[0]!;
      return this.#refuse(e, `${bad} of ${pieces.length} pieces no longer match what was published (${first.path}: ${first.detail}); restore the files (they are checked again once they change), or publish the changed DCP under a new name`);
    }
    for (let i = 0; i < info.files.length; i++) t.setFilePriority(i, 4);
    e.record = { ...r, files };
    await this.#o.store.saveRecord(e.record);
    await this.#seeding(e, 'recheck');
  }

  async #seeding(e: Entry, from: 'resume-data' | 'seed-mode' | 'recheck'): Promise<void> {
    const t = e.torrent!;
    // libtorrent has the last word on the resume data: only once it took the files as complete is
    // the DCP said to be seeding (a resume data check that fell through to a full check would
    // show here as not complete).
    await waitChecked(this.session, t);
    const st = t.status();
    if (!st.isSeeding && st.progress < 1) {
      await this.session.removeTorrent(t).catch(() => undefined);
      e.torrent = undefined;
      return this.#refuse(e, `libtorrent found ${Math.round((1 - st.progress) * 100)}% of it missing or damaged on disk; restore the files`);
    }
    e.state = 'seeding';
    e.message = undefined;
    e.stopSuperSeeding = watchSuperSeeding(t, t.status().superSeeding ? 'on' : 'off', (on) => this.#log.info({ name: e.record.name }, on ? 'nobody downloading: super seeding again' : 'one cinema is downloading alone: super seeding ended, every piece offered'));
    this.#log.info({ name: e.record.name, infoHash: e.record.infoHash, group: e.record.group, from, port: this.session.listenPort }, 'seeding');
    this.#o.onEvent?.({ type: 'seeding', record: e.record, from });
    await this.#report(e);
    // Saved now, so a kill -9 a moment later still restarts without a check.
    await waitSeeding(this.session, t);
    await this.#saveResumeData(e);
  }

  /** The DCP's files as they are now (sizes and mtimes), for telling whether a person changed them. */
  async #filesNow(e: Entry): Promise<string | undefined> {
    try {
      return JSON.stringify(await statTorrentFiles(await this.#o.store.torrent(e.record.infoHash), path.dirname(e.record.contentDir)));
    } catch {
      return undefined;
    }
  }

  async #refuse(e: Entry, reason: string): Promise<void> {
    e.state = 'refused';
    e.message = `not seeding ${e.record.name}: ${reason}`;
    this.#log.error({ name: e.record.name, infoHash: e.record.infoHash, reason }, 'not seeding');
    this.#o.onEvent?.({ type: 'refused', record: e.record, reason });
    void this.#report(e);
    e.refusedFiles = await this.#filesNow(e);
  }

  #client(server: string): ServerClient {
    let c = this.#clients.get(server);
    if (!c) this.#clients.set(server, (c = new ServerClient(server)));
    return c;
  }

  async #report(e: Entry): Promise<void> {
    if (this.#stopped) return;
    const r = e.record;
    const g: GroupAuth = { id: r.group, password: r.ownerPassword };
    const body = seederReport(r, e.state, e.message, e.torrent);
    await this.#client(r.server)
      .report(g, body)
      .catch((err: unknown) => this.#log.warn({ name: r.name, err: (err as Error).message }, 'could not report to the server; will retry'));
  }

  async #reportAll(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((e) => this.#report(e)));
  }

  async #saveResumeData(e: Entry): Promise<void> {
    const t = e.torrent;
    if (!t || e.state !== 'seeding') return;
    try {
      await this.#o.store.saveResumeData(e.record.infoHash, await t.saveResumeData());
      this.#log.debug({ name: e.record.name }, 'resume data saved');
    } catch (err) {
      if ((err as EngineError).code === 'SESSION_CLOSED') return;
      this.#log.warn({ name: e.record.name, err: (err as Error).message }, 'could not save resume data');
    }
  }

  saveAllResumeData(): Promise<void> {
    return Promise.all([...this.#entries.values()].map((e) => this.#saveResumeData(e))).then(() => undefined);
  }

  /**
   * Saves resume data of everything seeding, then closes the session. A re-check still running is
   * abandoned (it starts again next time: its files still differ from the record).
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    await this.saveAllResumeData();
    for (const e of this.#entries.values()) e.stopSuperSeeding?.();
    await this.session.close();
  }
}
