// Peers that send damaged data: each piece failing its hash check is counted per torrent (one
// line per torrent, not per piece), each peer libtorrent's smart-ban plugin bans is logged once
// and listed in the status, and when the only peers holding the missing pieces are ones that sent
// damaged data, the torrent says so and the CORRUPT_PEERS alarm is up until an honest one shows.
import type { Logger } from 'pino';
import type { EngineAlert, Session, Torrent } from '../../engine/index.js';
import { ALARM_CODES, type AlarmBook } from '../monitoring/alarms.js';

/** How long a download may sit with only damaged-data sources before it is called stuck. */
const STUCK_AFTER_MS = 5000;

interface Record {
  hashFailures: number;
  banned: string[];
  /** since when no honest peer with data was connected */
  noHonestSince?: number;
  stuck: boolean;
}

export interface CorruptPeersOptions {
  alarms: AlarmBook;
  log: Logger;
  nameOf(infoHash: string): string | undefined;
  now?: () => number;
}

export class CorruptPeersGuard {
  private readonly records = new Map<string, Record>();
  private readonly now: () => number;

  constructor(private readonly o: CorruptPeersOptions) {
    this.now = o.now ?? Date.now;
  }

  private record(ih: string): Record {
    let r = this.records.get(ih);
    if (!r) {
      r = { hashFailures: 0, banned: [], stuck: false };
      this.records.set(ih, r);
    }
    return r;
  }

  attach(session: Session): void {
    session.on('hash-failed', (a: EngineAlert) => {
      if (!a.infoHash) return;
      const r = this.record(a.infoHash);
      if (r.hashFailures++ === 0) {
        const name = this.o.nameOf(a.infoHash) ?? a.infoHash;
        this.o.log.warn({ infoHash: a.infoHash, name, piece: a.pieceIndex }, `${name}: a piece failed its hash check; it is fetched again, and peers that keep sending damaged data are banned`);
      }
    });
    session.on('peer-banned', (a: EngineAlert) => {
      if (!a.infoHash || !a.peer) return;
      const r = this.record(a.infoHash);
      if (r.banned.includes(a.peer)) return;
      r.banned.push(a.peer);
      const name = this.o.nameOf(a.infoHash) ?? a.infoHash;
      this.o.log.warn({ infoHash: a.infoHash, name, peer: a.peer, hashFailures: r.hashFailures }, `${name}: peer ${a.peer} banned: it sent data that failed the hash check (${r.hashFailures} damaged pieces so far)`);
    });
  }

  /** Peers banned for damaged data, for the status. */
  banned(infoHash: string): string[] {
    return [...(this.records.get(infoHash)?.banned ?? [])];
  }

  hashFailures(infoHash: string): number {
    return this.records.get(infoHash)?.hashFailures ?? 0;
  }

  message(infoHash: string): string | undefined {
    const r = this.records.get(infoHash);
    if (!r?.stuck) return undefined;
    return `waiting: the only peers with the missing pieces send damaged data (${r.banned.length} banned, ${r.hashFailures} damaged pieces); an honest peer is needed`;
  }

  /** Judges every torrent that has seen damaged data against its connected peers. */
  async check(torrentOf: (infoHash: string) => Torrent | undefined): Promise<void> {
    const now = this.now();
    for (const [ih, r] of this.records) {
      const torrent = torrentOf(ih);
      let stuck = false;
      if (torrent) {
        const st = torrent.status();
        const complete = st.isFinished || st.isSeeding || st.progress >= 1;
        const honest = complete ? [] : torrent.peers().filter((p) => p.hashFailures === 0 && (p.seed || p.progress > 0));
        if (complete || honest.length > 0) r.noHonestSince = undefined;
        else r.noHonestSince ??= now;
        stuck = r.noHonestSince !== undefined && now - r.noHonestSince >= STUCK_AFTER_MS;
      }
      if (stuck !== r.stuck) {
        const name = this.o.nameOf(ih) ?? ih;
        if (stuck) this.o.log.warn({ infoHash: ih, name, banned: r.banned, hashFailures: r.hashFailures }, `${name}: only peers that sent damaged data hold the missing pieces`);
        else this.o.log.info({ infoHash: ih, name }, `${name}: an honest peer with the missing pieces is connected again`);
        r.stuck = stuck;
      }
    }
    const stuckNames = [...this.records].filter(([, r]) => r.stuck).map(([ih]) => this.o.nameOf(ih) ?? ih);
    if (stuckNames.length === 0) this.o.alarms.clear(ALARM_CODES.CORRUPT_PEERS);
    else {
      this.o.alarms.raise(
        ALARM_CODES.CORRUPT_PEERS,
        'critical',
        `${stuckNames.join(', ')}: the only peers with the missing pieces send damaged data. The download cannot finish until an honest peer (the distributor's seed) is reachable.`,
      );
    }
  }
}
