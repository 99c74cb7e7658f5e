// Runs of whole pieces while a download meets no other downloader, single pieces once it does
// (docs/engine.md, "Piece runs"). libtorrent's whole_pieces_threshold is a session setting, read
// at every pick: with its 20 s a peer fast enough is asked for up to 8 MiB of contiguous pieces at
// once, which a cinema downloading alone fetches fastest, and which in a swarm fetching from one
// capped seed lets each cinema claim stretches that the others cannot see. A session follows its
// torrents: single pieces from the start and whenever a download is in a swarm, runs once every
// download has been alone for a second (cinemas that start together find each other within it).
import type { SessionSettings, TorrentStatus } from './types.js';

/** libtorrent's default: runs of whole pieces for a peer that sends one within 20 s */
export const RUNS_ALONE = 20;
/** one piece per pick, rarest first */
export const RUNS_IN_SWARM = 0;
/** how long every download must have been alone before runs start */
export const ALONE_AFTER_MS = 1000;
const FOLLOW_MS = 250;

type Seen = Pick<TorrentStatus, 'isFinished' | 'paused' | 'numPeers' | 'numSeeds'>;

/** A torrent still downloading that is connected to another downloader besides its seeds or seed. */
export function meetsDownloaders(st: Seen): boolean {
  return !st.isFinished && !st.paused && st.numPeers >= 2 && st.numSeeds < st.numPeers;
}

/**
 * The threshold for these torrents, `aloneMs` after the last moment one of them was in a swarm
 * (or the session started): single pieces while any is, runs only after ALONE_AFTER_MS alone.
 */
export function wholePiecesThreshold(all: readonly Seen[], aloneMs: number): number {
  if (all.some(meetsDownloaders)) return RUNS_IN_SWARM;
  return aloneMs >= ALONE_AFTER_MS ? RUNS_ALONE : RUNS_IN_SWARM;
}

/** What this needs of a Session (session.ts imports the settings, which import this). */
interface Followed {
  statusAll(): Seen[];
  applySettings(settings: SessionSettings): void;
}

/**
 * Sets the session's whole_pieces_threshold from its torrents every 250 ms until the session
 * closes (or stop is called). The session starts with RUNS_IN_SWARM (agentSessionSettings).
 */
export function followPieceRuns(session: Followed, now: () => number = () => performance.now()): { stop(): void } {
  let current = RUNS_IN_SWARM;
  let swarmAt = now();
  const timer = setInterval(() => {
    try {
      const all = session.statusAll();
      if (all.some(meetsDownloaders)) swarmAt = now();
      const want = wholePiecesThreshold(all, now() - swarmAt);
      if (want === current) return;
      session.applySettings({ raw: { whole_pieces_threshold: want } });
      current = want;
    } catch {
      clearInterval(timer); // the session is closed
    }
  }, FOLLOW_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
