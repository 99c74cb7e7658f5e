// Login for the agent's web page: one shared password from the config, server-side sessions
// behind an HttpOnly cookie, a per-session CSRF token, and a limit on wrong passwords per address.
import crypto from 'node:crypto';

export const SESSION_COOKIE = 'cineswarm_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface WebSession {
  id: string;
  csrfToken: string;
  expiresAt: number;
}

export interface LoginLimit {
  /** wrong passwords allowed per address within windowMs; the next try is refused with 429 */
  max: number;
  windowMs: number;
}

export type LoginResult =
  | { ok: true; session: WebSession }
  | { ok: false; reason: 'wrong-password' }
  | { ok: false; reason: 'rate-limited'; retryAfterSeconds: number };

const MAX_SESSIONS = 500;
const MAX_TRACKED_ADDRESSES = 10_000;

function digest(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

function token(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export class WebAuth {
  private readonly passwordDigest: Buffer | null;
  private readonly sessions = new Map<string, WebSession>();
  private readonly failures = new Map<string, number[]>();

  constructor(
    password: string | undefined,
    private readonly limit: LoginLimit = { max: 5, windowMs: 60_000 },
    private readonly ttlMs = 12 * 3600_000,
    private readonly now: () => number = Date.now,
  ) {
    // An empty password means none: the page is then read-only rather than open to anyone.
    this.passwordDigest = password ? digest(password) : null;
  }

  get passwordSet(): boolean {
    return this.passwordDigest !== null;
  }

  login(password: string, address: string): LoginResult {
    if (!this.passwordDigest) return { ok: false, reason: 'wrong-password' };
    const now = this.now();
    const recent = (this.failures.get(address) ?? []).filter((t) => now - t < this.limit.windowMs);
    if (recent.length >= this.limit.max) {
      // Refused before comparing, so a guesser learns nothing even when the guess is right.
      const retryAfterSeconds = Math.max(1, Math.ceil((recent[0] + this.limit.windowMs - now) / 1000));
      this.failures.set(address, recent);
      return { ok: false, reason: 'rate-limited', retryAfterSeconds };
    }
    if (!crypto.timingSafeEqual(digest(password), this.passwordDigest)) {
      recent.push(now);
      this.failures.set(address, recent);
      this.pruneFailures(now);
      return { ok: false, reason: 'wrong-password' };
    }
    this.failures.delete(address);
    const session: WebSession = { id: token(), csrfToken: token(), expiresAt: now + this.ttlMs };
    this.sessions.set(session.id, session);
    this.pruneSessions(now);
    return { ok: true, session };
  }

  /** The live session for a cookie value, its lifetime extended; undefined when unknown or expired. */
  session(id: string | undefined): WebSession | undefined {
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

  logout(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  /** Constant-time comparison of the token a request carries with its session's. */
  static csrfMatches(session: WebSession, presented: string | undefined): boolean {
    if (!presented) return false;
    return crypto.timingSafeEqual(digest(presented), digest(session.csrfToken));
  }

  private pruneSessions(now: number): void {
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
    // Oldest first by insertion order; a flood of logins cannot grow memory without bound.
    while (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
  }

  private pruneFailures(now: number): void {
    if (this.failures.size <= MAX_TRACKED_ADDRESSES) return;
    for (const [addr, times] of this.failures) {
      if (times.every((t) => now - t >= this.limit.windowMs)) this.failures.delete(addr);
    }
    while (this.failures.size > MAX_TRACKED_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
  }
}
