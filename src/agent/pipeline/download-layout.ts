// Where a DCP's download lives: downloadDir/<infoHash>/<name>, one folder per info hash, so a
// re-release of a name never downloads into the folder the ingest copy's hard links point into.
// Agents from before re-releases kept downloadDir/<name>; those folders are moved once, by rename
// (same filesystem: no byte copied, the ingest links and libtorrent's resume data stay valid).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { fsyncDir } from '../../util/durable-write.js';

/** The folder libtorrent saves a torrent into (its top folder, the DCP's name, goes below). */
export function savePathOf(downloadDir: string, infoHash: string): string {
  return path.join(downloadDir, infoHash);
}

/** The DCP's own folder in the download area. */
export function downloadFolder(downloadDir: string, e: { infoHash: string; name: string }): string {
  return path.join(savePathOf(downloadDir, e.infoHash), e.name);
}

const exists = (p: string) => fs.lstat(p).then(() => true, () => false);

/** Moves downloadDir/<name> of each entry into downloadDir/<infoHash>/<name>; returns what moved.
 * Run before any torrent is added to the engine. Idempotent: a moved entry is left alone, and a
 * crash between the mkdir and the rename leaves an empty folder the next run fills. */
export async function migrateDownloadLayout(downloadDir: string, entries: { infoHash: string; name: string; removedAt?: string }[], log: Logger): Promise<string[]> {
  const hashes = new Set(entries.map((e) => e.infoHash));
  const moved: string[] = [];
  for (const e of entries) {
    // A name that is itself one of our info hashes is a per-hash folder already, not an old one.
    if (e.removedAt || hashes.has(e.name)) continue;
    const old = path.join(downloadDir, e.name);
    const next = downloadFolder(downloadDir, e);
    if (!(await exists(old)) || (await exists(next))) continue;
    await fs.mkdir(savePathOf(downloadDir, e.infoHash), { recursive: true });
    await fs.rename(old, next);
    await fsyncDir(savePathOf(downloadDir, e.infoHash));
    await fsyncDir(downloadDir);
    log.info({ name: e.name, infoHash: e.infoHash, from: old, to: next }, `moved the download of ${e.name} into its info-hash folder`);
    moved.push(e.name);
  }
  return moved;
}
