// Joining and leaving groups: the member password is checked against the server first, then the
// config file's `groups` is rewritten atomically (every other key kept as written) and the new
// config handed to whoever runs it. Used by the running agent (local API, status page) and by
// `cineswarm join` / `leave` when no agent runs.
import fs from 'node:fs/promises';
import { ApiError, ServerClient } from '../../protocol/index.js';
import { writeFileAtomic } from '../../util/durable-write.js';
import { ConfigError, validateConfig, type AgentConfig, type GroupCredentials } from './config.js';
import { HistoryStore } from '../pipeline/history-store.js';
import { IntentStore } from '../pipeline/intent-store.js';

export type MembershipErrorCode = 'GROUP_REFUSED' | 'SERVER_BUSY' | 'SERVER_UNREACHABLE' | 'NOT_JOINED' | 'BAD_CONFIG';

/** A refusal with one line a person can act on; `status` is what the local API answers with. */
export class MembershipError extends Error {
  constructor(
    readonly code: MembershipErrorCode,
    message: string,
    readonly status: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'MembershipError';
  }
}

/**
 * Lists the group's torrents with the member password. The server answers 401 alike for a wrong
 * password and an unknown group (so ids cannot be probed), and so does this refusal.
 */
export async function checkGroupCredentials(server: string, g: GroupCredentials): Promise<void> {
  try {
    await new ServerClient(server, { timeoutMs: 10_000 }).listTorrents(g);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.code === 'UNAUTHORIZED') {
      throw new MembershipError('GROUP_REFUSED', `the server at ${server} refused group ${g.id}: wrong password or no such group`, 403);
    }
    if (err.code === 'RATE_LIMITED') {
      const wait = err.retryAfterSeconds ? `wait ${err.retryAfterSeconds} s` : 'wait a few minutes';
      throw new MembershipError('SERVER_BUSY', `the server at ${server} refuses more tries for group ${g.id} for now (too many wrong passwords); ${wait} and try again`, 429, err.retryAfterSeconds);
    }
    if (err.code === 'UNREACHABLE') throw new MembershipError('SERVER_UNREACHABLE', `${err.message}; nothing was changed`, 502);
    throw new MembershipError('SERVER_UNREACHABLE', `the server at ${server} answered ${err.status ?? 'an error'} for group ${g.id}; nothing was changed`, 502);
  }
}

/**
 * Rewrites `groups` in the config file: the rest stays as the person wrote it. The result is
 * validated before anything is written, so a refused edit leaves the file as it was.
 */
export async function editConfigGroups(file: string, edit: (groups: GroupCredentials[]) => GroupCredentials[]): Promise<AgentConfig> {
  let raw: Record<string, unknown>;
  let mode = 0o600;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    mode = (await fs.stat(file)).mode & 0o777;
  } catch (err) {
    throw new MembershipError('BAD_CONFIG', `cannot read the config ${file}: ${(err as Error).message}`, 500);
  }
  const groups = Array.isArray(raw.groups) ? (raw.groups as GroupCredentials[]) : [];
  const next = { ...raw, groups: edit(groups.map((g) => ({ ...g }))) };
  let config: AgentConfig;
  try {
    config = validateConfig(next);
  } catch (err) {
    if (err instanceof ConfigError) throw new MembershipError('BAD_CONFIG', `config ${file}: ${err.message}`, 400);
    throw err;
  }
  await writeFileAtomic(file, JSON.stringify(next, null, 2) + '\n');
  // The file holds passwords: the temp file is 0600, a person's wider choice is kept.
  await fs.chmod(file, mode);
  return config;
}

/** `leave --delete` with no agent running: the group's DCPs are marked in the agent's intent
 * (dataDir/intent.json) and go when the agent next starts and retires them. */
export async function markGroupForDeletion(dataDir: string, groupId: string): Promise<number> {
  const history = await HistoryStore.open(dataDir);
  const intent = await IntentStore.open(dataDir);
  const mine = history.all().filter((e) => e.group === groupId && !e.removedAt);
  for (const e of mine) await intent.set(e.infoHash, { delete: true });
  return mine.length;
}

/** The groups without `id`; refused (nothing written) when the agent is not in it. */
export function leaveGroup(groups: GroupCredentials[], id: string): GroupCredentials[] {
  if (!groups.some((x) => x.id === id)) throw new MembershipError('NOT_JOINED', `this agent is not in group ${id}`, 404);
  return groups.filter((x) => x.id !== id);
}

/** The groups with `g` joined (or its password replaced when already there). */
export function joinGroup(groups: GroupCredentials[], g: GroupCredentials): GroupCredentials[] {
  return groups.some((x) => x.id === g.id) ? groups.map((x) => (x.id === g.id ? { ...x, password: g.password } : x)) : [...groups, { id: g.id, password: g.password }];
}

export interface MembershipOptions {
  configFile: string;
  /** the central server of the running config */
  server: () => string;
  /** hands the re-read config to the running agent (its reload) */
  apply: (config: AgentConfig) => Promise<unknown>;
  /** `leave --delete`: marks the group's DCPs for removal once retired; resolves with how many */
  markForDeletion?: (groupId: string) => Promise<number>;
}

/** Join and leave for the running agent, which owns its config file. */
export class Membership {
  constructor(private readonly opts: MembershipOptions) {}

  async join(g: GroupCredentials): Promise<string> {
    await checkGroupCredentials(this.opts.server(), g);
    let known = false;
    const config = await editConfigGroups(this.opts.configFile, (groups) => {
      known = groups.some((x) => x.id === g.id);
      return joinGroup(groups, g);
    });
    await this.opts.apply(config);
    return known ? `Group ${g.id}: password updated.` : `Joined group ${g.id}; its DCPs start with the next poll.`;
  }

  async leave(id: string, o: { deleteFiles?: boolean } = {}): Promise<string> {
    if (o.deleteFiles && !this.opts.markForDeletion) throw new MembershipError('BAD_CONFIG', 'this agent cannot delete the DCPs of a group it leaves', 503);
    const config = await editConfigGroups(this.opts.configFile, (groups) => leaveGroup(groups, id));
    // Marked before the reload retires them, so the removal follows in the same round of passes.
    const n = o.deleteFiles ? await this.opts.markForDeletion!(id) : 0;
    await this.opts.apply(config);
    if (o.deleteFiles) return `Left group ${id}; its ${n} DCP${n === 1 ? ' is' : 's are'} removed (download and ingest copies) unless another group offers them or they are marked in use.`;
    return `Left group ${id}; its DCPs are retired (kept until removed by hand or by retention).`;
  }
}
