// The agent's download history (lowdb, one JSON file under dataDir), keyed by torrent name:
// a name in here is never downloaded again (claims 7-8). Writes go through an fsyncing adapter.
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
}

export interface ConflictEntry {
  name: string;
  group: string;
  knownInfoHash: string;
  offeredInfoHash: string;
  seenAt: string;
}

export interface HistoryData {
  version: 1;
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
    this.db = new Low<HistoryData>(new DurableJsonFile(file), { version: 1, entries: {}, conflicts: [] });
  }

  static async open(dataDir: string): Promise<HistoryStore> {
    await fs.mkdir(dataDir, { recursive: true });
    const store = new HistoryStore(path.join(dataDir, 'history.json'));
    await store.db.read();
    return store;
  }

  get(name: string): HistoryEntry | undefined {
    return this.db.data.entries[name];
  }

  all(): HistoryEntry[] {
    return Object.values(this.db.data.entries);
  }

  conflicts(): ConflictEntry[] {
    return this.db.data.conflicts;
  }

  /** Adds or changes an entry and persists it before resolving. */
  async put(entry: HistoryEntry): Promise<void> {
    this.db.data.entries[entry.name] = entry;
    await this.flush();
  }

  async update(name: string, patch: Partial<HistoryEntry>): Promise<HistoryEntry | undefined> {
    const cur = this.db.data.entries[name];
    if (!cur) return undefined;
    const next = { ...cur, ...patch };
    this.db.data.entries[name] = next;
    await this.flush();
    return next;
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
