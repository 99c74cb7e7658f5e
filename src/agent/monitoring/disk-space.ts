// Free-space check before a download starts: the torrent must fit and leave minFreeBytes spare.
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

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Bytes still missing before `needed` bytes can be written while keeping `minFree` spare (0 = fits). */
export function spaceShortfall(free: number, needed: number, minFree: number): number {
  return Math.max(0, needed + minFree - free);
}
