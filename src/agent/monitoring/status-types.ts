// The agent's observable state, as the local JSON API, the web page, /metrics and SNMP show it.
// DESIGN.md "Agent local API" fixes the field names of AgentStatus; the extra fields
// (groups, alarms, history, conflicts) are what the status page needs on top.

export type TorrentStateName =
  | 'queued'
  | 'checking'
  | 'downloading'
  | 'verifying'
  | 'ready'
  | 'seeding'
  | 'failed'
  | 'paused'
  /** withdrawn or cleaned up on the server, or its group left (message says which) */
  | 'retired';

export type VerifyStateName = 'none' | 'pending' | 'running' | 'passed' | 'failed';

export interface VerifyFailure {
  path: string;
  reason: string;
}

export interface TorrentView {
  name: string;
  group: string;
  infoHash: string;
  state: TorrentStateName;
  /** 0..1 */
  progress: number;
  sizeBytes: number;
  downloadBps: number;
  uploadBps: number;
  peers: number;
  /** null when unknown (stalled, or not downloading) */
  etaSeconds: number | null;
  verify: { state: VerifyStateName; failed: VerifyFailure[] };
  /** one sentence for a projectionist, e.g. why it is queued or failed */
  message?: string;
  /** peers (host:port) banned for sending data that failed the hash check */
  bannedPeers?: string[];
  /** encrypted DCPs only: whether a valid KDM is here and until when (DESIGN.md states) */
  kdm?: TorrentKdmView;
  /** an accepted re-release: the info hash of the version of this name it replaces in ingest */
  replaces?: string;
  /** the re-release that took this version's place in ingest */
  replacedBy?: string;
  /** a person's decision on this version, as reported to the server */
  decision?: string;
}

export interface TorrentKdmView {
  state: 'valid' | 'waiting-for-dcp' | 'not-yet-valid' | 'expired' | 'not-for-this-server' | 'keys-missing' | 'signature-invalid' | 'signature-not-checked' | 'missing';
  messageId?: string;
  notValidAfter?: string;
  message?: string;
}

export type GroupJoinState = 'joining' | 'joined' | 'unauthorized' | 'not-found' | 'unreachable';

export interface GroupView {
  id: string;
  state: GroupJoinState;
  message?: string;
  lastPollAt?: string;
}

export interface Alarm {
  code: string;
  severity: 'warning' | 'critical';
  message: string;
  /** ISO time the condition was first seen */
  since: string;
}

export interface HistoryView {
  name: string;
  infoHash: string;
  group: string;
  addedAt: string;
  completedAt?: string;
  state: TorrentStateName;
}

/** A name we have, offered again with other content (a re-release): both versions, until a person
 * accepts the offered one (`cineswarm accept NAME` or the page). */
export interface ConflictView {
  name: string;
  group: string;
  knownInfoHash: string;
  offeredInfoHash: string;
  seenAt: string;
  /** the version we have: its state (and whether it is the one in ingest) */
  known?: { state: TorrentStateName; sizeBytes: number; inIngest: boolean };
  /** the offered version, while its group still lists it */
  offered?: { sizeBytes: number; createdAt?: string };
  /** a person accepted it; the new version is on its way */
  accepted?: boolean;
}

/** Space on one filesystem the agent writes to. */
export interface DiskView {
  path: string;
  total: number;
  free: number;
}

/** Health of one RAID array or drive; 'unknown' when the system does not expose it. */
export interface StorageHealthView {
  device: string;
  kind: 'raid' | 'disk';
  state: 'ok' | 'degraded' | 'rebuilding' | 'failing' | 'unknown';
  detail?: string;
}

/** What the monitor sees of the machine and of the agent process itself. */
export interface SystemView {
  /** downloadDir and ingestDir (both listed even when on the same filesystem) */
  disks: DiskView[];
  storage: StorageHealthView[];
  process: { cpuPercent: number; rssBytes: number };
}

export interface AgentStatus {
  id: string;
  version: string;
  /** seconds since the agent started */
  uptime: number;
  disk: { path: string; total: number; free: number };
  network: { rxBps: number; txBps: number };
  torrents: TorrentView[];
  groups: GroupView[];
  alarms: Alarm[];
  history: HistoryView[];
  conflicts: ConflictView[];
  lastPollAt: string | null;
  /** resident memory of the agent process, and the anonymous part of it (file pages excluded); the agent always fills it */
  memory?: { rssBytes: number; anonBytes: number };
  /** filled from the monitor when the agent has one (src/agent/monitor.ts) */
  system?: SystemView;
  /** only while free space is under the reserve: retired DCPs still on disk and what each frees */
  reclaimable?: { name: string; infoHash: string; bytes: number; keptBecause: string }[];
  /** the bandwidth rule in force (config "bandwidth") and the next scheduled change */
  bandwidth?: {
    inForce: { cron: string; downloadKiBps: number; uploadKiBps: number; at: string } | null;
    next: { cron: string; downloadKiBps: number; uploadKiBps: number; at: string } | null;
    rules: { cron: string; downloadKiBps: number; uploadKiBps: number }[];
  };
  /** the last config reload (SIGHUP), with the settings that wait for a restart */
  config?: { reloadedAt: string; restartNeededFor: string[] };
  /** the last firmware check, when firmware.autoUpdate is on */
  firmware?: { at: string; state: string; version?: string; message?: string };
}

/** Operator actions offered by the web page; each resolves when the agent has applied it. */
export interface AgentControl {
  pause(infoHash: string): Promise<void>;
  resume(infoHash: string): Promise<void>;
  reverify(infoHash: string): Promise<void>;
  pollNow(): Promise<void>;
  /** accepts the re-release of `name` a group offers; resolves with a sentence once its version
   * is in the pipeline (throws with a `code` when there is none to accept) */
  accept?(name: string): Promise<string>;
}
