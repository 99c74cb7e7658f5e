// The initiating peer: verifies a DCP, hashes it into a private torrent, creates the group when
// asked, uploads the torrent and, when seeding, serves it to the group as its initiator.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { Session, createTorrentWithFileHashes, parseTorrent, type SessionSettings, type Torrent } from '../engine/index.js';
import { verifyDcp } from '../dcp/index.js';
import { ServerClient, ApiError, type GroupAuth, type TorrentSummary, type UploadedTorrent } from '../protocol/index.js';
import { PublishedStore, changedFiles, type PublishedRecord, type RecordedFile } from './published-store.js';
import { log as rootLog } from '../util/log.js';
import { seederSessionSettings } from '../engine/settings.js';
import { applySuperSeeding, DEFAULT_SUPER_SEEDING, type SuperSeedingMode } from './initial-seeding.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export type PublishErrorCode = 'BROKEN_DCP' | 'GROUP_TAKEN' | 'NAME_TAKEN' | 'UNAUTHORIZED' | 'NO_SUCH_GROUP' | 'UNREACHABLE' | 'REFUSED';

export class PublishError extends Error {
  constructor(
    readonly code: PublishErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

export interface PublishOptions {
  dcpDir: string;
  server: string;
  group: string;
  /** the group's owner password (the distributor's) */
  ownerPassword: string;
  /** with create: the member password the cinemas will use */
  password?: string;
  create?: boolean;
  /** with create: the server's admin token (not needed on an --open-groups server) */
  adminToken?: string;
  /** peer id the publisher reports and announces under */
  peerId?: string;
  /** keeps the torrents, the content path and (once seeding) resume data here, for `cineswarm seed` */
  dataDir?: string;
  /** a DCP of this name already published from dataDir with the same info hash is not an error (publish --seed) */
  seedExisting?: boolean;
  pieceSize?: number;
  /** bytes read of all: the one read that checks the DCP and hashes its pieces */
  onVerifyProgress?: (done: number, total: number) => void;
  /** called once with the total when the pieces are hashed (they come from the same read) */
  onHashProgress?: (done: number, total: number) => void;
  log?: Logger;
}

export interface Published {
  name: string;
  infoHash: string;
  size: number;
  torrent: Buffer;
  /** the group already listed this very DCP (published earlier from dataDir); nothing was uploaded */
  alreadyPublished?: boolean;
}

function mapServerError(err: unknown, g: GroupAuth, name: string): never {
  if (!(err instanceof ApiError)) throw err;
  switch (err.code) {
    case 'UNAUTHORIZED':
      throw new PublishError(
        'UNAUTHORIZED',
        err.status === 403
          ? `that is the member password of group ${g.id}; publishing needs the owner password`
          : `the server refused the owner password for group ${g.id}, or there is no such group (add --create to create it)`,
      );
    case 'NOT_FOUND':
      throw new PublishError('NO_SUCH_GROUP', `group ${g.id} does not exist on the server; add --create to create it`);
    case 'CONFLICT':
      throw new PublishError('NAME_TAKEN', `a DCP named ${name} is already published in group ${g.id}; it was not replaced (to seed it again from the same files, use cineswarm seed)`);
    case 'UNREACHABLE':
      throw new PublishError('UNREACHABLE', err.message);
    default:
      throw new PublishError('REFUSED', err.message);
  }
}

/**
 * What can be checked before an hour of reading a large DCP: the server answers, the owner
 * password opens the group; with create, the admin token is accepted and the group id is free.
 * Returns what the group already lists under this name (the caller decides whether that is the
 * same DCP, to seed again, or a refusal).
 */
export async function precheckPublish(o: PublishOptions, name: string): Promise<TorrentSummary | undefined> {
  const client = new ServerClient(o.server.replace(/\/+$/, ''));
  const owner: GroupAuth = { id: o.group, password: o.ownerPassword };
  if (o.create) {
    if (!o.password) throw new PublishError('REFUSED', 'creating a group needs the member password the cinemas will use (--password)');
    try {
      await client.checkCreateGroup({ id: o.group, password: o.password, ownerPassword: o.ownerPassword }, o.adminToken ? { bearer: o.adminToken } : undefined);
    } catch (err) {
      throw mapCreateError(err, o.group, name);
    }
    return undefined;
  }
  let list;
  try {
    await client.groupStatus(owner);
    ({ list } = await client.listTorrents(owner));
  } catch (err) {
    mapServerError(err, owner, name);
  }
  return list.find((t) => t.name === name);
}

/** A name the group already lists: the same DCP published from dataDir (seed it again), or a refusal. */
async function alreadyPublished(o: PublishOptions, dir: string, listed: TorrentSummary): Promise<Published> {
  const g = o.group;
  const name = listed.name;
  if (!o.seedExisting || !o.dataDir) {
    throw new PublishError('NAME_TAKEN', `a DCP named ${name} is already published in group ${g}; it was not replaced (to seed it again from the same files, use cineswarm seed --data DIR with the data dir it was published from, or publish --seed --data DIR)`);
  }
  const store = new PublishedStore(o.dataDir);
  const rec = await store.findByName(o.server.replace(/\/+$/, ''), g, name);
  if (!rec || rec.infoHash !== listed.infoHash) {
    const why = rec ? `a different DCP named ${name} (info hash ${listed.infoHash}) is already published in group ${g}` : `a DCP named ${name} is already published in group ${g}, and ${store.dir} holds no record of publishing it`;
    throw new PublishError('NAME_TAKEN', `${why}; it was not replaced (to seed a DCP published from a data dir again, use cineswarm seed --data DIR)`);
  }
  if (rec.contentDir !== dir) {
    // Another folder of the same name is the same DCP only if every file is as recorded (moved
    // with its mtimes kept); anything else would need a full read to tell, so it is refused.
    const moved = await changedFiles({ ...rec, contentDir: dir });
    if (moved.length > 0) {
      throw new PublishError('NAME_TAKEN', `a DCP named ${name} is already published in group ${g} from ${rec.contentDir}, and ${dir} is not that DCP (${moved[0]!.path}: ${moved[0]!.detail}); it was not replaced (to seed the published one again, use cineswarm seed --data ${store.dir})`);
    }
    await store.saveRecord({ ...rec, contentDir: dir });
  }
  const torrent = await store.torrent(rec.infoHash);
  return { name, infoHash: rec.infoHash, size: listed.size, torrent, alreadyPublished: true };
}

function mapCreateError(err: unknown, group: string, name: string): Error {
  if (err instanceof ApiError && err.code === 'CONFLICT') {
    return new PublishError('GROUP_TAKEN', `group id ${group} is already taken; choose another id or drop --create if it is yours`);
  }
  if (err instanceof ApiError && err.code === 'UNAUTHORIZED') {
    return new PublishError('UNAUTHORIZED', `the server refused to create group ${group}: it needs its admin token (--admin-token-file)`);
  }
  if (err instanceof ApiError && err.code === 'BAD_REQUEST') return new PublishError('REFUSED', err.message);
  try {
    mapServerError(err, { id: group, password: '' }, name);
  } catch (e) {
    return e as Error;
  }
}

/** The id a publisher reports and announces under unless told otherwise. */
export function defaultPublisherId(): string {
  return `publisher-${os.hostname()}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
}

function peerIdOf(o: PublishOptions): string {
  return o.peerId ?? defaultPublisherId();
}

/** Size and mtime of every file under dir, by its path relative to dir's parent (torrent paths). */
async function statDir(dir: string): Promise<Map<string, RecordedFile>> {
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

/** Bytes of every file under dir (what the torrent will hold). */
async function folderBytes(dir: string): Promise<number> {
  let sum = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) sum += (await fs.stat(path.join(e.parentPath, e.name))).size;
  }
  return sum;
}

/** Checks → verify → torrent → (group) → upload. Nothing is uploaded for a broken DCP. */
export async function publishDcp(o: PublishOptions): Promise<Published> {
  const log = o.log ?? rootLog.child({ component: 'publish' });
  const dir = path.resolve(o.dcpDir);
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new PublishError('BROKEN_DCP', `no DCP folder at ${o.dcpDir}`);
  // The torrent is named after the folder (createTorrent), so the name is known before hashing.
  const listed = await precheckPublish(o, path.basename(dir));
  if (listed) return alreadyPublished(o, dir, listed);
  // Sizes and mtimes from before the first read: a change made while hashing shows at the seeder's start.
  const before = o.dataDir ? await statDir(dir) : undefined;
  const base = o.server.replace(/\/+$/, '');
  // One read of the DCP: the piece hashes and each file's SHA-1 together; the verification then
  // compares those SHA-1s with the packing list and reads only the XML itself. The read is what
  // checks the DCP, so it reports as verify progress; hashing is done when it ends.
  // The server rewrites the announce URL per peer (passkey); this one only has to be well formed.
  const totalBytes = o.onVerifyProgress || o.onHashProgress ? await folderBytes(dir) : 0;
  const onProgress = o.onVerifyProgress && ((pieces: number, of: number) => o.onVerifyProgress!(of > 0 ? Math.round((pieces / of) * totalBytes) : 0, totalBytes));
  const { torrent, files } = await createTorrentWithFileHashes(dir, { private: true, trackers: [`${base}/announce`], creator: 'cineswarm', pieceSize: o.pieceSize, onProgress });
  const known = new Map<string, { size: number; sha1Base64: string }>();
  for (const f of files) known.set(await fs.realpath(f.path), f);
  const report = await verifyDcp(dir, { known });
  if (!report.ok) {
    const bad = report.failures.map((f) => `${f.path}: ${f.reason}`).join('; ');
    throw new PublishError('BROKEN_DCP', `refusing to publish ${path.basename(dir)}: the DCP does not verify (${bad})`);
  }
  log.info({ dir, bytesReadAgain: report.bytesHashed, title: report.title }, 'DCP verified');
  o.onHashProgress?.(totalBytes, totalBytes);
  const info = parseTorrent(torrent);
  const g: GroupAuth = { id: o.group, password: o.ownerPassword };
  const client = new ServerClient(base);
  if (o.create) {
    try {
      await client.createGroup({ id: o.group, password: o.password!, ownerPassword: o.ownerPassword }, o.adminToken ? { bearer: o.adminToken } : undefined);
      log.info({ group: g.id }, 'group created');
    } catch (err) {
      throw mapCreateError(err, g.id, info.name);
    }
  }
  let up: UploadedTorrent;
  try {
    up = await client.uploadTorrent(g, torrent);
  } catch (err) {
    mapServerError(err, g, info.name);
  }
  log.info({ name: up.name, infoHash: up.infoHash, group: g.id }, 'torrent uploaded');
  if (o.dataDir) {
    const personal = await client.fetchTorrent(g, info.name, peerIdOf(o)).catch((err: unknown) => mapServerError(err, g, info.name));
    const recorded = parseTorrent(torrent).files.map((f) => before!.get(f.path) ?? { path: f.path, size: f.size, mtimeNs: '0' });
    const rec: PublishedRecord = {
      version: 1,
      name: info.name,
      infoHash: info.infoHash,
      server: base,
      group: g.id,
      ownerPassword: o.ownerPassword,
      peerId: peerIdOf(o),
      contentDir: dir,
      files: recorded,
      publishedAt: new Date().toISOString(),
    };
    await new PublishedStore(o.dataDir).save(rec, torrent, personal);
    log.info({ dataDir: o.dataDir, infoHash: info.infoHash }, 'publish recorded for cineswarm seed');
  }
  return { name: up.name, infoHash: info.infoHash, size: info.totalSize, torrent };
}

export interface SeedOptions {
  server: string;
  group: string;
  /** the owner password: the publisher fetches its torrent and reports without a peer key */
  ownerPassword: string;
  name: string;
  dcpDir: string;
  peerId: string;
  session?: SessionSettings;
  /** bytes/s for this torrent, 0 = unlimited */
  uploadLimit?: number;
  /** BEP 16 super seeding (default DEFAULT_SUPER_SEEDING) */
  superSeeding?: SuperSeedingMode;
  log?: Logger;
}

export interface Seeder {
  session: Session;
  torrent: Torrent;
  infoHash: string;
  stop(): Promise<void>;
}

function uploadRate(t: Torrent): { uploadBps: number } {
  try {
    return { uploadBps: Math.max(0, Math.round(t.status().uploadRate)) };
  } catch {
    return { uploadBps: 0 };
  }
}

/** Seeds the published DCP from where it lies, with the torrent personalised for the initiator. */
export async function startSeeding(o: SeedOptions): Promise<Seeder> {
  const log = o.log ?? rootLog.child({ component: 'publish' });
  const g: GroupAuth = { id: o.group, password: o.ownerPassword };
  const client = new ServerClient(o.server.replace(/\/+$/, ''));
  const bytes = await client.fetchTorrent(g, o.name, o.peerId).catch((err: unknown) => mapServerError(err, g, o.name));
  const base = seederSessionSettings({ listenInterfaces: '0.0.0.0:6881', version: VERSION });
  const session = new Session({ ...base, ...o.session, raw: { ...base.raw, ...o.session?.raw } });
  const torrent = session.addTorrent({ torrent: bytes, savePath: path.dirname(path.resolve(o.dcpDir)), seedMode: true, uploadLimit: o.uploadLimit ?? 0 });
  const stopSuperSeeding = applySuperSeeding(torrent, o.superSeeding ?? DEFAULT_SUPER_SEEDING);
  const report = (): Promise<void> =>
    client.report(g, { peer: o.peerId, infoHash: torrent.infoHash, state: 'seeding', progress: 1, message: 'initiator', role: 'seeder', ...uploadRate(torrent) }).catch((err: unknown) => {
      log.warn({ err: (err as Error).message }, 'could not report to the server; will retry');
    });
  await report();
  // Re-report now and then so the group status keeps showing the initiator after a server restart.
  const timer = setInterval(() => void report(), 60_000);
  timer.unref();
  log.info({ name: o.name, infoHash: torrent.infoHash, port: session.listenPort }, 'seeding');
  return {
    session,
    torrent,
    infoHash: torrent.infoHash,
    async stop() {
      clearInterval(timer);
      stopSuperSeeding();
      await session.close();
    },
  };
}
