// Free-space check before a download starts: the torrent must fit and leave minFreeBytes spare.

/** Bytes still missing before `needed` bytes can be written while keeping `minFree` spare (0 = fits). */
export function spaceShortfall(free: number, needed: number, minFree: number): number {
  return Math.max(0, needed + minFree - free);
}
