// Size and free space of the filesystem holding a directory, the one reading every part shares.
import fs from 'node:fs/promises';

export interface DiskUsage {
  path: string;
  total: number;
  free: number;
}

export async function diskUsage(dir: string): Promise<DiskUsage> {
  const s = await fs.statfs(dir);
  // bavail, not bfree: blocks reserved for root are not ours to fill.
  return { path: dir, total: s.blocks * s.bsize, free: s.bavail * s.bsize };
}
