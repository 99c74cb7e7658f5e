// The agent's download history (lowdb, one JSON file under dataDir), one entry per info hash: a
// name in here is never downloaded again (claims 7-8) unless a person accepts a re-release, which
// adds a second version of the name. Writes go through an fsyncing adapter.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { writeFileAtomic } from '../../util/durable-write.js';
import type { TorrentStateName, VerifyFailure, VerifyStateName } from '../monitoring/status-types.js';

export interface HistoryEntry {
  name: string;
  infoHash: string;
  /** the group it was first taken from (its swarm is the one we join) */
  group: string;
  sizeBytes: number;
  addedAt: string;
  completedAt?: string;
  state: TorrentStateName;
  verify: { state: VerifyStateName; failed: VerifyFailure[] };
  message?: string;
  /** verifications that failed since the last pass or a person's re-verify; kept with the state it guards */
  verifyAttempts?: number;
  /** a failed verify asked for the pieces to be hash-checked again (done by the recheck step) */
  recheck?: boolean;
  /** when it became retired (the retention period counts from here) */
  retiredAt?: string;
  /** when retention removed its files (the entry stays, so the name is not offered again) */
  removedAt?: string;
  /** a re-release a person accepted: the info hash of the version of this name it replaces */
  replaces?: string;
  /** the person's decision, in words, reported to the server with this version's state */
  decision?: string;
  /** this version's ingest folder was swapped to the re-release with this info hash */
  supersededBy?: string;
}

export interface ConflictEntry {
  name: string;
  group: string;
  knownInfoHash: string;
  offeredInfoHash: string;
  seenAt: string;
}

export interface HistoryData {
  /** 1: entries keyed by name (before re-releases); 2: keyed by info hash */
  version: 2;
  entries: Record<string, HistoryEntry>;
  conflicts: ConflictEntry[];
}

/** lowdb adapter whose writes survive a power cut (lowdb's own writer renames but never fsyncs). */
class DurableJsonFile implements Adapter<HistoryData> {
  constructor(private readonly file: string) {}
  async read(): Promise<HistoryData | null> {
    try {
      return JSON.parse(await fs.readFile(this.file, 'utf8')) as HistoryData;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
  async write(data: HistoryData): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(data, null, 2));
  }
}

export class HistoryStore {
  private readonly db: Low<HistoryData>;
  /** writes are chained so two concurrent updates cannot reorder on disk */
  private chain: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {
    this.db = new Low<HistoryData>(new DurableJsonFile(file), { version: 2, entries: {}, conflicts: [] });
  }

  static async open(dataDir: string): Promise<HistoryStore> {
    await fs.mkdir(dataDir, { recursive: true });
    const store = new HistoryStore(path.join(dataDir, 'history.json'));
    await store.db.read();
    const data = store.db.data as Omit<HistoryData, 'version'> & { version: number };
    if (data.version !== 2) {
      // Written before re-releases: keyed by name, one version each. Same entries, keyed anew.
      store.db.data = { version: 2, entries: Object.fromEntries(Object.values(data.entries).map((e) => [e.infoHash, e])), conflicts: data.conflicts ?? [] };
      await store.flush();
    }
    return store;
  }

  /** The version of `name` the agent stands by: the one in ingest, or the only one; a re-release
   * being fetched counts once it has replaced the old one. */
  get(name: string): HistoryEntry | undefined {
    const vs = this.versions(name);
    const pending = (v: HistoryEntry) => v.replaces !== undefined && vs.some((o) => o.infoHash === v.replaces && !o.supersededBy);
    return vs.find((v) => !v.supersededBy && !pending(v)) ?? vs[vs.length - 1];
  }

  /** Every version of `name` in the order they were added. */
  versions(name: string): HistoryEntry[] {
    return Object.values(this.db.data.entries).filter((e) => e.name === name);
  }

  byHash(infoHash: string): HistoryEntry | undefined {
    return this.db.data.entries[infoHash];
  }

  all(): HistoryEntry[] {
    return Object.values(this.db.data.entries);
  }

  conflicts(): ConflictEntry[] {
    return this.db.data.conflicts;
  }

  /** Adds or changes an entry and persists it before resolving. */
  async put(entry: HistoryEntry): Promise<void> {
    this.db.data.entries[entry.infoHash] = entry;
    await this.flush();
  }

  /** Changes the version `get(name)` gives; with two versions of a name, use updateByHash. */
  async update(name: string, patch: Partial<HistoryEntry>): Promise<HistoryEntry | undefined> {
    const cur = this.get(name);
    return cur ? this.updateByHash(cur.infoHash, patch) : undefined;
  }

  async updateByHash(infoHash: string, patch: Partial<HistoryEntry>): Promise<HistoryEntry | undefined> {
    const cur = this.db.data.entries[infoHash];
    if (!cur) return undefined;
    const next = { ...cur, ...patch, infoHash: cur.infoHash };
    this.db.data.entries[infoHash] = next;
    await this.flush();
    return next;
  }

  /** Drops the conflicts of `name` offering `offeredInfoHash` (a person decided on them). */
  async dropConflicts(name: string, offeredInfoHash: string): Promise<void> {
    this.db.data.conflicts = this.db.data.conflicts.filter((c) => !(c.name === name && c.offeredInfoHash === offeredInfoHash));
    await this.flush();
  }

  /** Records a conflict once per (name, group, offered hash); returns true when it is new. */
  async addConflict(c: ConflictEntry): Promise<boolean> {
    const dup = this.db.data.conflicts.some((x) => x.name === c.name && x.group === c.group && x.offeredInfoHash === c.offeredInfoHash);
    if (dup) return false;
    this.db.data.conflicts.push(c);
    await this.flush();
    return true;
  }

  flush(): Promise<void> {
    const next = this.chain.then(() => this.db.write());
    this.chain = next.catch(() => undefined);
    return next;
  }
}
