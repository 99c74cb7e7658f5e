// Public types of the engine (see the engine API contract): settings, options, status and alerts.
/** libtorrent 2.0's disk backends: memory-mapped files (its default) or pread/pwrite through one thread. */
export type StorageKind = 'mmap' | 'posix';

export interface SessionSettings {
  listenInterfaces?: string;
  /** disk backend, fixed when the session starts (default 'mmap') */
  storage?: StorageKind;
  downloadRateLimit?: number;
  uploadRateLimit?: number;
  enableDht?: boolean;
  enableLsd?: boolean;
  enableUpnp?: boolean;
  enableNatpmp?: boolean;
  enableUtp?: boolean;
  allowMultipleConnectionsPerIp?: boolean;
  userAgent?: string;
  peerFingerprint?: string;
  /** Apply the session rate limits to LAN and loopback peers too (libtorrent exempts them; default false). */
  rateLimitLocalPeers?: boolean;
  raw?: Record<string, string | number | boolean>;
}

export interface AddTorrentOptions {
  torrent: Buffer | string;
  savePath: string;
  resumeData?: Buffer;
  paused?: boolean;
  seedMode?: boolean;
  /**
   * With seedMode: every piece is known good (the caller has just hashed these files into this
   * torrent), so none is hashed again when first asked for. Otherwise seed mode checks each piece once.
   */
  piecesVerified?: boolean;
  /** BEP 16 super seeding from the first peer on (a seed only; src/publish/initial-seeding.ts) */
  superSeeding?: boolean;
  downloadLimit?: number;
  uploadLimit?: number;
}

export type TorrentState =
  | 'checking_files'
  | 'downloading_metadata'
  | 'downloading'
  | 'finished'
  | 'seeding'
  | 'checking_resume_data'
  | 'unknown';

export interface TorrentStatus {
  infoHash: string;
  name: string;
  savePath: string;
  state: TorrentState;
  paused: boolean;
  progress: number;
  totalWanted: number;
  totalWantedDone: number;
  totalDownload: number;
  totalPayloadDownload: number;
  totalPayloadUpload: number;
  allTimeDownload: number;
  allTimeUpload: number;
  downloadRate: number;
  uploadRate: number;
  numPeers: number;
  numSeeds: number;
  numPieces: number;
  isSeeding: boolean;
  isFinished: boolean;
  /** libtorrent stopped downloading after a full disk (it only uploads); Torrent.clearError leaves it */
  uploadMode: boolean;
  /** BEP 16 super seeding is on (see AddTorrentOptions.superSeeding) */
  superSeeding: boolean;
  errorCode: string | null;
  error: string | null;
}

/** A connected peer of a torrent (lt::peer_info). */
export interface PeerInfo {
  /** host:port */
  peer: string;
  client: string;
  /** pieces this peer had a part in that failed their hash check */
  hashFailures: number;
  seed: boolean;
  progress: number;
  downloadRate: number;
  totalDownload: number;
}

export interface TorrentInfo {
  infoHash: string;
  name: string;
  totalSize: number;
  pieceLength: number;
  numPieces: number;
  private: boolean;
  trackers: string[];
  /** Paths relative to the save path (multi-file torrents start with the torrent's name). */
  files: { path: string; size: number }[];
}

export interface EngineAlert {
  type: string;
  infoHash?: string;
  message: string;
  errorCode?: string;
  error?: string;
  pieceIndex?: number;
  resumeData?: Buffer;
  state?: TorrentState;
  previousState?: TorrentState;
  peer?: string;
  url?: string;
  numPeers?: number;
  /** file_error / torrent_error: the file concerned. */
  file?: string;
  /** file_completed: index of the file in the torrent. */
  fileIndex?: number;
  /** listen_succeeded / listen_failed. */
  port?: number;
}

export interface FileHash {
  path: string;
  size: number;
  sha1Hex: string;
  sha1Base64: string;
}

export interface CreateTorrentOptions {
  pieceSize?: number;
  private?: boolean;
  trackers?: string[];
  source?: string;
  comment?: string;
  creator?: string;
  onProgress?: (piecesDone: number, piecesTotal: number) => void;
}

export interface HashFilesOptions {
  concurrency?: number;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}
