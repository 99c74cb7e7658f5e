// What a person asks of a DCP from the page or the CLI: pause, resume, re-verify, accept a
// re-release. Each is stored
// as intent (intent-store.ts), apart from the pipeline state, and carried out by the loop; each
// resolves once the loop has applied it.
import type { ConflictEntry, HistoryEntry, HistoryStore } from './history-store.js';
import type { IntentStore } from './intent-store.js';
import type { EngineLink } from './engine-link.js';
import type { PipelineLoop } from './loop.js';

export class OperatorActions {
  constructor(
    private readonly o: {
      history: HistoryStore;
      intent: IntentStore;
      loop: PipelineLoop;
      engine: EngineLink;
      /** the conflict's group still lists the offered version (by its last listing) */
      offered: (c: ConflictEntry) => boolean;
    },
  ) {}

  private entry(infoHash: string): HistoryEntry {
    const e = this.o.history.all().find((x) => x.infoHash === infoHash);
    if (!e) throw Object.assign(new Error(`no torrent ${infoHash}`), { code: 'NOT_FOUND' });
    return e;
  }

  /** Resolves once the loop has paused the engine torrent (a verify under way ends first, and the pause holds). */
  async pause(infoHash: string): Promise<void> {
    this.entry(infoHash);
    await this.o.intent.set(infoHash, { paused: true });
    await this.o.loop.afterNextPass('operator: pause');
  }

  async resume(infoHash: string): Promise<void> {
    this.entry(infoHash);
    await this.o.intent.set(infoHash, { paused: false });
    await this.o.loop.afterNextPass('operator: resume');
  }

  /** Resolves when the verification asked for has ended. */
  async reverify(infoHash: string): Promise<void> {
    const e = this.entry(infoHash);
    const st = this.o.engine.torrent(infoHash)?.status();
    if (!st || !(st.isFinished || st.isSeeding)) throw Object.assign(new Error(`${e.name} is not downloaded yet; it is verified by itself when complete`), { code: 'NOT_READY' });
    const done = this.o.loop.waitForStep((s) => s.kind === 'verify' && s.infoHash === infoHash);
    await this.o.intent.set(infoHash, { reverify: true });
    this.o.loop.markChanged('operator: re-verify');
    await done;
  }

  /** Accepts the re-release of `name` its group offers; resolves once the loop has put the new
   * version in the history (it then downloads, verifies and takes the name over in ingest). */
  async accept(name: string): Promise<string> {
    const { history, intent, loop } = this.o;
    const waiting = history.conflicts().filter((c) => c.name === name);
    if (waiting.length === 0) {
      const pending = history.versions(name).find((v) => v.replaces && !v.supersededBy && history.byHash(v.replaces)?.supersededBy !== v.infoHash);
      if (pending) return `The re-release of ${name} (${pending.infoHash.slice(0, 12)}) was accepted already; it is ${pending.state}.`;
      const why = history.versions(name).length ? 'no other version of it is offered' : 'no DCP of that name is here';
      throw Object.assign(new Error(`Nothing to accept for ${name}: ${why}.`), { code: 'NOT_FOUND' });
    }
    const c = waiting.filter((x) => this.o.offered(x)).sort((a, b) => b.seenAt.localeCompare(a.seenAt))[0];
    if (!c) throw Object.assign(new Error(`Nothing to accept for ${name}: group ${waiting[0].group} no longer lists the other version.`), { code: 'NOT_OFFERED' });
    await intent.set(c.offeredInfoHash, { accept: true });
    await loop.afterNextPass('operator: accept');
    const e = history.byHash(c.offeredInfoHash);
    if (!e) throw Object.assign(new Error(`Accepted ${name}, but it could not be started yet; see the agent's log.`), { code: 'NOT_STARTED' });
    return `Accepted the re-release of ${name} (${e.infoHash.slice(0, 12)}) from group ${e.group}; it downloads now and replaces the version in ingest once verified.`;
  }
}
