// GET /metrics: the server's counters, with the gauges read at scrape time (active tracker peers
// per group, from Redis when replicas share it; torrents per group of the loaded lists).
import type { FastifyPluginAsync } from 'fastify';
import type { ServerContext } from '../context.js';
import type { ScrapeGauges } from '../metrics.js';

export const metricsRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  app.get('/metrics', async (_request, reply) => {
    const gauges: ScrapeGauges = { torrents: await ctx.catalog.loadedCounts() };
    try {
      gauges.activePeers = await ctx.swarms.activePeers();
    } catch (err) {
      // Redis away: the counters still answer; the peer gauge is left out rather than shown as 0.
      ctx.logger.debug({ err }, 'active peers not readable for /metrics');
    }
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(ctx.metrics.text(gauges));
  });
};
