// The S3 backend of GroupStore: the keys of the directory layout under `<prefix>` in one bucket.
// Create-only answers (a taken group id or torrent name) rest on conditional PUTs
// (If-None-Match: *), never on read-then-write, so replicas racing on one key get one winner.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { GroupDamagedError, GroupExistsError, GroupNotFoundError, ServerError, StoreUnavailableError, TorrentExistsError } from './errors.js';
import type { GroupRecord, GroupStore, KdmStore, PeerRecord, PeerReport, RosterEntry, StoredTorrent, Tombstone } from './group-store.js';
import { S3KdmStore } from './s3-kdm-store.js';
import { S3FirmwareStore } from './s3-firmware-store.js';
import type { FirmwareStore } from './firmware-store.js';
import { INFO_HASH_PATTERN, isGroupId, isPeerId, isTorrentName } from '../protocol/index.js';
import { mapLimit } from '../util/map-limit.js';

const infoHashRe = new RegExp(INFO_HASH_PATTERN);

export interface S3StoreOptions {
  bucket: string;
  /** key prefix, '' or ending in '/' (added when missing) */
  prefix?: string;
  endpoint?: string;
  region?: string;
  /** credentials; default: the SDK's standard chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, …) */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** per request, ms (default 2000): an unreachable store answers 503 within seconds, never hangs */
  requestTimeoutMs?: number;
  /** called once per object read, so /metrics can show what a listing costs */
  onRead?: () => void;
}

/** Objects read or listed in parallel at most, so a 10,000-torrent group does not open 10,000 sockets. */
const PARALLEL = 16;

function status(err: unknown): number | undefined {
  return (err as S3ServiceException)?.$metadata?.httpStatusCode;
}

function isMissing(err: unknown): boolean {
  const name = (err as Error)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || status(err) === 404;
}

/** 412: the key exists; 409: AWS's answer to a conditional write racing another on the same key. */
function isTaken(err: unknown): boolean {
  return status(err) === 412 || status(err) === 409;
}

export class S3GroupStore implements GroupStore {
  readonly client: S3Client;
  readonly bucket: string;
  private readonly prefix: string;
  private readonly onRead: () => void;
  private readonly where: string;
  readonly kdms: KdmStore = new S3KdmStore(this);
  readonly firmware: FirmwareStore;

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ? opts.prefix.replace(/\/*$/, '/') : '';
    this.onRead = opts.onRead ?? (() => {});
    this.firmware = new S3FirmwareStore(this, `${this.prefix}firmware/`);
    this.where = `s3://${opts.bucket}/${this.prefix}${opts.endpoint ? ` at ${opts.endpoint}` : ''}`;
    const timeout = opts.requestTimeoutMs ?? 2000;
    this.client = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region ?? 'us-east-1',
      forcePathStyle: true,
      credentials: opts.credentials,
      // radosgw refuses the SDK's default aws-chunked upload with a CRC32 trailer (411).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 2,
      requestHandler: { connectionTimeout: Math.min(1000, timeout), requestTimeout: timeout, throwOnRequestTimeout: true },
    });
  }

  /** Stops start-up with one line when the bucket cannot be reached or is not there. */
  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (status(err) === 404) throw new Error(`S3 store ${this.where}: the bucket '${this.bucket}' does not exist`);
      if (status(err) === 403) throw new Error(`S3 store ${this.where}: access denied (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)`);
      throw new Error(`S3 store ${this.where} is unreachable: ${(err as Error).message || (err as Error).name}`);
    }
  }

  close(): void {
    this.client.destroy();
  }

  groupKey(id: string): string {
    if (!isGroupId(id)) throw new ServerError('BAD_GROUP_ID', `'${id}' is not a valid group id`);
    return `${this.prefix}groups/${id}/`;
  }

  private torrentKey(group: string, name: string): string {
    if (!isTorrentName(name)) throw new ServerError('BAD_REQUEST', `'${name}' is not a valid torrent name`);
    return `${this.groupKey(group)}torrents/${name}.torrent`;
  }

  private reportKey(group: string, peer: string): string {
    if (!isPeerId(peer)) throw new ServerError('BAD_PEER', `'${peer}' is not a valid peer id`);
    return `${this.groupKey(group)}reports/${peer}.json`;
  }

  /** Every store call goes through here: an S3 that does not answer becomes one domain error. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ServerError || err instanceof SyntaxError) throw err;
      throw new StoreUnavailableError(`${what} on ${this.where}`, err);
    }
  }

  async putIfAbsent(key: string, body: Buffer | string, metadata?: Record<string, string>): Promise<boolean> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: Buffer.from(body), IfNoneMatch: '*', Metadata: metadata }));
      return true;
    } catch (err) {
      if (isTaken(err)) return false;
      throw err;
    }
  }

  async getObject(key: string): Promise<Buffer | undefined> {
    this.onRead();
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Buffer.from(await res.Body!.transformToByteArray());
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  /** Keys (after `prefix`) and times of every object under a prefix, page by page. */
  async list(prefix: string, delimiter?: string): Promise<Array<{ key: string; modified: Date; isPrefix?: boolean }>> {
    const out: Array<{ key: string; modified: Date; isPrefix?: boolean }> = [];
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: delimiter, ContinuationToken: token }),
      );
      for (const o of res.Contents ?? []) if (o.Key) out.push({ key: o.Key.slice(prefix.length), modified: o.LastModified ?? new Date(0) });
      for (const p of res.CommonPrefixes ?? []) if (p.Prefix) out.push({ key: p.Prefix.slice(prefix.length), modified: new Date(0), isPrefix: true });
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async requireGroup(id: string): Promise<void> {
    if (!(await this.exists(`${this.groupKey(id)}group.json`))) throw new GroupNotFoundError(id);
  }

  createGroup(group: GroupRecord): Promise<void> {
    return this.call('creating a group', async () => {
      const key = `${this.groupKey(group.id)}group.json`;
      if (!(await this.putIfAbsent(key, JSON.stringify(group, null, 2) + '\n'))) throw new GroupExistsError(group.id);
    });
  }

  getGroup(id: string): Promise<GroupRecord | undefined> {
    if (!isGroupId(id)) return Promise.resolve(undefined);
    return this.call('reading a group', async () => {
      const bytes = await this.getObject(`${this.groupKey(id)}group.json`);
      if (!bytes) return undefined;
      let rec: Partial<GroupRecord>;
      try {
        rec = JSON.parse(bytes.toString('utf8')) as Partial<GroupRecord>;
      } catch (err) {
        throw new GroupDamagedError(id, `${this.groupKey(id)}group.json`, `not valid JSON (${(err as Error).message})`);
      }
      if (!rec || typeof rec !== 'object' || rec.id !== id || typeof rec.passwordHash !== 'string' || typeof rec.createdAt !== 'string') {
        throw new GroupDamagedError(id, `${this.groupKey(id)}group.json`, 'id, passwordHash or createdAt missing or wrong');
      }
      const out: GroupRecord = { id: rec.id, passwordHash: rec.passwordHash, createdAt: rec.createdAt };
      if (typeof rec.ownerPasswordHash === 'string') out.ownerPasswordHash = rec.ownerPasswordHash;
      return out;
    });
  }

  /** Writes a JSON object of an existing group whole (one PUT replaces it atomically). */
  private async putJson(group: string, key: string, value: unknown): Promise<void> {
    await this.requireGroup(group);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: Buffer.from(JSON.stringify(value, null, 2) + '\n') }));
  }

  private async getJson<T>(key: string): Promise<T | undefined> {
    const bytes = await this.getObject(key);
    return bytes ? (JSON.parse(bytes.toString('utf8')) as T) : undefined;
  }

  updateGroup(group: GroupRecord): Promise<void> {
    const key = `${this.groupKey(group.id)}group.json`;
    return this.call('updating a group', () => this.putJson(group.id, key, group));
  }

  private peerKey(group: string, peer: string): string {
    if (!isPeerId(peer)) throw new ServerError('BAD_PEER', `'${peer}' is not a valid peer id`);
    return `${this.groupKey(group)}peers/${peer}.json`;
  }

  readPeer(group: string, peer: string): Promise<PeerRecord | undefined> {
    const key = this.peerKey(group, peer);
    return this.call('reading a peer', () => this.getJson<PeerRecord>(key));
  }

  writePeer(group: string, record: PeerRecord): Promise<void> {
    const key = this.peerKey(group, record.peer);
    return this.call('writing a peer', () => this.putJson(group, key, record));
  }

  readRoster(group: string): Promise<RosterEntry[]> {
    const key = `${this.groupKey(group)}roster.json`;
    return this.call('reading the roster', async () => (await this.getJson<RosterEntry[]>(key)) ?? []);
  }

  writeRoster(group: string, roster: RosterEntry[]): Promise<void> {
    const key = `${this.groupKey(group)}roster.json`;
    return this.call('writing the roster', () => this.putJson(group, key, roster));
  }

  writeTombstone(group: string, tombstone: Tombstone): Promise<void> {
    if (!infoHashRe.test(tombstone.infoHash)) throw new ServerError('BAD_REQUEST', `'${tombstone.infoHash}' is not an info hash`);
    const key = `${this.groupKey(group)}retired/${tombstone.infoHash.toLowerCase()}.json`;
    return this.call('writing a tombstone', () => this.putJson(group, key, tombstone));
  }

  listTombstones(group: string): Promise<Tombstone[]> {
    const base = `${this.groupKey(group)}retired/`;
    return this.call('listing tombstones', async () => {
      const hashes = (await this.list(base)).map((o) => o.key).filter((k) => k.endsWith('.json') && infoHashRe.test(k.slice(0, -5)));
      const all = await mapLimit(hashes.sort(), PARALLEL, (k) => this.getJson<Tombstone>(`${base}${k}`));
      return all.filter((t): t is Tombstone => t !== undefined);
    });
  }

  listGroups(): Promise<string[]> {
    return this.call('listing groups', async () => {
      const entries = await this.list(`${this.prefix}groups/`, '/');
      return entries
        .filter((e) => e.isPrefix)
        .map((e) => e.key.replace(/\/$/, ''))
        .filter(isGroupId)
        .sort();
    });
  }

  addTorrent(group: string, name: string, bytes: Buffer, createdAt?: Date): Promise<void> {
    const key = this.torrentKey(group, name);
    return this.call('adding a torrent', async () => {
      await this.requireGroup(group);
      // An object's time cannot be set, so a given creation time rides in a marker whose key
      // holds it: one listing of created/ then yields every such time.
      if (!(await this.putIfAbsent(key, bytes))) throw new TorrentExistsError(group, name);
      if (createdAt) await this.putIfAbsent(`${this.groupKey(group)}created/${name}@${createdAt.getTime()}`, '');
    });
  }

  listTorrents(group: string): Promise<StoredTorrent[]> {
    const base = this.groupKey(group);
    return this.call('listing torrents', async () => {
      const [objects, markers] = await Promise.all([this.list(`${base}torrents/`), this.list(`${base}created/`)]);
      if (objects.length === 0) await this.requireGroup(group);
      const given = new Map<string, Date>();
      for (const m of markers) {
        const at = m.key.lastIndexOf('@');
        if (at > 0) given.set(m.key.slice(0, at), new Date(Number(m.key.slice(at + 1))));
      }
      const out: StoredTorrent[] = [];
      for (const o of objects) {
        if (!o.key.endsWith('.torrent')) continue;
        const name = o.key.slice(0, -'.torrent'.length);
        if (isTorrentName(name)) out.push({ name, createdAt: given.get(name) ?? o.modified });
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });
  }

  readTorrent(group: string, name: string): Promise<Buffer | undefined> {
    const key = this.torrentKey(group, name);
    return this.call('reading a torrent', () => this.getObject(key));
  }

  removeTorrent(group: string, name: string): Promise<boolean> {
    const key = this.torrentKey(group, name);
    return this.call('removing a torrent', async () => {
      if (!(await this.exists(key))) return false;
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      const markers = await this.list(`${this.groupKey(group)}created/${name}@`);
      for (const m of markers) {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: `${this.groupKey(group)}created/${name}@${m.key}` }));
      }
      return true;
    });
  }

  writeReport(group: string, report: PeerReport): Promise<void> {
    const key = this.reportKey(group, report.peer);
    return this.call('writing a report', async () => {
      await this.requireGroup(group);
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: Buffer.from(JSON.stringify(report, null, 2) + '\n') }));
    });
  }

  readReport(group: string, peer: string): Promise<PeerReport | undefined> {
    const key = this.reportKey(group, peer);
    return this.call('reading a report', async () => {
      const bytes = await this.getObject(key);
      return bytes ? (JSON.parse(bytes.toString('utf8')) as PeerReport) : undefined;
    });
  }

  listReports(group: string): Promise<PeerReport[]> {
    const base = `${this.groupKey(group)}reports/`;
    return this.call('listing reports', async () => {
      const objects = await this.list(base);
      if (objects.length === 0) await this.requireGroup(group);
      const peers = objects.filter((o) => o.key.endsWith('.json')).map((o) => o.key.slice(0, -'.json'.length)).filter(isPeerId);
      const reports = await mapLimit(peers.sort(), PARALLEL, (p) => this.readReport(group, p));
      return reports.filter((r): r is PeerReport => r !== undefined);
    });
  }

  /** The passkey HMAC secret all replicas share: made once by whichever replica comes first. */
  loadOrCreateSecret(): Promise<string> {
    return this.sharedToken('server-secret', 32);
  }

  /** The admin token all replicas accept, made like the secret; read it with any S3 client. */
  loadOrCreateAdminToken(): Promise<string> {
    return this.sharedToken('admin-token', 24);
  }

  /** A random token under PREFIX/<name>: the first writer's (If-None-Match: *) is everyone's. */
  private sharedToken(name: string, bytes: number): Promise<string> {
    const key = `${this.prefix}${name}`;
    return this.call(`reading ${name}`, async () => {
      await this.putIfAbsent(key, randomBytes(bytes).toString('hex') + '\n');
      const token = (await this.getObject(key))?.toString('utf8').trim() ?? '';
      if (token.length < 16) throw new Error(`${this.where}${name} is shorter than 16 characters; delete it to have a new one made`);
      return token;
    });
  }
}
