// What a person asked of each DCP (pause, re-verify, accept a re-release), kept apart from
// what the pipeline reached: dataDir/intent.json, written durably, so a pause survives a restart
// and a verify's outcome can never overwrite it.
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../util/durable-write.js';
import type { HistoryStore } from './history-store.js';

export interface Intent {
  /** a person paused it: the engine torrent stays paused, nothing new starts for it */
  paused?: boolean;
  /** a person asked for the DCP to be verified again (cleared when that verify starts) */
  reverify?: boolean;
  /** a person accepted this info hash as the re-release of a name we have (cleared once its
   * version is in the history) */
  accept?: boolean;
  /** a person left its group with `leave --delete`: once retired, its copies go without keepDays */
  delete?: boolean;
}

interface IntentData {
  version: 1;
  torrents: Record<string, Intent>;
}

const NONE: Intent = Object.freeze({});

export class IntentStore {
  private data: IntentData = { version: 1, torrents: {} };
  private chain: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  static async open(dataDir: string): Promise<IntentStore> {
    const store = new IntentStore(path.join(dataDir, 'intent.json'));
    try {
      const raw = JSON.parse(await fs.readFile(store.file, 'utf8')) as Partial<IntentData>;
      if (raw && typeof raw.torrents === 'object' && raw.torrents) store.data = { version: 1, torrents: raw.torrents };
    } catch (err) {
      // Written atomically, so only a missing file is expected; anything else is a person's edit.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${store.file}: ${(err as Error).message}`);
    }
    return store;
  }

  get(infoHash: string): Intent {
    return this.data.torrents[infoHash] ?? NONE;
  }

  /** Changes what a person asked for and persists it before resolving. */
  async set(infoHash: string, patch: Intent): Promise<void> {
    const next: Intent = { ...this.get(infoHash), ...patch };
    for (const k of Object.keys(next) as (keyof Intent)[]) if (!next[k]) delete next[k];
    if (Object.keys(next).length) this.data.torrents[infoHash] = next;
    else delete this.data.torrents[infoHash];
    const write = this.chain.then(() => writeFileAtomic(this.file, JSON.stringify(this.data, null, 2)));
    this.chain = write.catch(() => undefined);
    await write;
  }
}

/** Histories written before intent.json held "paused" as a pipeline state: it is a person's pause. */
export async function migratePausedState(history: HistoryStore, intent: IntentStore): Promise<void> {
  for (const e of history.all()) {
    if (e.state !== 'paused') continue;
    await intent.set(e.infoHash, { paused: true });
    await history.updateByHash(e.infoHash, { state: e.verify.state === 'passed' ? 'seeding' : 'queued' });
  }
}
