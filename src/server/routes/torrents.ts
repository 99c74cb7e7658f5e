// A group's torrents: upload (validated, private only), the pollable list with ETag/304, and
// the download personalised with the peer's tracker passkey.
import type { FastifyPluginAsync } from 'fastify';
import { etagMatches } from '../catalog.js';
import { inFlightKey, type ServerContext } from '../context.js';
import { BadTorrentError, ServerError, StoreUnavailableError, TorrentNotFoundError } from '../errors.js';
import {
  groupParamsSchema,
  isTorrentName,
  noContentSchema,
  refusalSchemas,
  TORRENT_CONTENT_TYPE,
  torrentListSchema,
  torrentListQuerySchema,
  torrentParamsSchema,
  torrentQuerySchema,
  torrentSummarySchema,
  type GroupParams,
  type TorrentListQuery,
  type TorrentParams,
  type TorrentQuery,
} from '../../protocol/index.js';
import { makePasskey } from '../passkey.js';
import { personalise, readTorrent } from '../torrent-file.js';
import { groupAuth, roleOf } from './common.js';

// Bodies up to this size are read and refused with the configured limit named; larger ones 413.
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export const torrentRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const onRequest = groupAuth(ctx);
  const ownerOnly = groupAuth(ctx, 'owner');
  const MAX_TORRENT_BYTES = Math.max(MAX_BODY_BYTES, ctx.torrentLimits.maxTorrentBytes + 1);
  for (const type of [TORRENT_CONTENT_TYPE, 'application/octet-stream']) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: MAX_TORRENT_BYTES }, (_req, body, done) => done(null, body));
  }

  app.post<{ Params: GroupParams }>(
    '/api/groups/:id/torrents',
    {
      onRequest: ownerOnly,
      bodyLimit: MAX_TORRENT_BYTES,
      schema: { params: groupParamsSchema, response: { 201: torrentSummarySchema, ...refusalSchemas } },
    },
    async (request, reply) => {
      const group = request.params.id;
      const body: unknown = request.body;
      if (body !== undefined && body !== null && !Buffer.isBuffer(body)) {
        throw new ServerError('BAD_TORRENT', 'send the .torrent file itself as the body, with content type application/x-bittorrent');
      }
      if (!body || body.length === 0) throw new BadTorrentError('the upload is empty');
      const info = readTorrent(body, ctx.torrentLimits);
      const key = inFlightKey(group, info.name);
      ctx.inFlight.add(key);
      // The time is ours, not the store's, so the catalog entry made now equals what a later
      // full read of the group gives, on this replica and on the others.
      const createdAt = new Date();
      try {
        await ctx.store.addTorrent(group, info.name, body, createdAt);
        ctx.catalog.added(group, info.name, body, createdAt);
      } catch (err) {
        // Unknown whether an unavailable store kept it: read the group again next time.
        if (err instanceof StoreUnavailableError) ctx.catalog.invalidate(group);
        throw err;
      } finally {
        ctx.inFlight.delete(key);
      }
      ctx.logger.info({ group, name: info.name, infoHash: info.infoHash, size: info.size }, 'torrent added');
      return reply.code(201).send({ name: info.name, infoHash: info.infoHash, size: info.size });
    },
  );

  app.get<{ Params: GroupParams; Querystring: TorrentListQuery }>(
    '/api/groups/:id/torrents',
    {
      onRequest,
      schema: { params: groupParamsSchema, querystring: torrentListQuerySchema, response: { 200: torrentListSchema, ...refusalSchemas } },
    },
    async (request, reply) => {
      const group = request.params.id;
      let view = await ctx.catalog.list(group);
      const known = request.headers['if-none-match'];
      // Long poll: an agent that already has the list waits here (a cheap promise, no disk) for the
      // next change instead of asking again and again; 304 when nothing changed within the wait.
      const waitMs = Math.min(Number(request.query.wait ?? 0), ctx.maxWaitSeconds) * 1000;
      if (waitMs > 0 && etagMatches(known, view.etag)) {
        const gone = new AbortController();
        request.raw.once('close', () => gone.abort());
        const deadline = Date.now() + waitMs;
        while (etagMatches(known, view.etag) && Date.now() < deadline && !gone.signal.aborted) {
          if (!(await ctx.catalog.nextChange(group, deadline - Date.now(), gone.signal))) break;
          view = await ctx.catalog.list(group);
        }
      }
      reply.header('etag', view.etag).header('cache-control', 'no-cache');
      if (etagMatches(known, view.etag)) return reply.code(304).send();
      // Already serialised once per change of the list; fastify sends a JSON string as is.
      return reply.type('application/json; charset=utf-8').send(view.json);
    },
  );

  app.get<{ Params: TorrentParams; Querystring: TorrentQuery }>(
    '/api/groups/:id/torrents/:name',
    {
      onRequest,
      schema: {
        params: torrentParamsSchema,
        querystring: torrentQuerySchema,
        response: { 200: { description: 'the .torrent file', type: 'string', format: 'binary' }, ...refusalSchemas },
      },
    },
    async (request, reply) => {
      const { id, name } = request.params;
      await ctx.peerKeys.check(id, request.query.peer, roleOf(request), request.headers);
      if (!isTorrentName(name)) throw new TorrentNotFoundError(id, name);
      const bytes = await ctx.store.readTorrent(id, name);
      if (!bytes) throw new TorrentNotFoundError(id, name);
      // HTTP/1.0 clients may send no Host: the address they reached us on is what they can use.
      const host = request.host || `${request.socket.localAddress}:${request.socket.localPort}`;
      const base = ctx.publicUrl ?? `${request.protocol}://${host}`;
      const announce = `${base.replace(/\/+$/, '')}/announce/${makePasskey(ctx.secret, id, request.query.peer)}`;
      return reply
        .type(TORRENT_CONTENT_TYPE)
        .header('content-disposition', `attachment; filename="${name}.torrent"`)
        .send(personalise(bytes, announce));
    },
  );

  app.delete<{ Params: TorrentParams }>(
    '/api/groups/:id/torrents/:name',
    { onRequest: ownerOnly, schema: { params: torrentParamsSchema, response: { ...noContentSchema, ...refusalSchemas } } },
    async (request, reply) => {
      const { id, name } = request.params;
      const summary = (await ctx.catalog.list(id)).entries.find((t) => t.name === name);
      if (!summary) throw new TorrentNotFoundError(id, name);
      // The tombstone first: from the moment the listing drops the DCP, reports about it still land.
      await ctx.store.writeTombstone(id, { ...summary, retiredAt: ctx.now().toISOString(), reason: 'withdrawn' });
      try {
        await ctx.store.removeTorrent(id, name);
      } finally {
        ctx.catalog.invalidate(id);
      }
      ctx.logger.info({ group: id, name, infoHash: summary.infoHash }, 'torrent withdrawn');
      return reply.code(204).send();
    },
  );
};
