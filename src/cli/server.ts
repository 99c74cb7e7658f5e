// `cineswarm server [--config FILE] [--host H] [--port 8600] [--data DIR] [--store s3://…] [--redis …]`: runs the central seed
// server until SIGINT/SIGTERM. Exit 2 on usage or config errors, 1 when it cannot start.
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildServer } from '../server/app.js';
import { checkServerConfig, ConfigError, parseStoreUrl, SERVER_DEFAULTS, type ServerConfig } from '../server/config.js';
import type { GroupStore } from '../server/group-store.js';
import { openStore } from '../server/open-store.js';
import { DataDirLockedError, lockDataDir, type DataDirLock } from '../server/data-dir-lock.js';
import { log } from '../util/log.js';

const USAGE = `usage: cineswarm server [--config FILE] [--host H] [--port 8600] [--data DIR]
                        [--store s3://BUCKET/PREFIX --s3-endpoint URL [--s3-region R]] [--redis redis://H:P/DB]
                        [--admin-token-file F] [--open-groups]

Runs the central seed server: groups and their torrents, the group-scoped
BitTorrent tracker, delivery reports, and the cleanup of old torrents.

options:
  --config FILE  JSON settings: host, port, dataDir, publicUrl, retentionDays,
                 cleanupCron, announceIntervalSeconds, maxWaitSeconds, torrentLimits, trustedProxies,
                 store, redis, adminTokenFile, openGroups, stalledAfterMinutes,
                 silentAfterMinutes (flags below win over it)
  --host H       address to listen on (default ${SERVER_DEFAULTS.host})
  --port N       port to listen on (default ${SERVER_DEFAULTS.port}; 0 picks a free one)
  --data DIR     storage directory of groups and torrents (default ${SERVER_DEFAULTS.dataDir})
  --store URL    keep groups and torrents in S3 instead: s3://BUCKET/PREFIX (credentials from
                 AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or the AWS SDK's other sources)
  --s3-endpoint URL   S3 endpoint, e.g. http://minio.example:9000 (path-style addressing)
  --s3-region R  S3 region (default us-east-1)
  --redis URL    redis://HOST:PORT/DB shared by replicas: tracker peers, change notices, cleanup lock
  --admin-token-file F
                 the token that creating groups and uploading firmware need
                 (default DATA/admin-token, made with mode 0600 on first start; with
                 --store s3://… the store's PREFIX/admin-token, shared by replicas)
  --open-groups  anyone who reaches the port may create groups (demos, tests)
  -h, --help     show this help`;

function fail(message: string, code: number): number {
  process.stderr.write(`cineswarm server: ${message}\n`);
  return code;
}

async function loadConfig(file: string | undefined): Promise<ServerConfig> {
  if (!file) return { ...SERVER_DEFAULTS };
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the config file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return checkServerConfig(raw, file);
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        data: { type: 'string' },
        store: { type: 'string' },
        's3-endpoint': { type: 'string' },
        's3-region': { type: 'string' },
        redis: { type: 'string' },
        'admin-token-file': { type: 'string' },
        'open-groups': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return fail(`${(err as Error).message} (see --help)`, 2);
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  let config: ServerConfig;
  try {
    const overrides: Record<string, unknown> = {};
    if (values.host !== undefined) overrides.host = values.host;
    if (values.port !== undefined) overrides.port = /^\d+$/.test(values.port) ? Number(values.port) : values.port;
    if (values.data !== undefined) overrides.dataDir = values.data;
    if (values.redis !== undefined) overrides.redis = values.redis;
    if (values.store !== undefined) overrides.store = parseStoreUrl(values.store, values['s3-endpoint'], values['s3-region']);
    else if (values['s3-endpoint'] !== undefined || values['s3-region'] !== undefined) {
      throw new ConfigError('command line: --s3-endpoint and --s3-region go with --store s3://BUCKET/PREFIX');
    }
    if (values['admin-token-file'] !== undefined) overrides.adminTokenFile = values['admin-token-file'];
    if (values['open-groups']) overrides.openGroups = true;
    const base = await loadConfig(values.config);
    config = checkServerConfig({ ...base, ...overrides }, 'command line');
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message, 2);
    throw err;
  }

  const logger = log.child({ component: 'server' });
  let app;
  let store: GroupStore | undefined;
  let lock: DataDirLock | undefined;
  let swept = 0;
  try {
    await fs.mkdir(config.dataDir, { recursive: true });
    // Before anything reads or sweeps DATA: a second server on it must leave the live one alone.
    // Replicas on one S3 store share no directory, and may well run beside each other.
    if (!config.store || config.store.kind === 'dir') lock = await lockDataDir(config.dataDir);
    const opened = await openStore(config);
    store = opened.store;
    swept = opened.swept ?? 0;
    app = await buildServer({
      store,
      redis: config.redis,
      redisNamespace: opened.namespace,
      dataDir: config.dataDir,
      publicUrl: config.publicUrl,
      retentionDays: config.retentionDays,
      cleanupCron: config.cleanupCron,
      announceIntervalSeconds: config.announceIntervalSeconds,
      maxWaitSeconds: config.maxWaitSeconds,
      torrentLimits: config.torrentLimits,
      trustedProxies: config.trustedProxies,
      adminTokenFile: config.adminTokenFile,
      openGroups: config.openGroups,
      stalledAfterMinutes: config.stalledAfterMinutes,
      silentAfterMinutes: config.silentAfterMinutes,
      logger,
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app?.close();
    store?.close?.();
    await lock?.release();
    if (err instanceof DataDirLockedError) return fail(err.message, 1);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') return fail(`port ${config.port} on ${config.host} is already in use`, 1);
    if (e.code === 'EACCES') return fail(`no permission for ${e.path ?? `port ${config.port}`}`, 1);
    return fail(e.message, 1);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.info(
    { url: `http://${host}:${port}`, dataDir: config.dataDir, store: config.store?.kind ?? 'dir', redis: Boolean(config.redis), retentionDays: config.retentionDays },
    'cineswarm server listening',
  );
  if (swept) logger.warn({ removed: swept, dataDir: config.dataDir }, `removed ${swept} temp files and staging folders left in the data dir by an interrupted run`);
  if (config.openGroups) logger.warn('--open-groups: anyone who reaches this port can create groups');

  const server = app;
  const held = lock;
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping');
      server.close().then(
        async () => {
          store?.close?.();
          await held?.release();
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
