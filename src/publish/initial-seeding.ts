// How the initial seeder hands out pieces. With BEP 16 super seeding a seed hides its bitfield and
// offers each peer one or two pieces at a time, the least available ones no other peer is being
// offered, and the next one when the peer announces it: its capped upload sends each piece about
// once and the cinemas trade the rest among themselves. libtorrent 2.0.8 drops a peer's first
// offers and waits 10 s before the next; the engine's plugin (native/super_seeding.cc) makes them
// at once. The mode must be chosen when the torrent is added, before any peer connects (a peer
// told of every piece would have its requests refused once the mode starts), so it is an add
// option, and turned back on later only while no connected peer is downloading.
//
// Figures (docs/benchmarks.md, swarm-eff n8-cs-seeder, 8 cinemas each capped like the seeder):
// without super seeding the seeder sent 1.15 copies at efficiency 0.64; with it 1.01 copies and
// efficiency 0.79 / 0.87 / 0.87 (three runs, load 2-8). A cinema downloading alone gains nothing from it and is slowed
// (each offer waits for the announcement of the previous piece: 61-78 MB/s against 160-277 MB/s
// on loopback), so the mode ends once a single peer has been downloading alone for LONE_PEER_MS,
// and comes back when nobody is downloading.
import type { Torrent } from '../engine/index.js';

export type SuperSeedingMode = 'off' | 'on';

export const SUPER_SEEDING_MODES: readonly SuperSeedingMode[] = ['off', 'on'];

/** What `publish --seed` and `cineswarm seed` use. */
export const DEFAULT_SUPER_SEEDING: SuperSeedingMode = 'on';

/** How long one peer must be the only one downloading before super seeding ends. */
export const LONE_PEER_MS = 1500;
const CHECK_MS = 250;

/** The addTorrent option for the mode. */
export function superSeedingOption(mode: SuperSeedingMode): { superSeeding: boolean } {
  return { superSeeding: mode === 'on' };
}

/**
 * Watches a torrent added with superSeedingOption('on'): super seeding ends (every peer is then told
 * of every piece) once exactly one connected peer has been downloading, alone, for LONE_PEER_MS, and
 * starts again once no connected peer is downloading, for whoever comes next. Each later cinema that
 * downloads alone therefore costs the same short slow start, and a group's cinemas starting together
 * are super seeded. Returns a function that stops watching; `onChange` hears each switch.
 */
export function watchSuperSeeding(torrent: Torrent, mode: SuperSeedingMode, onChange?: (superSeeding: boolean) => void): () => void {
  if (mode !== 'on') return () => undefined;
  let on = true;
  let aloneSince: number | undefined;
  const timer = setInterval(() => {
    let downloading: number;
    try {
      downloading = torrent.peers().filter((p) => !p.seed).length;
    } catch {
      clearInterval(timer); // the torrent was removed
      return;
    }
    const now = performance.now();
    aloneSince = downloading === 1 ? (aloneSince ?? now) : undefined;
    // Back on only with nobody downloading: a peer already told of every piece would have its
    // requests refused.
    const want = on ? !(aloneSince !== undefined && now - aloneSince >= LONE_PEER_MS) : downloading === 0;
    if (want === on) return;
    try {
      torrent.setSuperSeeding(want);
    } catch {
      clearInterval(timer);
      return;
    }
    on = want;
    aloneSince = undefined;
    onChange?.(on);
  }, CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
