// The tracker's peer lists in Redis, so a peer that announced to one replica is returned by
// another: one hash per swarm (passkey member → peer_id, address, left, expiry), whole-key expiry
// when nobody announces any more, and a download counter beside it.
import type { Redis } from 'ioredis';
import { redisCall } from './redis-state.js';
import { countActive, pickPeers, type AnnounceInput, type AnnounceResult, type SwarmCounts, type SwarmPeer, type SwarmState } from './swarms.js';

/** How long a swarm's download count outlives its last announce. */
const COUNTER_TTL_MS = 30 * 86_400_000;

function decode(member: string, value: string): SwarmPeer | undefined {
  const [peerId, ip, port, left, expiresAt] = value.split('|');
  if (!peerId || !ip || !port || left === undefined || !expiresAt) return undefined;
  return { member, peerId: Buffer.from(peerId, 'hex'), ip, port: Number(port), left: Number(left), expiresAt: Number(expiresAt) };
}

export class RedisSwarms implements SwarmState {
  constructor(
    private readonly client: Redis,
    private readonly ns: string,
    private readonly peerLifetimeMs: number,
  ) {}

  private keys(key: string): [string, string] {
    // swarm keys are `<group>\0<hash>`; group ids never hold ':'
    const k = `${this.ns}swarm:${key.replace('\0', ':')}`;
    return [k, `${k}:downloaded`];
  }

  private async entries(peersKey: string, now: number): Promise<SwarmPeer[]> {
    const all = await this.client.hgetall(peersKey);
    const live: SwarmPeer[] = [];
    const dead: string[] = [];
    for (const [id, value] of Object.entries(all)) {
      const e = decode(id, value);
      if (e && e.expiresAt > now) live.push(e);
      else dead.push(id);
    }
    if (dead.length > 0) await this.client.hdel(peersKey, ...dead);
    return live;
  }

  private counts(entries: SwarmPeer[], downloaded: number): SwarmCounts {
    const complete = entries.filter((e) => e.left === 0).length;
    return { complete, incomplete: entries.length - complete, downloaded };
  }

  announce(key: string, a: AnnounceInput, now = Date.now()): Promise<AnnounceResult> {
    const [peersKey, countKey] = this.keys(key);
    return redisCall('the tracker peer list', async () => {
      // Keyed by the passkey's member, as in memory: a member moves or removes only its own entry.
      const id = a.member;
      const others = await this.entries(peersKey, now);
      const before = others.find((e) => e.member === id);
      const tx = this.client.multi();
      // As in memory: a finished download is a peer going from left > 0 to left = 0.
      const finished = a.left === 0 && (before ? before.left > 0 : a.event === 'completed');
      if (finished) tx.incr(countKey);
      tx.pexpire(countKey, COUNTER_TTL_MS);
      if (a.event === 'stopped') tx.hdel(peersKey, id);
      else {
        tx.hset(peersKey, id, `${a.peerId.toString('hex')}|${a.ip}|${a.port}|${a.left}|${now + this.peerLifetimeMs}`);
        tx.pexpire(peersKey, this.peerLifetimeMs);
      }
      tx.get(countKey);
      const results = (await tx.exec()) ?? [];
      const downloaded = Number(results[results.length - 1]?.[1] ?? 0);
      const rest = others.filter((e) => e.member !== id);
      if (a.event === 'stopped') return { peers: [], counts: this.counts(rest, downloaded) };
      const self: SwarmPeer = { member: id, peerId: a.peerId, ip: a.ip, port: a.port, left: a.left, expiresAt: now + this.peerLifetimeMs };
      return { peers: pickPeers(rest, a), counts: this.counts([...rest, self], downloaded) };
    });
  }

  scrape(key: string, now = Date.now()): Promise<SwarmCounts> {
    const [peersKey, countKey] = this.keys(key);
    return redisCall('the tracker peer list', async () => {
      const [entries, downloaded] = await Promise.all([this.entries(peersKey, now), this.client.get(countKey)]);
      return this.counts(entries, Number(downloaded ?? 0));
    });
  }

  drop(key: string): Promise<void> {
    return redisCall('the tracker peer list', async () => {
      await this.client.del(...this.keys(key));
    });
  }

  /** Every replica's peers: one SCAN over the swarm hashes, read in one pipeline per page. */
  activePeers(now = Date.now()): Promise<Map<string, number>> {
    const prefix = `${this.ns}swarm:`;
    return redisCall('the tracker peer lists', async () => {
      const swarms: Array<[string, SwarmPeer[]]> = [];
      let cursor = '0';
      do {
        const [next, keys] = await this.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        const hashes = keys.filter((k) => !k.endsWith(':downloaded'));
        const pipe = this.client.pipeline();
        for (const k of hashes) pipe.hgetall(k);
        const results = hashes.length > 0 ? ((await pipe.exec()) ?? []) : [];
        hashes.forEach((k, i) => {
          const all = (results[i]?.[1] ?? {}) as Record<string, string>;
          // back to `<group>\0<hash>`: group ids never hold ':'
          const rest = k.slice(prefix.length);
          const key = rest.replace(':', '\0');
          swarms.push([key, Object.entries(all).flatMap(([m, v]) => decode(m, v) ?? [])]);
        });
      } while (cursor !== '0');
      return countActive(swarms, now);
    });
  }

  /** Redis expires idle swarms by itself; stale peers are dropped when their swarm is read. */
  sweep(): void {}
}
