// Hands a verified DCP to the ingest folder, whole or not at all: every file is hard-linked into
// a hidden temp folder on the same filesystem, which is then renamed to its final name. The
// engine keeps seeding from downloadDir; the links cost no space and no copy. A re-release takes
// the name over in one step (swapInIngest): the name holds the old version or the new one, whole.
// `fromDir` below is the folder holding the DCP's own folder (downloadDir/<infoHash>).
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { exchangePaths } from '../../engine/index.js';
import { fsyncDir } from '../../util/durable-write.js';

export class IngestError extends Error {
  constructor(
    readonly code: 'INGEST_EXISTS' | 'INGEST_FAILED' | 'BAD_NAME',
    message: string,
  ) {
    super(message);
    this.name = 'IngestError';
  }
}

/** Names that could escape ingestDir or hide from a listing are refused. */
function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\\') || name.startsWith('.') || name.includes('\0')) {
    throw new IngestError('BAD_NAME', `refusing to ingest a DCP named "${name}"`);
  }
}

async function linkTree(src: string, dst: string): Promise<void> {
  await fs.mkdir(dst, { recursive: true });
  for (const ent of await fs.readdir(src, { withFileTypes: true })) {
    const from = path.join(src, ent.name);
    const to = path.join(dst, ent.name);
    if (ent.isDirectory()) await linkTree(from, to);
    else if (ent.isFile()) await fs.link(from, to);
    // symlinks and specials in a downloaded tree are not part of a DCP: leave them out.
  }
}

/** Places fromDir/<name> as ingestDir/<name>; resolves with the final path. */
export async function placeInIngest(downloadDir: string, ingestDir: string, name: string): Promise<string> {
  checkName(name);
  await fs.mkdir(ingestDir, { recursive: true });
  const final = path.join(ingestDir, name);
  const exists = await fs.stat(final).then(
    () => true,
    () => false,
  );
  // Something already sits there (put by a person, or an earlier run): never overwrite it.
  if (exists) throw new IngestError('INGEST_EXISTS', `${final} already exists; it was left untouched`);
  const partial = path.join(ingestDir, `.${name}.partial-${randomBytes(4).toString('hex')}`);
  try {
    await linkTree(path.join(downloadDir, name), partial);
    await fsyncDir(partial);
    await fs.rename(partial, final);
    await fsyncDir(ingestDir);
  } catch (err) {
    await fs.rm(partial, { recursive: true, force: true });
    if (err instanceof IngestError) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EXDEV' ? 'downloadDir and ingestDir must be on the same filesystem' : e.message;
    throw new IngestError('INGEST_FAILED', `could not place ${name} in ${ingestDir}: ${why}`);
  }
  return final;
}

/** Swaps ingestDir/<name> (an older version) for hard links of fromDir/<name> in one rename
 * exchange, then deletes the older links (their bytes stay in the old version's download folder).
 * A crash before the exchange leaves the old version in place; after it, the new one, and the
 * hidden folder with the old links goes with the next start's cleanPartials. */
export async function swapInIngest(fromDir: string, ingestDir: string, name: string): Promise<string> {
  checkName(name);
  const final = path.join(ingestDir, name);
  const partial = path.join(ingestDir, `.${name}.partial-${randomBytes(4).toString('hex')}`);
  try {
    await linkTree(path.join(fromDir, name), partial);
    await fsyncDir(partial);
    exchangePaths(partial, final);
    await fsyncDir(ingestDir);
  } catch (err) {
    await fs.rm(partial, { recursive: true, force: true });
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EXDEV' ? 'downloadDir and ingestDir must be on the same filesystem' : e.message;
    throw new IngestError('INGEST_FAILED', `could not swap ${name} in ${ingestDir} to the new version: ${why}`);
  }
  await fs.rm(partial, { recursive: true, force: true });
  return final;
}

/** Removes leftovers of an ingest interrupted by a crash (hidden .partial folders). */
export async function cleanPartials(ingestDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(ingestDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    if (n.startsWith('.') && n.includes('.partial-')) {
      await fs.rm(path.join(ingestDir, n), { recursive: true, force: true });
      removed.push(n);
    }
  }
  return removed;
}

/** True when ingestDir/<name> already holds exactly our files as hard links (an ingest done
 * just before a crash, before the history recorded it). */
export async function alreadyPlaced(downloadDir: string, ingestDir: string, name: string): Promise<boolean> {
  const walk = async (rel: string): Promise<boolean> => {
    const src = path.join(downloadDir, name, rel);
    for (const ent of await fs.readdir(src, { withFileTypes: true })) {
      const r = path.join(rel, ent.name);
      if (ent.isDirectory()) {
        if (!(await walk(r))) return false;
      } else if (ent.isFile()) {
        const [a, b] = await Promise.all([fs.stat(path.join(downloadDir, name, r)), fs.stat(path.join(ingestDir, name, r)).catch(() => null)]);
        if (!b || a.ino !== b.ino || a.dev !== b.dev) return false;
      }
    }
    return true;
  };
  try {
    await fs.access(path.join(ingestDir, name));
    return await walk('');
  } catch {
    return false;
  }
}
