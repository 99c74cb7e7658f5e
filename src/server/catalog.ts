// The per-group torrent list as the API and the tracker see it, kept in memory: a conditional poll
// (304) costs no store access at all, and an upload or removal updates the list by that one
// torrent, so a 10,000-torrent group is never read whole again after it was loaded once.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { GroupStore } from './group-store.js';
import { mapLimit } from '../util/map-limit.js';
import type { CatalogChange } from './shared-state.js';

const LOAD_PARALLEL = 16;
import { readTorrent } from './torrent-file.js';
import { DEFAULT_TORRENT_LIMITS, type TorrentLimits } from './torrent-limits.js';

export interface TorrentSummary {
  name: string;
  infoHash: string;
  size: number;
  createdAt: string;
}

export interface CatalogView {
  entries: TorrentSummary[];
  /** the 200 body, serialised once */
  json: string;
  /** strong ETag of `json` */
  etag: string;
  /** 20-byte tracker hashes (hex) of the group's torrents → their summary */
  byTrackerHash: Map<string, TorrentSummary>;
  byInfoHash: Map<string, TorrentSummary>;
}

export class TorrentCatalog {
  private readonly views = new Map<string, Promise<CatalogView>>();
  private readonly generation = new Map<string, number>();
  /** long polls waiting for a group's list to change */
  private readonly waiters = new Map<string, Set<() => void>>();
  private released = false;

  constructor(
    private readonly store: GroupStore,
    private readonly logger: Logger,
    /** told after every local change, so other replicas update or drop their view too */
    private readonly changed: (group: string, change?: CatalogChange) => void = () => {},
    /** counts every object the catalog reads from the store (GET /metrics) */
    private readonly countRead: (what: 'list' | 'torrent') => void = () => {},
    /** the server's configured torrentLimits: a stored torrent is judged as an upload would be
     * (with the defaults, torrents uploaded under raised limits would silently drop out of lists) */
    private readonly limits: TorrentLimits = DEFAULT_TORRENT_LIMITS,
  ) {}

  list(group: string): Promise<CatalogView> {
    const cached = this.views.get(group);
    if (cached) return cached;
    const gen = this.generation.get(group) ?? 0;
    const loading = this.load(group);
    this.views.set(group, loading);
    loading.then(
      () => {
        // A change during the load makes this view stale: let the next caller load again.
        if ((this.generation.get(group) ?? 0) !== gen && this.views.get(group) === loading) this.views.delete(group);
      },
      () => {
        if (this.views.get(group) === loading) this.views.delete(group);
      },
    );
    return loading;
  }

  /** Called after every change to a group's torrents made by this server. */
  invalidate(group: string): void {
    this.forget(group);
    this.changed(group);
  }

  /** Drops the view of a group another replica changed (and wakes its long polls). */
  forget(group: string): void {
    this.generation.set(group, (this.generation.get(group) ?? 0) + 1);
    this.views.delete(group);
    this.wake(group);
  }

  private wake(group: string): void {
    const ws = this.waiters.get(group);
    if (ws) {
      this.waiters.delete(group);
      for (const wake of ws) wake();
    }
  }

  /**
   * Resolves true at the next change of the group's list (here or, through the change notices,
   * on another replica), false after `ms` or when `signal` aborts (the client went away).
   */
  nextChange(group: string, ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.released) return resolve(false);
      let set = this.waiters.get(group);
      if (!set) this.waiters.set(group, (set = new Set()));
      const done = (changed: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const cur = this.waiters.get(group);
        cur?.delete(wake);
        if (cur?.size === 0) this.waiters.delete(group);
        resolve(changed);
      };
      const wake = (): void => done(!this.released);
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), ms);
      set.add(wake);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort);
    });
  }

  /** The server is closing: every long poll answers now (304), none waits any more. */
  release(): void {
    this.released = true;
    for (const ws of this.waiters.values()) for (const wake of [...ws]) wake();
    this.waiters.clear();
  }

  /** Long polls waiting right now (all groups). */
  get waiting(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }

  /** Torrents per group of the lists loaded in this process (what /metrics shows; nothing is read). */
  async loadedCounts(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    await Promise.all(
      [...this.views].map(async ([group, view]) => {
        const v = await view.catch(() => undefined);
        if (v) out.set(group, v.entries.length);
      }),
    );
    return out;
  }

  forgetAll(): void {
    for (const group of [...this.views.keys()]) this.forget(group);
  }

  /** A torrent this server just stored: its summary joins a loaded list without reading anything. */
  added(group: string, name: string, bytes: Buffer, createdAt: Date): void {
    this.update(group, { op: 'add', name, createdAt: createdAt.toISOString() }, bytes);
  }

  removed(group: string, name: string): void {
    this.update(group, { op: 'remove', name });
  }

  /** A change another replica made: one torrent read at most. */
  apply(group: string, change: CatalogChange): void {
    const current = this.views.get(group);
    if (!current) return this.wake(group); // not loaded here: the next listing reads it fresh
    const next = current.then(async (view) => {
      if (change.op === 'remove') return rebuild(view.entries.filter((e) => e.name !== change.name), view);
      this.countRead('torrent');
      const bytes = await this.store.readTorrent(group, change.name);
      return bytes ? withTorrent(view, change.name, bytes, change.createdAt, this.limits) : view;
    });
    this.replace(group, next);
  }

  private update(group: string, change: CatalogChange, bytes?: Buffer): void {
    const current = this.views.get(group);
    if (!current) this.wake(group);
    else {
      const next = current.then((view) =>
        change.op === 'add' && bytes ? withTorrent(view, change.name, bytes, change.createdAt, this.limits) : rebuild(view.entries.filter((e) => e.name !== change.name), view),
      );
      this.replace(group, next);
    }
    this.changed(group, change);
  }

  private replace(group: string, next: Promise<CatalogView>): void {
    this.views.set(group, next);
    next.then(
      () => this.wake(group),
      () => {
        if (this.views.get(group) === next) this.views.delete(group);
        this.wake(group);
      },
    );
  }

  private async load(group: string): Promise<CatalogView> {
    this.countRead('list');
    const stored = await this.store.listTorrents(group);
    const entries: TorrentSummary[] = [];
    const byTrackerHash = new Map<string, TorrentSummary>();
    // In parallel: an object store answers each read in a round trip, not a disk seek.
    const read = await mapLimit(stored, LOAD_PARALLEL, async (t) => {
      this.countRead('torrent');
      return { t, bytes: await this.store.readTorrent(group, t.name) };
    });
    for (const { t, bytes } of read) {
      if (!bytes) continue; // removed meanwhile
      let s;
      try {
        s = summarise(t.name, bytes, t.createdAt.toISOString(), this.limits);
      } catch (err) {
        this.logger.warn({ group, name: t.name, err }, 'skipping a stored torrent that no longer reads');
        continue;
      }
      entries.push(s.summary);
      for (const h of s.trackerHashes) byTrackerHash.set(h, s.summary);
    }
    return rebuild(entries, undefined, byTrackerHash);
  }
}

function summarise(name: string, bytes: Buffer, createdAt: string, limits: TorrentLimits): { summary: TorrentSummary; trackerHashes: string[] } {
  const info = readTorrent(bytes, limits);
  return { summary: { name, infoHash: info.infoHash, size: info.size, createdAt }, trackerHashes: info.trackerHashes.map((h) => h.toString('hex')) };
}

/** The view with one torrent added (or replaced by name), in name order as a full load gives. */
function withTorrent(view: CatalogView, name: string, bytes: Buffer, createdAt: string, limits: TorrentLimits): CatalogView {
  const { summary, trackerHashes } = summarise(name, bytes, createdAt, limits);
  const entries = view.entries.filter((e) => e.name !== name);
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (entries[mid]!.name < name) lo = mid + 1;
    else hi = mid;
  }
  entries.splice(lo, 0, summary);
  const next = rebuild(entries, view);
  for (const h of trackerHashes) next.byTrackerHash.set(h, summary);
  return next;
}

/** Serialises a list once; tracker hashes are carried over from `previous` for entries it had. */
function rebuild(entries: TorrentSummary[], previous?: CatalogView, trackerHashes?: Map<string, TorrentSummary>): CatalogView {
  const byInfoHash = new Map<string, TorrentSummary>();
  for (const e of entries) byInfoHash.set(e.infoHash, e);
  const byTrackerHash = trackerHashes ?? new Map<string, TorrentSummary>();
  if (previous) {
    const kept = new Set(entries);
    for (const [h, e] of previous.byTrackerHash) if (kept.has(e)) byTrackerHash.set(h, e);
  }
  const json = JSON.stringify(entries);
  const etag = `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
  return { entries, json, etag, byTrackerHash, byInfoHash };
}

/** RFC 9110 If-None-Match: weak comparison against our one current tag. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  for (const part of ifNoneMatch.split(',')) {
    const tag = part.trim().replace(/^W\//, '');
    if (tag === etag) return true;
  }
  return false;
}
