// Failure-only limits on group passwords: too many wrong passwords from one source address, or
// against one group from anywhere, and further unproven attempts get 429 with Retry-After instead
// of another scrypt check. Successes never count, so a thousand cinemas behind one address poll freely.
import type { Logger } from 'pino';

export interface AuthLimitOptions {
  /** wrong passwords one source address may send per window */
  perSource: number;
  /** wrong passwords one group may receive per window, from all sources together */
  perGroup: number;
  windowSeconds: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimitOptions = { perSource: 20, perGroup: 100, windowSeconds: 60 };

interface Counter {
  windowStart: number;
  failures: number;
  /** requests refused with 429 in the current burst */
  refused: number;
}

export interface LimitVerdict {
  /** which limit is reached, if any */
  blockedBy?: 'source' | 'group';
  retryAfterSeconds: number;
}

/** Fixed windows per key; a key over its limit is refused until its window ends. */
class FailureCounter {
  private readonly counters = new Map<string, Counter>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  private current(key: string, now: number): Counter | undefined {
    const c = this.counters.get(key);
    if (c && now - c.windowStart >= this.windowMs) {
      this.counters.delete(key);
      return undefined;
    }
    return c;
  }

  /** Seconds until the key may try again, or 0 when it may try now. */
  blockedFor(key: string, now: number): number {
    const c = this.current(key, now);
    if (!c || c.failures < this.limit) return 0;
    return Math.max(1, Math.ceil((c.windowStart + this.windowMs - now) / 1000));
  }

  /** Counts a failure; true when this one reached the limit (the burst starts). */
  fail(key: string, now: number): boolean {
    let c = this.current(key, now);
    if (!c) {
      c = { windowStart: now, failures: 0, refused: 0 };
      this.counters.set(key, c);
    }
    c.failures++;
    return c.failures === this.limit;
  }

  /** Counts a refusal; the total so far of this burst. */
  refuse(key: string, now: number): number {
    const c = this.current(key, now);
    if (!c) return 0;
    return ++c.refused;
  }

  failures(key: string, now: number): number {
    return this.current(key, now)?.failures ?? 0;
  }

  /** Drops finished windows, so addresses seen once do not pile up. */
  sweep(now: number): void {
    for (const key of [...this.counters.keys()]) this.current(key, now);
  }
}

export class AuthLimits {
  private readonly bySource: FailureCounter;
  private readonly byGroup: FailureCounter;
  /** sources that proved a group's password in this process: a group under attack still lets them try */
  private readonly proven = new Map<string, Set<string>>();
  private readonly windowMs: number;
  private lastSweep = 0;

  constructor(
    readonly opts: AuthLimitOptions,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.windowMs = opts.windowSeconds * 1000;
    this.bySource = new FailureCounter(opts.perSource, this.windowMs);
    this.byGroup = new FailureCounter(opts.perGroup, this.windowMs);
  }

  /** Whether an attempt whose password is not already known good may be checked now. */
  check(group: string, source: string): LimitVerdict {
    const now = this.now();
    if (now - this.lastSweep > this.windowMs) {
      this.bySource.sweep(now);
      this.byGroup.sweep(now);
      this.lastSweep = now;
    }
    const s = this.bySource.blockedFor(source, now);
    if (s > 0) {
      this.bySource.refuse(source, now);
      return { blockedBy: 'source', retryAfterSeconds: s };
    }
    const g = this.byGroup.blockedFor(group, now);
    if (g > 0 && !this.proven.get(group)?.has(source)) {
      this.byGroup.refuse(group, now);
      return { blockedBy: 'group', retryAfterSeconds: g };
    }
    return { retryAfterSeconds: 0 };
  }

  failed(group: string, source: string): void {
    const now = this.now();
    const w = this.opts.windowSeconds;
    if (this.bySource.fail(source, now)) {
      this.logger.warn({ source, failures: this.opts.perSource, windowSeconds: w }, `too many wrong group passwords from ${source}: refusing its further attempts for up to ${w} s`);
    }
    if (this.byGroup.fail(group, now)) {
      this.logger.warn(
        { group, failures: this.opts.perGroup, windowSeconds: w, lastSource: source },
        `too many wrong passwords for group '${group}': refusing unproven attempts for up to ${w} s (known cinemas still get in)`,
      );
    }
  }

  succeeded(group: string, source: string): void {
    let set = this.proven.get(group);
    if (!set) {
      set = new Set();
      this.proven.set(group, set);
    }
    // Bounded: a group has at most a few thousand cinemas; the oldest are forgotten first.
    set.delete(source);
    set.add(source);
    if (set.size > 10000) set.delete(set.values().next().value as string);
  }
}
