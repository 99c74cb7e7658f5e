// Per-asset checks taken while a DCP downloads, one JSON file per info hash under
// dataDir/asset-checks: a restart (even after kill -9) keeps what was already hashed, and the
// final verification reads none of the files recorded here as passed.
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../util/durable-write.js';

export interface AssetCheckResult {
  /** the file's size and modification time when it was hashed: any change makes the result void */
  size: number;
  mtimeMs: number;
  sha1Base64: string;
  ok: boolean;
  at: string;
}

interface FileData {
  version: 1;
  files: Record<string, AssetCheckResult>;
}

const HEX40 = /^[0-9a-f]{40}$/;

export class AssetCheckStore {
  private readonly cache = new Map<string, FileData>();
  /** writes of one info hash are chained so they cannot reorder on disk */
  private readonly chains = new Map<string, Promise<void>>();

  private constructor(readonly dir: string) {}

  static async open(dataDir: string): Promise<AssetCheckStore> {
    const dir = path.join(dataDir, 'asset-checks');
    await fs.mkdir(dir, { recursive: true });
    return new AssetCheckStore(dir);
  }

  private file(infoHash: string): string {
    if (!HEX40.test(infoHash)) throw new Error(`not an info hash: ${infoHash}`);
    return path.join(this.dir, `${infoHash}.json`);
  }

  /** The results of one torrent, keyed by path relative to the DCP folder. */
  async get(infoHash: string): Promise<Record<string, AssetCheckResult>> {
    let d = this.cache.get(infoHash);
    if (!d) {
      try {
        const parsed = JSON.parse(await fs.readFile(this.file(infoHash), 'utf8')) as FileData;
        d = parsed.version === 1 && parsed.files && typeof parsed.files === 'object' ? parsed : { version: 1, files: {} };
      } catch {
        // missing or damaged: nothing is trusted, everything is hashed again
        d = { version: 1, files: {} };
      }
      this.cache.set(infoHash, d);
    }
    return d.files;
  }

  /** Takes a result: readers see it once this resolves; `written` says when it is on disk. */
  async record(infoHash: string, rel: string, r: AssetCheckResult): Promise<{ written: Promise<void> }> {
    const files = await this.get(infoHash);
    files[rel] = r;
    const written = this.write(infoHash);
    written.catch(() => undefined);
    return { written };
  }

  /** Resolves when every write asked for so far has ended (the agent's stop). */
  async settled(): Promise<void> {
    await Promise.all(this.chains.values());
  }

  /** Forgets every result of a torrent (a recheck may rewrite pieces, a person asked to read all). */
  async clear(infoHash: string): Promise<void> {
    this.cache.set(infoHash, { version: 1, files: {} });
    const prev = this.chains.get(infoHash) ?? Promise.resolve();
    const next = prev.then(() => fs.rm(this.file(infoHash), { force: true }));
    this.chains.set(infoHash, next.catch(() => undefined));
    await next;
  }

  private async write(infoHash: string): Promise<void> {
    const prev = this.chains.get(infoHash) ?? Promise.resolve();
    const next = prev.then(() => writeFileAtomic(this.file(infoHash), JSON.stringify(this.cache.get(infoHash))));
    this.chains.set(infoHash, next.catch(() => undefined));
    await next;
  }
}
