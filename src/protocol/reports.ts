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
  /** encrypted DCPs: the key state the peer judged (DESIGN.md KDM states) */
  kdm?: ReportKdm;
}

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
    kdm: reportKdmSchema,
  },
} as const;

/** A peer's last report on one torrent, as the status shows it. */
export interface PeerStatus {
  peer: string;
  state: ReportState;
  progress: number;
  message?: string;
  kdm?: ReportKdm;
  updatedAt: string;
}

export interface TorrentStatus extends TorrentSummary {
  peers: PeerStatus[];
}

export interface GroupStatus {
  group: string;
  torrents: TorrentStatus[];
}

const peerStatusSchema = {
  type: 'object',
  required: ['peer', 'state', 'progress', 'updatedAt'],
  properties: {
    peer: { type: 'string' },
    state: { type: 'string' },
    progress: { type: 'number' },
    message: { type: 'string' },
    kdm: { type: 'object', properties: { state: { type: 'string' }, notValidAfter: { type: 'string' } } },
    updatedAt: { type: 'string' },
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
        properties: { ...torrentSummarySchema.properties, peers: { type: 'array', items: peerStatusSchema } },
      },
    },
  },
} as const;
