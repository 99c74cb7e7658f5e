// Retention: removes torrents older than retentionDays from every group, with the report
// entries about them, and forgets their swarms. Torrents being uploaded are never touched.
import type { Logger } from 'pino';
import type { TorrentCatalog } from './catalog.js';
import type { GroupStore } from './group-store.js';
import type { KeyedLock } from './keyed-lock.js';
import { swarmKey, type SwarmState } from './swarms.js';

export interface CleanupDeps {
  store: GroupStore;
  catalog: TorrentCatalog;
  swarms: SwarmState;
  reportLocks: KeyedLock;
  inFlight: Set<string>;
  retentionDays: number;
  logger: Logger;
}

export interface CleanupResult {
  removed: Array<{ group: string; name: string; infoHash: string }>;
}

const DAY_MS = 86_400_000;

export async function runCleanup(deps: CleanupDeps, now = new Date()): Promise<CleanupResult> {
  const cutoff = now.getTime() - deps.retentionDays * DAY_MS;
  const removed: CleanupResult['removed'] = [];
  for (const group of await deps.store.listGroups()) {
    const stored = await deps.store.listTorrents(group);
    const old = stored.filter((t) => t.createdAt.getTime() < cutoff && !deps.inFlight.has(`${group}/${t.name}`));
    if (old.length === 0) continue;
    const view = await deps.catalog.list(group);
    const gone = new Set<string>();
    for (const t of old) {
      // Checked again right before removal: an upload may have started since the listing.
      if (deps.inFlight.has(`${group}/${t.name}`)) continue;
      if (!(await deps.store.removeTorrent(group, t.name))) continue;
      deps.catalog.removed(group, t.name);
      const summary = view.entries.find((e) => e.name === t.name);
      removed.push({ group, name: t.name, infoHash: summary?.infoHash ?? '' });
      if (summary) gone.add(summary.infoHash);
      deps.logger.info({ group, name: t.name, createdAt: t.createdAt.toISOString(), retentionDays: deps.retentionDays }, 'removed an old torrent');
    }
    const after = await deps.catalog.list(group);
    // The same content may remain under another name; its reports and swarm stay.
    for (const infoHash of [...gone]) if (after.byInfoHash.has(infoHash)) gone.delete(infoHash);
    for (const [hash, summary] of view.byTrackerHash) {
      if (gone.has(summary.infoHash)) await deps.swarms.drop(swarmKey(group, hash));
    }
    if (gone.size > 0) await dropReportEntries(deps, group, gone);
  }
  deps.logger.info({ removed: removed.length, retentionDays: deps.retentionDays }, 'cleanup finished');
  return { removed };
}

async function dropReportEntries(deps: CleanupDeps, group: string, infoHashes: Set<string>): Promise<void> {
  for (const report of await deps.store.listReports(group)) {
    await deps.reportLocks.run(`${group}/${report.peer}`, async () => {
      const current = await deps.store.readReport(group, report.peer);
      if (!current) return;
      const kept = Object.fromEntries(Object.entries(current.torrents).filter(([h]) => !infoHashes.has(h)));
      if (Object.keys(kept).length === Object.keys(current.torrents).length) return;
      await deps.store.writeReport(group, { peer: current.peer, torrents: kept });
    });
  }
}
