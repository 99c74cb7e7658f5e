// What the seeder tells the server about one DCP: the initiator's report, as role "seeder", with
// its upload rate (the console lists seeders with it).
import type { Torrent } from '../engine/index.js';
import type { ReportBody } from '../protocol/index.js';
import type { PublishedRecord } from './published-store.js';

export type SeederEntryState = 'checking' | 'seeding' | 'refused' | 'retired';

export function seederReport(r: PublishedRecord, state: SeederEntryState, message: string | undefined, torrent: Torrent | undefined): ReportBody {
  let uploadBps = 0;
  try {
    uploadBps = Math.max(0, Math.round(torrent?.status().uploadRate ?? 0));
  } catch {
    /* removed meanwhile */
  }
  const base = { peer: r.peerId, infoHash: r.infoHash, role: 'seeder' as const, uploadBps, downloadBps: 0 };
  const body: ReportBody =
    state === 'seeding'
      ? { ...base, state: 'seeding', progress: 1, message: 'initiator' }
      : state === 'checking'
        ? { ...base, state: 'checking', progress: 0, message: 'initiator: re-checking files changed since publishing' }
        : state === 'retired'
          ? { ...base, state: 'retired', progress: 1, message }
          : { ...base, state: 'failed', progress: 0, message: message?.slice(0, 2000) };
  return body;
}
