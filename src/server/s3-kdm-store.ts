// The S3 backend of the KDM part of the store: the same keys as the directory layout
// (groups/<id>/kdms/<messageId>.xml + .json, groups/<id>/peers/<peer>.json) in the group store's bucket.
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { MESSAGE_ID } from './dir-kdm-store.js';
import { KdmExistsError, ServerError } from './errors.js';
import type { KdmRecord, KdmStore } from './group-store.js';
import { isPeerId } from '../protocol/index.js';

/** What this store uses of the S3 group store; named here so the two modules do not import each other. */
export interface S3Bucket {
  readonly client: S3Client;
  readonly bucket: string;
  groupKey(id: string): string;
  call<T>(what: string, fn: () => Promise<T>): Promise<T>;
  putIfAbsent(key: string, body: Buffer | string, metadata?: Record<string, string>): Promise<boolean>;
  getObject(key: string): Promise<Buffer | undefined>;
  list(prefix: string, delimiter?: string): Promise<Array<{ key: string; modified: Date; isPrefix?: boolean }>>;
  requireGroup(id: string): Promise<void>;
}

export class S3KdmStore implements KdmStore {
  constructor(private readonly s3: S3Bucket) {}

  private kdmKey(group: string, messageId: string): string {
    if (!MESSAGE_ID.test(messageId)) throw new ServerError('KDM_NOT_FOUND', `'${messageId}' is not a KDM message id`);
    return `${this.s3.groupKey(group)}kdms/${messageId}`;
  }

  private peerKey(group: string, peer: string): string {
    if (!isPeerId(peer)) throw new ServerError('BAD_PEER', `'${peer}' is not a valid peer id`);
    return `${this.s3.groupKey(group)}peers/${peer}.json`;
  }

  private put(key: string, body: Buffer | string): Promise<unknown> {
    return this.s3.client.send(new PutObjectCommand({ Bucket: this.s3.bucket, Key: key, Body: Buffer.from(body) }));
  }

  private del(key: string): Promise<unknown> {
    return this.s3.client.send(new DeleteObjectCommand({ Bucket: this.s3.bucket, Key: key }));
  }

  addKdm(group: string, record: KdmRecord, xml: Buffer): Promise<void> {
    const base = this.kdmKey(group, record.messageId);
    return this.s3.call('adding a KDM', async () => {
      await this.s3.requireGroup(group);
      // The record decides who won (create-only); the XML follows, and listings skip a record without it.
      if (!(await this.s3.putIfAbsent(`${base}.json`, JSON.stringify(record, null, 2) + '\n'))) throw new KdmExistsError(group, record.messageId);
      try {
        await this.put(`${base}.xml`, xml);
      } catch (err) {
        await this.del(`${base}.json`).catch(() => undefined);
        throw err;
      }
    });
  }

  listKdms(group: string): Promise<KdmRecord[]> {
    const prefix = `${this.s3.groupKey(group)}kdms/`;
    return this.s3.call('listing KDMs', async () => {
      const keys = new Set((await this.s3.list(prefix)).map((o) => o.key));
      const ids = [...keys].filter((k) => k.endsWith('.json')).map((k) => k.slice(0, -5)).filter((id) => MESSAGE_ID.test(id) && keys.has(`${id}.xml`)).sort();
      const out: KdmRecord[] = [];
      for (const id of ids) {
        const bytes = await this.s3.getObject(`${prefix}${id}.json`);
        if (bytes) out.push(JSON.parse(bytes.toString('utf8')) as KdmRecord);
      }
      return out;
    });
  }

  readKdm(group: string, messageId: string): Promise<Buffer | undefined> {
    const key = `${this.kdmKey(group, messageId)}.xml`;
    return this.s3.call('reading a KDM', () => this.s3.getObject(key));
  }

  readKdmRecord(group: string, messageId: string): Promise<KdmRecord | undefined> {
    const key = `${this.kdmKey(group, messageId)}.json`;
    return this.s3.call('reading a KDM record', async () => {
      const bytes = await this.s3.getObject(key);
      return bytes ? (JSON.parse(bytes.toString('utf8')) as KdmRecord) : undefined;
    });
  }

  writeKdmRecord(group: string, record: KdmRecord): Promise<void> {
    const key = `${this.kdmKey(group, record.messageId)}.json`;
    return this.s3.call('writing a KDM record', async () => {
      await this.put(key, JSON.stringify(record, null, 2) + '\n');
    });
  }

  removeKdm(group: string, messageId: string): Promise<boolean> {
    const base = this.kdmKey(group, messageId);
    return this.s3.call('removing a KDM', async () => {
      if (!(await this.s3.getObject(`${base}.json`))) return false;
      await this.del(`${base}.json`);
      await this.del(`${base}.xml`);
      return true;
    });
  }

  readPeerCertificates(group: string, peer: string): Promise<string[]> {
    const key = this.peerKey(group, peer);
    return this.s3.call('reading peer certificates', async () => {
      const rec = await this.readPeer(key);
      return Array.isArray(rec?.certificates) ? (rec.certificates as string[]) : [];
    });
  }

  writePeerCertificates(group: string, peer: string, pems: string[]): Promise<void> {
    const key = this.peerKey(group, peer);
    return this.s3.call('writing peer certificates', async () => {
      await this.s3.requireGroup(group);
      const rec = (await this.readPeer(key)) ?? { peer };
      rec.certificates = pems;
      await this.put(key, JSON.stringify(rec, null, 2) + '\n');
    });
  }

  listPeerCertificates(group: string): Promise<{ peer: string; certificates: string[] }[]> {
    const prefix = `${this.s3.groupKey(group)}peers/`;
    return this.s3.call('listing peer certificates', async () => {
      const peers = (await this.s3.list(prefix)).map((o) => o.key).filter((k) => k.endsWith('.json')).map((k) => k.slice(0, -5)).filter(isPeerId).sort();
      const out: { peer: string; certificates: string[] }[] = [];
      for (const peer of peers) {
        const rec = await this.readPeer(`${prefix}${peer}.json`);
        if (Array.isArray(rec?.certificates) && rec.certificates.length > 0) out.push({ peer, certificates: rec.certificates as string[] });
      }
      return out;
    });
  }

  private async readPeer(key: string): Promise<Record<string, unknown> | undefined> {
    const bytes = await this.s3.getObject(key);
    return bytes ? (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>) : undefined;
  }
}
