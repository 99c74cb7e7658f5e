// Delivery reports: each peer tells the server how each torrent of the group is doing, and the
// initiator reads the whole picture per torrent and per peer.
import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { ServerError } from '../errors.js';
import type { ReportEntry } from '../group-store.js';
import {
  groupParamsSchema,
  groupStatusSchema,
  refusalSchemas,
  reportBodySchema,
  type GroupParams,
  type GroupStatus,
  type ReportBody,
} from '../../protocol/index.js';
import { readGroupStatus } from '../group-status.js';
import { groupAuth, roleOf } from './common.js';

export const reportRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const onRequest = groupAuth(ctx);
  const ownerOnly = groupAuth(ctx, 'owner');

  app.post<{ Params: GroupParams; Body: ReportBody }>(
    '/api/groups/:id/reports',
    {
      onRequest,
      schema: {
        params: groupParamsSchema,
        body: reportBodySchema,
        response: { 204: { type: 'null', description: 'recorded' }, ...refusalSchemas },
      },
    },
    async (request, reply) => {
      const group = request.params.id;
      const { peer, state, progress, message } = request.body;
      await ctx.peerKeys.check(group, peer, roleOf(request), request.headers);
      const infoHash = request.body.infoHash.toLowerCase();
      const view = await ctx.catalog.list(group);
      // A withdrawn DCP's tombstone keeps its info hash, so the agents can say they retired it.
      if (!view.byInfoHash.has(infoHash) && !(await ctx.store.listTombstones(group)).some((t) => t.infoHash === infoHash)) {
        throw new ServerError('TORRENT_NOT_FOUND', `group '${group}' has no torrent with info hash ${infoHash} (it may have been cleaned up)`);
      }
      const at = ctx.now().toISOString();
      const { downloadBps, uploadBps, etaSeconds, verify, kdm, role, decision } = request.body;
      // Each report replaces the last one whole: a field the peer no longer sends (an ETA once done) goes.
      const entry: ReportEntry = {
        state,
        progress,
        ...(message !== undefined ? { message } : {}),
        ...(downloadBps !== undefined ? { downloadBps } : {}),
        ...(uploadBps !== undefined ? { uploadBps } : {}),
        ...(etaSeconds !== undefined ? { etaSeconds } : {}),
        ...(verify !== undefined ? { verify } : {}),
        ...(kdm !== undefined ? { kdm } : {}),
        ...(role !== undefined ? { role } : {}),
        ...(decision !== undefined ? { decision } : {}),
        updatedAt: at,
        progressAt: at,
      };
      await ctx.reportLocks.run(`${group}/${peer}`, async () => {
        const current = (await ctx.store.readReport(group, peer)) ?? { peer, torrents: {} };
        const before = current.torrents[infoHash];
        if (before && before.progress === progress && before.state === state) entry.progressAt = before.progressAt ?? before.updatedAt;
        current.torrents[infoHash] = entry;
        await ctx.store.writeReport(group, current);
      });
      return reply.code(204).send();
    },
  );

  app.get<{ Params: GroupParams }>(
    '/api/groups/:id/status',
    { onRequest: ownerOnly, schema: { params: groupParamsSchema, response: { 200: groupStatusSchema, ...refusalSchemas } } },
    async (request): Promise<GroupStatus> => readGroupStatus(ctx, request.params.id),
  );
};
