// Target-state reconciliation: compares what the groups offer (the target, from the last polls)
// with what the agent already has (its history) and says what to do. Pure, so running it twice
// on the same inputs, after the first plan was applied, yields an empty plan.
import type { TorrentSummary } from '../../protocol/index.js';
import type { ConflictEntry, HistoryEntry } from './history-store.js';

export interface GroupTarget {
  group: string;
  torrents: TorrentSummary[];
}

export interface NewDownload {
  name: string;
  infoHash: string;
  group: string;
  size: number;
}

export interface ReconcilePlan {
  /** names never seen before: create a history entry and start the download pipeline */
  add: NewDownload[];
  /** a known name offered with other content: record, never download, never overwrite */
  conflicts: ConflictEntry[];
  /** a known torrent (same info hash) offered by one more group: report to it as well */
  offers: { name: string; group: string }[];
}

export interface HistoryView {
  get(name: string): HistoryEntry | undefined;
  /** every version of a name (a person may have accepted a re-release beside the first) */
  versions?(name: string): HistoryEntry[];
  conflicts(): ConflictEntry[];
}

export function planReconcile(targets: GroupTarget[], history: HistoryView, knownOffers: ReadonlyMap<string, ReadonlySet<string>>, now: Date = new Date()): ReconcilePlan {
  const plan: ReconcilePlan = { add: [], conflicts: [], offers: [] };
  const planned = new Map<string, NewDownload>();
  const existingConflicts = history.conflicts();
  for (const { group, torrents } of targets) {
    for (const t of torrents) {
      const infoHash = t.infoHash.toLowerCase();
      // Any version we hold of the name counts as known: an accepted re-release is not a conflict.
      const known = history.versions?.(t.name).find((v) => v.infoHash === infoHash) ?? history.get(t.name);
      const knownHash = known?.infoHash ?? planned.get(t.name)?.infoHash;
      if (knownHash === undefined) {
        // First offer of this name wins; the same name in a later group in this pass is a dedupe.
        const add = { name: t.name, infoHash, group, size: t.size };
        planned.set(t.name, add);
        plan.add.push(add);
        continue;
      }
      if (knownHash !== infoHash) {
        const dup =
          existingConflicts.some((c) => c.name === t.name && c.group === group && c.offeredInfoHash === infoHash) ||
          plan.conflicts.some((c) => c.name === t.name && c.group === group && c.offeredInfoHash === infoHash);
        if (!dup) plan.conflicts.push({ name: t.name, group, knownInfoHash: knownHash, offeredInfoHash: infoHash, seenAt: now.toISOString() });
        continue;
      }
      const ownerGroup = known?.group ?? planned.get(t.name)?.group;
      if (group !== ownerGroup && !knownOffers.get(t.name)?.has(group)) plan.offers.push({ name: t.name, group });
    }
  }
  return plan;
}
