// buildServer: the central seed server as a fastify instance (groups, torrents, reports,
// tracker, cleanup job), not yet listening, so tests inject requests and the CLI listens.
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import schedule from 'node-schedule';
import { pino, type Logger } from 'pino';
import { log } from '../util/log.js';
import { AuthLimits, DEFAULT_AUTH_LIMITS, type AuthLimitOptions } from './auth-limits.js';
import { GroupAuthenticator } from './auth.js';
import { TorrentCatalog } from './catalog.js';
import { runCleanup } from './cleanup.js';
import type { ServerContext } from './context.js';
import { DirGroupStore } from './dir-store.js';
import { errorBodySchema } from '../protocol/index.js';
import { makeErrorHandler } from './errors.js';
import type { GroupStore } from './group-store.js';
import { KeyedLock } from './keyed-lock.js';
import { PeerKeys } from './peer-keys.js';
import { loadAdminToken } from './admin-token.js';
import { ServerMetrics } from './metrics.js';
import { accessLogHook } from './access-log.js';
import { CloseSweeper } from './close-sweeper.js';
import { metricsRoutes } from './routes/metrics.js';
import { firmwareRoutes } from './routes/firmware.js';
import { groupRoutes } from './routes/groups.js';
import { kdmRoutes } from './routes/kdms.js';
import { consoleRoutes } from './console-routes.js';
import { reportRoutes } from './routes/reports.js';
import { rosterRoutes } from './routes/roster.js';
import { torrentRoutes } from './routes/torrents.js';
import { trackerRoutes } from './routes/tracker.js';
import { torrentLimits, type TorrentLimits } from './torrent-limits.js';
import { connectRedis, RedisState } from './redis-state.js';
import { RedisSwarms } from './redis-swarms.js';
import { LocalState, type SharedState } from './shared-state.js';
import { Swarms, type SwarmState } from './swarms.js';

/** Stock BitTorrent clients (libtorrent's min_announce_interval, for one) announce at most every
 * 300 s whatever interval we ask for: a peer must outlive that gap or it drops out of the peer lists
 * between two of its announces. */
export const PEER_LIFETIME_FLOOR_SECONDS = 360;

export interface ServerOptions {
  /** DATA dir of DESIGN.md */
  dataDir: string;
  /** passkey HMAC secret; default: read/create DATA/server-secret (0600) */
  secret?: string;
  /** base of announce URLs, e.g. http://seed.example:8600; default: from the request's Host header */
  publicUrl?: string;
  /** cleanup of old torrents (default 30) */
  retentionDays?: number;
  /** node-schedule rule for the cleanup job (default hourly) */
  cleanupCron?: string;
  /** tracker interval (default 60); peers expire after two intervals without an announce, and never
   * sooner than PEER_LIFETIME_FLOOR_SECONDS */
  announceIntervalSeconds?: number;
  /** longest hold of a torrent-list long poll (default 60; 0 turns long polling off) */
  maxWaitSeconds?: number;
  logger?: Logger | boolean;
  /** another GroupStore backend; default: the directory backend under dataDir */
  store?: GroupStore;
  /** what an uploaded torrent may describe; defaults in torrent-limits.ts */
  torrentLimits?: Partial<TorrentLimits>;
  /** failure-only limits on wrong group passwords (defaults in auth-limits.ts) */
  authLimits?: Partial<AuthLimitOptions>;
  /** the server's clock in ms (auth limits, report times, tombstones, status flags); default Date.now */
  now?: () => number;
  /** addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed; none by default */
  trustedProxies?: string[];
  /** redis://HOST:PORT/DB shared by replicas (tracker peers, change notices, the cleanup lock);
   * without it all of that stays in this process */
  redis?: string;
  /** prefix of every Redis key and channel, one per deployment sharing a Redis (default 'cineswarm:') */
  redisNamespace?: string;
  /** Bearer token for group creation and firmware upload; default: read from adminTokenFile */
  adminToken?: string;
  /** file holding the admin token; default: the store's (DATA/admin-token made 0600 when absent, or PREFIX/admin-token on S3) */
  adminTokenFile?: string;
  /** anyone reaching the port may create groups (demo and test rigs) */
  openGroups?: boolean;
  /** status flags (defaults 10 and 30 minutes) */
  stalledAfterMinutes?: number;
  silentAfterMinutes?: number;
  /** how often the console page asks for the status again (default 5000 ms) */
  consolePollMs?: number;
}

/** How long the cleanup lock holds when the replica that took it dies mid-pass. */
const CLEANUP_LOCK_MS = 10 * 60_000;

declare module 'fastify' {
  interface FastifyInstance {
    cineswarm: ServerContext;
  }
}

function pickLogger(opt: ServerOptions['logger']): Logger {
  if (opt === false) return pino({ level: 'silent' });
  if (opt === undefined || opt === true) return log.child({ component: 'server' });
  return opt;
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const logger = pickLogger(opts.logger);
  const retentionDays = opts.retentionDays ?? 30;
  const interval = opts.announceIntervalSeconds ?? 60;
  if (!(retentionDays > 0)) throw new Error('retentionDays must be a positive number of days');
  if (!(Number.isInteger(interval) && interval > 0)) throw new Error('announceIntervalSeconds must be a positive whole number');
  const maxWait = opts.maxWaitSeconds ?? 60;
  if (!(Number.isInteger(maxWait) && maxWait >= 0 && maxWait <= 3600)) throw new Error('maxWaitSeconds must be a whole number of seconds from 0 to 3600');
  if (opts.publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(opts.publicUrl)) {
    throw new Error(`publicUrl must be an http(s) URL such as http://seed.example:8600, not '${opts.publicUrl}'`);
  }

  let store = opts.store;
  if (!store) {
    const dir = new DirGroupStore(opts.dataDir);
    await dir.init();
    store = dir;
  }
  const limits = torrentLimits(opts.torrentLimits);
  const secret = opts.secret ?? (await store.loadOrCreateSecret());
  // An explicit file wins; otherwise the store's token (DATA/admin-token, or PREFIX/admin-token on S3, which replicas share).
  const adminToken = opts.adminToken ?? (opts.adminTokenFile ? await loadAdminToken(opts.dataDir, opts.adminTokenFile) : await store.loadOrCreateAdminToken());
  const stalledAfterMinutes = opts.stalledAfterMinutes ?? 10;
  const silentAfterMinutes = opts.silentAfterMinutes ?? 30;
  if (!(stalledAfterMinutes > 0) || !(silentAfterMinutes > 0)) throw new Error('stalledAfterMinutes and silentAfterMinutes must be positive numbers of minutes');
  const nowMs = opts.now ?? Date.now;
  const now = (): Date => new Date(nowMs());
  const peerLifetimeMs = Math.max(2 * interval, PEER_LIFETIME_FLOOR_SECONDS) * 1000;
  let shared: SharedState = new LocalState();
  let swarms: SwarmState = new Swarms(peerLifetimeMs);
  if (opts.redis) {
    const ns = opts.redisNamespace ?? 'cineswarm:';
    const client = await connectRedis(opts.redis, logger);
    shared = await RedisState.open(client, ns, logger);
    swarms = new RedisSwarms(client, ns, peerLifetimeMs);
  }
  const metrics = new ServerMetrics();
  const catalog = new TorrentCatalog(
    store,
    logger,
    (group, change) => shared.catalogChanged(group, change),
    (kind) => metrics.storeReads[kind]++,
    limits,
  );
  const auth = new GroupAuthenticator(store, new AuthLimits({ ...DEFAULT_AUTH_LIMITS, ...opts.authLimits }, logger, opts.now), nowMs);
  // This server's own changes are already in its catalog; another replica's come by notice.
  shared.onCatalogChanged((group, change, remote) => {
    if (!remote) return;
    if (change) catalog.apply(group, change);
    else catalog.forget(group);
  });
  shared.onAuthChanged((group) => auth.forget(group));
  shared.onResync(() => {
    catalog.forgetAll();
    auth.forgetAll();
  });
  const reportLocks = new KeyedLock();
  const inFlight = new Set<string>();
  const ctx: ServerContext = {
    store,
    auth,
    peerKeys: new PeerKeys(store, reportLocks, now),
    adminToken,
    openGroups: opts.openGroups ?? false,
    stalledAfterMinutes,
    silentAfterMinutes,
    now,
    catalog,
    metrics,
    swarms,
    shared,
    secret,
    publicUrl: opts.publicUrl,
    announceIntervalSeconds: interval,
    maxWaitSeconds: maxWait,
    retentionDays,
    torrentLimits: limits,
    inFlight,
    reportLocks,
    logger,
    runCleanup: (now?: Date) => runCleanup({ store, catalog, swarms, reportLocks, inFlight, retentionDays, logger }, now),
  };

  // fastify's own request lines are off: access-log.ts writes one line per request, with polls
  // and announces at debug so they do not drown everything else.
  const app = Fastify({
    // Plugins wait for fs work in libuv's pool, which scrypt can fill for seconds on a busy host;
    // avvio's 10 s default then fails start-up with an error that names no cause.
    pluginTimeout: 60_000,
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    // A number where a group id is expected is a client bug to report, not to paper over.
    ajv: { customOptions: { coerceTypes: false } },
    // request.ip is the connection's source unless it is a proxy we were told to believe: the
    // tracker hands that address to other peers, and the auth limits count failures by it.
    trustProxy: opts.trustedProxies && opts.trustedProxies.length > 0 ? opts.trustedProxies : false,
  });
  // Held long polls would keep close() waiting for up to maxWaitSeconds: answer them first, with
  // Connection: close, and end the connections that would keep close() waiting (close-sweeper.ts).
  let closing = false;
  const closeSweeper = new CloseSweeper(app.server);
  app.addHook('preClose', async () => {
    closing = true;
    catalog.release();
    closeSweeper.start();
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.decorate('cineswarm', ctx);
  app.addHook('onResponse', accessLogHook(logger, metrics, secret));
  app.setErrorHandler(makeErrorHandler(logger, () => metrics.storeUnavailable++));
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: 'NOT_FOUND', message: `no such endpoint: ${request.method} ${request.url.split('?')[0]}` });
  });

  app.get(
    '/healthz',
    { schema: { response: { 200: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } }, 404: errorBodySchema } } },
    async () => ({ status: 'ok' }),
  );
  await app.register(metricsRoutes, { ctx });
  await app.register(groupRoutes, { ctx });
  await app.register(torrentRoutes, { ctx });
  await app.register(reportRoutes, { ctx });
  await app.register(rosterRoutes, { ctx });
  await app.register(trackerRoutes, { ctx });
  await app.register(kdmRoutes, { ctx });
  await app.register(firmwareRoutes, { store: store.firmware, adminToken });
  await app.register(consoleRoutes, { ctx, ...(opts.consolePollMs !== undefined ? { pollIntervalMs: opts.consolePollMs } : {}) });

  // A pass still running when the next is due (a slow disk, a tiny test interval) is not doubled.
  let cleaning = false;
  const job = schedule.scheduleJob(opts.cleanupCron ?? '17 * * * *', () => {
    if (cleaning) return;
    cleaning = true;
    shared
      .withLock('cleanup', CLEANUP_LOCK_MS, () => ctx.runCleanup())
      .catch((err: unknown) => logger.error({ err }, 'cleanup failed'))
      .finally(() => (cleaning = false));
  });
  if (!job) throw new Error(`cleanupCron '${opts.cleanupCron}' is not a valid schedule`);
  const sweeper = setInterval(() => void swarms.sweep(), interval * 1000);
  sweeper.unref();
  app.addHook('onClose', async () => {
    job.cancel();
    clearInterval(sweeper);
    closeSweeper.stop();
    await shared.close();
  });
  // pino's Logger is a FastifyBaseLogger; the generic only differs in name.
  return app as unknown as FastifyInstance;
}
