// Logins for the web pages that cineswarm serves (the agent's status page, the server's
// distributor console): server-side sessions behind an HttpOnly cookie, each with its own CSRF
// token, and a limit on wrong passwords per client address. What a password is checked against
// stays with each page; this module only keeps sessions and counts failures.
import crypto from 'node:crypto';

export const CSRF_HEADER = 'x-csrf-token';

export interface WebSession<D = unknown> {
  id: string;
  csrfToken: string;
  expiresAt: number;
  /** what the page ties to the session (the console: group id and password fingerprint) */
  data: D;
}

export interface LoginLimit {
  /** wrong passwords allowed per address within windowMs; the next try is refused with 429 */
  max: number;
  windowMs: number;
}

const MAX_TRACKED_ADDRESSES = 10_000;

export function sha256(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time comparison of two secrets of any length. */
export function secretsMatch(a: string, b: string): boolean {
  return crypto.timingSafeEqual(sha256(a), sha256(b));
}

function token(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export class SessionBook<D = unknown> {
  private readonly sessions = new Map<string, WebSession<D>>();

  constructor(
    private readonly ttlMs = 12 * 3600_000,
    private readonly now: () => number = Date.now,
    private readonly maxSessions = 500,
  ) {}

  open(data: D): WebSession<D> {
    const now = this.now();
    const s: WebSession<D> = { id: token(), csrfToken: token(), expiresAt: now + this.ttlMs, data };
    this.sessions.set(s.id, s);
    for (const [id, x] of this.sessions) if (x.expiresAt <= now) this.sessions.delete(id);
    // Oldest first by insertion order; a flood of logins cannot grow memory without bound.
    while (this.sessions.size > this.maxSessions) this.sessions.delete(this.sessions.keys().next().value as string);
    return s;
  }

  /** The live session for a cookie value, its lifetime extended; undefined when unknown or expired. */
  get(id: string | undefined): WebSession<D> | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const now = this.now();
    if (s.expiresAt <= now) {
      this.sessions.delete(id);
      return undefined;
    }
    s.expiresAt = now + this.ttlMs;
    return s;
  }

  close(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  /** Constant-time check of the token a request carries against its session's. */
  static csrfMatches(session: WebSession<unknown>, presented: string | undefined): boolean {
    return presented !== undefined && presented !== '' && secretsMatch(presented, session.csrfToken);
  }
}

/** Wrong passwords per client address in a sliding window; successes clear the address. */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: LoginLimit = { max: 5, windowMs: 60_000 },
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the address may try again, or 0 when it may try now. Check before the password. */
  blockedFor(address: string): number {
    const now = this.now();
    const recent = (this.failures.get(address) ?? []).filter((t) => now - t < this.limit.windowMs);
    if (recent.length) this.failures.set(address, recent);
    else this.failures.delete(address);
    if (recent.length < this.limit.max) return 0;
    return Math.max(1, Math.ceil((recent[0]! + this.limit.windowMs - now) / 1000));
  }

  failed(address: string): void {
    const now = this.now();
    const recent = this.failures.get(address) ?? [];
    recent.push(now);
    this.failures.set(address, recent);
    if (this.failures.size <= MAX_TRACKED_ADDRESSES) return;
    for (const [addr, times] of this.failures) if (times.every((t) => now - t >= this.limit.windowMs)) this.failures.delete(addr);
    while (this.failures.size > MAX_TRACKED_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }
}
