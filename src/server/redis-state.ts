// SharedState over Redis: change notices by pub/sub, the cluster lock by SET NX PX. Commands
// fail fast while Redis is away (no offline queue, a command timeout), and when the subscriber
// connects again every cache is dropped, since notices sent meanwhile were lost.
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { StoreUnavailableError } from './errors.js';
import type { CatalogChange, ChangeListener, SharedState } from './shared-state.js';

const COMMAND_TIMEOUT_MS = 2000;

// Deletes the lock only while it is still ours (it may have expired and been taken since).
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** A client that never queues a command while disconnected, so an outage answers within a second. */
export function redisClient(url: string, logger: Logger): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 5000,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // ioredis emits 'error' on every failed reconnect; one line per state change is enough.
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) logger.warn({ err: err.message }, 'redis unavailable');
    down = true;
  });
  client.on('ready', () => {
    if (down) logger.info('redis available again');
    down = false;
  });
  return client;
}

/** Connects, or throws one line naming the Redis that could not be reached. */
export async function connectRedis(url: string, logger: Logger): Promise<Redis> {
  const client = redisClient(url, logger);
  const where = url.replace(/\/\/[^@/]*@/, '//');
  try {
    await client.connect().catch(() => readyWithin(client, 5000));
    await client.ping();
  } catch (err) {
    client.disconnect();
    throw new Error(`Redis ${where} is unreachable: ${(err as Error).message}`);
  }
  return client;
}

function readyWithin(client: Redis, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection within ${ms / 1000} s`)), ms);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Runs a Redis call; an outage becomes the 503 domain error. */
export async function redisCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StoreUnavailableError(`${what} in Redis`, err);
  }
}

export class RedisState implements SharedState {
  private readonly me = randomBytes(8).toString('hex');
  private readonly catalog: ChangeListener[] = [];
  private readonly auth: ChangeListener[] = [];
  private readonly resync: Array<() => void> = [];
  private readonly channels: { catalog: string; auth: string };
  private subscribedOnce = false;

  private constructor(
    private readonly client: Redis,
    private readonly sub: Redis,
    private readonly ns: string,
    private readonly logger: Logger,
  ) {
    this.channels = { catalog: `${ns}catalog`, auth: `${ns}auth` };
  }

  /** `ns` namespaces every key and channel, so several deployments can share one Redis. */
  static async open(client: Redis, ns: string, logger: Logger): Promise<RedisState> {
    // SUBSCRIBE is sent once at start and again on each reconnect; a slow host must not fail it.
    const sub = client.duplicate({ commandTimeout: 10_000 });
    const state = new RedisState(client, sub, ns, logger);
    sub.on('error', () => {}); // reported by the main client's handler
    sub.on('message', (channel: string, message: string) => state.deliver(channel, message));
    sub.on('ready', () => {
      if (state.subscribedOnce) {
        logger.info('redis notices resumed; dropping cached lists and verifications');
        for (const l of state.resync) l();
      }
      state.subscribedOnce = true;
    });
    try {
      // A first connect that fails (a loaded host, a timeout) is retried by ioredis itself;
      // start-up waits for that within a bound instead of giving up at once.
      await sub.connect().catch(() => readyWithin(sub, 10_000));
      await sub.subscribe(state.channels.catalog, state.channels.auth);
    } catch (err) {
      sub.disconnect();
      client.disconnect();
      throw new Error(`Redis subscription failed: ${(err as Error).message}`);
    }
    return state;
  }

  private deliver(channel: string, message: string): void {
    const sep = message.indexOf(' ');
    if (sep < 0 || message.slice(0, sep) === this.me) return; // our own notice, already applied
    let notice: { group: string; change?: CatalogChange };
    try {
      notice = JSON.parse(message.slice(sep + 1)) as { group: string; change?: CatalogChange };
    } catch {
      return;
    }
    const list = channel === this.channels.catalog ? this.catalog : channel === this.channels.auth ? this.auth : [];
    for (const l of list) l(notice.group, notice.change, true);
  }

  private publish(channel: string, group: string, change?: CatalogChange): void {
    // A notice lost to an outage is made good by the resync when the subscriber returns.
    this.client.publish(channel, `${this.me} ${JSON.stringify({ group, change })}`).catch((err: Error) => this.logger.warn({ err: err.message, group }, 'change notice not sent'));
  }

  catalogChanged(group: string, change?: CatalogChange): void {
    for (const l of this.catalog) l(group, change, false);
    this.publish(this.channels.catalog, group, change);
  }

  authChanged(group: string): void {
    for (const l of this.auth) l(group, undefined, false);
    this.publish(this.channels.auth, group);
  }

  onCatalogChanged(listener: ChangeListener): void {
    this.catalog.push(listener);
  }

  onAuthChanged(listener: ChangeListener): void {
    this.auth.push(listener);
  }

  onResync(listener: () => void): void {
    this.resync.push(listener);
  }

  async withLock(name: string, ttlMs: number, fn: () => Promise<unknown>): Promise<boolean> {
    const key = `${this.ns}lock:${name}`;
    const token = randomBytes(12).toString('hex');
    const got = await redisCall('taking a lock', () => this.client.set(key, token, 'PX', ttlMs, 'NX'));
    if (got !== 'OK') return false;
    try {
      await fn();
      return true;
    } finally {
      await this.client.eval(RELEASE, 1, key, token).catch(() => undefined); // it expires anyway
    }
  }

  async close(): Promise<void> {
    this.sub.disconnect();
    this.client.disconnect();
  }
}
