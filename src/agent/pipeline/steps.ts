// The agent's pipeline steps, as plain data. The planner (planner.ts) computes them from what the
// agent knows; the loop (loop.ts) runs them (step-runner.ts) and plans again until none is left.
// Step model (docs/agent-pipeline.md says the same for readers outside the code):
//   create          a DCP offered for the first time: add a history entry (state queued)
//   conflict        a known name offered with other content: record it, download nothing
//   accept          a person accepted such a re-release: add its version (its own download folder)
//   offer           a known DCP offered by one more group: report to that group as well
//   wait-for-space  not enough free space to start: stay queued, say how much is missing
//   fetch-torrent   fetch the peer's personalised .torrent from the server and store it
//   add-to-engine   hand the stored .torrent (and resume data) to libtorrent
//   pause / resume  make the engine torrent follow the operator's intent
//   set-state       record what the engine shows (checking, downloading, seeding)
//   verify          check the DCP (ASSETMAP + PKL, hashes); counts attempts, persisted
//   recheck         after a failed verify: hash-check the pieces again to fetch bad ones anew
//   ingest          place a verified DCP in ingestDir (hard links, whole or not at all); a
//                   re-release swaps the name from the version it replaces in one step
//   save-resume     store libtorrent resume data (periodically, and once complete)
//   report          send the DCP's state to its groups (on change, and while downloading)
//   retire          stop a DCP its group no longer lists, whose group was left, or that a
//                   re-release replaced in ingest (files kept)
//   remove          delete a retired DCP's download and ingest copies once retention allows
// Steps that take long (fetch-torrent, verify, ingest, recheck) run beside the loop; the torrent
// is busy until they end, and only pause/resume/report are planned for a busy torrent.
import type { ConflictEntry } from './history-store.js';
import type { TorrentStateName } from '../monitoring/status-types.js';

export type Step =
  | { kind: 'create'; name: string; infoHash: string; group: string; size: number }
  | { kind: 'conflict'; conflict: ConflictEntry }
  | { kind: 'accept'; name: string; infoHash: string; group: string; size: number; replaces: string }
  | { kind: 'offer'; name: string; infoHash: string; group: string }
  | { kind: 'wait-for-space'; infoHash: string; shortfallBytes: number }
  | { kind: 'fetch-torrent'; infoHash: string }
  | { kind: 'add-to-engine'; infoHash: string; paused: boolean }
  | { kind: 'pause'; infoHash: string }
  | { kind: 'resume'; infoHash: string }
  | { kind: 'set-state'; infoHash: string; state: Extract<TorrentStateName, 'checking' | 'downloading' | 'seeding'>; resetVerify?: boolean; message?: string }
  | { kind: 'verify'; infoHash: string; requested: boolean }
  | { kind: 'recheck'; infoHash: string }
  | { kind: 'ingest'; infoHash: string }
  | { kind: 'save-resume'; infoHash: string }
  | { kind: 'report'; infoHash: string }
  | { kind: 'retire'; infoHash: string; message: string }
  | { kind: 'remove'; infoHash: string };

export type StepKind = Step['kind'];

/** Steps that run beside the loop (the torrent stays busy until they end). */
export const LONG_STEPS: ReadonlySet<StepKind> = new Set(['fetch-torrent', 'verify', 'ingest', 'recheck', 'remove']);

/** How many verifications of one DCP fail before a person must ask for another (persisted). */
export const MAX_VERIFY_ATTEMPTS = 3;

/** The info hash a step concerns, when it concerns one torrent. */
export function stepTarget(s: Step): string | undefined {
  return s.kind === 'conflict' ? undefined : s.infoHash;
}

/** One line for logs and tests: "verify 3f2a…", "set-state seeding 3f2a…". */
export function describeStep(s: Step): string {
  const ih = stepTarget(s)?.slice(0, 8) ?? s.kind;
  if (s.kind === 'set-state') return `set-state ${s.state} ${ih}`;
  if (s.kind === 'conflict') return `conflict ${s.conflict.name} from ${s.conflict.group}`;
  return `${s.kind} ${ih}`;
}
