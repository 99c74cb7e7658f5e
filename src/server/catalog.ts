// The per-group torrent list as the API and the tracker see it, kept in memory and rebuilt only
// when the group's torrents change, so a conditional poll (304) costs no disk access at all.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { GroupStore } from './group-store.js';
import { readTorrent } from './torrent-file.js';

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
    /** told after every local change, so other replicas drop their view too */
    private readonly changed: (group: string) => void = () => {},
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

  forgetAll(): void {
    for (const group of [...this.views.keys()]) this.forget(group);
  }

  private async load(group: string): Promise<CatalogView> {
    const stored = await this.store.listTorrents(group);
    const entries: TorrentSummary[] = [];
    const byTrackerHash = new Map<string, TorrentSummary>();
    const byInfoHash = new Map<string, TorrentSummary>();
    for (const t of stored) {
      const bytes = await this.store.readTorrent(group, t.name);
      if (!bytes) continue; // removed meanwhile
      let info;
      try {
        info = readTorrent(bytes);
      } catch (err) {
        this.logger.warn({ group, name: t.name, err }, 'skipping a stored torrent that no longer reads');
        continue;
      }
      const summary: TorrentSummary = { name: t.name, infoHash: info.infoHash, size: info.size, createdAt: t.createdAt.toISOString() };
      entries.push(summary);
      byInfoHash.set(info.infoHash, summary);
      for (const h of info.trackerHashes) byTrackerHash.set(h.toString('hex'), summary);
    }
    const json = JSON.stringify(entries);
    const etag = `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"`;
    return { entries, json, etag, byTrackerHash, byInfoHash };
  }
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
