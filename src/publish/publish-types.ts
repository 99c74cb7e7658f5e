// What publishing takes and gives (shared by the publisher and its re-publish check).
import os from 'node:os';
import type { Logger } from 'pino';

export interface PublishOptions {
  dcpDir: string;
  server: string;
  group: string;
  /** the group's owner password (the distributor's) */
  ownerPassword: string;
  /** with create: the member password the cinemas will use */
  password?: string;
  create?: boolean;
  /** with create: the server's admin token (not needed on an --open-groups server) */
  adminToken?: string;
  /** peer id the publisher reports and announces under */
  peerId?: string;
  /** keeps the torrents, the content path and (once seeding) resume data here, for `cineswarm seed` */
  dataDir?: string;
  /** a DCP of this name already published from dataDir with the same info hash is not an error (publish --seed) */
  seedExisting?: boolean;
  pieceSize?: number;
  /** bytes read of all: the one read that checks the DCP and hashes its pieces */
  onVerifyProgress?: (done: number, total: number) => void;
  /** called once with the total when the pieces are hashed (they come from the same read) */
  onHashProgress?: (done: number, total: number) => void;
  log?: Logger;
}

export interface Published {
  name: string;
  infoHash: string;
  size: number;
  torrent: Buffer;
  /** the group already listed this very DCP (published earlier from dataDir); nothing was uploaded */
  alreadyPublished?: boolean;
}

/** The id a publisher reports and announces under unless told otherwise. */
export function defaultPublisherId(): string {
  return `publisher-${os.hostname()}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
}

export function peerIdOf(o: PublishOptions): string {
  return o.peerId ?? defaultPublisherId();
}
