// How the initial seeder hands out pieces. With BEP 16 super seeding a seed offers each peer one
// piece at a time and offers the next only once that piece shows up elsewhere, so its capped upload
// sends each piece about once. libtorrent 2.0.8 loses the offers it makes while a peer's handshake is
// still running and repeats them only seconds later, so the mode is (re)armed after peers connect.
import type { Torrent } from '../engine/index.js';

export type SuperSeedingMode = 'off' | 'on' | 'after-connect';

export const SUPER_SEEDING_MODES: readonly SuperSeedingMode[] = ['off', 'on', 'after-connect'];

/** Settle time after a new connection before offers are made again (the handshake is over by then). */
const ARM_DELAY_MS = 300;

/** Applies the mode to a seeding torrent; returns a function that stops the watcher. */
export function applySuperSeeding(torrent: Torrent, mode: SuperSeedingMode): () => void {
  if (mode === 'off') return () => undefined;
  if (mode === 'on') {
    torrent.setSuperSeeding(true);
    return () => undefined;
  }
  let peers = 0;
  let pending: NodeJS.Timeout | undefined;
  const timer = setInterval(() => {
    let n: number;
    try {
      n = torrent.status().numPeers;
    } catch {
      return; // removed: the owner stops us
    }
    if (n > peers && !pending) {
      // Off and on again: libtorrent forgets its outstanding offers and makes fresh ones to every
      // peer, which now has its handshake done and takes them.
      pending = setTimeout(() => {
        pending = undefined;
        try {
          torrent.setSuperSeeding(false);
          torrent.setSuperSeeding(true);
        } catch {
          /* removed meanwhile */
        }
      }, ARM_DELAY_MS);
    }
    peers = n;
  }, 100);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (pending) clearTimeout(pending);
  };
}

/**
 * What `publish --seed` and `cineswarm seed` use. Off: in bench/swarm-eff.bench.ts (N=8, capped
 * uploads) super seeding cut the copies sent from 1.2-1.3 to 1.02-1.04 but delayed the seeder's first
 * byte by a further 6-12 s, so every cinema finished later; re-arming after connects did not help.
 */
export const DEFAULT_SUPER_SEEDING: SuperSeedingMode = 'off';
