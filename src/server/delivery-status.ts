// The owner's delivery picture: every torrent (listed and retired) × every peer that reported or
// is on the roster, each peer flagged for a person to act on. Pure, with the clock as input.
import type { PeerFlag, PeerStatus, RosterEntry, TorrentStatus, TorrentSummary } from '../protocol/index.js';
import type { PeerReport, ReportEntry, Tombstone } from './group-store.js';

export interface FlagRules {
  stalledAfterMinutes: number;
  silentAfterMinutes: number;
}

const DONE = new Set(['ready', 'seeding', 'retired']);
const MOVING = new Set(['queued', 'checking', 'downloading', 'verifying']);

export function flagOf(e: ReportEntry, rostered: boolean, hasRoster: boolean, rules: FlagRules, now: number): PeerFlag {
  const age = (iso: string | undefined) => (iso ? (now - Date.parse(iso)) / 60_000 : Infinity);
  if (!DONE.has(e.state) && age(e.updatedAt) >= rules.silentAfterMinutes) return 'silent';
  if (MOVING.has(e.state) && age(e.progressAt ?? e.updatedAt) >= rules.stalledAfterMinutes) return 'stalled';
  // The roster lists the cinemas expected; a distributor's seeder is not one of them.
  if (hasRoster && !rostered && e.role !== 'seeder') return 'not-rostered';
  return 'ok';
}

export function deliveryStatus(
  listed: TorrentSummary[],
  tombstones: Tombstone[],
  reports: PeerReport[],
  roster: RosterEntry[],
  rules: FlagRules,
  now: number,
): TorrentStatus[] {
  const byPeer = new Map(roster.map((r) => [r.peer, r]));
  const listedHashes = new Set(listed.map((t) => t.infoHash));
  const torrents: TorrentStatus[] = [
    ...listed.map((t) => ({ ...t, peers: [] as PeerStatus[] })),
    ...tombstones
      .filter((t) => !listedHashes.has(t.infoHash))
      .map((t) => ({ name: t.name, infoHash: t.infoHash, size: t.size, createdAt: t.createdAt, retired: { at: t.retiredAt, reason: t.reason }, peers: [] as PeerStatus[] })),
  ];
  for (const t of torrents) {
    const seen = new Set<string>();
    for (const r of reports) {
      const e = r.torrents[t.infoHash];
      if (!e) continue;
      seen.add(r.peer);
      const who = byPeer.get(r.peer);
      const flag = flagOf(e, who !== undefined, roster.length > 0, rules, now);
      t.peers.push({ peer: r.peer, ...e, flag, ...(who?.name ? { name: who.name } : {}), ...(who?.site ? { site: who.site } : {}) });
    }
    // A withdrawn DCP is not awaited from cinemas that never started it.
    if (t.retired) continue;
    for (const who of roster) {
      if (seen.has(who.peer)) continue;
      t.peers.push({ peer: who.peer, state: 'queued', progress: 0, flag: 'not-started', ...(who.name ? { name: who.name } : {}), ...(who.site ? { site: who.site } : {}) });
    }
  }
  return torrents;
}
