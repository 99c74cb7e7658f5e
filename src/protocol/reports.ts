// Delivery reports on the wire: what a peer posts about one torrent, and the group status the
// initiator reads back (per torrent, per peer).
import { INFO_HASH_PATTERN, PEER_ID_PATTERN } from './names.js';
import { torrentSummarySchema, type TorrentSummary } from './torrents.js';

export const REPORT_STATES = ['queued', 'checking', 'downloading', 'verifying', 'ready', 'seeding', 'failed', 'paused', 'retired'] as const;
export type ReportState = (typeof REPORT_STATES)[number];

export interface ReportBody {
  peer: string;
  infoHash: string;
  state: ReportState;
  progress: number;
  message?: string;
  /** live rates in bytes per second, as the peer's own status shows them */
  downloadBps?: number;
  uploadBps?: number;
  /** seconds left while downloading; absent when unknown */
  etaSeconds?: number;
  /** the peer's own DCP verification, with the files that failed named */
  verify?: ReportVerify;
  /** encrypted DCPs: the key state the peer judged (DESIGN.md KDM states) */
  kdm?: ReportKdm;
  /** who sends it: a cinema agent, or a distributor's seeder (publish --seed, seed) */
  role?: ReportRole;
  /** a person's decision on this torrent (e.g. a re-release accepted or not), in the peer's words */
  decision?: string;
}

export const REPORT_ROLES = ['seeder', 'cinema'] as const;
export type ReportRole = (typeof REPORT_ROLES)[number];
export const REPORT_VERIFY_STATES = ['none', 'pending', 'running', 'passed', 'failed'] as const;
export interface ReportVerify {
  state: (typeof REPORT_VERIFY_STATES)[number];
  failed: Array<{ path: string; reason: string }>;
}

const reportVerifySchema = {
  type: 'object',
  required: ['state', 'failed'],
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: [...REPORT_VERIFY_STATES] },
    // A DCP with thousands of bad files still gets a bounded report; the first ones name the fault.
    failed: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        required: ['path', 'reason'],
        additionalProperties: false,
        properties: { path: { type: 'string', maxLength: 1024 }, reason: { type: 'string', maxLength: 1000 } },
      },
    },
  },
} as const;

export interface ReportKdm { state: string; notValidAfter?: string }

const reportKdmSchema = {
  type: 'object',
  required: ['state'],
  additionalProperties: false,
  properties: {
    state: { type: 'string', enum: ['valid', 'waiting-for-dcp', 'not-yet-valid', 'expired', 'not-for-this-server', 'keys-missing', 'signature-invalid', 'signature-not-checked', 'missing'] },
    notValidAfter: { type: 'string', maxLength: 64 },
  },
} as const;

export const reportBodySchema = {
  type: 'object',
  required: ['peer', 'infoHash', 'state', 'progress'],
  additionalProperties: false,
  properties: {
    peer: { type: 'string', pattern: PEER_ID_PATTERN },
    infoHash: { type: 'string', pattern: INFO_HASH_PATTERN },
    state: { type: 'string', enum: [...REPORT_STATES] },
    progress: { type: 'number', minimum: 0, maximum: 1 },
    message: { type: 'string', maxLength: 2000 },
    downloadBps: { type: 'number', minimum: 0 },
    uploadBps: { type: 'number', minimum: 0 },
    etaSeconds: { type: 'number', minimum: 0 },
    verify: reportVerifySchema,
    kdm: reportKdmSchema,
    role: { type: 'string', enum: [...REPORT_ROLES] },
    decision: { type: 'string', maxLength: 200 },
  },
} as const;

/** How a peer of the status stands, for a person to act on. */
export const PEER_FLAGS = ['ok', 'stalled', 'silent', 'not-started', 'not-rostered'] as const;
export type PeerFlag = (typeof PEER_FLAGS)[number];

/** The peer's last report on the torrent (a rostered peer that never reported on it has state
 * 'queued', progress 0 and no updatedAt), with what the server adds. */
export interface PeerStatus extends Omit<ReportBody, 'infoHash'> {
  /** when the report arrived; absent for a rostered peer that never reported */
  updatedAt?: string;
  /** when progress last moved (stalled is judged by it) */
  progressAt?: string;
  flag: PeerFlag;
  /** from the roster */
  name?: string;
  site?: string;
}

export interface TorrentStatus extends TorrentSummary {
  /** set for a withdrawn or cleaned-up torrent (its tombstone) */
  retired?: { at: string; reason: 'withdrawn' | 'cleaned-up' };
  peers: PeerStatus[];
}

/** One expected cinema of a group (PUT/GET /api/groups/:id/roster). */
export interface RosterEntry {
  peer: string;
  name?: string;
  site?: string;
}

export const rosterSchema = {
  type: 'array',
  maxItems: 100000,
  items: {
    type: 'object',
    required: ['peer'],
    additionalProperties: false,
    properties: {
      peer: { type: 'string', pattern: PEER_ID_PATTERN },
      name: { type: 'string', maxLength: 200 },
      site: { type: 'string', maxLength: 200 },
    },
  },
} as const;

export interface GroupStatus {
  group: string;
  torrents: TorrentStatus[];
}

const peerStatusSchema = {
  type: 'object',
  required: ['peer', 'state', 'progress', 'flag'],
  properties: {
    peer: { type: 'string' },
    state: { type: 'string' },
    progress: { type: 'number' },
    message: { type: 'string' },
    downloadBps: { type: 'number' },
    uploadBps: { type: 'number' },
    etaSeconds: { type: 'number' },
    verify: {
      type: 'object',
      properties: {
        state: { type: 'string' },
        failed: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, reason: { type: 'string' } } } },
      },
    },
    kdm: { type: 'object', properties: { state: { type: 'string' }, notValidAfter: { type: 'string' } } },
    role: { type: 'string' },
    decision: { type: 'string' },
    updatedAt: { type: 'string' },
    progressAt: { type: 'string' },
    flag: { type: 'string', enum: [...PEER_FLAGS] },
    name: { type: 'string' },
    site: { type: 'string' },
  },
} as const;

export const groupStatusSchema = {
  type: 'object',
  required: ['group', 'torrents'],
  properties: {
    group: { type: 'string' },
    torrents: {
      type: 'array',
      items: {
        type: 'object',
        required: [...torrentSummarySchema.required, 'createdAt', 'peers'],
        properties: {
          ...torrentSummarySchema.properties,
          retired: { type: 'object', properties: { at: { type: 'string' }, reason: { type: 'string' } } },
          peers: { type: 'array', items: peerStatusSchema },
        },
      },
    },
  },
} as const;
