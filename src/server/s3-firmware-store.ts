// The S3 backend of the firmware store: PREFIX/firmware/<version>/info.json (the bundle's
// description and signature) and PREFIX/firmware/<version>/<sha256>.tar.gz. The bundle goes
// first under its digest, then info.json by conditional PUT, so two replicas publishing one
// version get one winner and a reader never sees an info whose bundle is someone else's.
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { FirmwareInfo } from '../protocol/index.js';
import { isFirmwareVersion, newestFirst, type FirmwareStore } from './firmware-store.js';
import type { S3Bucket } from './s3-kdm-store.js';

/** info.json: the wire description plus what only the store needs. */
interface StoredFirmware extends FirmwareInfo {
  signature: string;
}

export class S3FirmwareStore implements FirmwareStore {
  /** A published version never changes, so its record is read once per server. */
  private readonly records = new Map<string, StoredFirmware>();

  constructor(
    private readonly s3: S3Bucket,
    private readonly base: string,
  ) {}

  private bundleKey(version: string, sha256: string): string {
    return `${this.base}${version}/${sha256}.tar.gz`;
  }

  versions(): Promise<string[]> {
    return this.s3.call('listing firmware', async () => {
      const entries = await this.s3.list(this.base, '/');
      return newestFirst(entries.filter((e) => e.isPrefix).map((e) => e.key.replace(/\/$/, '')));
    });
  }

  private async record(version: string): Promise<StoredFirmware | undefined> {
    if (!isFirmwareVersion(version)) return undefined;
    const known = this.records.get(version);
    if (known) return known;
    return this.s3.call('reading firmware', async () => {
      const bytes = await this.s3.getObject(`${this.base}${version}/info.json`);
      if (!bytes) return undefined;
      const rec = JSON.parse(bytes.toString('utf8')) as StoredFirmware;
      this.records.set(version, rec);
      return rec;
    });
  }

  async info(version: string): Promise<FirmwareInfo | undefined> {
    const rec = await this.record(version);
    if (!rec) return undefined;
    const { signature: _signature, ...info } = rec;
    return info;
  }

  async signature(version: string): Promise<string | undefined> {
    return (await this.record(version))?.signature;
  }

  async openBundle(version: string): Promise<Readable | undefined> {
    const rec = await this.record(version);
    if (!rec) return undefined;
    return this.s3.call('reading a firmware bundle', async () => {
      const res = await this.s3.client.send(new GetObjectCommand({ Bucket: this.s3.bucket, Key: this.bundleKey(version, rec.sha256) }));
      return res.Body as Readable;
    });
  }

  add(info: FirmwareInfo, bundle: Buffer, signature: string): Promise<boolean> {
    if (!isFirmwareVersion(info.version)) throw new Error(`'${info.version}' is not a firmware version`);
    const key = this.bundleKey(info.version, info.sha256);
    return this.s3.call('publishing firmware', async () => {
      await this.s3.client.send(new PutObjectCommand({ Bucket: this.s3.bucket, Key: key, Body: bundle, ContentType: 'application/gzip' }));
      const rec: StoredFirmware = { ...info, signature };
      if (await this.s3.putIfAbsent(`${this.base}${info.version}/info.json`, JSON.stringify(rec, null, 2) + '\n')) return true;
      // Lost the race: the bundle stays only if it is the winner's (same bytes, same key).
      const winner = await this.record(info.version);
      if (winner?.sha256 !== info.sha256) await this.s3.client.send(new DeleteObjectCommand({ Bucket: this.s3.bucket, Key: key }));
      return false;
    });
  }
}
