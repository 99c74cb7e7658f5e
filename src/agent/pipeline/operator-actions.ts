// What a person asks of a DCP from the page or the CLI: pause, resume, re-verify. Each is stored
// as intent (intent-store.ts), apart from the pipeline state, and carried out by the loop; each
// resolves once the loop has applied it.
import type { HistoryEntry, HistoryStore } from './history-store.js';
import type { IntentStore } from './intent-store.js';
import type { EngineLink } from './engine-link.js';
import type { PipelineLoop } from './loop.js';

export class OperatorActions {
  constructor(private readonly o: { history: HistoryStore; intent: IntentStore; loop: PipelineLoop; engine: EngineLink }) {}

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
}
