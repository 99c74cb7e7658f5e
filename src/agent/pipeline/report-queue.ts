// Delivery reports to the server, kept apart from the downloads: only the newest report per
// (group, torrent) is kept, a failed POST is retried on the next flush, and nothing here ever
// waits on the downloads or blocks them.
import type { Logger } from 'pino';
import type { GroupAuth, ReportBody, ServerClient } from '../../protocol/index.js';

export class ReportQueue {
  private readonly pending = new Map<string, { group: GroupAuth; body: ReportBody; seq: number }>();
  private seq = 0;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly client: ServerClient,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  push(group: GroupAuth, body: ReportBody): void {
    this.pending.set(`${group.id}\0${body.infoHash}`, { group, body, seq: ++this.seq });
  }

  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      for (const [key, item] of [...this.pending]) {
        try {
          await this.client.report(item.group, item.body);
          // A newer report may have replaced this one while the POST was in flight.
          if (this.pending.get(key)?.seq === item.seq) this.pending.delete(key);
        } catch (err) {
          this.log.debug({ err: (err as Error).message, group: item.group.id }, 'report not delivered; will retry');
          if ((err as { code?: string }).code === 'UNREACHABLE') break; // the rest would fail the same way
        }
      }
    })().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }
}
