// The publisher's data dir (`publish --data DIR`, `cineswarm seed --data DIR`): for every DCP published
// from it, what a later seeder needs without the publisher's command line: the torrent, where the
// content lies, the server and credentials, the files' sizes and mtimes as published, and resume data.
//
//   DIR/<infoHash>.torrent            the torrent as created (kept since the first version)
//   DIR/seeding/<infoHash>.json       the record below (mode 0600: it holds the owner password)
//   DIR/seeding/<infoHash>.torrent    the torrent as the server personalised it for this publisher
//   DIR/seeding/<infoHash>.resume     libtorrent resume data, refreshed while seeding
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../util/durable-write.js';
import { parseTorrent } from '../engine/index.js';

/** One file of the torrent as it was when its pieces were last known good. */
export interface RecordedFile {
  /** relative to the save path (starts with the DCP folder's name) */
  path: string;
  size: number;
  /** nanoseconds since the epoch, as a decimal string (exact) */
  mtimeNs: string;
}

export interface PublishedRecord {
  version: 1;
  name: string;
  infoHash: string;
  server: string;
  group: string;
  /** the owner password: the seeder reports without a peer key, as the initiator */
  ownerPassword: string;
  peerId: string;
  /** the DCP folder (absolute); the save path is its parent */
  contentDir: string;
  files: RecordedFile[];
  publishedAt: string;
}

export type FileChange = { path: string; why: 'missing' | 'size' | 'mtime'; detail: string };

const INFO_HASH = /^[0-9a-f]{40}$/;

export class PublishedStore {
  readonly dir: string;
  readonly #seeding: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    this.#seeding = path.join(this.dir, 'seeding');
  }

  async init(): Promise<void> {
    await fs.mkdir(this.#seeding, { recursive: true, mode: 0o700 });
  }

  #file(infoHash: string, ext: 'json' | 'torrent' | 'resume'): string {
    return path.join(this.#seeding, `${infoHash}.${ext}`);
  }

  /** Every record of the dir (in info-hash order); unreadable ones are named in `broken`. */
  async list(): Promise<{ records: PublishedRecord[]; broken: { file: string; reason: string }[] }> {
    let names: string[];
    try {
      names = await fs.readdir(this.#seeding);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], broken: [] };
      throw err;
    }
    const records: PublishedRecord[] = [];
    const broken: { file: string; reason: string }[] = [];
    for (const n of names.sort()) {
      const ih = n.endsWith('.json') ? n.slice(0, -5) : '';
      if (!INFO_HASH.test(ih)) continue;
      try {
        records.push(await this.get(ih));
      } catch (err) {
        broken.push({ file: path.join(this.#seeding, n), reason: (err as Error).message });
      }
    }
    return { records, broken };
  }

  async get(infoHash: string): Promise<PublishedRecord> {
    const r = JSON.parse(await fs.readFile(this.#file(infoHash, 'json'), 'utf8')) as PublishedRecord;
    if (r.version !== 1 || r.infoHash !== infoHash || typeof r.contentDir !== 'string' || !Array.isArray(r.files)) {
      throw new Error('not a cineswarm publish record');
    }
    return r;
  }

  /** The record published under this name to this group of this server, if any. */
  async findByName(server: string, group: string, name: string): Promise<PublishedRecord | undefined> {
    const { records } = await this.list();
    return records.find((r) => r.server === server && r.group === group && r.name === name);
  }

  /** Writes the torrents first and the record last: a record on disk always has its torrent. */
  async save(r: PublishedRecord, created: Buffer, personal: Buffer): Promise<void> {
    await this.init();
    await writeFileAtomic(path.join(this.dir, `${r.infoHash}.torrent`), created, { mode: 0o644 });
    await writeFileAtomic(this.#file(r.infoHash, 'torrent'), personal);
    await this.saveRecord(r);
  }

  async saveRecord(r: PublishedRecord): Promise<void> {
    await writeFileAtomic(this.#file(r.infoHash, 'json'), JSON.stringify(r, null, 2) + '\n');
  }

  torrent(infoHash: string): Promise<Buffer> {
    return fs.readFile(this.#file(infoHash, 'torrent'));
  }

  async resumeData(infoHash: string): Promise<Buffer | undefined> {
    return fs.readFile(this.#file(infoHash, 'resume')).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
  }

  saveResumeData(infoHash: string, data: Buffer): Promise<void> {
    return writeFileAtomic(this.#file(infoHash, 'resume'), data);
  }

  /** Forgets the resume data (it no longer describes the files). */
  async dropResumeData(infoHash: string): Promise<void> {
    await fs.rm(this.#file(infoHash, 'resume'), { force: true });
  }
}

/** The torrent's files as they are on disk now (absent files are left out). */
export async function statTorrentFiles(torrent: Buffer, savePath: string): Promise<RecordedFile[]> {
  const out: RecordedFile[] = [];
  for (const f of parseTorrent(torrent).files) {
    const st = await fs.stat(path.join(savePath, f.path), { bigint: true }).catch(() => undefined);
    if (st?.isFile()) out.push({ path: f.path, size: Number(st.size), mtimeNs: st.mtimeNs.toString() });
  }
  return out;
}

/** What differs between the recorded files and the disk now, in torrent order. */
export async function changedFiles(r: PublishedRecord): Promise<FileChange[]> {
  const savePath = path.dirname(r.contentDir);
  const changes: FileChange[] = [];
  for (const f of r.files) {
    const st = await fs.stat(path.join(savePath, f.path), { bigint: true }).catch(() => undefined);
    if (!st?.isFile()) changes.push({ path: f.path, why: 'missing', detail: 'missing' });
    else if (Number(st.size) !== f.size) changes.push({ path: f.path, why: 'size', detail: `size ${f.size} -> ${st.size} bytes` });
    else if (st.mtimeNs.toString() !== f.mtimeNs) changes.push({ path: f.path, why: 'mtime', detail: 'modified since it was published (mtime differs)' });
  }
  return changes;
}
