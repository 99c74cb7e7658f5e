// What every route plugin of the server shares: storage, caches, tracker state and settings.
import type { Logger } from 'pino';
import type { GroupAuthenticator } from './auth.js';
import type { TorrentCatalog } from './catalog.js';
import type { CleanupResult } from './cleanup.js';
import type { GroupStore } from './group-store.js';
import type { KeyedLock } from './keyed-lock.js';
import type { ServerMetrics } from './metrics.js';
import type { SharedState } from './shared-state.js';
import type { SwarmState } from './swarms.js';
import type { PeerKeys } from './peer-keys.js';
import type { TorrentLimits } from './torrent-limits.js';

export interface ServerContext {
  store: GroupStore;
  auth: GroupAuthenticator;
  peerKeys: PeerKeys;
  /** Bearer token that POST /api/groups needs, unless openGroups */
  adminToken: string;
  /** anyone may create groups (demo and test rigs) */
  openGroups: boolean;
  /** a peer whose progress has not moved for this long is flagged stalled */
  stalledAfterMinutes: number;
  /** a rostered or reporting peer without a report for this long is flagged silent */
  silentAfterMinutes: number;
  /** the server's clock: report times, tombstones and status flags read it */
  now: () => Date;
  catalog: TorrentCatalog;
  metrics: ServerMetrics;
  swarms: SwarmState;
  /** change notices and the cleanup lock, across replicas when Redis is configured */
  shared: SharedState;
  /** HMAC key of the tracker passkeys */
  secret: string;
  /** base of announce URLs; from the request's Host header when unset */
  publicUrl?: string;
  announceIntervalSeconds: number;
  /** the longest a torrent-list long poll is held (?wait=S is cut to this) */
  maxWaitSeconds: number;
  retentionDays: number;
  torrentLimits: TorrentLimits;
  /** `<group>/<name>` of torrents being uploaded right now; cleanup leaves them alone */
  inFlight: Set<string>;
  /** per `<group>/<peer>`: report files are read-modify-write */
  reportLocks: KeyedLock;
  logger: Logger;
  /** Runs one cleanup pass now (the schedule calls the same). */
  runCleanup(now?: Date): Promise<CleanupResult>;
}

export function inFlightKey(group: string, name: string): string {
  return `${group}/${name}`;
}
