// Where the server keeps published firmware bundles, behind one interface so the directory
// backend (DATA/firmware/<version>/) and the S3 backend (PREFIX/firmware/<version>/) are
// interchangeable and replicas on one S3 store serve the same bundles.
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import semver from 'semver';
import { bundleFileName } from '../firmware/bundle.js';
import type { FirmwareInfo } from '../protocol/index.js';

export interface FirmwareStore {
  /** published versions, newest first */
  versions(): Promise<string[]>;
  info(version: string): Promise<FirmwareInfo | undefined>;
  signature(version: string): Promise<string | undefined>;
  /** the bundle's bytes as a stream; undefined when the version is not published */
  openBundle(version: string): Promise<Readable | undefined>;
  /** Publishes bundle, signature and info whole or not at all; false when the version is taken. */
  add(info: FirmwareInfo, bundle: Buffer, signature: string): Promise<boolean>;
}

const INFO_FILE = 'info.json';

/** Only exact semver strings name a version: nothing else reaches a path or a key. */
export function isFirmwareVersion(v: string): boolean {
  return semver.valid(v) === v;
}

export function newestFirst(versions: string[]): string[] {
  return versions.filter(isFirmwareVersion).sort(semver.rcompare);
}

/** A bundle upload in progress in DATA/firmware (a crash leaves it; the start-up sweep removes it). */
export const UPLOAD_PREFIX = '.upload-';

export class DirFirmwareStore implements FirmwareStore {
  private readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'firmware');
  }

  async versions(): Promise<string[]> {
    return newestFirst(await fs.readdir(this.root).catch(() => [] as string[]));
  }

  async info(version: string): Promise<FirmwareInfo | undefined> {
    if (!isFirmwareVersion(version)) return undefined;
    try {
      return JSON.parse(await fs.readFile(path.join(this.root, version, INFO_FILE), 'utf8')) as FirmwareInfo;
    } catch {
      return undefined;
    }
  }

  async signature(version: string): Promise<string | undefined> {
    if (!(await this.info(version))) return undefined;
    return (await fs.readFile(path.join(this.root, version, bundleFileName(version) + '.sig'), 'utf8')).trim();
  }

  async openBundle(version: string): Promise<Readable | undefined> {
    if (!(await this.info(version))) return undefined;
    return createReadStream(path.join(this.root, version, bundleFileName(version)));
  }

  async add(info: FirmwareInfo, bundle: Buffer, signature: string): Promise<boolean> {
    if (!isFirmwareVersion(info.version)) throw new Error(`'${info.version}' is not a firmware version`);
    await fs.mkdir(this.root, { recursive: true });
    const tmp = await fs.mkdtemp(path.join(this.root, UPLOAD_PREFIX));
    try {
      await fs.writeFile(path.join(tmp, bundleFileName(info.version)), bundle);
      await fs.writeFile(path.join(tmp, bundleFileName(info.version) + '.sig'), signature + '\n');
      await fs.writeFile(path.join(tmp, INFO_FILE), JSON.stringify(info, null, 2) + '\n');
      // The version directory appears whole by one rename; a racing upload of the same version loses.
      try {
        await fs.rename(tmp, path.join(this.root, info.version));
      } catch {
        return false;
      }
      return true;
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }
}
