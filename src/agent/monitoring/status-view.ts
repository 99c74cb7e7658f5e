// How one history entry and the engine's live figures become the TorrentView that the status
// page, the JSON API, /metrics and SNMP show; and how a recorded re-release shows both versions.
import type { TorrentStatus } from '../../engine/index.js';
import type { ConflictEntry, HistoryEntry } from '../pipeline/history-store.js';
import type { GroupListing } from '../pipeline/planner.js';
import { shownState } from '../pipeline/planner.js';
import type { Intent } from '../pipeline/intent-store.js';
import type { ConflictView, TorrentView } from './status-types.js';

/** `shown` is the state to show when it is not the pipeline's own (a person's pause). */
export function torrentView(e: HistoryEntry, st: TorrentStatus | undefined, shown: TorrentView['state'] = e.state): TorrentView {
  const done = e.state === 'ready' || e.state === 'seeding';
  const downloadBps = st?.downloadRate ?? 0;
  const left = st ? st.totalWanted - st.totalWantedDone : e.sizeBytes;
  return {
    name: e.name,
    group: e.group,
    infoHash: e.infoHash,
    state: shown,
    progress: done ? 1 : (st?.progress ?? 0),
    sizeBytes: e.sizeBytes,
    downloadBps,
    uploadBps: st?.uploadRate ?? 0,
    peers: st?.numPeers ?? 0,
    // Unknown while stalled or not downloading: a made-up ETA would mislead the projectionist.
    etaSeconds: shown === 'downloading' && downloadBps > 0 ? Math.round(left / downloadBps) : null,
    verify: e.verify,
    ...(e.message ? { message: e.message } : {}),
    ...(e.replaces ? { replaces: e.replaces } : {}),
    ...(e.supersededBy ? { replacedBy: e.supersededBy } : {}),
    ...(e.decision ? { decision: e.decision } : {}),
  };
}

/** Names offered again with other content: the version here and the one offered, until a person
 * accepts the new one. */
export function conflictViews(history: { conflicts(): ConflictEntry[]; byHash(ih: string): HistoryEntry | undefined }, listings: GroupListing[], intent: (ih: string) => Intent): ConflictView[] {
  return history.conflicts().map((c) => {
    const k = history.byHash(c.knownInfoHash);
    const t = listings.find((g) => g.id === c.group)?.torrents?.find((x) => x.name === c.name && x.infoHash.toLowerCase() === c.offeredInfoHash);
    return {
      ...c,
      ...(k ? { known: { state: shownState(k, intent(k.infoHash)), sizeBytes: k.sizeBytes, inIngest: Boolean(k.completedAt) && !k.supersededBy && !k.removedAt } } : {}),
      ...(t ? { offered: { sizeBytes: t.size, createdAt: t.createdAt } } : {}),
      ...(intent(c.offeredInfoHash).accept ? { accepted: true } : {}),
    };
  });
}
