// Peer keys: a member request made for one peer (its torrent, its reports) carries
// `Cineswarm-Peer: <peerId> <peerKey>`. The first key used for a peer id is bound to it
// (DATA/groups/<id>/peers/<peer>.json keeps its sha256), and another key is refused until the
// owner resets the binding, so one cinema cannot fetch another's passkey or report for it.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Role } from './auth.js';
import { ServerError } from './errors.js';
import type { GroupStore } from './group-store.js';
import type { KeyedLock } from './keyed-lock.js';
import { isPeerId, PEER_HEADER, PEER_KEY_PATTERN } from '../protocol/index.js';

const KEY_RE = new RegExp(PEER_KEY_PATTERN);
const CACHE_MS = 10_000;

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** `<peerId> <peerKey>` of the header, or undefined when absent or malformed. */
export function parsePeerHeader(value: string | string[] | undefined): { peer: string; key: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const parts = value.trim().split(/\s+/);
  if (parts.length !== 2 || !isPeerId(parts[0]!) || !KEY_RE.test(parts[1]!)) return undefined;
  return { peer: parts[0]!, key: parts[1]! };
}

export class PeerKeys {
  /** `<group>\0<peer>` → bound key hash, for requests after the first; re-read after a while so a
   * reset made on another replica is seen */
  private readonly bound = new Map<string, { hash: string; at: number }>();

  constructor(
    private readonly store: GroupStore,
    private readonly locks: KeyedLock,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Checks that a request acting for `peer` is that peer. The owner may act for any peer (the
   * publisher seeds and reports under its own id); a member must carry the peer's key.
   */
  async check(group: string, peer: string, role: Role, headers: IncomingHttpHeaders): Promise<void> {
    if (role === 'owner') return;
    const raw = headers[PEER_HEADER];
    const given = parsePeerHeader(raw);
    if (!given) {
      throw new ServerError(
        'PEER_KEY_REQUIRED',
        raw === undefined
          ? `requests for peer '${peer}' need the header 'Cineswarm-Peer: <peerId> <peerKey>'`
          : "the Cineswarm-Peer header must be '<peerId> <peerKey>', the key 16 to 256 letters, digits, '-' or '_'",
      );
    }
    if (given.peer !== peer) {
      throw new ServerError('PEER_KEY_MISMATCH', `the Cineswarm-Peer header names peer '${given.peer}', but this request is for peer '${peer}'`);
    }
    const hash = hashKey(given.key);
    const k = `${group}\0${peer}`;
    const cached = this.bound.get(k);
    let known = cached && this.now().getTime() - cached.at < CACHE_MS ? cached.hash : undefined;
    if (known === undefined) {
      known = await this.locks.run(`peer:${k}`, async () => {
        const rec = (await this.store.readPeer(group, peer)) ?? { peer };
        if (rec.keyHash) return rec.keyHash;
        await this.store.writePeer(group, { ...rec, keyHash: hash, keyBoundAt: this.now().toISOString() });
        return hash;
      });
      this.bound.set(k, { hash: known, at: this.now().getTime() });
    }
    if (!timingSafeEqual(Buffer.from(known, 'hex'), Buffer.from(hash, 'hex'))) {
      throw new ServerError(
        'PEER_KEY_MISMATCH',
        `peer id '${peer}' of group '${group}' is bound to another peer key: another server may be using this id, ` +
          `or this one lost its dataDir; the group's owner can reset the key (DELETE /api/groups/${group}/peers/${peer}/key)`,
      );
    }
  }

  /** Unbinds the peer's key; the next key used for that id is bound. false when none was bound. */
  async reset(group: string, peer: string): Promise<boolean> {
    const k = `${group}\0${peer}`;
    return this.locks.run(`peer:${k}`, async () => {
      this.bound.delete(k);
      const rec = await this.store.readPeer(group, peer);
      if (!rec?.keyHash) return false;
      const { keyHash: _h, keyBoundAt: _b, ...rest } = rec;
      await this.store.writePeer(group, rest);
      return true;
    });
  }
}
