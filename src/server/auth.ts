// Group authentication (HTTP Basic, user = group id) for every /api/groups/:id route.
// scrypt is deliberately slow, so a password that verified once is remembered as a keyed
// digest: thousands of cinemas polling every minute then cost one HMAC each, not one scrypt.
import { createHmac, randomBytes } from 'node:crypto';
import type { AuthLimits } from './auth-limits.js';
import { GroupNotFoundError, ServerError, TooManyFailuresError } from './errors.js';
import type { GroupRecord, GroupStore } from './group-store.js';
import { hashPassword, verifyPassword } from './passwords.js';

const REMEMBERED_PER_GROUP = 8;

export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class GroupAuthenticator {
  private readonly groups = new Map<string, GroupRecord>();
  private readonly verified = new Map<string, string[]>();
  private readonly digestKey = randomBytes(32);

  /** A hash of nothing, checked against for unknown groups: the same scrypt work as a wrong password. */
  private decoy?: Promise<string>;

  constructor(
    private readonly store: GroupStore,
    private readonly limits?: AuthLimits,
  ) {}

  /** The group record, from memory once seen (groups are never edited in place). */
  async group(id: string): Promise<GroupRecord> {
    const cached = this.groups.get(id);
    if (cached) return cached;
    const rec = await this.store.getGroup(id);
    if (!rec) throw new GroupNotFoundError(id);
    this.groups.set(id, rec);
    return rec;
  }

  /** Drops what is remembered of a group (its passwords changed, here or on another replica). */
  forget(id: string): void {
    this.groups.delete(id);
    this.verified.delete(id);
  }

  forgetAll(): void {
    this.groups.clear();
    this.verified.clear();
  }

  /**
   * Resolves with the group when the Authorization header holds its id and password. An unknown
   * group and a wrong password get the same 401 after the same scrypt work, so ids cannot be
   * listed; `source` (the client address) feeds the failure limits.
   */
  async authenticate(id: string, authorization: string | undefined, source = ''): Promise<GroupRecord> {
    const creds = parseBasic(authorization);
    if (!creds) {
      throw new ServerError('AUTH_REQUIRED', `group '${id}' needs its password: send HTTP Basic auth with the group id as user name`);
    }
    const refused = new ServerError('BAD_CREDENTIALS', `wrong group id or password for group '${id}'`);
    if (creds.user !== id) throw refused;
    const digest = createHmac('sha256', this.digestKey).update(`${id}\0${creds.password}`).digest('base64');
    const known = this.verified.get(id);
    const cached = this.groups.get(id);
    // A password that verified before costs one HMAC and is never refused by the limits.
    if (cached && known?.includes(digest)) return cached;
    const verdict = this.limits?.check(id, source);
    if (verdict?.blockedBy) throw new TooManyFailuresError(verdict.blockedBy, verdict.retryAfterSeconds);
    let group: GroupRecord | undefined;
    try {
      group = await this.group(id);
    } catch (err) {
      if (!(err instanceof GroupNotFoundError)) throw err;
    }
    this.decoy ??= hashPassword('');
    const ok = await verifyPassword(creds.password, group?.passwordHash ?? (await this.decoy));
    if (!group || !ok) {
      this.limits?.failed(id, source);
      throw refused;
    }
    this.limits?.succeeded(id, source);
    const list = known ?? [];
    list.push(digest);
    if (list.length > REMEMBERED_PER_GROUP) list.shift();
    this.verified.set(id, list);
    return group;
  }
}
