// The agent's one free-space sampler: downloadDir (first) and ingestDir, read with statfs. The
// loop's timer, the start gating and the monitor all share its reading instead of each asking.
import type { Logger } from 'pino';
import { diskUsage } from '../../util/disk-usage.js';
import type { DiskView } from './status-types.js';

export class FreeSpace {
  private last: DiskView[] | null = null;
  private lastAt = 0;
  private sampling: Promise<DiskView[]> | null = null;

  constructor(
    private readonly paths: () => string[],
    private readonly log: Logger,
    /** a reading younger than this is handed out again instead of asking the kernel */
    private readonly maxAgeMs = 500,
  ) {}

  /** The latest reading (downloadDir first), or null before the first. */
  latest(): DiskView[] | null {
    return this.last;
  }

  /** Reads again unless the latest reading is fresh; concurrent callers share one reading. */
  sample(): Promise<DiskView[]> {
    if (this.last && Date.now() - this.lastAt < this.maxAgeMs) return Promise.resolve(this.last);
    this.sampling ??= Promise.all(
      this.paths().map((p) =>
        // A missing directory (unmounted RAID) must not stop the other figures: show it as 0 of 0.
        diskUsage(p).catch((err: NodeJS.ErrnoException) => {
          this.log.warn({ path: p, code: err.code }, `cannot read free space of ${p}: ${err.message}`);
          return { path: p, total: 0, free: 0 };
        }),
      ),
    )
      .then((r) => {
        this.last = r;
        this.lastAt = Date.now();
        return r;
      })
      .finally(() => (this.sampling = null));
    return this.sampling;
  }
}
