// The initiating peer: verifies a DCP, hashes it into a private torrent, creates the group when
// asked, uploads the torrent and, when seeding, serves it to the group as its initiator.
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { Session, createTorrent, parseTorrent, type SessionSettings, type Torrent } from '../engine/index.js';
import { verifyDcp } from '../dcp/index.js';
import { ServerClient, ApiError, type GroupAuth, type UploadedTorrent } from '../protocol/index.js';
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
  /** keeps the created .torrent here, so a later seeding run needs no re-hash */
  dataDir?: string;
  pieceSize?: number;
  /** bytes verified of all */
  onVerifyProgress?: (done: number, total: number) => void;
  /** bytes hashed into the torrent of all (from libtorrent's pieces) */
  onHashProgress?: (done: number, total: number) => void;
  log?: Logger;
}

export interface Published {
  name: string;
  infoHash: string;
  size: number;
  torrent: Buffer;
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
 * password opens the group and no DCP of this name is there yet; with create, the admin token
 * is accepted and the group id is free.
 */
export async function precheckPublish(o: PublishOptions, name: string): Promise<void> {
  const client = new ServerClient(o.server.replace(/\/+$/, ''));
  const owner: GroupAuth = { id: o.group, password: o.ownerPassword };
  if (o.create) {
    if (!o.password) throw new PublishError('REFUSED', 'creating a group needs the member password the cinemas will use (--password)');
    try {
      await client.checkCreateGroup({ id: o.group, password: o.password, ownerPassword: o.ownerPassword }, o.adminToken ? { bearer: o.adminToken } : undefined);
    } catch (err) {
      throw mapCreateError(err, o.group, name);
    }
    return;
  }
  let list;
  try {
    await client.groupStatus(owner);
    ({ list } = await client.listTorrents(owner));
  } catch (err) {
    mapServerError(err, owner, name);
  }
  if (list.some((t) => t.name === name)) mapServerError(new ApiError('CONFLICT', 'exists', { status: 409 }), owner, name);
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
  await precheckPublish(o, path.basename(dir));
  const report = await verifyDcp(dir, { onProgress: o.onVerifyProgress });
  if (!report.ok) {
    const bad = report.failures.map((f) => `${f.path}: ${f.reason}`).join('; ');
    throw new PublishError('BROKEN_DCP', `refusing to publish ${path.basename(dir)}: the DCP does not verify (${bad})`);
  }
  log.info({ dir, bytes: report.bytesHashed, title: report.title }, 'DCP verified');
  const base = o.server.replace(/\/+$/, '');
  // The server rewrites the announce URL per peer (passkey); this one only has to be well formed.
  const totalBytes = o.onHashProgress ? await folderBytes(dir) : 0;
  const onProgress = o.onHashProgress && ((pieces: number, of: number) => o.onHashProgress!(of > 0 ? Math.round((pieces / of) * totalBytes) : 0, totalBytes));
  const torrent = await createTorrent(dir, { private: true, trackers: [`${base}/announce`], creator: 'cineswarm', pieceSize: o.pieceSize, onProgress });
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
  if (o.dataDir) {
    await fs.mkdir(o.dataDir, { recursive: true });
    await fs.writeFile(path.join(o.dataDir, `${info.infoHash}.torrent`), torrent);
  }
  log.info({ name: up.name, infoHash: up.infoHash, group: g.id }, 'torrent uploaded');
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
    client.report(g, { peer: o.peerId, infoHash: torrent.infoHash, state: 'seeding', progress: 1, message: 'initiator' }).catch((err: unknown) => {
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
