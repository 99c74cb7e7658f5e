// The tracker's memory: who is in which swarm. A swarm is keyed by (group, info hash), so the
// same torrent shared by two groups makes two swarms that never see each other. Inside a swarm a
// peer is keyed by the peer its passkey was made for, never by the peer_id the client picks, so a
// member can only add, move or remove its own entry.

export interface SwarmPeer {
  /** the cineswarm peer the passkey belongs to */
  member: string;
  peerId: Buffer;
  ip: string;
  port: number;
  left: number;
  expiresAt: number;
}

export interface AnnounceInput {
  /** the cineswarm peer the passkey belongs to */
  member: string;
  peerId: Buffer;
  ip: string;
  port: number;
  left: number;
  event: 'started' | 'stopped' | 'completed' | 'empty';
  numwant: number;
}

export interface SwarmCounts {
  complete: number;
  incomplete: number;
  downloaded: number;
}

export interface AnnounceResult {
  peers: SwarmPeer[];
  counts: SwarmCounts;
}

/** The tracker's peer lists: in this process (Swarms) or shared by replicas (RedisSwarms). */
export interface SwarmState {
  announce(key: string, a: AnnounceInput, now?: number): AnnounceResult | Promise<AnnounceResult>;
  scrape(key: string, now?: number): SwarmCounts | Promise<SwarmCounts>;
  drop(key: string): void | Promise<void>;
  sweep(now?: number): void | Promise<void>;
  /** Distinct peers (passkey members) with a live entry in any swarm, per group; for /metrics. */
  activePeers(now?: number): Map<string, number> | Promise<Map<string, number>>;
}

/** Counts distinct live members per group from (swarm key, peers) pairs. */
export function countActive(swarms: Iterable<[string, Iterable<SwarmPeer>]>, now: number): Map<string, number> {
  const members = new Map<string, Set<string>>();
  for (const [key, peers] of swarms) {
    const group = key.slice(0, key.indexOf('\0'));
    for (const p of peers) {
      if (p.expiresAt <= now) continue;
      let set = members.get(group);
      if (!set) members.set(group, (set = new Set()));
      set.add(p.member);
    }
  }
  return new Map([...members].map(([g, set]) => [g, set.size]));
}

/** Up to numwant of the others, a random subset so large swarms spread the load; never the
 * announcing address itself, and no seed for a seed (they have nothing to gain from each other). */
export function pickPeers<P extends SwarmPeer>(others: P[], a: AnnounceInput): P[] {
  const candidates = others.filter((p) => !(p.ip === a.ip && p.port === a.port) && !(a.left === 0 && p.left === 0));
  const n = Math.min(a.numwant, candidates.length);
  // Partial Fisher-Yates.
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (candidates.length - i));
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  return candidates.slice(0, n);
}

interface Swarm {
  peers: Map<string, SwarmPeer>;
  downloaded: number;
}

export function swarmKey(group: string, trackerHashHex: string): string {
  return `${group}\0${trackerHashHex}`;
}

export class Swarms implements SwarmState {
  private readonly swarms = new Map<string, Swarm>();

  constructor(private readonly peerLifetimeMs: number) {}

  /** Records the announce and picks up to numwant other peers of the same swarm. */
  announce(key: string, a: AnnounceInput, now = Date.now()): AnnounceResult {
    let swarm = this.swarms.get(key);
    if (!swarm) {
      swarm = { peers: new Map(), downloaded: 0 };
      this.swarms.set(key, swarm);
    }
    const id = a.member;
    const before = swarm.peers.get(id);
    // A finished download is a peer going from left > 0 to left = 0; some clients say so with
    // 'completed', others (aria2c leaving right away) only with a final 'stopped' at left=0.
    if (a.left === 0 && (before ? before.left > 0 : a.event === 'completed')) swarm.downloaded++;
    if (a.event === 'stopped') {
      swarm.peers.delete(id);
      return { peers: [], counts: this.counts(swarm, now) };
    }
    swarm.peers.set(id, { member: a.member, peerId: a.peerId, ip: a.ip, port: a.port, left: a.left, expiresAt: now + this.peerLifetimeMs });
    const others: SwarmPeer[] = [];
    for (const [pid, p] of swarm.peers) {
      if (p.expiresAt <= now) {
        swarm.peers.delete(pid);
        continue;
      }
      if (pid !== id) others.push(p);
    }
    return { peers: pickPeers(others, a), counts: this.counts(swarm, now) };
  }

  scrape(key: string, now = Date.now()): SwarmCounts {
    const swarm = this.swarms.get(key);
    return swarm ? this.counts(swarm, now) : { complete: 0, incomplete: 0, downloaded: 0 };
  }

  /** Forgets a swarm whose torrent was removed. */
  drop(key: string): void {
    this.swarms.delete(key);
  }

  /** Removes peers that stopped announcing, and swarms left empty. */
  sweep(now = Date.now()): void {
    for (const [key, swarm] of this.swarms) {
      for (const [pid, p] of swarm.peers) if (p.expiresAt <= now) swarm.peers.delete(pid);
      if (swarm.peers.size === 0 && swarm.downloaded === 0) this.swarms.delete(key);
    }
  }

  activePeers(now = Date.now()): Map<string, number> {
    return countActive([...this.swarms].map(([key, swarm]) => [key, swarm.peers.values()]), now);
  }

  private counts(swarm: Swarm, now: number): SwarmCounts {
    let complete = 0;
    let incomplete = 0;
    for (const p of swarm.peers.values()) {
      if (p.expiresAt <= now) continue;
      if (p.left === 0) complete++;
      else incomplete++;
    }
    return { complete, incomplete, downloaded: swarm.downloaded };
  }
}
