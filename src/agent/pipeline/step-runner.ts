// Carries out one planned step (steps.ts) against the engine, the history, the stores and the
// ingest folder. Each step does one thing and records its outcome in the history, so the next
// plan sees it; a step that fails leaves the state as it was (or says why in the message).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { parseTorrent } from '../../engine/index.js';
import { verifyDcp } from '../../dcp/index.js';
import type { HistoryEntry, HistoryStore } from './history-store.js';
import type { ResumeStore } from './resume-store.js';
import type { IntentStore } from './intent-store.js';
import type { EngineLink } from './engine-link.js';
import type { AssetChecker } from './asset-checks.js';
import { placeInIngest, alreadyPlaced, swapInIngest } from './ingest.js';
import { downloadFolder, savePathOf } from './download-layout.js';
import { spaceMessage } from './planner.js';
import { formatBytes } from '../../util/bytes.js';
import { ApiError } from '../../protocol/index.js';
import { MAX_VERIFY_ATTEMPTS, type Step } from './steps.js';

/** A fetch that failed on the way (server away, busy, overloaded) is tried again after this long. */
const RETRY_MS = 5_000;

/** retryAt of a torrent refused for what it is (a torrent libtorrent will not load, a refusal by
 * the server): it would fail the same way every time, so it is tried again only after the next
 * poll, which releases it (releaseRefused), and its reason is said once, not at every try. */
export const UNTIL_NEXT_POLL = Number.POSITIVE_INFINITY;

/** Called after each poll: refused torrents get their one try for this poll. */
export function releaseRefused(retryAt: Map<string, number>): void {
  for (const [ih, at] of retryAt) if (at === UNTIL_NEXT_POLL) retryAt.delete(ih);
}

function passing(err: Error): boolean {
  return err instanceof ApiError && (err.code === 'UNREACHABLE' || err.code === 'SERVER_ERROR' || err.code === 'RATE_LIMITED');
}

export interface StepContext {
  engine: EngineLink;
  history: HistoryStore;
  resume: ResumeStore;
  intent: IntentStore;
  dirs(): { downloadDir: string; ingestDir: string };
  fetchTorrent(entry: HistoryEntry): Promise<Buffer>;
  /** sends the entry's current state to its groups (and to the groups that also offer it) */
  report(entry: HistoryEntry): void;
  offers: Map<string, Set<string>>;
  storedTorrents: Set<string>;
  retryAt: Map<string, number>;
  log: Logger;
  /** the agent's clock (retention counts days from the retirement it stamps) */
  now?: () => number;
  /** assets checked during the download: the final verification does not read them again */
  assets?: AssetChecker;
}

export class StepRunner {
  constructor(private readonly ctx: StepContext) {}

  private entry(infoHash: string): HistoryEntry {
    const e = this.ctx.history.byHash(infoHash);
    if (!e) throw new Error(`no history entry for ${infoHash}`);
    return e;
  }

  /** Persists a change to an entry; a new state or message is logged once (unless the caller did). */
  private async patch(e: HistoryEntry, p: Partial<HistoryEntry>, log = true): Promise<HistoryEntry> {
    const next = (await this.ctx.history.updateByHash(e.infoHash, p)) ?? e;
    if (log && (next.state !== e.state || next.message !== e.message)) {
      this.ctx.log.info({ name: next.name, infoHash: next.infoHash, state: next.state, message: next.message }, `${next.name}: ${next.state}`);
    }
    return next;
  }

  async run(step: Step): Promise<void> {
    const { ctx } = this;
    switch (step.kind) {
      case 'create':
        // The entry is in memory at once and reaches the disk in the history's own order; the fetch
        // does not wait for its fsync (0.2-0.5 s on a busy disk). A crash before it lands loses
        // nothing: the next listing offers the DCP again. The agent's stop waits for the write.
        ctx.history
          .put({ name: step.name, infoHash: step.infoHash, group: step.group, sizeBytes: step.size, addedAt: new Date().toISOString(), state: 'queued', verify: { state: 'pending', failed: [] } })
          .catch((err: unknown) => ctx.log.error({ err, name: step.name }, 'could not store the history'));
        ctx.log.info({ name: step.name, group: step.group, infoHash: step.infoHash, size: step.size }, `new DCP offered: ${step.name}`);
        return;
      case 'accept':
        return this.accept(step);
      case 'conflict':
        if (await ctx.history.addConflict(step.conflict)) {
          const c = step.conflict;
          ctx.log.warn(c, `group ${c.group} offers "${c.name}" with different content than the copy already received; not downloaded, a person must decide`);
        }
        return;
      case 'offer': {
        let set = ctx.offers.get(step.name);
        if (!set) ctx.offers.set(step.name, (set = new Set()));
        set.add(step.group);
        const e = this.entry(step.infoHash);
        ctx.log.info({ name: e.name, group: step.group }, `${e.name} is also offered by group ${step.group}; already taken from ${e.group}, not downloaded twice`);
        ctx.report(e);
        return;
      }
      case 'wait-for-space':
        await this.patch(this.entry(step.infoHash), { state: 'queued', message: spaceMessage(step.shortfallBytes, ctx.dirs().downloadDir) });
        return;
      case 'fetch-torrent':
        return this.fetch(this.entry(step.infoHash));
      case 'add-to-engine':
        return this.add(this.entry(step.infoHash), step.paused);
      case 'pause':
        ctx.engine.torrent(step.infoHash)?.pause();
        return;
      case 'resume':
        ctx.engine.torrent(step.infoHash)?.resume();
        return;
      case 'set-state': {
        const e = this.entry(step.infoHash);
        await this.patch(e, { state: step.state, ...(step.state === 'downloading' ? { message: step.message } : {}), ...(step.resetVerify ? { verify: { state: 'pending', failed: [] } } : {}) });
        return;
      }
      case 'verify':
        return this.verify(this.entry(step.infoHash), step.requested);
      case 'recheck': {
        const e = this.entry(step.infoHash);
        await ctx.assets?.clear(e.infoHash);
        await ctx.engine.recheck(e.infoHash, await ctx.resume.loadTorrent(e.infoHash), Boolean(ctx.intent.get(e.infoHash).paused));
        await this.patch(e, { recheck: false });
        return;
      }
      case 'ingest':
        return this.ingest(this.entry(step.infoHash));
      case 'save-resume':
        return ctx.engine.saveResume(step.infoHash);
      case 'report':
        ctx.report(this.entry(step.infoHash));
        return;
      case 'retire': {
        const e = this.entry(step.infoHash);
        await ctx.engine.remove(e.infoHash);
        if (e.state !== 'retired') await this.patch(e, { state: 'retired', message: step.message, retiredAt: new Date(this.now()).toISOString() });
        return;
      }
      case 'remove':
        return this.remove(this.entry(step.infoHash));
    }
  }

  private now(): number {
    return this.ctx.now ? this.ctx.now() : Date.now();
  }

  /** A person accepted a re-release: its version of the name enters the history (and downloads
   * into its own folder); the conflict it was listed under is settled. */
  private async accept(step: Extract<Step, { kind: 'accept' }>): Promise<void> {
    const { ctx } = this;
    const at = new Date(this.now()).toISOString();
    const decision = `re-release accepted on ${at.slice(0, 16).replace('T', ' ')} UTC, replacing ${step.replaces.slice(0, 12)}`;
    await ctx.history.put({ name: step.name, infoHash: step.infoHash, group: step.group, sizeBytes: step.size, addedAt: at, state: 'queued', verify: { state: 'pending', failed: [] }, replaces: step.replaces, decision });
    await ctx.history.dropConflicts(step.name, step.infoHash);
    await ctx.intent.set(step.infoHash, { accept: false });
    ctx.log.info({ name: step.name, infoHash: step.infoHash, replaces: step.replaces, group: step.group }, `${step.name}: re-release accepted; downloading it beside the version in ingest`);
  }

  /** Retention: the download and the ingest copy go; the entry stays, saying when and what was freed.
   * The ingest folder goes only while it holds this version (a re-release may have taken the name). */
  private async remove(e: HistoryEntry): Promise<void> {
    const { downloadDir, ingestDir } = this.ctx.dirs();
    const copies = [savePathOf(downloadDir, e.infoHash)];
    if (await alreadyPlaced(savePathOf(downloadDir, e.infoHash), ingestDir, e.name)) copies.unshift(path.join(ingestDir, e.name));
    for (const dir of copies) await fs.rm(dir, { recursive: true, force: true });
    await this.ctx.assets?.clear(e.infoHash);
    const at = new Date(this.now()).toISOString();
    const asked = this.ctx.intent.get(e.infoHash).delete;
    const how = asked ? `removed on ${at.slice(0, 10)} as asked when group ${e.group} was left (leave --delete)` : `removed by retention on ${at.slice(0, 10)} (retired ${e.retiredAt?.slice(0, 10) ?? 'earlier'}: ${e.message ?? 'retired'})`;
    const message = `${how}; ${formatBytes(e.sizeBytes)} freed`;
    this.ctx.log.warn({ name: e.name, infoHash: e.infoHash, removed: copies, bytes: e.sizeBytes, retiredAt: e.retiredAt }, `retention removed ${e.name}: ${copies.join(', ')}`);
    await this.patch(e, { removedAt: at, message });
  }

  /** The version a re-release replaced no longer shows in ingest: the lifecycle retires it. */
  private async superseded(e: HistoryEntry): Promise<void> {
    const old = this.ctx.history.byHash(e.replaces!);
    if (!old || old.supersededBy === e.infoHash) return;
    const why = `replaced in ingest by the accepted re-release ${e.infoHash.slice(0, 12)}`;
    await this.patch(old, { supersededBy: e.infoHash, decision: `replaced by the accepted re-release ${e.infoHash.slice(0, 12)}`, ...(old.state === 'retired' ? { message: `${why}; ${old.message ?? 'retired'}` } : {}) });
    this.ctx.log.info({ name: e.name, infoHash: e.infoHash, replaced: old.infoHash }, `${e.name}: ingest now shows the re-release ${e.infoHash}`);
  }

  private async fetch(e: HistoryEntry): Promise<void> {
    const { ctx } = this;
    try {
      const bytes = await ctx.fetchTorrent(e);
      const info = parseTorrent(bytes);
      // The listing promised this name and info hash; anything else is not what the group offered.
      if (info.infoHash !== e.infoHash || info.name !== e.name) throw new Error(`the server sent ${info.name} (${info.infoHash}) for ${e.name} (${e.infoHash})`);
      // The download starts from the bytes in hand while the stored copy (a restart's, without the
      // server) is written: its fsync kept the engine waiting 0.1-0.2 s on a busy disk.
      const saving = ctx.resume.saveTorrent(e.infoHash, bytes).then(
        () => true,
        (err: unknown) => (ctx.log.warn({ err, name: e.name }, `${e.name}: could not store its .torrent; a restart fetches it again`), false),
      );
      await this.add(e, Boolean(ctx.intent.get(e.infoHash).paused), bytes);
      if (await saving) ctx.storedTorrents.add(e.infoHash);
    } catch (err) {
      await this.notStarted(e, err as Error);
    }
  }

  /** Adds the DCP's torrent to the engine: the bytes just fetched, or else the stored copy. */
  private async add(e: HistoryEntry, paused: boolean, fetched?: Buffer): Promise<void> {
    const { ctx } = this;
    try {
      const bytes = fetched ?? (await ctx.resume.loadTorrent(e.infoHash));
      if (!bytes) {
        ctx.storedTorrents.delete(e.infoHash);
        return;
      }
      const resumed = e.state !== 'queued';
      const { withResumeData } = ctx.engine.add(e.infoHash, bytes, await ctx.resume.load(e.infoHash), paused, e.verify.state !== 'passed');
      ctx.retryAt.delete(e.infoHash);
      if (resumed) ctx.log.info({ name: e.name, state: e.state, withResumeData }, `${e.name}: resumed from the previous run`);
      if (e.message?.startsWith('could not start') || e.message?.startsWith('waiting for disk space')) await this.patch(e, { message: undefined });
    } catch (err) {
      await this.notStarted(e, err as Error);
    }
  }

  private async notStarted(e: HistoryEntry, err: Error): Promise<void> {
    const message = `could not start: ${err.message}`;
    const again = passing(err);
    this.ctx.retryAt.set(e.infoHash, again ? Date.now() + RETRY_MS : UNTIL_NEXT_POLL);
    // One line and one message per reason: the same refusal at the next try says nothing new.
    if (e.message === message) {
      this.ctx.log.debug({ name: e.name }, message);
      return;
    }
    this.ctx.log.warn({ err: err.message, name: e.name, infoHash: e.infoHash, retry: again ? `in ${RETRY_MS / 1000} s` : 'after the next poll' }, `${e.name}: ${message}`);
    await this.patch(e, { message }, false);
  }

  /** Verifies downloadDir/<name>; a failure names the bad assets and asks for a recheck, until the
   * attempts (persisted with the entry) run out and a person must ask again. */
  private async verify(e0: HistoryEntry, requested: boolean): Promise<void> {
    const { ctx } = this;
    if (requested) await ctx.intent.set(e0.infoHash, { reverify: false });
    // A person's re-verify reads every byte again; otherwise what passed during the download is not read twice.
    if (requested) await ctx.assets?.clear(e0.infoHash);
    const attempts = (requested ? 0 : (e0.verifyAttempts ?? 0)) + 1;
    // The 'verifying' record is not waited for before the files are synced and checked: right after
    // a download its fsync waits for the download's dirty pages like the files' own syncs do, and in
    // turn they cost that wait twice (0.07-0.36 s each, bench/ingest.bench.ts). Every later patch is
    // chained after it in the history store, so the disk never shows them out of order.
    const marking = this.patch(e0, { state: 'verifying', message: undefined, verifyAttempts: attempts, verify: { state: 'running', failed: [] } });
    let e = e0;
    let report: Awaited<ReturnType<typeof verifyDcp>>;
    try {
      // Only durable bytes may pass: mmap storage leaves written pages in the page cache. The
      // download is complete, so libtorrent writes nothing more that a sync started now could miss.
      const [marked, known] = await Promise.all([marking, ctx.assets?.known(e0.infoHash), ctx.assets?.syncAll(e0.infoHash)]);
      e = marked;
      report = await verifyDcp(downloadFolder(ctx.dirs().downloadDir, e), { known });
      ctx.log.info({ name: e.name, infoHash: e.infoHash, bytesHashed: report.bytesHashed, checkedDuringDownload: known?.size ?? 0 }, `${e.name}: verification read ${formatBytes(report.bytesHashed)} (${known?.size ?? 0} files checked during the download)`);
    } catch (err) {
      // The check itself could not run (unreadable folder): counted as an attempt, no recheck.
      await this.patch(e, { state: 'failed', verify: { state: 'failed', failed: [] }, message: `verification could not run: ${(err as Error).message}` });
      return;
    }
    if (report.ok) {
      // The ingest is planned from memory at once; the pass reaches the disk in order, before the
      // 'ready' that follows it, and a crash before it lands only means verifying again from the
      // stored asset checks. Its fsync held the ingest 0.25 s on a busy disk.
      this.patch(e, { verifyAttempts: 0, verify: { state: 'passed', failed: [] } }).catch((err: unknown) => ctx.log.error({ err, name: e.name }, 'could not store the history'));
      return;
    }
    const failed = report.failures.map((f) => ({ path: f.path, reason: f.reason }));
    const list = failed.map((f) => `${f.path} (${f.reason})`).join('; ');
    const last = attempts >= MAX_VERIFY_ATTEMPTS;
    e = await this.patch(e, {
      state: 'failed',
      verify: { state: 'failed', failed },
      recheck: !last,
      message: last ? `verification failed ${attempts} times: ${list}; a person must check this DCP` : `verification failed: ${list}; re-checking and fetching the bad pieces again`,
    });
  }

  private async ingest(e: HistoryEntry): Promise<void> {
    const { downloadDir, ingestDir } = this.ctx.dirs();
    const from = savePathOf(downloadDir, e.infoHash);
    try {
      if (!(await alreadyPlaced(from, ingestDir, e.name))) {
        const old = e.replaces ? this.ctx.history.byHash(e.replaces) : undefined;
        // Only the version being replaced is swapped out; anything else under the name stays.
        if (old && (await alreadyPlaced(savePathOf(downloadDir, old.infoHash), ingestDir, old.name))) await swapInIngest(from, ingestDir, e.name);
        else await placeInIngest(from, ingestDir, e.name);
      }
      if (e.replaces) await this.superseded(e);
    } catch (err) {
      // Not tried again by itself (something sits in the way): a person's re-verify retries it.
      this.ctx.log.error({ err, name: e.name }, `${e.name}: ingest failed`);
      await this.patch(e, { state: 'failed', message: (err as Error).message });
      return;
    }
    const st = this.ctx.engine.status(e.infoHash);
    await this.patch(e, { state: 'ready', completedAt: e.completedAt ?? new Date().toISOString(), message: `in ${path.join(ingestDir, e.name)}` });
    // Bytes fetched by this run: after a crash and resume, this is what had to be re-fetched.
    this.ctx.log.info({ name: e.name, size: e.sizeBytes, downloadedThisRun: st?.totalPayloadDownload ?? 0, hashFailures: this.ctx.engine.hashFailures.get(e.infoHash) ?? 0 }, `${e.name}: complete and ingested`);
  }
}
