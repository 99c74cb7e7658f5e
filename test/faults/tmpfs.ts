// Small tmpfs mounts made and removed by a fault test (the suite runs as root), and a filler
// that takes every free byte of one, to fill a disk under a running download.
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';

/** A fresh tmpfs of `sizeMiB` mounted on a temp dir; unmounted when the test ends (after later teardowns). */
export async function tmpfsMount(t: ExecutionContext, sizeMiB: number): Promise<string> {
  const dir = await tempDir(t, 'cineswarm-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', dir]);
  // teardowns run last-registered first: registered now, this runs after the agent using it stopped
  t.teardown(() => {
    execFileSync('umount', ['-l', dir]);
  });
  return dir;
}

/** Writes `file` until the file system is full; resolves with the bytes written. */
export async function fillDisk(file: string): Promise<number> {
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  const fh = await fs.open(file, 'w');
  let written = 0;
  try {
    for (;;) {
      try {
        const { bytesWritten } = await fh.write(chunk);
        written += bytesWritten;
        if (bytesWritten < chunk.length) break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
    }
  } finally {
    await fh.close();
  }
  return written;
}

export const inside = (mount: string, ...p: string[]): string => path.join(mount, ...p);
