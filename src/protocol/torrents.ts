// A group's torrents on the wire: the summary the list and the upload answer with, and the
// parameters of the per-peer download.
import { GROUP_ID_PATTERN, PEER_ID_PATTERN, TORRENT_NAME_PATTERN } from './names.js';

/** Content type of an uploaded or downloaded .torrent. */
export const TORRENT_CONTENT_TYPE = 'application/x-bittorrent';

/** One torrent of a group, as listed (`createdAt` is absent in the upload's answer). */
export interface TorrentSummary {
  name: string;
  infoHash: string;
  size: number;
  createdAt: string;
}

/** The answer to an upload. */
export type UploadedTorrent = Omit<TorrentSummary, 'createdAt'>;

export const torrentSummarySchema = {
  type: 'object',
  required: ['name', 'infoHash', 'size'],
  properties: {
    name: { type: 'string' },
    infoHash: { type: 'string' },
    size: { type: 'integer' },
    createdAt: { type: 'string' },
  },
} as const;

export const torrentListSchema = { type: 'array', items: torrentSummarySchema } as const;

export interface TorrentParams {
  id: string;
  name: string;
}

export const torrentParamsSchema = {
  type: 'object',
  required: ['id', 'name'],
  properties: { id: { type: 'string', pattern: GROUP_ID_PATTERN }, name: { type: 'string', pattern: TORRENT_NAME_PATTERN } },
} as const;

export interface TorrentQuery {
  peer: string;
}

/** GET /api/groups/:id/torrents?wait=S: with If-None-Match, hold the answer up to S seconds for a change. */
export interface TorrentListQuery {
  /** whole seconds, as the query string carries them (the server holds at most its maxWaitSeconds) */
  wait?: string;
}

export const torrentListQuerySchema = {
  type: 'object',
  properties: { wait: { type: 'string', pattern: '^[0-9]{1,5}$' } },
} as const;

export const torrentQuerySchema = {
  type: 'object',
  required: ['peer'],
  properties: { peer: { type: 'string', pattern: PEER_ID_PATTERN } },
} as const;
