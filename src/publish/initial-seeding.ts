// How the initial seeder hands out pieces. With BEP 16 super seeding a seed offers each peer one
// piece at a time and offers the next only once that piece shows up elsewhere, so its capped upload
// sends each piece about once. In libtorrent 2.0.8 the first two offers are made while the peer's
// handshake is still being read and are dropped (peer_connection::superseed_piece returns early
// in_handshake()); the next offer comes from peer_connection::second_tick only once the peer has
// been uninterested for 10 s. Turning the mode off and on again sends nothing to a peer holding no
// offer, and turning it on makes no offers, so no toggle of the public API brings them forward
// (docs/engine.md): the mode is off by default, on for measurements.
import type { Torrent } from '../engine/index.js';

export type SuperSeedingMode = 'off' | 'on';

export const SUPER_SEEDING_MODES: readonly SuperSeedingMode[] = ['off', 'on'];

/** Applies the mode to a seeding torrent; returns a function that undoes nothing (kept for callers). */
export function applySuperSeeding(torrent: Torrent, mode: SuperSeedingMode): () => void {
  if (mode === 'on') torrent.setSuperSeeding(true);
  return () => undefined;
}

/**
 * What `publish --seed` and `cineswarm seed` use. Off: in bench/swarm-eff.bench.ts (N=8, capped
 * uploads) super seeding cut the copies sent from 1.2-1.3 to 1.02-1.04 but delayed the seeder's first
 * byte by a further 6-12 s (the 10 s above), so every cinema finished later.
 */
export const DEFAULT_SUPER_SEEDING: SuperSeedingMode = 'off';
