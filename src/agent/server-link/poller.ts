// One poll of every group in the running config: the torrent lists (the target) and each group's
// join state. A group that fails keeps its last known list and does not stop the others; the
// loop is told that something changed, nothing else is done here.
import type { Logger } from 'pino';
import type { GroupCredentials } from '../config/config.js';
import type { RuntimeConfig } from '../config/runtime-config.js';
import type { ApiError, ServerClient, TorrentSummary } from '../../protocol/index.js';
import { ALARM_CODES, type AlarmBook } from '../monitoring/alarms.js';
import type { GroupListing } from '../pipeline/planner.js';
import type { GroupView } from '../monitoring/status-types.js';
import type { PollOutcome } from './poll-schedule.js';

export class Poller {
  private readonly views = new Map<string, GroupView>();
  private readonly lists = new Map<string, { torrents: TorrentSummary[]; ok: boolean }>();
  lastPollAt: string | null = null;

  constructor(
    private readonly config: RuntimeConfig,
    private readonly client: ServerClient,
    private readonly alarms: AlarmBook,
    private readonly changed: (reason: string) => void,
    private readonly log: Logger,
  ) {
    this.syncGroups();
  }

  private get groups(): GroupCredentials[] {
    return this.config.current.groups;
  }

  /** Follows the config's group list: new groups start joining, removed ones are forgotten (left). */
  syncGroups(): { joined: string[]; left: string[] } {
    const want = new Set(this.groups.map((g) => g.id));
    const joined = this.groups.filter((g) => !this.views.has(g.id)).map((g) => g.id);
    const left = [...this.views.keys()].filter((id) => !want.has(id));
    for (const id of joined) this.views.set(id, { id, state: 'joining' });
    for (const id of left) {
      this.views.delete(id);
      this.lists.delete(id);
      this.log.info({ group: id }, `left group ${id}`);
    }
    return { joined, left };
  }

  /** The groups of the running config with what their last polls said, for the planner. */
  listings(): GroupListing[] {
    return this.groups.map((g) => {
      const l = this.lists.get(g.id);
      return { id: g.id, torrents: l?.torrents, listedOk: Boolean(l?.ok) };
    });
  }

  groupViews(): GroupView[] {
    return this.groups.map((g) => ({ ...(this.views.get(g.id) ?? { id: g.id, state: 'joining' as const }) }));
  }

  async pollOnce(): Promise<PollOutcome> {
    let reached = 0;
    const groups = this.groups;
    await Promise.all(groups.map(async (g) => ((await this.pollGroup(g)) ? reached++ : undefined)));
    this.lastPollAt = new Date().toISOString();
    const unreachable = groups.length > 0 && reached === 0;
    if (unreachable) this.alarms.raise(ALARM_CODES.SERVER_UNREACHABLE, 'warning', `The central server at ${this.config.current.server} cannot be reached; downloads in progress continue, new DCPs wait.`);
    else this.alarms.clear(ALARM_CODES.SERVER_UNREACHABLE);
    this.changed('poll result');
    return unreachable ? 'unreachable' : 'ok';
  }

  /** Polls one group; true when the server answered (with a list or a refusal). */
  private async pollGroup(g: GroupCredentials): Promise<boolean> {
    try {
      const { list } = await this.client.listTorrents(g);
      const view = this.views.get(g.id);
      if (!view) return true; // left while the request was out
      this.lists.set(g.id, { torrents: list, ok: true });
      if (view.state !== 'joined') this.log.info({ group: g.id }, `joined group ${g.id}`);
      Object.assign(view, { state: 'joined', message: undefined, lastPollAt: new Date().toISOString() });
      return true;
    } catch (err) {
      const e = err as ApiError;
      const view = this.views.get(g.id);
      const known = this.lists.get(g.id);
      if (known) known.ok = false;
      if (!view) return e.code !== 'UNREACHABLE';
      const state = e.code === 'UNAUTHORIZED' ? 'unauthorized' : e.code === 'NOT_FOUND' ? 'not-found' : 'unreachable';
      const message =
        state === 'unauthorized' ? `the server refused the password of group ${g.id}; check the config` : state === 'not-found' ? `the server does not know group ${g.id}` : e.message;
      if (view.state !== state || view.message !== message) this.log.warn({ group: g.id, state }, message);
      Object.assign(view, { state, message });
      return state !== 'unreachable';
    }
  }
}
