// TRACKER_ERROR alarm: raised while the tracker refuses or cannot be reached for any of our
// torrents, naming the DCPs and what the tracker said; cleared when every torrent announces again.
import type { Logger } from 'pino';
import type { EngineAlert, Session } from '../../engine/index.js';
import { ALARM_CODES, type AlarmBook } from './alarms.js';

export class TrackerAlarm {
  /** infoHash → the last tracker error for that torrent */
  private readonly errors = new Map<string, { url: string; said: string }>();

  constructor(
    private readonly alarms: AlarmBook,
    /** the DCP's name for a torrent, as the projectionist knows it */
    private readonly nameOf: (infoHash: string) => string | undefined,
    private readonly log: Logger,
  ) {}

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
    this.errors.set(a.infoHash, { url: a.url ?? '', said });
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
