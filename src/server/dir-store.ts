// The directory backend of GroupStore: DATA/groups/<id>/{group.json, torrents/<name>.torrent,
// reports/<peer>.json, peers/<peer>.json, roster.json, retired/<infoHash>.json}. Every write is temp + fsync + rename (or link), so a crash never leaves
// a half-written file or a half-created group where a reader can see it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { GroupDamagedError, GroupExistsError, GroupNotFoundError, ServerError, TorrentExistsError } from './errors.js';
import type { GroupRecord, GroupStore, KdmStore, PeerRecord, PeerReport, RosterEntry, StoredTorrent, Tombstone } from './group-store.js';
import { INFO_HASH_PATTERN, isGroupId, isPeerId, isTorrentName } from '../protocol/index.js';
import { loadOrCreateSecret } from './passkey.js';
import { DirKdmStore } from './dir-kdm-store.js';
import { loadAdminToken } from './admin-token.js';
import { DirFirmwareStore, UPLOAD_PREFIX, type FirmwareStore } from './firmware-store.js';
import { fsyncDir, TEMP_PREFIX, writeFileAtomic } from '../util/durable-write.js';

const infoHashRe = new RegExp(INFO_HASH_PATTERN);

// Temp names start with '.', which no valid id or name can, so they never collide with content.
const STAGING_PREFIX = '.staging-';

/** Where writeFileAtomic leaves its temp files: a group's own folder and those below it. */
const GROUP_FOLDERS = ['', 'torrents', 'reports', 'peers', 'retired', 'kdms'];

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

export class DirGroupStore implements GroupStore {
  private readonly root: string;

  constructor(private readonly dataDir: string) {
    this.root = path.join(dataDir, 'groups');
    this.kdms = new DirKdmStore(this.root);
    this.firmware = new DirFirmwareStore(dataDir);
  }

  readonly kdms: KdmStore;
  readonly firmware: FirmwareStore;

  /** DATA/admin-token, made (0600) on first start. */
  loadOrCreateAdminToken(): Promise<string> {
    return loadAdminToken(this.dataDir);
  }

  /** Creates DATA/groups and sweeps what a crash may have left half-done: staging folders of
   * group creations and the temp files of writes cut short. Only at start, and the CLI holds the
   * data dir's lock (data-dir-lock.ts) by then, so none of them is a live server's work in progress.
   * Resolves with the number of entries removed. */
  async init(): Promise<number> {
    await fs.mkdir(this.root, { recursive: true });
    let removed = 0;
    const sweep = async (dir: string, prefix: string): Promise<void> => {
      let entries: string[];
      try {
        entries = await fs.readdir(dir);
      } catch (err) {
        if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return;
        throw err;
      }
      for (const e of entries) {
        if (!e.startsWith(prefix)) continue;
        await fs.rm(path.join(dir, e), { recursive: true, force: true });
        removed++;
      }
    };
    await sweep(this.dataDir, TEMP_PREFIX);
    await sweep(this.root, STAGING_PREFIX);
    await sweep(path.join(this.dataDir, 'firmware'), UPLOAD_PREFIX);
    for (const id of await this.listGroups()) {
      for (const sub of GROUP_FOLDERS) await sweep(path.join(this.root, id, sub), TEMP_PREFIX);
    }
    return removed;
  }

  private groupDir(id: string): string {
    if (!isGroupId(id)) throw new ServerError('BAD_GROUP_ID', `'${id}' is not a valid group id`);
    return path.join(this.root, id);
  }

  private torrentFile(group: string, name: string): string {
    if (!isTorrentName(name)) throw new ServerError('BAD_REQUEST', `'${name}' is not a valid torrent name`);
    return path.join(this.groupDir(group), 'torrents', `${name}.torrent`);
  }

  private reportFile(group: string, peer: string): string {
    if (!isPeerId(peer)) throw new ServerError('BAD_PEER', `'${peer}' is not a valid peer id`);
    return path.join(this.groupDir(group), 'reports', `${peer}.json`);
  }

  async createGroup(group: GroupRecord): Promise<void> {
    const target = this.groupDir(group.id);
    // The group is assembled out of sight and appears by one rename; a second rename onto
    // the now non-empty directory fails, which makes concurrent creates of one id safe.
    const staging = path.join(this.root, STAGING_PREFIX + randomBytes(8).toString('hex'));
    await fs.mkdir(staging);
    try {
      await fs.mkdir(path.join(staging, 'torrents'));
      await fs.mkdir(path.join(staging, 'reports'));
      await writeFileAtomic(path.join(staging, 'group.json'), JSON.stringify(group, null, 2) + '\n', { mode: 0o644 });
      try {
        await fs.rename(staging, target);
      } catch (err) {
        const code = errno(err);
        if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') throw new GroupExistsError(group.id);
        throw err;
      }
    } catch (err) {
      await fs.rm(staging, { recursive: true, force: true });
      throw err;
    }
    await fsyncDir(this.root);
  }

  async getGroup(id: string): Promise<GroupRecord | undefined> {
    if (!isGroupId(id)) return undefined;
    let text: string;
    try {
      text = await fs.readFile(path.join(this.root, id, 'group.json'), 'utf8');
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
      throw err;
    }
    let rec: Partial<GroupRecord>;
    try {
      rec = JSON.parse(text) as Partial<GroupRecord>;
    } catch (err) {
      throw new GroupDamagedError(id, `DATA/groups/${id}/group.json`, `not valid JSON (${(err as Error).message})`);
    }
    if (!rec || typeof rec !== 'object' || rec.id !== id || typeof rec.passwordHash !== 'string' || typeof rec.createdAt !== 'string') {
      throw new GroupDamagedError(id, `DATA/groups/${id}/group.json`, 'id, passwordHash or createdAt missing or wrong');
    }
    const out: GroupRecord = { id: rec.id, passwordHash: rec.passwordHash, createdAt: rec.createdAt };
    if (typeof rec.ownerPasswordHash === 'string') out.ownerPasswordHash = rec.ownerPasswordHash;
    return out;
  }

  async updateGroup(group: GroupRecord): Promise<void> {
    await this.replaceFile(group.id, path.join(this.groupDir(group.id), 'group.json'), group);
  }

  /** Writes a JSON file inside an existing group whole (temp + fsync + rename); its folder is made on first use. */
  private async replaceFile(group: string, file: string, value: unknown): Promise<void> {
    const dir = path.dirname(file);
    if (dir !== this.groupDir(group)) {
      try {
        await fs.mkdir(dir);
      } catch (err) {
        if (errno(err) === 'ENOENT') throw new GroupNotFoundError(group);
        if (errno(err) !== 'EEXIST') throw err;
      }
    }
    try {
      await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', { mode: 0o644 });
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new GroupNotFoundError(group);
      throw err;
    }
  }

  /** A JSON file of a group, or undefined when absent. */
  private async readJson<T>(file: string): Promise<T | undefined> {
    try {
      return JSON.parse(await fs.readFile(file, 'utf8')) as T;
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  private peerFile(group: string, peer: string): string {
    if (!isPeerId(peer)) throw new ServerError('BAD_PEER', `'${peer}' is not a valid peer id`);
    return path.join(this.groupDir(group), 'peers', `${peer}.json`);
  }

  readPeer(group: string, peer: string): Promise<PeerRecord | undefined> {
    return this.readJson<PeerRecord>(this.peerFile(group, peer));
  }

  writePeer(group: string, record: PeerRecord): Promise<void> {
    return this.replaceFile(group, this.peerFile(group, record.peer), record);
  }

  async readRoster(group: string): Promise<RosterEntry[]> {
    return (await this.readJson<RosterEntry[]>(path.join(this.groupDir(group), 'roster.json'))) ?? [];
  }

  writeRoster(group: string, roster: RosterEntry[]): Promise<void> {
    return this.replaceFile(group, path.join(this.groupDir(group), 'roster.json'), roster);
  }

  writeTombstone(group: string, tombstone: Tombstone): Promise<void> {
    if (!infoHashRe.test(tombstone.infoHash)) throw new ServerError('BAD_REQUEST', `'${tombstone.infoHash}' is not an info hash`);
    return this.replaceFile(group, path.join(this.groupDir(group), 'retired', `${tombstone.infoHash.toLowerCase()}.json`), tombstone);
  }

  async listTombstones(group: string): Promise<Tombstone[]> {
    const dir = path.join(this.groupDir(group), 'retired');
    let entries: string[];
    try {
      entries = await fs.readdir(dir);
    } catch (err) {
      if (errno(err) === 'ENOENT') return [];
      throw err;
    }
    const out: Tombstone[] = [];
    for (const e of entries.sort()) {
      if (!e.endsWith('.json') || !infoHashRe.test(e.slice(0, -5))) continue;
      const t = await this.readJson<Tombstone>(path.join(dir, e));
      if (t) out.push(t);
    }
    return out;
  }

  async listGroups(): Promise<string[]> {
    const entries = await fs.readdir(this.root);
    return entries.filter((e) => isGroupId(e)).sort();
  }

  async addTorrent(group: string, name: string, bytes: Buffer, createdAt?: Date): Promise<void> {
    try {
      // Exclusive: the first complete upload of a name wins.
      await writeFileAtomic(this.torrentFile(group, name), bytes, { mode: 0o644, exclusive: true, mtime: createdAt });
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new GroupNotFoundError(group);
      if (errno(err) === 'EEXIST') throw new TorrentExistsError(group, name);
      throw err;
    }
  }

  /** Names in one of a group's folders; a missing folder means the group does not exist. */
  private async groupEntries(group: string, dir: string): Promise<string[]> {
    try {
      return await fs.readdir(dir);
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new GroupNotFoundError(group);
      throw err;
    }
  }

  async listTorrents(group: string): Promise<StoredTorrent[]> {
    const dir = path.join(this.groupDir(group), 'torrents');
    const entries = await this.groupEntries(group, dir);
    const out: StoredTorrent[] = [];
    for (const e of entries) {
      if (!e.endsWith('.torrent')) continue;
      const name = e.slice(0, -'.torrent'.length);
      if (!isTorrentName(name)) continue;
      try {
        const st = await fs.stat(path.join(dir, e));
        out.push({ name, createdAt: st.mtime });
      } catch (err) {
        if (errno(err) !== 'ENOENT') throw err; // removed meanwhile
      }
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async readTorrent(group: string, name: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.torrentFile(group, name));
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async removeTorrent(group: string, name: string): Promise<boolean> {
    const file = this.torrentFile(group, name);
    try {
      await fs.unlink(file);
    } catch (err) {
      if (errno(err) === 'ENOENT') return false;
      throw err;
    }
    await fsyncDir(path.dirname(file));
    return true;
  }

  async writeReport(group: string, report: PeerReport): Promise<void> {
    try {
      await writeFileAtomic(this.reportFile(group, report.peer), JSON.stringify(report, null, 2) + '\n', { mode: 0o644 });
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new GroupNotFoundError(group);
      throw err;
    }
  }

  async readReport(group: string, peer: string): Promise<PeerReport | undefined> {
    try {
      return JSON.parse(await fs.readFile(this.reportFile(group, peer), 'utf8')) as PeerReport;
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async listReports(group: string): Promise<PeerReport[]> {
    const dir = path.join(this.groupDir(group), 'reports');
    const entries = await this.groupEntries(group, dir);
    const out: PeerReport[] = [];
    for (const e of entries.sort()) {
      if (!e.endsWith('.json') || !isPeerId(e.slice(0, -5))) continue;
      const r = await this.readReport(group, e.slice(0, -5));
      if (r) out.push(r);
    }
    return out;
  }

  /** DATA/server-secret (0600), beside the groups. */
  loadOrCreateSecret(): Promise<string> {
    return loadOrCreateSecret(this.dataDir);
  }
}
