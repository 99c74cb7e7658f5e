// What the server keeps per group, behind one interface free of file paths, so the directory
// backend and a later object-storage backend are interchangeable.
import type { ReportRole, ReportState, ReportVerify } from '../protocol/index.js';
import type { FirmwareStore } from './firmware-store.js';

export interface GroupRecord {
  id: string;
  /** scrypt hash (passwords.ts) of the member password, the one the cinemas share; never the password itself */
  passwordHash: string;
  /** scrypt hash of the owner (distributor) password; absent in groups made before owners
   * existed, whose one password then serves as both */
  ownerPasswordHash?: string;
  createdAt: string;
}

/** What the server knows of one peer of a group (DATA/groups/<id>/peers/<peer>.json). */
export interface PeerRecord {
  peer: string;
  /** sha256 (hex) of the peer key bound on first use; absent until then or after the owner reset it */
  keyHash?: string;
  keyBoundAt?: string;
  /** PEM blocks the KDM routes keep here (KdmStore); kept as they are by key changes */
  certificates?: string[];
}

/** One expected cinema of a group (the owner's roster; the wire type). */
export type { RosterEntry } from '../protocol/index.js';
import type { RosterEntry } from '../protocol/index.js';

/** A withdrawn or cleaned-up torrent: its info hash stays known, so reports about it are still taken. */
export interface Tombstone {
  name: string;
  infoHash: string;
  size: number;
  createdAt: string;
  retiredAt: string;
  reason: 'withdrawn' | 'cleaned-up';
}

export interface StoredTorrent {
  name: string;
  /** when the torrent was added to the group; cleanup compares it with the retention */
  createdAt: Date;
}


export interface ReportEntry {
  state: ReportState;
  progress: number;
  message?: string;
  downloadBps?: number;
  uploadBps?: number;
  etaSeconds?: number;
  verify?: ReportVerify;
  /** encrypted DCPs: the key state the peer reported */
  kdm?: { state: string; notValidAfter?: string };
  role?: ReportRole;
  decision?: string;
  updatedAt: string;
  /** when progress last changed; the stalled flag is judged by it */
  progressAt?: string;
}

/** Everything one peer reported in one group, keyed by torrent info hash (hex). */
export interface PeerReport {
  peer: string;
  torrents: Record<string, ReportEntry>;
}

export interface GroupStore {
  /** KDMs and peer certificates of the groups */
  readonly kdms: KdmStore;
  /** published firmware bundles (DATA/firmware/, or PREFIX/firmware/ on S3) */
  readonly firmware: FirmwareStore;
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
  /** Replaces group.json whole (password changes); GroupNotFoundError if the group is gone. */
  updateGroup(group: GroupRecord): Promise<void>;
  /** peers/<peer>.json whole (its key hash; the KDM part keeps certificates there too) */
  readPeer(group: string, peer: string): Promise<PeerRecord | undefined>;
  writePeer(group: string, record: PeerRecord): Promise<void>;
  /** The roster; an empty list when none was ever set. */
  readRoster(group: string): Promise<RosterEntry[]>;
  writeRoster(group: string, roster: RosterEntry[]): Promise<void>;
  /** Writes (or replaces) the tombstone of retired/<infoHash>.json. */
  writeTombstone(group: string, tombstone: Tombstone): Promise<void>;
  listTombstones(group: string): Promise<Tombstone[]>;
  /** The passkey HMAC secret, made once and then shared by every server using this store. */
  loadOrCreateSecret(): Promise<string>;
  /** The admin token (group creation, firmware upload), made once and then shared like the secret. */
  loadOrCreateAdminToken(): Promise<string>;
  /** Releases connections (the S3 client); the directory store holds none. */
  close?(): void;
}

/** A KDM held for a group: its facts, where it is routed, and each recipient peer's receipt. */
export interface KdmRecord {
  messageId: string;
  cplId: string;
  title: string | null;
  notValidBefore: string;
  notValidAfter: string;
  recipient: { subject: string; issuer: string; serial: string; dnQualifier: string | null };
  keyCount: number;
  createdAt: string;
  /** the peer named by ?peer= on upload; null = routed by certificate */
  peer: string | null;
  peers: string[];
  receipts: Record<string, { state: string; message?: string; updatedAt: string }>;
}

/** The KDM and certificate part of a store (DATA/groups/<id>/kdms/, peers/<peer>.json). */
export interface KdmStore {
  /** Adds the KDM whole or not at all; KdmExistsError if its MessageId is already held. */
  addKdm(group: string, record: KdmRecord, xml: Buffer): Promise<void>;
  listKdms(group: string): Promise<KdmRecord[]>;
  readKdm(group: string, messageId: string): Promise<Buffer | undefined>;
  readKdmRecord(group: string, messageId: string): Promise<KdmRecord | undefined>;
  /** Replaces the routing/receipt record of a held KDM. */
  writeKdmRecord(group: string, record: KdmRecord): Promise<void>;
  /** false when there was nothing to remove */
  removeKdm(group: string, messageId: string): Promise<boolean>;
  /** PEM blocks a peer registered for KDM routing; [] when none */
  readPeerCertificates(group: string, peer: string): Promise<string[]>;
  /** Sets the `certificates` of peers/<peer>.json, keeping whatever else the file holds. */
  writePeerCertificates(group: string, peer: string, pems: string[]): Promise<void>;
  listPeerCertificates(group: string): Promise<{ peer: string; certificates: string[] }[]>;
}
