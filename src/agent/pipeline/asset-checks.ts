// Checks each asset of a DCP against its packing list as soon as libtorrent has all its pieces
// (file_completed alerts, and file_progress() for files complete from resume data), beside the
// rest of the download and of other DCPs. Each file is fdatasync'ed before its result is
// recorded; the final verification then reads none of the files that passed (docs/agent-pipeline.md).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { hashFiles, parseTorrent, type EngineAlert, type Session, type Torrent } from '../../engine/index.js';
import { expectedAssets, type ExpectedAsset } from '../../dcp/index.js';
import type { AssetCheckResult, AssetCheckStore } from './asset-check-store.js';
import { PrefixHash, type FileSpan } from './asset-prefix-hash.js';

/** Written bytes of a file since its last fdatasync that start one during the download, looked at
 * every WRITEBACK_MS. 16 MiB / 250 ms (was 64 MiB / 1 s): what is left to write after the last
 * piece is at most a quarter second of the download; from the verify step to the DCP in ingest
 * 0.16-0.28 s against 0.45-2.51 s (256 MiB, 3 runs each, alternating, load 8.9-12.9), the
 * download itself no slower. */
const WRITEBACK_BYTES = 16 * 1024 * 1024;
const WRITEBACK_MS = 250;
/** libtorrent's top file priority: the DCP's XML (ASSETMAP, PKL, CPL, VOLINDEX) arrives first. */
const XML_PRIORITY = 7;
const DESCRIPTOR = /(\.xml$)|(^(ASSETMAP|VOLINDEX)$)/i;
/** Assets from this size on are hashed as their in-order prefix lands (asset-prefix-hash.ts). */
const PREFIX_MIN_BYTES = 16 * 1024 * 1024;
const PREFIX_MS = 250;

interface Tracked {
  torrent: Torrent;
  /** the DCP folder: the save path and the torrent's top folder */
  dir: string;
  sizes: number[];
  /** path relative to the DCP folder -> file index */
  index: Map<string, number>;
  expected: Map<string, ExpectedAsset> | null;
  /** files checked in this run, or found checked by an earlier one */
  done: Set<string>;
  /** bytes of each file on disk at its last fdatasync (background writeback) */
  synced: number[];
  /** each file's place in the piece space; null when the torrent has pad files (offsets unknown) */
  spans: FileSpan[] | null;
  /** running SHA-1s of large assets still downloading, by path relative to the DCP folder */
  prefix: Map<string, PrefixHash>;
  /** whether pieces are picked in order now (only while every connected peer is a seed) */
  sequential: boolean;
  scan: Promise<void>;
  lastJob: Promise<void>;
}

export class AssetChecker {
  private readonly tracked = new Map<string, Tracked>();
  /** one file hashed at a time, for every DCP: the download keeps the other core */
  private chain: Promise<void> = Promise.resolve();
  /** bytes hashed by early checks since start (logs, tests) */
  bytesHashed = 0;
  private writeback?: NodeJS.Timeout;
  private writing = false;
  private prefixTimer?: NodeJS.Timeout;
  private advancing = false;

  constructor(private readonly store: AssetCheckStore, private readonly log: Logger) {}

  /**
   * The kernel starts writing a download's dirty pages only late (dirty_background_ratio of a big
   * RAM), so the fdatasync before a check would write the whole file at the end; syncing files as
   * they fill spreads that over the download.
   */
  private startWriteback(): void {
    if (this.writeback) return;
    this.writeback = setInterval(() => {
      if (this.writing) return;
      this.writing = true;
      void this.writebackOnce().finally(() => (this.writing = false));
    }, WRITEBACK_MS);
    this.writeback.unref();
  }

  private async writebackOnce(): Promise<void> {
    for (const t of this.tracked.values()) {
      let progress: number[];
      try {
        progress = t.torrent.fileProgress();
      } catch {
        continue;
      }
      for (const [rel, i] of t.index) {
        const have = progress[i] ?? 0;
        const done = t.synced[i] ?? 0;
        // a file that completed since its last sync goes too (the XML that no check syncs, an
        // asset's last bytes), so the syncs after the last piece find little left to write
        if (have - done < WRITEBACK_BYTES && !(have === t.sizes[i] && have > done)) continue;
        t.synced[i] = have;
        await datasync(path.join(t.dir, rel)).catch(() => undefined);
      }
    }
  }

  /** Its own loop: a slow fdatasync of the writeback must not hold the running hashes back. */
  private startPrefixes(): void {
    if (this.prefixTimer) return;
    this.prefixTimer = setInterval(() => {
      if (this.advancing) return;
      this.advancing = true;
      void (async () => {
        for (const t of this.tracked.values()) {
          this.pickInOrder(t);
          await this.advancePrefixes(t);
        }
      })().finally(() => (this.advancing = false));
    }, PREFIX_MS);
    this.prefixTimer.unref();
  }

  /**
   * Pieces in order while every connected peer is a seed: nobody here needs our rare pieces, so
   * rarest-first buys nothing and in-order pieces let the prefix hashes keep up. Any downloading
   * peer (a swarm of cinemas) brings rarest-first back.
   */
  private pickInOrder(t: Tracked): void {
    if (!t.spans || t.prefix.size === 0) return;
    try {
      const st = t.torrent.status();
      const want = !st.isFinished && st.numPeers > 0 && st.numSeeds === st.numPeers;
      if (want === t.sequential) return;
      t.torrent.setSequentialDownload(want);
      t.sequential = want;
    } catch {
      /* out of the engine meanwhile */
    }
  }

  /** Feeds each large asset's running hash with its newly checked in-order prefix. */
  private async advancePrefixes(t: Tracked): Promise<void> {
    if (!t.spans || !t.expected) return;
    for (const [rel, want] of t.expected) {
      const i = t.index.get(rel);
      if (i === undefined || t.done.has(rel) || t.sizes[i]! < PREFIX_MIN_BYTES) continue;
      let p = t.prefix.get(rel);
      if (!p) t.prefix.set(rel, (p = new PrefixHash(path.join(t.dir, want.rel), t.spans[i]!)));
      await p.advance(() => t.torrent.pieceStates()).catch((err: unknown) => this.log.debug({ err, file: rel }, 'prefix hash: starting over'));
    }
  }

  /** Takes no more work and waits for the checks under way, so nothing writes to dataDir after it. */
  async stop(): Promise<void> {
    if (this.writeback) clearInterval(this.writeback);
    this.writeback = undefined;
    if (this.prefixTimer) clearInterval(this.prefixTimer);
    this.prefixTimer = undefined;
    const scans = [...this.tracked.values()].map((t) => t.scan);
    this.tracked.clear();
    await Promise.all(scans);
    await this.chain;
    await this.store.settled();
  }

  attach(session: Session): void {
    const rescan = (a: EngineAlert) => {
      if (a.infoHash && this.tracked.has(a.infoHash)) void this.rescan(a.infoHash);
    };
    session.on('file-completed', rescan);
    session.on('torrent-finished', rescan);
    session.on('state-changed', (a) => {
      // a recheck may drop pieces and fetch them anew: what the running hashes read counts no more
      if (a.state === 'checking_files' && a.infoHash) this.tracked.get(a.infoHash)?.prefix.clear();
      rescan(a);
    });
  }

  /** A torrent entered the engine: its XML first, and its complete files checked. */
  track(infoHash: string, torrent: Torrent, bytes: Buffer): void {
    const info = parseTorrent(bytes);
    const first = info.files[0]?.path.split('/')[0];
    // A DCP is a folder: a single-file torrent has no packing list to check against.
    if (!first || !info.files.every((f) => f.path.startsWith(`${first}/`))) return;
    const index = new Map<string, number>();
    info.files.forEach((f, i) => {
      const rel = f.path.slice(first.length + 1);
      index.set(rel, i);
      if (DESCRIPTOR.test(path.basename(rel))) {
        try {
          torrent.setFilePriority(i, XML_PRIORITY);
        } catch (err) {
          this.log.debug({ err, infoHash }, 'could not raise the priority of the DCP XML');
        }
      }
    });
    const dir = path.join(torrent.status().savePath, first);
    const sizes = info.files.map((f) => f.size);
    let start = 0;
    const spans = sizes.map((size) => ({ start: (start += size) - size, size, pieceLength: info.pieceLength }));
    // pad files (left out of info.files) would shift the offsets: such torrents hash files whole
    const padded = start !== info.totalSize;
    this.tracked.set(infoHash, { torrent, dir, sizes, index, expected: null, done: new Set(), synced: [], spans: padded ? null : spans, prefix: new Map(), sequential: false, scan: Promise.resolve(), lastJob: Promise.resolve() });
    this.startWriteback();
    this.startPrefixes();
    void this.rescan(infoHash);
  }

  untrack(infoHash: string): void {
    this.tracked.delete(infoHash);
  }

  /** Forgets the results (a recheck may fetch pieces anew; a person asked for a full read). */
  async clear(infoHash: string): Promise<void> {
    const t = this.tracked.get(infoHash);
    if (t) {
      await t.lastJob;
      t.done.clear();
      t.prefix.clear();
    }
    await this.store.clear(infoHash);
  }

  /**
   * Once every pending check of the torrent has ended: the files that passed and are unchanged
   * since, by real path, for verifyDcp's `known`.
   */
  async known(infoHash: string): Promise<Map<string, { size: number; sha1Base64: string }>> {
    const out = new Map<string, { size: number; sha1Base64: string }>();
    const t = this.tracked.get(infoHash);
    if (!t) return out;
    await this.rescan(infoHash);
    await t.lastJob;
    for (const [rel, r] of Object.entries(await this.store.get(infoHash))) {
      if (!r.ok) continue;
      const abs = path.join(t.dir, rel);
      if (!(await unchanged(abs, r))) continue;
      out.set(await fs.realpath(abs), { size: r.size, sha1Base64: r.sha1Base64 });
    }
    return out;
  }

  /** Makes every file of the torrent durable (before a full verification records a pass). All at
   * once: one journal commit then serves them all, where one after the other each waited for its own. */
  async syncAll(infoHash: string): Promise<void> {
    const t = this.tracked.get(infoHash);
    if (!t) return;
    await Promise.all([...t.index.keys()].map((rel) => datasync(path.join(t.dir, rel)).catch(() => undefined)));
  }

  private rescan(infoHash: string): Promise<void> {
    const t = this.tracked.get(infoHash)!;
    t.scan = t.scan.then(() => this.scanOnce(infoHash, t)).catch((err: unknown) => this.log.warn({ err, infoHash }, 'checking finished files failed'));
    return t.scan;
  }

  private async scanOnce(infoHash: string, t: Tracked): Promise<void> {
    if (this.tracked.get(infoHash) !== t) return;
    let progress: number[];
    try {
      progress = t.torrent.fileProgress();
    } catch {
      return; // out of the engine meanwhile
    }
    const complete = (rel: string): boolean => {
      const i = t.index.get(rel);
      return i !== undefined && progress[i] === t.sizes[i];
    };
    if (!t.expected) {
      t.expected = await expectedAssets(t.dir, { isComplete: complete });
      if (!t.expected) return;
      this.log.debug({ infoHash, assets: t.expected.size }, 'packing list on disk: assets are checked as they complete');
    }
    for (const [rel, want] of t.expected) {
      if (t.done.has(rel) || !complete(rel)) continue;
      t.done.add(rel);
      const job = this.chain.then(() => this.checkOne(infoHash, t, want));
      this.chain = job.catch(() => undefined);
      t.lastJob = job.catch((err: unknown) => {
        t.done.delete(rel);
        this.log.warn({ err, infoHash, file: rel }, 'could not check a finished file; the full verification will');
      });
    }
  }

  private async checkOne(infoHash: string, t: Tracked, want: ExpectedAsset): Promise<void> {
    if (this.tracked.get(infoHash) !== t) return;
    const abs = path.join(t.dir, want.rel);
    const prior = (await this.store.get(infoHash))[want.rel];
    if (prior && (await unchanged(abs, prior))) return; // checked before a restart
    // Memory-mapped storage leaves the bytes in the page cache: a power cut must not put unsynced
    // data in ingest, so the file reaches the disk before its result counts.
    const prefix = t.prefix.get(want.rel);
    t.prefix.delete(want.rel);
    // A running hash reads the tail only (after its own fdatasync); else the whole file now.
    let streamed = prefix ? await prefix.finish(() => t.torrent.pieceStates()).catch(() => null) : null;
    const matches = (h: { size: number; sha1Base64: string }) => h.sha1Base64 === want.hash && (want.size === null || h.size === want.size);
    // a mismatch of the running hash is read again whole before it counts
    if (streamed && !matches(streamed)) {
      this.log.info({ infoHash, file: want.rel }, `${want.rel}: its running hash does not match; reading it whole`);
      streamed = null;
    }
    if (!streamed) await datasync(abs);
    const st = await fs.stat(abs);
    const h = streamed ?? (await hashFiles([abs], { concurrency: 1 }))[0]!;
    this.bytesHashed += streamed ? streamed.tail : h.size;
    const ok = matches(h);
    const r: AssetCheckResult = { size: st.size, mtimeMs: st.mtimeMs, sha1Base64: h.sha1Base64, ok, at: new Date().toISOString() };
    if (this.tracked.get(infoHash) !== t) return; // rechecked or removed while hashing
    // Only a restart needs the result on disk (it is kept there so nothing is hashed twice), so
    // the next file's check and the verification do not wait for this fsync.
    const { written } = await this.store.record(infoHash, want.rel, r);
    written.catch((err: unknown) => this.log.warn({ err, infoHash, file: want.rel }, 'could not store an asset check; a restart hashes the file again'));
    if (ok) this.log.info({ infoHash, file: want.rel, bytes: h.size, ...(streamed ? { tail: streamed.tail } : {}) }, `asset checked during download: ${want.rel}`);
    else this.log.warn({ infoHash, file: want.rel }, `${want.rel} does not match its packing list (found during download)`);
  }
}

async function datasync(file: string): Promise<void> {
  const fh = await fs.open(file, 'r');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

async function unchanged(file: string, r: AssetCheckResult): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    return st.size === r.size && st.mtimeMs === r.mtimeMs;
  } catch {
    return false;
  }
}
