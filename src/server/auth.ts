// Group authentication (HTTP Basic, user = group id) for every /api/groups/:id route: the owner
// password (the distributor's) or the member password (the cinemas'). scrypt is deliberately
// slow, so a password that verified once is remembered as a keyed digest of (record, password):
// thousands of cinemas polling every minute cost one HMAC each, and a changed password no longer
// matches any remembered digest.
import { createHmac, randomBytes } from 'node:crypto';
import type { AuthLimits } from './auth-limits.js';
import { ServerError, TooManyFailuresError } from './errors.js';
import type { GroupRecord, GroupStore } from './group-store.js';
import { hashPassword, verifyPassword } from './passwords.js';

const REMEMBERED_PER_GROUP = 16;
/** How long a group record read from the store is trusted; bounds how late another replica sees a password change. */
const RECORD_TTL_MS = 10_000;

export type Role = 'owner' | 'member';

export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The owner hash of a record; groups from before owners existed have one password for both. */
export function ownerHash(rec: GroupRecord): string {
  return rec.ownerPasswordHash ?? rec.passwordHash;
}

function badCredentials(id: string): ServerError {
  // Same words for an unknown group and a wrong password, so group ids cannot be listed.
  return new ServerError('BAD_CREDENTIALS', `wrong group id or password for group '${id}'`);
}

export class GroupAuthenticator {
  private readonly groups = new Map<string, { rec: GroupRecord; at: number }>();
  private readonly verified = new Map<string, Map<string, Role>>();
  private readonly digestKey = randomBytes(32);
  /** A hash of nothing, checked against for unknown groups: the same scrypt work as a wrong password. */
  private decoy?: Promise<string>;

  constructor(
    private readonly store: GroupStore,
    private readonly limits?: AuthLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** The group record (cached for a few seconds), or undefined for an unknown group. */
  async find(id: string): Promise<GroupRecord | undefined> {
    const cached = this.groups.get(id);
    if (cached && this.now() - cached.at < RECORD_TTL_MS) return cached.rec;
    const rec = await this.store.getGroup(id);
    if (!rec) {
      this.groups.delete(id);
      return undefined;
    }
    this.groups.set(id, { rec, at: this.now() });
    return rec;
  }

  /** The group record; an unknown group is refused like a wrong password. */
  async group(id: string): Promise<GroupRecord> {
    const rec = await this.find(id);
    if (!rec) throw badCredentials(id);
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
   * The role the Authorization header proves for group `id`; `need: 'owner'` refuses the member
   * password with 403 OWNER_REQUIRED. An unknown group and a wrong password get the same 401
   * after the same scrypt work; `source` (the client address) feeds the failure limits.
   */
  async authenticate(id: string, authorization: string | undefined, source = '', need: Role = 'member'): Promise<Role> {
    const creds = parseBasic(authorization);
    if (!creds) {
      throw new ServerError('AUTH_REQUIRED', `group '${id}' needs its password: send HTTP Basic auth with the group id as user name`);
    }
    if (creds.user !== id) throw badCredentials(id);
    const group = await this.find(id);
    // A password that verified before costs one HMAC and is never refused by the limits.
    let role = group ? this.remembered(group, creds.password) : undefined;
    if (!role) {
      const verdict = this.limits?.check(id, source);
      if (verdict?.blockedBy) throw new TooManyFailuresError(verdict.blockedBy, verdict.retryAfterSeconds);
      role = group ? await this.verify(group, creds.password) : undefined;
      if (!group) {
        // Twice: a wrong password for a group is checked against its owner and its member hash.
        this.decoy ??= hashPassword('');
        await verifyPassword(creds.password, await this.decoy);
        await verifyPassword(creds.password, await this.decoy);
      }
      if (!role) {
        this.limits?.failed(id, source);
        throw badCredentials(id);
      }
      this.limits?.succeeded(id, source);
    }
    if (need === 'owner' && role !== 'owner') {
      throw new ServerError('OWNER_REQUIRED', `this needs the owner password of group '${id}'; the member password the cinemas use is not enough`);
    }
    return role;
  }

  private digest(group: GroupRecord, password: string): string {
    return createHmac('sha256', this.digestKey).update(`${group.passwordHash}\0${ownerHash(group)}\0${password}`).digest('base64');
  }

  private remembered(group: GroupRecord, password: string): Role | undefined {
    return this.verified.get(group.id)?.get(this.digest(group, password));
  }

  private async verify(group: GroupRecord, password: string): Promise<Role | undefined> {
    let role: Role | undefined;
    if (await verifyPassword(password, ownerHash(group))) role = 'owner';
    else if (group.ownerPasswordHash !== undefined && (await verifyPassword(password, group.passwordHash))) role = 'member';
    if (!role) return undefined;
    const map = this.verified.get(group.id) ?? new Map<string, Role>();
    map.set(this.digest(group, password), role);
    if (map.size > REMEMBERED_PER_GROUP) map.delete(map.keys().next().value as string);
    this.verified.set(group.id, map);
    return role;
  }
}
