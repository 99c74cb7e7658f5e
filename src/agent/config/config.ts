// The cinema agent's configuration: one schema, checked once at start. Every refusal names the
// field, so a technician editing /etc/cineswarm/agent.json knows exactly what to fix.
import fs from 'node:fs/promises';
import cronParser from 'cron-parser';
import { AGENT_STORAGE } from '../../engine/settings.js';
import type { StorageKind } from '../../engine/index.js';
import { parseKdmSection, type KdmConfig } from '../kdm/kdm-config.js';

export interface GroupCredentials {
  id: string;
  password: string;
}

export interface BandwidthRule {
  cron: string;
  /** 0 = unlimited */
  downloadKiBps: number;
  /** 0 = unlimited */
  uploadKiBps: number;
}

export interface AgentConfig {
  id: string;
  server: string;
  groups: GroupCredentials[];
  dataDir: string;
  downloadDir: string;
  ingestDir: string;
  listen: { host: string; port: number };
  /** longPollSeconds: hold of each long poll of the torrent list (0 = interval polling only) */
  poll: { intervalSeconds: number; jitterSeconds: number; maxBackoffSeconds: number; longPollSeconds: number };
  web?: { host: string; port: number; password?: string };
  snmp?: { agentx: string };
  bandwidth: BandwidthRule[];
  minFreeBytes: number;
  /** how often resume data of active torrents is saved (a power cut loses at most this much work) */
  resumeSaveSeconds: number;
  /** how often progress is reported to the server while downloading */
  reportIntervalSeconds: number;
  /** libtorrent knobs for test rigs on loopback; not needed in a cinema */
  engine: { allowMultipleConnectionsPerIp: boolean; enableUtp: boolean; storage: StorageKind };
  /** firmware bundles fetched from the central server and staged for the root updater */
  firmware: { autoUpdate: boolean; checkMinutes: number; publicKey: string };
  /** KDM delivery; absent: encrypted DCPs are shown without keys and no certificate is registered */
  kdm?: KdmConfig;
  /**
   * Retired DCPs (withdrawn or cleaned up on the server) are removed `keepDays` after they were
   * retired (0: never), never while a file named `inUseMarker` is in their ingest or download
   * folder (the TMS's lock file, or one a person puts there).
   */
  retention: { keepDays: number; inUseMarker: string };
}

export class ConfigError extends Error {
  readonly code = 'BAD_CONFIG';
  constructor(message: string) {
    super(`config: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Longest wait between polls while the server cannot be reached (jitter comes on top). A long
 * cap saves a dead server little and leaves every cinema blind for as long once it is back. */
export const DEFAULT_MAX_BACKOFF_SECONDS = 90;

const GROUP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Obj, key: string, field: string, fallback?: string): string {
  const v = o[key] ?? fallback;
  if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(`${field} must be a non-empty string`);
  return v;
}

function num(o: Obj, key: string, field: string, opts: { fallback?: number; min?: number; positive?: boolean; integer?: boolean; max?: number }): number {
  const v = o[key] ?? opts.fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${field} must be a number`);
  if (opts.positive && v <= 0) throw new ConfigError(`${field} must be a positive number`);
  if (opts.min !== undefined && v < opts.min) throw new ConfigError(`${field} must be ${opts.min} or more`);
  if (opts.max !== undefined && v > opts.max) throw new ConfigError(`${field} must be ${opts.max} or less`);
  if (opts.integer && !Number.isInteger(v)) throw new ConfigError(`${field} must be a whole number`);
  return v;
}

function bool(o: Obj, key: string, field: string, fallback: boolean): boolean {
  const v = o[key] ?? fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`${field} must be true or false`);
  return v;
}

function storageKind(o: Obj): StorageKind {
  const v = o.storage ?? AGENT_STORAGE;
  if (v !== 'mmap' && v !== 'posix') throw new ConfigError(`engine.storage must be "mmap" or "posix" (got ${JSON.stringify(v)})`);
  return v;
}

function section(o: Obj, key: string, required: boolean): Obj | undefined {
  const v = o[key];
  if (v === undefined && !required) return undefined;
  if (!isObj(v)) throw new ConfigError(`${key} must be an object`);
  return v;
}

const KNOWN_KEYS = new Set(['id', 'server', 'groups', 'dataDir', 'downloadDir', 'ingestDir', 'listen', 'poll', 'web', 'snmp', 'bandwidth', 'minFreeBytes', 'resumeSaveSeconds', 'reportIntervalSeconds', 'engine', 'firmware', 'kdm', 'retention']);

/** Checks a parsed JSON value against the schema; returns a complete config with defaults filled. */
export function validateConfig(raw: unknown): AgentConfig {
  if (!isObj(raw)) throw new ConfigError('the file must hold a JSON object');
  for (const key of Object.keys(raw)) {
    if (!KNOWN_KEYS.has(key)) throw new ConfigError(`${key} is not a known setting (typo?)`);
  }
  const id = str(raw, 'id', 'id');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id)) throw new ConfigError('id may hold only letters, digits, dot, dash and underscore (1-64 characters)');
  const server = str(raw, 'server', 'server');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new ConfigError(`server must be a URL like http://seed.example.com:8600 (got "${server}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('server must be an http:// or https:// URL');

  if (!Array.isArray(raw.groups)) throw new ConfigError('groups must be a list of {id, password}');
  const seen = new Set<string>();
  const groups = raw.groups.map((g, i): GroupCredentials => {
    if (!isObj(g)) throw new ConfigError(`groups[${i}] must be an object {id, password}`);
    const gid = str(g, 'id', `groups[${i}].id`);
    if (!GROUP_ID.test(gid)) throw new ConfigError(`groups[${i}].id "${gid}" is not a valid group id`);
    if (seen.has(gid)) throw new ConfigError(`groups[${i}].id "${gid}" is listed twice`);
    seen.add(gid);
    return { id: gid, password: str(g, 'password', `groups[${i}].password`) };
  });

  const listenObj = section(raw, 'listen', false) ?? {};
  const listen = {
    host: str(listenObj, 'host', 'listen.host', '0.0.0.0'),
    port: num(listenObj, 'port', 'listen.port', { fallback: 6881, min: 0, max: 65535, integer: true }),
  };
  const pollObj = section(raw, 'poll', false) ?? {};
  const poll = {
    intervalSeconds: num(pollObj, 'intervalSeconds', 'poll.intervalSeconds', { fallback: 60, positive: true }),
    jitterSeconds: num(pollObj, 'jitterSeconds', 'poll.jitterSeconds', { fallback: 30, min: 0 }),
    // With the shipped interval and jitter, a server that is back is seen within two minutes.
    maxBackoffSeconds: num(pollObj, 'maxBackoffSeconds', 'poll.maxBackoffSeconds', { fallback: DEFAULT_MAX_BACKOFF_SECONDS, positive: true }),
    longPollSeconds: num(pollObj, 'longPollSeconds', 'poll.longPollSeconds', { fallback: 50, min: 0, max: 3600, integer: true }),
  };
  const webObj = section(raw, 'web', false);
  const web = webObj && {
    host: str(webObj, 'host', 'web.host', '0.0.0.0'),
    port: num(webObj, 'port', 'web.port', { fallback: 8680, min: 0, max: 65535, integer: true }),
    password: webObj.password === undefined ? undefined : str(webObj, 'password', 'web.password'),
  };
  const snmpObj = section(raw, 'snmp', false);
  const snmp = snmpObj && { agentx: str(snmpObj, 'agentx', 'snmp.agentx') };

  const bwRaw = raw.bandwidth ?? [];
  if (!Array.isArray(bwRaw)) throw new ConfigError('bandwidth must be a list of {cron, downloadKiBps, uploadKiBps}');
  const bandwidth = bwRaw.map((r, i): BandwidthRule => {
    if (!isObj(r)) throw new ConfigError(`bandwidth[${i}] must be an object {cron, downloadKiBps, uploadKiBps}`);
    const cron = str(r, 'cron', `bandwidth[${i}].cron`);
    try {
      cronParser.parseExpression(cron);
    } catch {
      throw new ConfigError(`bandwidth[${i}].cron "${cron}" is not a cron expression like "0 9 * * *"`);
    }
    return {
      cron,
      downloadKiBps: num(r, 'downloadKiBps', `bandwidth[${i}].downloadKiBps`, { fallback: 0, min: 0 }),
      uploadKiBps: num(r, 'uploadKiBps', `bandwidth[${i}].uploadKiBps`, { fallback: 0, min: 0 }),
    };
  });
  const engineObj = section(raw, 'engine', false) ?? {};
  const fwObj = section(raw, 'firmware', false) ?? {};
  const firmware = {
    autoUpdate: bool(fwObj, 'autoUpdate', 'firmware.autoUpdate', false),
    // Fractions are allowed so test rigs can check every second or so.
    checkMinutes: num(fwObj, 'checkMinutes', 'firmware.checkMinutes', { fallback: 60, positive: true }),
    publicKey: str(fwObj, 'publicKey', 'firmware.publicKey', '/etc/cineswarm/firmware-key.pem'),
  };
  return {
    id,
    server: server.replace(/\/+$/, ''),
    groups,
    dataDir: str(raw, 'dataDir', 'dataDir'),
    downloadDir: str(raw, 'downloadDir', 'downloadDir'),
    ingestDir: str(raw, 'ingestDir', 'ingestDir'),
    listen,
    poll,
    web,
    snmp,
    bandwidth,
    minFreeBytes: num(raw, 'minFreeBytes', 'minFreeBytes', { fallback: 10 * 1024 ** 3, min: 0 }),
    resumeSaveSeconds: num(raw, 'resumeSaveSeconds', 'resumeSaveSeconds', { fallback: 30, positive: true }),
    reportIntervalSeconds: num(raw, 'reportIntervalSeconds', 'reportIntervalSeconds', { fallback: 30, positive: true }),
    engine: {
      allowMultipleConnectionsPerIp: bool(engineObj, 'allowMultipleConnectionsPerIp', 'engine.allowMultipleConnectionsPerIp', false),
      enableUtp: bool(engineObj, 'enableUtp', 'engine.enableUtp', false),
      storage: storageKind(engineObj),
    },
    firmware,
    ...kdmSection(raw.kdm),
    retention: retentionSection(raw),
  };
}

function retentionSection(raw: Record<string, unknown>): AgentConfig['retention'] {
  const r = section(raw, 'retention', false) ?? {};
  const inUseMarker = str(r, 'inUseMarker', 'retention.inUseMarker', '.in-use');
  // A name, not a path: it is looked for inside each DCP's folders.
  if (!inUseMarker || inUseMarker.includes('/') || inUseMarker === '.' || inUseMarker === '..') {
    throw new ConfigError(`retention.inUseMarker must be a file name like ".in-use" (got "${inUseMarker}")`);
  }
  return { keepDays: num(r, 'keepDays', 'retention.keepDays', { fallback: 30, min: 0 }), inUseMarker };
}

function kdmSection(raw: unknown): { kdm?: KdmConfig } {
  const kdm = parseKdmSection(raw, (m) => {
    throw new ConfigError(m);
  });
  return kdm ? { kdm } : {};
}

/** Reads and validates the config file; errors say which file and which field. */
export async function loadConfig(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? `file ${file} does not exist` : `cannot read ${file} (${code ?? String(err)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return validateConfig(parsed);
}
