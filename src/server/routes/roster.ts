// The roster: the cinemas the distributor expects in a group (owner only), so a cinema that never
// started shows in the status as not-started, and one that reports unannounced as not-rostered.
import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import { ServerError } from '../errors.js';
import { groupParamsSchema, noContentSchema, refusalSchemas, rosterSchema, type GroupParams, type RosterEntry } from '../../protocol/index.js';
import { groupAuth } from './common.js';

export const rosterRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const ownerOnly = groupAuth(ctx, 'owner');

  app.put<{ Params: GroupParams; Body: RosterEntry[] }>(
    '/api/groups/:id/roster',
    { onRequest: ownerOnly, schema: { params: groupParamsSchema, body: rosterSchema, response: { ...noContentSchema, ...refusalSchemas } } },
    async (request, reply) => {
      const seen = new Set<string>();
      for (const r of request.body) {
        if (seen.has(r.peer)) throw new ServerError('BAD_REQUEST', `peer '${r.peer}' is on the roster twice`);
        seen.add(r.peer);
      }
      await ctx.store.writeRoster(request.params.id, request.body);
      ctx.logger.info({ group: request.params.id, peers: request.body.length }, 'roster set');
      return reply.code(204).send();
    },
  );

  app.get<{ Params: GroupParams }>(
    '/api/groups/:id/roster',
    { onRequest: ownerOnly, schema: { params: groupParamsSchema, response: { 200: rosterSchema, ...refusalSchemas } } },
    async (request) => ctx.store.readRoster(request.params.id),
  );
};
