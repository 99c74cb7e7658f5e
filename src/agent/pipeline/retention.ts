// Content lifecycle: when a retired DCP may be removed from the RAID. Pure, with the clock as an
// input: keepDays after it was retired (0: never), never while a TMS lock file or the configured
// in-use marker is there, never when a group it came from was left (a person's choice to keep it
// unless they delete it: `leave --delete` asks for that, and then keepDays do not apply either),
// and never while any group still lists it.
import type { HistoryEntry } from './history-store.js';

const DAY_MS = 86_400_000;

export interface RetentionInput {
  now: number;
  keepDays: number;
  /** the ids of the groups the agent is in */
  joined: ReadonlySet<string>;
  /** every info hash the groups' last listings name */
  listed: ReadonlySet<string>;
  /** info hashes with an in-use marker in their folders */
  inUse: ReadonlySet<string>;
  /** info hashes a person asked to delete when leaving their group (`leave --delete`) */
  deleting?: ReadonlySet<string>;
}

/** When the entry becomes removable (ms), or null when retention never removes it. */
export function removableAt(e: HistoryEntry, keepDays: number): number | null {
  if (e.state !== 'retired' || e.removedAt || !e.retiredAt || keepDays <= 0) return null;
  return Date.parse(e.retiredAt) + keepDays * DAY_MS;
}

/** Why an entry stays (for the page), or null when it is due for removal now. */
export function keepReason(e: HistoryEntry, r: RetentionInput): string | null {
  if (r.deleting?.has(e.infoHash) && !r.joined.has(e.group) && e.state === 'retired' && !e.removedAt) {
    if (r.listed.has(e.infoHash)) return 'the server lists it again';
    return r.inUse.has(e.infoHash) ? 'marked in use' : null;
  }
  const at = removableAt(e, r.keepDays);
  if (at === null) return r.keepDays <= 0 ? 'retention.keepDays is 0: kept until removed by hand' : 'not retired';
  if (!r.joined.has(e.group)) return `group ${e.group} was left: kept until removed by hand`;
  if (r.listed.has(e.infoHash)) return 'the server lists it again';
  if (r.inUse.has(e.infoHash)) return 'marked in use';
  if (r.now < at) return `kept until ${new Date(at).toISOString()}`;
  return null;
}
