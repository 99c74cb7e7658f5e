// The publisher's side of the data dir: hashing a DCP folder into its torrent (one read), recording
// a published DCP for `cineswarm seed`, and telling whether a name the group already lists is this
// very DCP (seed it again) or another one (refuse).
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTorrentWithFileHashes, parseTorrent, type FileHash } from '../engine/index.js';
import { ServerClient, type GroupAuth, type TorrentSummary } from '../protocol/index.js';
import { PublishError, mapServerError } from './publish-errors.js';
import { peerIdOf, type Published, type PublishOptions } from './publish-types.js';
import { PublishedStore, changedFiles, type PublishedRecord, type RecordedFile } from './published-store.js';

export const serverBase = (o: PublishOptions): string => o.server.replace(/\/+$/, '');

/** Bytes of every file under dir (what the torrent will hold). */
async function folderBytes(dir: string): Promise<number> {
  let sum = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) sum += (await fs.stat(path.join(e.parentPath, e.name))).size;
  }
  return sum;
}

/**
 * One read of the DCP: the piece hashes and each file's SHA-1 together. The read is what checks the
 * DCP, so it reports as verify progress. The server rewrites the announce URL per peer (passkey);
 * this one only has to be well formed.
 */
export async function hashFolder(o: PublishOptions, dir: string): Promise<{ torrent: Buffer; files: FileHash[]; totalBytes: number }> {
  const totalBytes = o.onVerifyProgress || o.onHashProgress ? await folderBytes(dir) : 0;
  const onProgress = o.onVerifyProgress && ((pieces: number, of: number) => o.onVerifyProgress!(of > 0 ? Math.round((pieces / of) * totalBytes) : 0, totalBytes));
  const { torrent, files } = await createTorrentWithFileHashes(dir, { private: true, trackers: [`${serverBase(o)}/announce`], creator: 'cineswarm', pieceSize: o.pieceSize, onProgress });
  return { torrent, files, totalBytes };
}

/** Size and mtime of every file under dir, by its path relative to dir's parent (torrent paths). */
export async function statDir(dir: string): Promise<Map<string, RecordedFile>> {
  const out = new Map<string, RecordedFile>();
  const parent = path.dirname(dir);
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    const st = await fs.stat(full, { bigint: true });
    const rel = path.relative(parent, full);
    out.set(rel, { path: rel, size: Number(st.size), mtimeNs: st.mtimeNs.toString() });
  }
  return out;
}

/** Keeps what `cineswarm seed` needs in o.dataDir; `before` are the files as they were before the read. */
export async function recordPublished(o: PublishOptions & { dataDir: string }, dir: string, torrent: Buffer, before: Map<string, RecordedFile>): Promise<void> {
  const info = parseTorrent(torrent);
  const g: GroupAuth = { id: o.group, password: o.ownerPassword };
  const personal = await new ServerClient(serverBase(o)).fetchTorrent(g, info.name, peerIdOf(o)).catch((err: unknown) => mapServerError(err, g, info.name));
  const rec: PublishedRecord = {
    version: 1,
    name: info.name,
    infoHash: info.infoHash,
    server: serverBase(o),
    group: o.group,
    ownerPassword: o.ownerPassword,
    peerId: peerIdOf(o),
    contentDir: dir,
    // A file not seen before the read (made meanwhile) gets no mtime: the seeder re-checks it.
    files: info.files.map((f) => before.get(f.path) ?? { path: f.path, size: f.size, mtimeNs: '0' }),
    publishedAt: new Date().toISOString(),
  };
  await new PublishedStore(o.dataDir).save(rec, torrent, personal);
}

/**
 * A name the group already lists. Without --seed: refused. With it: the DCP recorded in the data dir
 * whose files are as recorded is seeded again at once; otherwise only the bytes can tell, so the
 * folder is hashed as publish would hash it and must give the listed info hash.
 */
export async function alreadyPublished(o: PublishOptions, dir: string, listed: TorrentSummary): Promise<Published> {
  const { name, infoHash } = listed;
  const g = o.group;
  const seedAgain = 'to seed the published DCP again, use cineswarm seed --data DIR (its data dir), or publish --seed with its own files';
  if (!o.seedExisting) throw new PublishError('NAME_TAKEN', `a DCP named ${name} is already published in group ${g}; it was not replaced (${seedAgain})`);
  const store = o.dataDir ? new PublishedStore(o.dataDir) : undefined;
  const rec = await store?.findByName(serverBase(o), g, name);
  if (store && rec?.infoHash === infoHash && (await changedFiles({ ...rec, contentDir: dir })).length === 0) {
    if (rec.contentDir !== dir) await store.saveRecord({ ...rec, contentDir: dir });
    return { name, infoHash, size: listed.size, torrent: await store.torrent(infoHash), alreadyPublished: true };
  }
  const before = o.dataDir ? await statDir(dir) : undefined;
  const { torrent, totalBytes } = await hashFolder(o, dir);
  o.onHashProgress?.(totalBytes, totalBytes);
  const ours = parseTorrent(torrent).infoHash;
  if (ours !== infoHash) {
    throw new PublishError('NAME_TAKEN', `a different DCP named ${name} is already published in group ${g} (info hash ${infoHash}; ${dir} hashes to ${ours}); it was not replaced (${seedAgain})`);
  }
  if (o.dataDir) await recordPublished({ ...o, dataDir: o.dataDir }, dir, torrent, before!);
  return { name, infoHash, size: listed.size, torrent, alreadyPublished: true };
}
