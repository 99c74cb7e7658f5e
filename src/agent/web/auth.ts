// Login for the agent's web page: one shared password from the config, checked in constant time;
// sessions, CSRF tokens and the per-address limit on wrong passwords are the shared web pieces.
import { LoginThrottle, secretsMatch, SessionBook, type LoginLimit, type WebSession as SharedSession } from '../../util/web-sessions.js';

export { CSRF_HEADER, type LoginLimit } from '../../util/web-sessions.js';
export const SESSION_COOKIE = 'cineswarm_session';

export type WebSession = SharedSession<null>;

export type LoginResult =
  | { ok: true; session: WebSession }
  | { ok: false; reason: 'wrong-password' }
  | { ok: false; reason: 'rate-limited'; retryAfterSeconds: number };

export class WebAuth {
  private readonly password: string | null;
  private readonly sessions: SessionBook<null>;
  private readonly throttle: LoginThrottle;

  constructor(password: string | undefined, limit?: LoginLimit, ttlMs = 12 * 3600_000, now: () => number = Date.now) {
    // An empty password means none: the page is then read-only rather than open to anyone.
    this.password = password ? password : null;
    this.sessions = new SessionBook<null>(ttlMs, now);
    this.throttle = new LoginThrottle(limit, now);
  }

  get passwordSet(): boolean {
    return this.password !== null;
  }

  login(password: string, address: string): LoginResult {
    if (this.password === null) return { ok: false, reason: 'wrong-password' };
    // Refused before comparing, so a guesser learns nothing even when the guess is right.
    const wait = this.throttle.blockedFor(address);
    if (wait > 0) return { ok: false, reason: 'rate-limited', retryAfterSeconds: wait };
    if (!secretsMatch(password, this.password)) {
      this.throttle.failed(address);
      return { ok: false, reason: 'wrong-password' };
    }
    this.throttle.succeeded(address);
    return { ok: true, session: this.sessions.open(null) };
  }

  /** The live session for a cookie value, its lifetime extended; undefined when unknown or expired. */
  session(id: string | undefined): WebSession | undefined {
    return this.sessions.get(id);
  }

  logout(id: string | undefined): void {
    this.sessions.close(id);
  }

  static csrfMatches(session: WebSession, presented: string | undefined): boolean {
    return SessionBook.csrfMatches(session, presented);
  }
}
