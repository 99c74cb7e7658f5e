// Turns a DCP's state into delivery reports for its groups (and the groups that also offer it),
// keeps what was last reported for the planner, and the VERIFY_FAILED alarm that follows the
// same history. The queue behind it retries; nothing here waits on the server.
import type { AgentConfig } from '../config/config.js';
import { ALARM_CODES, type AlarmBook } from '../monitoring/alarms.js';
import type { HistoryEntry, HistoryStore } from './history-store.js';
import type { IntentStore } from './intent-store.js';
import type { EngineLink } from './engine-link.js';
import type { ReportQueue } from './report-queue.js';
import { reportKey, shownState } from './planner.js';
import type { DcpKdmView } from '../kdm/kdm-keeper.js';
import { torrentView } from '../monitoring/status-view.js';
import type { ReportBody } from '../../protocol/index.js';

/** What of a DCP's key state a report carries, as one comparable string. */
export function kdmKey(v: DcpKdmView | undefined): string {
  return v ? `${v.state}|${v.notValidAfter ?? ''}` : '';
}

export class Reporter {
  /** what was last reported per info hash, and when (the planner reads it) */
  readonly reported = new Map<string, { key: string; at: number }>();

  constructor(
    private readonly o: {
      config: () => AgentConfig;
      history: HistoryStore;
      intent: IntentStore;
      engine: EngineLink;
      queue: ReportQueue;
      alarms: AlarmBook;
      offers: ReadonlyMap<string, ReadonlySet<string>>;
      kdm: (infoHash: string) => DcpKdmView | undefined;
    },
  ) {}

  report(e: HistoryEntry): void {
    const { config, history, intent, engine, queue, alarms, offers, kdm } = this.o;
    const failed = history.all().filter((x) => x.state === 'failed' && x.verify.state === 'failed');
    if (failed.length) alarms.raise(ALARM_CODES.VERIFY_FAILED, 'critical', `Verification failed for ${failed.map((x) => x.name).join(', ')}.`);
    else alarms.clear(ALARM_CODES.VERIFY_FAILED);
    const wish = intent.get(e.infoHash);
    const st = engine.status(e.infoHash);
    // The same figures the status page shows, so the distributor and the projectionist agree.
    const view = torrentView(e, st, shownState(e, wish));
    const cfg = config();
    const keys = kdm(e.infoHash);
    const body: ReportBody = {
      peer: cfg.id, infoHash: e.infoHash, state: view.state, progress: view.progress, ...(e.message ? { message: e.message.slice(0, 1900) } : {}),
      role: 'cinema',
      downloadBps: Math.round(view.downloadBps),
      uploadBps: Math.round(view.uploadBps),
      ...(view.etaSeconds !== null ? { etaSeconds: view.etaSeconds } : {}),
      // The server takes at most 100 named failures; the first ones say what is wrong.
      verify: { state: view.verify.state, failed: view.verify.failed.slice(0, 100).map((f) => ({ path: f.path.slice(0, 1024), reason: f.reason.slice(0, 1000) })) },
      ...(keys ? { kdm: { state: keys.state, ...(keys.notValidAfter ? { notValidAfter: keys.notValidAfter } : {}) } } : {}),
      // a person's decision on this version (an accepted re-release, the version it replaced)
      ...(e.decision ? { decision: e.decision.slice(0, 200) } : {}),
    };
    // A left group is not told (its password may be gone); the groups still followed are.
    for (const gid of [e.group, ...(offers.get(e.name) ?? [])]) {
      const g = cfg.groups.find((x) => x.id === gid);
      if (g) queue.push(g, body);
    }
    this.reported.set(e.infoHash, { key: reportKey(e, wish, kdmKey(keys)), at: Date.now() });
    void queue.flush();
  }
}
