// The server's config file (JSON), checked once at start: a wrong field stops the server with
// a message naming it. Command-line flags override the file.
import net from 'node:net';
import { DEFAULT_TORRENT_LIMITS, type TorrentLimits } from './torrent-limits.js';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  publicUrl?: string;
  retentionDays: number;
  cleanupCron: string;
  announceIntervalSeconds: number;
  /** longest hold of a torrent-list long poll (GET …/torrents?wait=S); default 60 */
  maxWaitSeconds?: number;
  torrentLimits?: Partial<TorrentLimits>;
  trustedProxies?: string[];
  /** file of the admin token; default DATA/admin-token */
  adminTokenFile?: string;
  openGroups: boolean;
  stalledAfterMinutes: number;
  silentAfterMinutes: number;
  /** where groups live: the directory under dataDir (default) or an S3 bucket */
  store?: StoreConfig;
  /** redis://HOST:PORT/DB shared by replicas; without it, tracker state stays in this process */
  redis?: string;
}

export type StoreConfig = { kind: 'dir' } | { kind: 's3'; bucket: string; prefix?: string; endpoint?: string; region?: string };

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function isStoreConfig(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  if (o.kind === 'dir') return Object.keys(o).length === 1;
  if (o.kind !== 's3') return false;
  for (const k of Object.keys(o)) if (!['kind', 'bucket', 'prefix', 'endpoint', 'region'].includes(k)) return false;
  if (typeof o.bucket !== 'string' || !BUCKET_RE.test(o.bucket)) return false;
  if (o.prefix !== undefined && (typeof o.prefix !== 'string' || o.prefix.startsWith('/'))) return false;
  if (o.endpoint !== undefined && (typeof o.endpoint !== 'string' || !/^https?:\/\/[^/]+/.test(o.endpoint))) return false;
  return o.region === undefined || (typeof o.region === 'string' && o.region.length > 0);
}

/** `s3://BUCKET/PREFIX` of the command line as a store config. */
export function parseStoreUrl(url: string, endpoint?: string, region?: string): StoreConfig {
  if (url === 'dir') return { kind: 'dir' };
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m) throw new ConfigError(`command line: --store must be s3://BUCKET/PREFIX (or dir), not '${url}'`);
  return { kind: 's3', bucket: m[1]!, prefix: m[2] ?? '', ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}) };
}

export const SERVER_DEFAULTS: ServerConfig = {
  host: '0.0.0.0',
  port: 8600,
  dataDir: '/srv/cineswarm/server',
  retentionDays: 30,
  cleanupCron: '17 * * * *',
  announceIntervalSeconds: 60,
  openGroups: false,
  stalledAfterMinutes: 10,
  silentAfterMinutes: 30,
};

export class ConfigError extends Error {
  readonly code = 'BAD_CONFIG';
}

type Check = (v: unknown) => boolean;
const FIELDS: Record<keyof ServerConfig, [Check, string]> = {
  host: [(v) => typeof v === 'string' && v.length > 0, 'a host name or address'],
  port: [(v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535, 'a port number from 0 to 65535'],
  dataDir: [(v) => typeof v === 'string' && v.length > 0, 'a directory path'],
  publicUrl: [(v) => typeof v === 'string' && /^https?:\/\/[^/]+/.test(v), 'an http(s) URL such as http://seed.example:8600'],
  retentionDays: [(v) => typeof v === 'number' && v > 0, 'a positive number of days'],
  cleanupCron: [(v) => typeof v === 'string' && v.trim().split(/\s+/).length >= 5, 'a cron rule such as "17 * * * *"'],
  announceIntervalSeconds: [(v) => Number.isInteger(v) && (v as number) > 0, 'a positive whole number of seconds'],
  maxWaitSeconds: [(v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 3600, 'a whole number of seconds from 0 to 3600'],
  torrentLimits: [
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      Object.entries(v).every(([k, n]) => k in DEFAULT_TORRENT_LIMITS && Number.isInteger(n) && (n as number) > 0),
    `an object of positive whole numbers among ${Object.keys(DEFAULT_TORRENT_LIMITS).join(', ')}`,
  ],
  trustedProxies: [
    (v) => Array.isArray(v) && v.every((a) => typeof a === 'string' && net.isIP(a.split('/')[0] ?? '') !== 0),
    'a list of proxy addresses or CIDR ranges such as ["127.0.0.1", "10.0.0.0/8"]',
  ],
  store: [
    isStoreConfig,
    '{"kind": "dir"} or {"kind": "s3", "bucket": "…", "prefix"?, "endpoint"?: "http(s)://…", "region"?} with a valid bucket name',
  ],
  redis: [(v) => typeof v === 'string' && /^rediss?:\/\/[^/]+/.test(v), 'a URL such as redis://127.0.0.1:6379/0'],
  adminTokenFile: [(v) => typeof v === 'string' && v.length > 0, 'a file path'],
  openGroups: [(v) => typeof v === 'boolean', 'true or false'],
  stalledAfterMinutes: [(v) => typeof v === 'number' && v > 0, 'a positive number of minutes'],
  silentAfterMinutes: [(v) => typeof v === 'number' && v > 0, 'a positive number of minutes'],
};

/** Validates a parsed config object (all fields optional) over the defaults. */
export function checkServerConfig(raw: unknown, source: string): ServerConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(`${source}: expected a JSON object`);
  const out: ServerConfig = { ...SERVER_DEFAULTS };
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in FIELDS)) throw new ConfigError(`${source}: unknown field '${key}' (known: ${Object.keys(FIELDS).join(', ')})`);
    const [ok, what] = FIELDS[key as keyof ServerConfig];
    if (!ok(value)) throw new ConfigError(`${source}: field '${key}' must be ${what}, not ${JSON.stringify(value)}`);
    (out as unknown as Record<string, unknown>)[key] = value;
  }
  return out;
}
