// The verification report: what `cineswarm verify --json` prints and what the agent stores.
import type { Flavour } from './namespaces.js';

export type { Flavour };

export interface Finding {
  path: string;               // the file (relative to the DCP folder) or asset the finding is about
  reason: string;             // projectionist words
  code: string;               // stable machine code, e.g. HASH_MISMATCH
  severity: 'error' | 'warning' | 'info';
}

export type Verdict = 'ok' | 'missing' | 'size-mismatch' | 'hash-mismatch' | 'escapes' | 'external' | 'unlisted';

export interface AssetCheck {
  id: string;
  path: string | null;
  type: string;
  pkl: string | null;         // id of the packing list that lists it
  expectedSize: number | null;
  actualSize: number | null;
  expectedHash: string | null;   // base64 SHA-1
  actualHash: string | null;
  verdict: Verdict;
  message: string;
}

export interface VerifyReport {
  dir: string;
  flavour: Flavour | null;
  ok: boolean;                // no error-severity finding
  title: string | null;       // first CPL's ContentTitleText
  failures: Finding[];
  warnings: Finding[];        // warnings, and info findings
  assets: AssetCheck[];
  bytesHashed: number;
  summary: string;
  // Additions beyond the shared contract:
  cpls: { id: string | null; path: string; title: string | null; encrypted: boolean; reels: number; keyIds: string[] }[];
  pkls: { id: string | null; path: string; assets: number }[];
  externalAssets: number;
}

export interface VerifyOptions {
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** Files hashed in parallel; defaults to the engine's choice (number of cores). */
  concurrency?: number;
  /**
   * Checksums already taken of files that cannot have changed since (the agent hashes each asset
   * as its download completes), by real path: such a file is not read again. Everything else
   * (presence, size, the XML) is still checked.
   */
  known?: ReadonlyMap<string, { size: number; sha1Base64: string }>;
}
