// Power-cut-safe file writes, the one copy: write a temp file beside the target, fsync it, move
// it into place (rename, or link when the target must not exist yet), then fsync the directory so
// the new name itself survives. A reader sees the old file or the new one, never half of one.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface DurableWriteOptions {
  /** permission bits of the file, set exactly (not through the umask); default 0o600 */
  mode?: number;
  /** fail with EEXIST instead of replacing an existing file (the first complete write wins) */
  exclusive?: boolean;
  /** modification time to give the file before it appears */
  mtime?: Date;
}

/** Temp names start with '.tmp-': hidden, and no group, peer or torrent name can look like one. */
export const TEMP_PREFIX = '.tmp-';

export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: DurableWriteOptions = {}): Promise<void> {
  const dir = path.dirname(file);
  const mode = opts.mode ?? 0o600;
  const tmp = path.join(dir, `${TEMP_PREFIX}${path.basename(file)}-${randomBytes(6).toString('hex')}`);
  const fh = await fs.open(tmp, 'wx', mode);
  try {
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.mtime) await fs.utimes(tmp, opts.mtime, opts.mtime);
    if (opts.exclusive) await fs.link(tmp, file);
    else await fs.rename(tmp, file);
  } finally {
    // after a rename there is nothing left to remove; after a link or a failure, the temp name goes
    await fs.rm(tmp, { force: true });
  }
  await fsyncDir(dir);
}

/** writeFileAtomic with `exclusive`, where a file already there is the answer, not an error (mode 0o600). */
export async function createOnce(file: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFileAtomic(file, data, { exclusive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Makes the directory's entries (new names, renames, removals) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const dh = await fs.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
