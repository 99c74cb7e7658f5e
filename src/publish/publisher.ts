// The initiating peer: verifies a DCP, hashes it into a private torrent, creates the group when
// asked, uploads the torrent and, when seeding, serves it to the group as its initiator.
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { Session, parseTorrent, type SessionSettings, type Torrent } from '../engine/index.js';
import { verifyDcp } from '../dcp/index.js';
import { ServerClient, type GroupAuth, type TorrentSummary, type UploadedTorrent } from '../protocol/index.js';
import { PublishError, mapCreateError, mapServerError } from './publish-errors.js';
import type { Published, PublishOptions } from './publish-types.js';
import { alreadyPublished, hashFolder, recordPublished, serverBase, statDir } from './publish-record.js';
import { log as rootLog } from '../util/log.js';
import { seederSessionSettings } from '../engine/settings.js';
import { DEFAULT_SUPER_SEEDING, watchSuperSeeding, superSeedingOption, type SuperSeedingMode } from './initial-seeding.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export { PublishError, type PublishErrorCode } from './publish-errors.js';
export { defaultPublisherId, type Published, type PublishOptions } from './publish-types.js';

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
  const base = serverBase(o);
  // One read of the DCP (hashFolder); the verification then compares the files' SHA-1s with the
  // packing list and reads only the XML itself. Hashing is done when the read ends.
  const { torrent, files, totalBytes } = await hashFolder(o, dir);
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
    await recordPublished({ ...o, dataDir: o.dataDir }, dir, torrent, before!);
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
  /** the caller hashed dcpDir into this torrent moments ago: no piece is hashed again when first sent */
  piecesVerified?: boolean;
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
  const mode = o.superSeeding ?? DEFAULT_SUPER_SEEDING;
  const base = seederSessionSettings({ listenInterfaces: '0.0.0.0:6881', version: VERSION, superSeeding: mode === 'on', uploadLimit: o.uploadLimit });
  const session = new Session({ ...base, ...o.session, raw: { ...base.raw, ...o.session?.raw } });
  const torrent = session.addTorrent({ torrent: bytes, savePath: path.dirname(path.resolve(o.dcpDir)), seedMode: true, piecesVerified: o.piecesVerified ?? false, uploadLimit: o.uploadLimit ?? 0, ...superSeedingOption(mode) });
  const stopSuperSeeding = watchSuperSeeding(torrent, mode, (on) => log.info({ name: o.name }, on ? 'nobody downloading: super seeding again' : 'one cinema is downloading alone: super seeding ended, every piece offered'));
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
