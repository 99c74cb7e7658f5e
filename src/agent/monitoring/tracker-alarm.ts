// TRACKER_ERROR alarm: raised while the tracker refuses or cannot be reached for any of our
// torrents, naming the DCPs and what the tracker said; cleared when every torrent announces again.
// libtorrent's retry delay grows with every failure (to many minutes after an outage), so torrents
// in error are asked again on our own bounded cadence, and at once when a poll reaches the server.
import type { Logger } from 'pino';
import type { EngineAlert, Session } from '../../engine/index.js';
import { ALARM_CODES, type AlarmBook } from './alarms.js';

/** Torrents in error announce again after this long plus up to RETRY_JITTER_MS (so a thousand
 * agents that lost the server together do not come back in the same second). */
const RETRY_MS = 20_000;
const RETRY_JITTER_MS = 20_000;

export class TrackerAlarm {
  /** infoHash → the last tracker error for that torrent, and when we announce it again */
  private readonly errors = new Map<string, { url: string; said: string; retryAt: number }>();

  constructor(
    private readonly alarms: AlarmBook,
    /** the DCP's name for a torrent, as the projectionist knows it */
    private readonly nameOf: (infoHash: string) => string | undefined,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  private nextRetry(): number {
    return this.clock() + RETRY_MS + this.random() * RETRY_JITTER_MS;
  }

  /** Announces the torrents in error whose retry is due (the agent's timer calls this). */
  retryDue(): void {
    const now = this.clock();
    for (const [ih, e] of this.errors) {
      if (e.retryAt > now) continue;
      e.retryAt = this.nextRetry();
      try {
        this.session?.torrents().find((t) => t.infoHash === ih)?.forceReannounce();
      } catch (err) {
        this.log.debug({ infoHash: ih, err: (err as Error).message }, 'could not announce again');
      }
    }
  }

  /** The central server answered a poll: its tracker is likely back, so ask it at once. */
  serverAnswered(): void {
    for (const e of this.errors.values()) e.retryAt = 0;
    this.retryDue();
  }

  private session: Session | null = null;

  attach(session: Session): void {
    this.session = session;
    session.on('tracker-error', (a: EngineAlert) => this.failed(a));
    session.on('tracker-reply', (a: EngineAlert) => this.answered(a));
    // A torrent taken out of the engine no longer announces: its error must not hold the alarm up.
    session.on('torrent-removed', (a: EngineAlert) => this.answered(a));
  }

  private failed(a: EngineAlert): void {
    if (!a.infoHash) return;
    // The "stopped" announce of a torrent being removed (a retired DCP) can be refused after it
    // left the engine: it announces no more, so it holds no alarm.
    if (this.session && !this.session.torrents().some((t) => t.infoHash === a.infoHash)) return;
    const said = (a.error || a.message).trim();
    const prev = this.errors.get(a.infoHash);
    if (!prev || prev.said !== said) this.log.debug({ infoHash: a.infoHash, url: a.url, error: said }, 'tracker error');
    this.errors.set(a.infoHash, { url: a.url ?? '', said, retryAt: prev?.retryAt ?? this.nextRetry() });
    this.update();
  }

  private answered(a: EngineAlert): void {
    if (!a.infoHash || !this.errors.delete(a.infoHash)) return;
    this.log.info({ infoHash: a.infoHash, name: this.nameOf(a.infoHash) }, 'the tracker answers again');
    this.update();
  }

  private update(): void {
    if (this.errors.size === 0) {
      this.alarms.clear(ALARM_CODES.TRACKER_ERROR);
      return;
    }
    const parts = [...this.errors].map(([ih, e]) => `${this.nameOf(ih) ?? ih}: "${e.said}"${e.url ? ` (tracker ${host(e.url)})` : ''}`);
    this.alarms.raise(
      ALARM_CODES.TRACKER_ERROR,
      'warning',
      `The tracker does not accept the announce for ${parts.join('; ')}. Peers already connected keep sending; new peers may not be found until it does.`,
    );
  }
}

/** The tracker's host and port: the announce URL's path holds this site's passkey, not for display. */
function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'unknown';
  }
}
