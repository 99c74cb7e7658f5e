// The directory backend of the KDM part of the store: DATA/groups/<id>/kdms/<messageId>.xml + .json
// and the `certificates` of DATA/groups/<id>/peers/<peer>.json. Writes are temp + fsync + rename.
import fs from 'node:fs/promises';
import path from 'node:path';
import { GroupNotFoundError, KdmExistsError, ServerError } from './errors.js';
import type { KdmRecord, KdmStore } from './group-store.js';
import { isGroupId, isPeerId } from '../protocol/index.js';
import { writeFileAtomic } from '../util/durable-write.js';

export const MESSAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

export class DirKdmStore implements KdmStore {
  constructor(private readonly root: string) {}

  private groupDir(group: string): string {
    if (!isGroupId(group)) throw new ServerError('BAD_GROUP_ID', `'${group}' is not a valid group id`);
    return path.join(this.root, group);
  }

  private kdmBase(group: string, messageId: string): string {
    if (!MESSAGE_ID.test(messageId)) throw new ServerError('KDM_NOT_FOUND', `'${messageId}' is not a KDM message id`);
    return path.join(this.groupDir(group), 'kdms', messageId);
  }

  private peerFile(group: string, peer: string): string {
    if (!isPeerId(peer)) throw new ServerError('BAD_PEER', `'${peer}' is not a valid peer id`);
    return path.join(this.groupDir(group), 'peers', `${peer}.json`);
  }

  private async ensureDir(group: string, sub: string): Promise<string> {
    const g = this.groupDir(group);
    try {
      await fs.access(path.join(g, 'group.json'));
    } catch {
      throw new GroupNotFoundError(group);
    }
    const dir = path.join(g, sub);
    await fs.mkdir(dir, { recursive: true });
    return dir;
  }

  async addKdm(group: string, record: KdmRecord, xml: Buffer): Promise<void> {
    await this.ensureDir(group, 'kdms');
    const base = this.kdmBase(group, record.messageId);
    // The .json is written first and decides who won; the .xml follows. A reader lists by .json and
    // treats a record without its .xml as not yet there.
    try {
      await writeFileAtomic(`${base}.json`, JSON.stringify(record, null, 2) + '\n', { mode: 0o644, exclusive: true });
    } catch (err) {
      if (errno(err) === 'EEXIST') throw new KdmExistsError(group, record.messageId);
      throw err;
    }
    try {
      await writeFileAtomic(`${base}.xml`, xml, { mode: 0o644 });
    } catch (err) {
      await fs.rm(`${base}.json`, { force: true });
      throw err;
    }
  }

  async listKdms(group: string): Promise<KdmRecord[]> {
    let names: string[];
    try {
      names = await fs.readdir(path.join(this.groupDir(group), 'kdms'));
    } catch (err) {
      if (errno(err) === 'ENOENT') return [];
      throw err;
    }
    const out: KdmRecord[] = [];
    for (const n of names.sort()) {
      const id = n.endsWith('.json') ? n.slice(0, -5) : '';
      if (!MESSAGE_ID.test(id) || !names.includes(`${id}.xml`)) continue;
      const r = await this.readKdmRecord(group, id);
      if (r) out.push(r);
    }
    return out;
  }

  async readKdm(group: string, messageId: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(`${this.kdmBase(group, messageId)}.xml`);
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async readKdmRecord(group: string, messageId: string): Promise<KdmRecord | undefined> {
    try {
      return JSON.parse(await fs.readFile(`${this.kdmBase(group, messageId)}.json`, 'utf8')) as KdmRecord;
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async writeKdmRecord(group: string, record: KdmRecord): Promise<void> {
    await writeFileAtomic(`${this.kdmBase(group, record.messageId)}.json`, JSON.stringify(record, null, 2) + '\n', { mode: 0o644 });
  }

  async removeKdm(group: string, messageId: string): Promise<boolean> {
    const base = this.kdmBase(group, messageId);
    const had = await fs.rm(`${base}.json`).then(() => true, (err: unknown) => {
      if (errno(err) === 'ENOENT') return false;
      throw err;
    });
    await fs.rm(`${base}.xml`, { force: true });
    return had;
  }

  async readPeerCertificates(group: string, peer: string): Promise<string[]> {
    const rec = await this.readPeer(group, peer);
    return Array.isArray(rec?.certificates) ? (rec.certificates as string[]) : [];
  }

  async writePeerCertificates(group: string, peer: string, pems: string[]): Promise<void> {
    await this.ensureDir(group, 'peers');
    const rec = (await this.readPeer(group, peer)) ?? { peer };
    rec.certificates = pems;
    await writeFileAtomic(this.peerFile(group, peer), JSON.stringify(rec, null, 2) + '\n', { mode: 0o644 });
  }

  async listPeerCertificates(group: string): Promise<{ peer: string; certificates: string[] }[]> {
    let names: string[];
    try {
      names = await fs.readdir(path.join(this.groupDir(group), 'peers'));
    } catch (err) {
      if (errno(err) === 'ENOENT') return [];
      throw err;
    }
    const out: { peer: string; certificates: string[] }[] = [];
    for (const n of names.sort()) {
      const peer = n.endsWith('.json') ? n.slice(0, -5) : '';
      if (!isPeerId(peer)) continue;
      const certificates = await this.readPeerCertificates(group, peer);
      if (certificates.length > 0) out.push({ peer, certificates });
    }
    return out;
  }

  private async readPeer(group: string, peer: string): Promise<Record<string, unknown> | undefined> {
    try {
      return JSON.parse(await fs.readFile(this.peerFile(group, peer), 'utf8')) as Record<string, unknown>;
    } catch (err) {
      if (errno(err) === 'ENOENT') return undefined;
      throw err;
    }
  }
}
