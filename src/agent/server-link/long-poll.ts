// Long polls of each group's torrent list (GET …/torrents?wait=S with the list's ETag): the server
// answers the moment a DCP is added or withdrawn, so the agent learns of it within seconds. Still a
// poll in the patent's sense; the jittered interval poll stays as the fallback, and this only
// triggers it. A server that does not hold polls (answers 304 at once) is asked again only after
// the fallback delay, so an old server is never hammered.
import type { Logger } from 'pino';
import type { ServerClient } from '../../protocol/index.js';
import type { GroupCredentials } from '../config/config.js';

export interface LongPollOptions {
  client: ServerClient;
  /** the groups in the config now (joined/left at runtime) */
  groups: () => GroupCredentials[];
  waitSeconds: number;
  /** a group's list changed: poll now */
  onChange: () => void;
  /** ms to wait after an error or an unheld answer (the jittered interval) */
  fallbackMs: () => number;
  logger: Logger;
}

/** An answer faster than this to a wait of many seconds means the server did not hold it. */
const UNHELD_MS = 1000;

export class LongPoll {
  private readonly running = new Map<string, AbortController>();
  private stopped = false;

  constructor(private readonly o: LongPollOptions) {}

  /** Starts a long poll for every configured group without one; ends those of groups that left. */
  sync(): void {
    if (this.stopped || this.o.waitSeconds <= 0) return;
    const ids = new Set(this.o.groups().map((g) => g.id));
    for (const [id, ac] of this.running) if (!ids.has(id)) (ac.abort(), this.running.delete(id));
    for (const g of this.o.groups()) {
      if (this.running.has(g.id)) continue;
      const ac = new AbortController();
      this.running.set(g.id, ac);
      void this.loop(g.id, ac.signal);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const ac of this.running.values()) ac.abort();
    this.running.clear();
  }

  private async loop(id: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const g = this.o.groups().find((x) => x.id === id);
      if (!g) break;
      const t0 = Date.now();
      let rest = false;
      try {
        const { changed } = await this.o.client.listTorrents(g, { waitSeconds: this.o.waitSeconds, signal });
        if (changed) this.o.onChange();
        else rest = Date.now() - t0 < UNHELD_MS;
      } catch (err) {
        if (signal.aborted) break;
        this.o.logger.debug({ group: id, err: (err as Error).message }, 'long poll failed; the interval poll carries on');
        rest = true;
      }
      if (rest) await sleep(this.o.fallbackMs(), signal);
    }
    if (this.running.get(id)?.signal === signal) this.running.delete(id);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
