// What the server keeps per group, behind one interface free of file paths, so the directory
// backend and a later object-storage backend are interchangeable.

export interface GroupRecord {
  id: string;
  /** scrypt hash as written by passwords.ts; never the password itself */
  passwordHash: string;
  createdAt: string;
}

export interface StoredTorrent {
  name: string;
  /** when the torrent was added to the group; cleanup compares it with the retention */
  createdAt: Date;
}

export const REPORT_STATES = ['queued', 'checking', 'downloading', 'verifying', 'ready', 'seeding', 'failed', 'paused'] as const;
export type ReportState = (typeof REPORT_STATES)[number];

export interface ReportEntry {
  state: ReportState;
  progress: number;
  message?: string;
  updatedAt: string;
}

/** Everything one peer reported in one group, keyed by torrent info hash (hex). */
export interface PeerReport {
  peer: string;
  torrents: Record<string, ReportEntry>;
}

export interface GroupStore {
  /** Creates the group whole or not at all; GroupExistsError if the id is taken. */
  createGroup(group: GroupRecord): Promise<void>;
  getGroup(id: string): Promise<GroupRecord | undefined>;
  listGroups(): Promise<string[]>;
  /** Adds a torrent whole or not at all; TorrentExistsError if the name is taken. */
  addTorrent(group: string, name: string, bytes: Buffer, createdAt?: Date): Promise<void>;
  listTorrents(group: string): Promise<StoredTorrent[]>;
  readTorrent(group: string, name: string): Promise<Buffer | undefined>;
  /** false when there was nothing to remove */
  removeTorrent(group: string, name: string): Promise<boolean>;
  writeReport(group: string, report: PeerReport): Promise<void>;
  readReport(group: string, peer: string): Promise<PeerReport | undefined>;
  listReports(group: string): Promise<PeerReport[]>;
  /** The passkey HMAC secret, made once and then shared by every server using this store. */
  loadOrCreateSecret(): Promise<string>;
  /** Releases connections (the S3 client); the directory store holds none. */
  close?(): void;
}
