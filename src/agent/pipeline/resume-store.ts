// libtorrent resume data, one file per info hash under dataDir/resume, written atomically so a
// restart after a crash or power cut continues without a full recheck.
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../util/durable-write.js';

const HEX40 = /^[0-9a-f]{40}$/;

export class ResumeStore {
  private constructor(readonly dir: string) {}

  static async open(dataDir: string): Promise<ResumeStore> {
    const dir = path.join(dataDir, 'resume');
    await fs.mkdir(dir, { recursive: true });
    return new ResumeStore(dir);
  }

  private file(infoHash: string): string {
    // The hash comes from our own engine, but a path is built from it: keep it to 40 hex digits.
    if (!HEX40.test(infoHash)) throw new Error(`not an info hash: ${infoHash}`);
    return path.join(this.dir, `${infoHash}.resume`);
  }

  async save(infoHash: string, data: Buffer): Promise<void> {
    if (data.length === 0) return;
    await writeFileAtomic(this.file(infoHash), data);
  }

  async load(infoHash: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.file(infoHash));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The .torrent bytes are kept beside the resume data so a restart needs no server. */
  async saveTorrent(infoHash: string, bytes: Buffer): Promise<void> {
    await writeFileAtomic(this.file(infoHash).replace(/\.resume$/, '.torrent'), bytes);
  }

  async loadTorrent(infoHash: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.file(infoHash).replace(/\.resume$/, '.torrent'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Info hashes whose .torrent is stored (the ones a restart can add to the engine at once). */
  async storedTorrents(): Promise<string[]> {
    const names = await fs.readdir(this.dir);
    return names.filter((n) => n.endsWith('.torrent') && HEX40.test(n.slice(0, -8))).map((n) => n.slice(0, -8));
  }

  async remove(infoHash: string): Promise<void> {
    await fs.rm(this.file(infoHash), { force: true });
  }
}
