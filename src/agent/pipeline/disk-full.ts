// A disk that fills during a download: libtorrent stops writing (upload mode) and sends a burst of
// write errors. This keeps the torrent `downloading` with a message saying how much space it
// needs, holds one DISK_FULL alarm, logs the episode in a few lines with counts, and lets the
// torrent download again by itself once the space is back, keeping every piece already on disk.
import type { Logger } from 'pino';
import type { EngineAlert, Session, Torrent } from '../../engine/index.js';
import { ALARM_CODES, type AlarmBook } from '../monitoring/alarms.js';
import { spaceShortfall } from '../monitoring/disk-space.js';
import { formatBytes } from '../../util/bytes.js';
import { diskUsage } from '../../util/disk-usage.js';

/** Below this much free space (the largest piece libtorrent writes at once) a write error means a full disk. */
const NEARLY_FULL_BYTES = 16 * 1024 * 1024;

interface Episode {
  since: number;
  /** write errors libtorrent reported in this episode (one is logged) */
  errors: number;
  file?: string;
  /** bytes to free before the rest of the download fits (updated on every check) */
  neededBytes: number;
}

export interface DiskFullOptions {
  dir: string;
  alarms: AlarmBook;
  log: Logger;
  /** the DCP's name for a torrent */
  nameOf(infoHash: string): string | undefined;
  minFreeBytes(): number;
  /** a person paused it: clearing the error must not start it */
  pausedByPerson(infoHash: string): boolean;
  now?: () => number;
}

export class DiskFullGuard {
  private readonly episodes = new Map<string, Episode>();
  /** other file errors, logged once per torrent and error until they change */
  private readonly otherErrors = new Map<string, string>();
  private readonly now: () => number;

  constructor(private readonly o: DiskFullOptions) {
    this.now = o.now ?? Date.now;
  }

  attach(session: Session): void {
    session.on('file-error', (a: EngineAlert) => this.onFileError(a));
  }

  private onFileError(a: EngineAlert): void {
    const ih = a.infoHash;
    if (!ih) return;
    if (a.errorCode === 'DISK_FULL' || this.episodes.has(ih)) {
      this.diskFull(ih, a);
      return;
    }
    // With memory-mapped storage a write to a full disk faults (SIGBUS, "Bad address") rather
    // than failing with ENOSPC: the free space decides what the error means.
    void diskUsage(this.o.dir)
      .then((u) => u.free < NEARLY_FULL_BYTES)
      .catch(() => false)
      .then((full) => (full ? this.diskFull(ih, a) : this.otherError(ih, a)));
  }

  private diskFull(ih: string, a: EngineAlert): void {
    const ep = this.episodes.get(ih);
    if (ep) {
      ep.errors++;
      return;
    }
    const name = this.o.nameOf(ih) ?? ih;
    this.episodes.set(ih, { since: this.now(), errors: 1, file: a.file, neededBytes: 0 });
    this.o.log.error({ infoHash: ih, name, file: a.file, error: a.error }, `${name}: disk full on ${this.o.dir}; the download waits for space (pieces on disk are kept)`);
    this.updateAlarm();
  }

  private otherError(ih: string, a: EngineAlert): void {
    const name = this.o.nameOf(ih) ?? ih;
    const said = `${a.error ?? a.message}${a.file ? ` (${a.file})` : ''}`;
    if (this.otherErrors.get(ih) !== said) this.o.log.error({ infoHash: ih, name, error: a.error, file: a.file }, `${name}: disk error while writing: ${said}`);
    this.otherErrors.set(ih, said);
  }

  /** The torrent's status message while its download waits for space. */
  message(infoHash: string): string | undefined {
    const ep = this.episodes.get(infoHash);
    if (!ep) return undefined;
    return `waiting: disk full on ${this.o.dir}, ${formatBytes(ep.neededBytes)} needed`;
  }

  /** Measures the space again; torrents whose rest fits now download again. */
  async check(torrentOf: (infoHash: string) => Torrent | undefined): Promise<void> {
    if (this.episodes.size === 0) return;
    let free: number;
    try {
      free = (await diskUsage(this.o.dir)).free;
    } catch (err) {
      this.o.log.warn({ err, dir: this.o.dir }, 'cannot read the free space of the download folder');
      return;
    }
    for (const [ih, ep] of this.episodes) {
      const torrent = torrentOf(ih);
      if (!torrent) {
        this.episodes.delete(ih);
        continue;
      }
      const st = torrent.status();
      const rest = Math.max(0, st.totalWanted - st.totalWantedDone);
      ep.neededBytes = spaceShortfall(free, rest, this.o.minFreeBytes());
      if (ep.neededBytes > 0) continue;
      // libtorrent pauses a torrent on a disk error it cannot classify (the mmap fault above).
      torrent.clearError();
      if (!this.o.pausedByPerson(ih)) torrent.resume();
      this.episodes.delete(ih);
      this.otherErrors.delete(ih);
      free -= rest;
      const name = this.o.nameOf(ih) ?? ih;
      const seconds = Math.round((this.now() - ep.since) / 1000);
      this.o.log.info(
        { infoHash: ih, name, waitedSeconds: seconds, diskErrors: ep.errors },
        `${name}: space is back on ${this.o.dir}; downloading again after ${seconds} s (${ep.errors} write errors while full)`,
      );
    }
    this.updateAlarm();
  }

  private updateAlarm(): void {
    if (this.episodes.size === 0) {
      this.o.alarms.clear(ALARM_CODES.DISK_FULL);
      return;
    }
    const names = [...this.episodes.keys()].map((ih) => this.o.nameOf(ih) ?? ih);
    const needed = Math.max(...[...this.episodes.values()].map((e) => e.neededBytes));
    this.o.alarms.raise(
      ALARM_CODES.DISK_FULL,
      'critical',
      `The disk ${this.o.dir} is full: ${names.join(', ')} cannot be written${needed > 0 ? ` (${formatBytes(needed)} needed)` : ''}. Free space there; the download goes on by itself.`,
    );
  }
}
