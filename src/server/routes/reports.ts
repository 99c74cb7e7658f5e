// Delivery reports: each peer tells the server how each torrent of the group is doing, and the
// initiator reads the whole picture per torrent and per peer.
import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { ServerError } from '../errors.js';
import { REPORT_STATES, type ReportEntry, type ReportState } from '../group-store.js';
import { INFO_HASH_PATTERN, PEER_ID_PATTERN } from '../names.js';
import { groupAuth, groupParamsSchema, refusals } from './common.js';

interface ReportBody {
  peer: string;
  infoHash: string;
  state: ReportState;
  progress: number;
  message?: string;
}

const peerStatusSchema = {
  type: 'object',
  required: ['peer', 'state', 'progress', 'updatedAt'],
  properties: {
    peer: { type: 'string' },
    state: { type: 'string' },
    progress: { type: 'number' },
    message: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

const statusSchema = {
  type: 'object',
  required: ['group', 'torrents'],
  properties: {
    group: { type: 'string' },
    torrents: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'infoHash', 'size', 'createdAt', 'peers'],
        properties: {
          name: { type: 'string' },
          infoHash: { type: 'string' },
          size: { type: 'integer' },
          createdAt: { type: 'string' },
          peers: { type: 'array', items: peerStatusSchema },
        },
      },
    },
  },
} as const;

export interface PeerStatus extends ReportEntry {
  peer: string;
}

export const reportRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const onRequest = groupAuth(ctx);

  app.post<{ Params: { id: string }; Body: ReportBody }>(
    '/api/groups/:id/reports',
    {
      onRequest,
      schema: {
        params: groupParamsSchema,
        body: {
          type: 'object',
          required: ['peer', 'infoHash', 'state', 'progress'],
          additionalProperties: false,
          properties: {
            peer: { type: 'string', pattern: PEER_ID_PATTERN },
            infoHash: { type: 'string', pattern: INFO_HASH_PATTERN },
            state: { type: 'string', enum: [...REPORT_STATES] },
            progress: { type: 'number', minimum: 0, maximum: 1 },
            message: { type: 'string', maxLength: 2000 },
          },
        },
        response: { 204: { type: 'null', description: 'recorded' }, ...refusals },
      },
    },
    async (request, reply) => {
      const group = request.params.id;
      const { peer, state, progress, message } = request.body;
      const infoHash = request.body.infoHash.toLowerCase();
      const view = await ctx.catalog.list(group);
      if (!view.byInfoHash.has(infoHash)) {
        throw new ServerError('TORRENT_NOT_FOUND', `group '${group}' has no torrent with info hash ${infoHash} (it may have been cleaned up)`);
      }
      const entry: ReportEntry = { state, progress, updatedAt: new Date().toISOString() };
      if (message !== undefined) entry.message = message;
      await ctx.reportLocks.run(`${group}/${peer}`, async () => {
        const current = (await ctx.store.readReport(group, peer)) ?? { peer, torrents: {} };
        current.torrents[infoHash] = entry;
        await ctx.store.writeReport(group, current);
      });
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/groups/:id/status',
    { onRequest, schema: { params: groupParamsSchema, response: { 200: statusSchema, ...refusals } } },
    async (request) => {
      const group = request.params.id;
      const [view, reports] = await Promise.all([ctx.catalog.list(group), ctx.store.listReports(group)]);
      return {
        group,
        torrents: view.entries.map((t) => {
          const peers: PeerStatus[] = [];
          for (const r of reports) {
            const e = r.torrents[t.infoHash];
            if (e) peers.push({ peer: r.peer, ...e });
          }
          return { ...t, peers };
        }),
      };
    },
  );
};
