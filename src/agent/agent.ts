// The cinema agent: wires the server link (polls), the reconcile loop (pipeline/loop.ts), the
// engine, monitoring and the runtime config together, and shuts down without losing work. Every
// trigger only tells the loop that something changed. The CLI and the tests construct it; nothing
// here listens on HTTP. Past 300 lines because it is the one place that shows the start order
// and who is given what (each part it wires lives in its own module).
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { Session } from '../engine/index.js';
import { log as rootLog } from '../util/log.js';
import { processMemory } from '../util/memory.js';
import type { AgentConfig } from './config/config.js';
import { RuntimeConfig, type ReloadOutcome } from './config/runtime-config.js';
import { BandwidthSchedule, bandwidthView } from './config/bandwidth.js';
import { HistoryStore } from './pipeline/history-store.js';
import { keepReason } from './pipeline/retention.js';
import { ResumeStore } from './pipeline/resume-store.js';
import { IntentStore, migratePausedState } from './pipeline/intent-store.js';
import { EngineLink } from './pipeline/engine-link.js';
import { loadOrCreatePeerKey } from './server-link/peer-key.js';
import { DiskFullGuard } from './pipeline/disk-full.js';
import { CorruptPeersGuard } from './pipeline/corrupt-peers.js';
import { releaseRefused, StepRunner } from './pipeline/step-runner.js';
import { AssetChecker } from './pipeline/asset-checks.js';
import { AssetCheckStore } from './pipeline/asset-check-store.js';
import { PipelineLoop } from './pipeline/loop.js';
import { shownState, type PlanInput } from './pipeline/planner.js';
import { Reporter, kdmKey } from './pipeline/reporter.js';
import { OperatorActions } from './pipeline/operator-actions.js';
import { ReportQueue } from './pipeline/report-queue.js';
import { cleanPartials } from './pipeline/ingest.js';
import { downloadFolder, migrateDownloadLayout, savePathOf } from './pipeline/download-layout.js';
import { ServerClient } from '../protocol/index.js';
import { PollSchedule, nextDelaySeconds } from './server-link/poll-schedule.js';
import { LongPoll } from './server-link/long-poll.js';
import { Poller } from './server-link/poller.js';
import { FreeSpace } from './monitoring/free-space.js';
import { conflictViews, torrentView } from './monitoring/status-view.js';
import { AlarmBook } from './monitoring/alarms.js';
import { Monitor, withMonitor } from './monitoring/monitor.js';
import { TrackerAlarm } from './monitoring/tracker-alarm.js';
import { checkListenPort } from './monitoring/listen-port.js';
import { KdmKeeper } from './kdm/kdm-keeper.js';
import { FirmwareUpdates } from './firmware/firmware-updates.js';
import { openSession } from './pipeline/engine-session.js';
import type { AgentControl, AgentStatus, TorrentView } from './monitoring/status-types.js';

export interface AgentOptions {
  logger?: Logger;
  /** sample disk/network/RAID with the Monitor (default true) */
  monitor?: boolean;
  /** the clock the pipeline judges time by (retention); default Date.now */
  now?: () => number;
}

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
/** the loop's timer: progress reports, resume saves, retries and the free-space reading come round */
const TICK_MS = 1000;

export class Agent implements AgentControl {
  readonly log: Logger;
  readonly runtime: RuntimeConfig;
  readonly alarms: AlarmBook;
  /** the reconcile loop; its events ('step', 'step-done', 'idle') are what tests and logs follow */
  readonly loop: PipelineLoop;
  private runner!: StepRunner;
  private actions!: OperatorActions;
  private history!: HistoryStore;
  private resumeStore!: ResumeStore;
  private intent!: IntentStore;
  private engineLink!: EngineLink;
  private diskFull!: DiskFullGuard;
  private corruptPeers!: CorruptPeersGuard;
  private trackerAlarm: TrackerAlarm | null = null;
  private readonly client: ServerClient;
  private readonly reports: ReportQueue;
  private readonly poller: Poller;
  private readonly schedule: PollSchedule;
  private readonly longPoll: LongPoll;
  private readonly freeSpace: FreeSpace;
  private bandwidth: BandwidthSchedule | null = null;
  /** groups that offer a DCP we took from another group (same info hash): reported to as well */
  private readonly offers = new Map<string, Set<string>>();
  private reporter!: Reporter;
  private readonly retryAt = new Map<string, number>();
  private readonly storedTorrents = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = Date.now();
  private stopping: Promise<void> | null = null;
  private monitor: Monitor | null = null;
  private firmware: FirmwareUpdates | null = null;
  private kdm: KdmKeeper | null = null;
  private readonly opts: AgentOptions;

  /** The second argument may be a bare logger (the older signature, still used by callers). */
  constructor(config: AgentConfig, options: AgentOptions | Logger = {}) {
    const opts: AgentOptions = 'child' in options && typeof options.child === 'function' ? { logger: options as Logger } : (options as AgentOptions);
    this.opts = opts;
    this.log = opts.logger ?? rootLog.child({ component: 'agent', agent: config.id });
    this.runtime = new RuntimeConfig(config);
    this.alarms = new AlarmBook({ logger: this.log.child({ component: 'alarms' }) });
    this.client = new ServerClient(config.server);
    this.reports = new ReportQueue(this.client, this.log.child({ component: 'reports' }));
    this.poller = new Poller(this.runtime, this.client, this.alarms, (why) => this.loop.markChanged(why), this.log.child({ component: 'poller' }));
    this.schedule = new PollSchedule(
      () => this.config.poll,
      async () => {
        const outcome = await this.poller.pollOnce();
        if (outcome === 'ok') this.trackerAlarm?.serverAnswered();
        releaseRefused(this.retryAt);
        void this.kdm?.sync().catch((err: unknown) => this.log.error({ err }, 'KDM round failed'));
        return outcome;
      },
    );
    this.longPoll = new LongPoll({
      client: this.client,
      groups: () => this.config.groups,
      waitSeconds: config.poll.longPollSeconds,
      onChange: () => void this.schedule.pollNow(),
      fallbackMs: () => nextDelaySeconds(this.config.poll, 0) * 1000,
      logger: this.log.child({ component: 'long-poll' }),
    });
    this.freeSpace = new FreeSpace(() => [this.config.downloadDir, this.config.ingestDir], this.log.child({ component: 'disk' }));
    // Made here, not at start, so a caller can follow its events from the very first pass.
    this.loop = new PipelineLoop((s) => this.planInput(s), { run: (step) => this.runner.run(step) }, this.log.child({ component: 'pipeline' }));
    this.runtime.on('changed', (_next, prev, outcome) => this.applyReload(prev, outcome));
  }

  /** The running config (the runtime config's current value; never a copy). */
  get config(): AgentConfig {
    return this.runtime.current;
  }

  /** TCP port the BitTorrent engine listens on (resolved when the config says 0). */
  get listenPort(): number {
    return this.engine.listenPort;
  }

  get engine(): Session {
    return this.engineLink.session;
  }

  async start(): Promise<void> {
    const c = this.config;
    for (const [field, d] of [['dataDir', c.dataDir], ['downloadDir', c.downloadDir], ['ingestDir', c.ingestDir]] as const) {
      await fs.mkdir(d, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
        throw new Error(`cannot use ${field} ${d}: ${err.code === 'ENOTDIR' ? 'a file is in the way' : err.code === 'EACCES' ? 'permission denied' : err.message}`);
      });
    }
    const removed = await cleanPartials(c.ingestDir);
    if (removed.length) this.log.warn({ removed }, 'removed half-placed DCPs left in the ingest folder by an interrupted run');
    this.client.setPeer(c.id, await loadOrCreatePeerKey(c.dataDir));
    this.history = await HistoryStore.open(c.dataDir);
    this.resumeStore = await ResumeStore.open(c.dataDir);
    this.intent = await IntentStore.open(c.dataDir);
    await migratePausedState(this.history, this.intent);
    // Before any torrent reaches the engine: downloads of older agents move into their info-hash folders.
    await migrateDownloadLayout(c.downloadDir, this.history.all(), this.log.child({ component: 'pipeline' }));
    this.kdm = new KdmKeeper({
      agentId: c.id, server: c.server, client: this.client, groups: () => this.config.groups, config: c.kdm, alarms: this.alarms,
      dcps: () => this.history.all().map((e) => ({ infoHash: e.infoHash, name: e.name, dir: downloadFolder(c.downloadDir, e) })),
      logger: this.log.child({ component: 'kdm' }),
      // A DCP's key state is part of what is reported: the planner sees the change.
      changed: () => this.loop.markChanged('kdm state changed'),
    });
    await this.kdm.start();
    for (const ih of await this.resumeStore.storedTorrents()) this.storedTorrents.add(ih);
    const session = openSession(c, VERSION, this.log);
    checkListenPort(this.alarms, c.listen, session.listenPort);
    session.on('listen-succeeded', () => checkListenPort(this.alarms, c.listen, session.listenPort));
    const nameOf = (ih: string) => this.history.all().find((e) => e.infoHash === ih)?.name;
    this.trackerAlarm = new TrackerAlarm(this.alarms, nameOf, this.log.child({ component: 'tracker' }));
    this.trackerAlarm.attach(session);
    const pipeLog = this.log.child({ component: 'pipeline' });
    this.diskFull = new DiskFullGuard({ dir: c.downloadDir, alarms: this.alarms, log: pipeLog, nameOf, minFreeBytes: () => this.config.minFreeBytes, pausedByPerson: (ih) => Boolean(this.intent.get(ih).paused) });
    this.corruptPeers = new CorruptPeersGuard({ alarms: this.alarms, log: pipeLog, nameOf });
    this.engineLink = new EngineLink(session, this.resumeStore, (ih) => savePathOf(this.config.downloadDir, ih), (why) => this.loop.markChanged(why), pipeLog, this.diskFull, this.corruptPeers);
    const assetChecks = new AssetChecker(await AssetCheckStore.open(c.dataDir), pipeLog);
    assetChecks.attach(session);
    this.engineLink.assetChecks = assetChecks;
    this.reporter = new Reporter({ kdm: (ih) => this.kdm?.view(ih), config: () => this.config, history: this.history, intent: this.intent, engine: this.engineLink, queue: this.reports, alarms: this.alarms, offers: this.offers });
    this.runner = new StepRunner({
      engine: this.engineLink,
      history: this.history,
      resume: this.resumeStore,
      intent: this.intent,
      dirs: () => ({ downloadDir: this.config.downloadDir, ingestDir: this.config.ingestDir }),
      fetchTorrent: async (e) => {
        const g = this.config.groups.find((x) => x.id === e.group);
        if (!g) throw new Error(`group ${e.group} is not in the config`);
        return this.client.fetchTorrent(g, e.name, this.config.id);
      },
      report: (e) => {
        this.reporter.report(e);
        // A DCP that changed state may now have its CPL on disk: judge its KDMs again.
        if (e.state !== 'downloading') void this.kdm?.sync().catch((err: unknown) => this.log.error({ err }, 'KDM round failed'));
      },
      offers: this.offers,
      storedTorrents: this.storedTorrents,
      retryAt: this.retryAt,
      log: pipeLog,
      now: () => this.clock(),
      assets: assetChecks,
    });
    const offered = (x: { group: string; name: string; offeredInfoHash: string }) =>
      this.poller.listings().some((g) => g.id === x.group && g.torrents?.some((t) => t.name === x.name && t.infoHash.toLowerCase() === x.offeredInfoHash));
    this.actions = new OperatorActions({ history: this.history, intent: this.intent, loop: this.loop, engine: this.engineLink, offered });
    this.startBandwidth();
    if (this.opts.monitor !== false) {
      this.monitor = new Monitor({ downloadDir: c.downloadDir, ingestDir: c.ingestDir, minFreeBytes: () => this.config.minFreeBytes, freeSpace: this.freeSpace, alarms: this.alarms, logger: this.log.child({ component: 'monitor' }) });
      this.monitor.start();
    }
    await this.freeSpace.sample();
    this.loop.start();
    this.timer = setInterval(() => {
      this.trackerAlarm?.retryDue();
      void Promise.all([this.freeSpace.sample(), this.diskFull.check((ih) => this.engineLink.torrent(ih)), this.corruptPeers.check((ih) => this.engineLink.torrent(ih))]).finally(() => this.loop.markChanged('timer'));
      // Reports queued during a flush, or refused by a server that was away, go out on the next tick.
      if (this.reports.size > 0) void this.reports.flush();
    }, TICK_MS);
    this.schedule.start();
    this.longPoll.sync();
    if (c.firmware.autoUpdate) {
      const { checkMinutes, publicKey } = c.firmware;
      const firstCheckMs = Math.min(5000, checkMinutes * 60_000);
      this.firmware = new FirmwareUpdates({ client: this.client, currentVersion: VERSION, dataDir: c.dataDir, checkMinutes, publicKey, firstCheckMs, logger: this.log.child({ component: 'firmware' }) });
      this.firmware.start();
    }
    this.log.info({ id: c.id, server: c.server, groups: c.groups.map((g) => g.id), port: session.listenPort }, 'agent started');
  }

  private clock(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  /** Retired DCPs a person (or the TMS) marked in use: retention leaves them alone. */
  private inUse(): Set<string> {
    const c = this.config;
    const marked = new Set<string>();
    for (const e of this.history.all()) {
      if (e.state !== 'retired' || e.removedAt) continue;
      // The ingest folder is this version's only while no re-release has taken the name.
      const folders = [downloadFolder(c.downloadDir, e), ...(e.supersededBy ? [] : [path.join(c.ingestDir, e.name)])];
      if (folders.some((d) => existsSync(path.join(d, c.retention.inUseMarker)))) marked.add(e.infoHash);
    }
    return marked;
  }

  private planInput(s: { busy: ReadonlySet<string>; verifying: boolean }): PlanInput {
    const c = this.config;
    const now = this.clock();
    return {
      now,
      groups: this.poller.listings(),
      history: this.history,
      offers: this.offers,
      intent: (ih) => this.intent.get(ih),
      engine: this.engineLink.snapshot(now),
      storedTorrents: this.storedTorrents,
      busy: s.busy,
      verifying: s.verifying,
      freeBytes: this.freeSpace.latest()?.[0]?.free ?? null,
      minFreeBytes: c.minFreeBytes,
      downloadDir: c.downloadDir,
      resumeSaveMs: c.resumeSaveSeconds * 1000,
      reportIntervalMs: c.reportIntervalSeconds * 1000,
      reported: this.reporter.reported,
      retryAt: this.retryAt,
      // a full disk first; then a download only damaged-data peers could finish
      waitingForDisk: (ih) => this.diskFull.message(ih) ?? this.corruptPeers.message(ih),
      kdmKey: (ih) => kdmKey(this.kdm?.view(ih)),
      keepDays: c.retention.keepDays,
      inUse: this.inUse(),
    };
  }

  private startBandwidth(): void {
    this.bandwidth?.stop();
    const rules = this.config.bandwidth;
    // No rule any more after a reload: the limits a removed rule set must not linger.
    if (rules.length === 0 && this.bandwidth) this.engine.applySettings({ downloadRateLimit: 0, uploadRateLimit: 0 });
    this.bandwidth = new BandwidthSchedule(rules, (limits, rule) => {
      this.engine.applySettings({ downloadRateLimit: limits.downloadBytesPerSecond, uploadRateLimit: limits.uploadBytesPerSecond });
      this.log.info({ rule }, `bandwidth rule in force: down ${rule.downloadKiBps || 'unlimited'} KiB/s, up ${rule.uploadKiBps || 'unlimited'} KiB/s`);
    });
    this.bandwidth.start();
  }

  /** A reload reached the runtime config: every consumer follows it now, not at its next tick. */
  private applyReload(prev: AgentConfig, outcome: ReloadOutcome): void {
    const { joined, left } = this.poller.syncGroups();
    if (outcome.applied.includes('bandwidth') && this.engineLink) this.startBandwidth();
    if (outcome.applied.includes('minFreeBytes')) this.monitor?.recheckDisk();
    this.log.info({ applied: outcome.applied, joined, left, minFreeBytes: this.config.minFreeBytes, was: { minFreeBytes: prev.minFreeBytes } }, 'config reloaded');
    if (outcome.restartNeededFor.length) {
      this.log.warn({ restartNeededFor: outcome.restartNeededFor }, `config reload: ${outcome.restartNeededFor.join(', ')} changed but take effect only after a restart (the engine and listeners read them at start)`);
    }
    if (joined.length) void this.schedule.pollNow();
    this.longPoll.sync();
  }

  /** Takes a re-read config (SIGHUP); resolves when the loop has planned with it. */
  async reload(next: AgentConfig): Promise<ReloadOutcome> {
    const outcome = this.runtime.reload(next);
    await this.loop.afterNextPass('config reload');
    return outcome;
  }

  /** Changes the free-space reserve at runtime, as a reload with a new minFreeBytes does. */
  async setMinFreeBytes(n: number): Promise<void> {
    this.runtime.set('minFreeBytes', n);
    await this.loop.afterNextPass('minFreeBytes changed');
  }

  /** Pieces of a torrent that failed their hash check since start (corrupt peers). */
  hashFailures(infoHash: string): number {
    return this.engineLink.hashFailures.get(infoHash) ?? 0;
  }

  getStatus(): AgentStatus {
    const entries = this.history.all();
    const torrents: TorrentView[] = entries.map((e) => {
      const kdm = this.kdm?.view(e.infoHash);
      const banned = this.corruptPeers.banned(e.infoHash);
      return {
        ...torrentView(e, this.engineLink.status(e.infoHash), shownState(e, this.intent.get(e.infoHash))),
        ...(kdm ? { kdm } : {}),
        ...(banned.length > 0 ? { bannedPeers: banned } : {}),
      };
    });
    const disk = this.freeSpace.latest()?.[0] ?? { path: this.config.downloadDir, total: 0, free: 0 };
    const own: AgentStatus = {
      id: this.config.id,
      version: VERSION,
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      disk,
      network: { rxBps: torrents.reduce((s, t) => s + t.downloadBps, 0), txBps: torrents.reduce((s, t) => s + t.uploadBps, 0) },
      torrents,
      groups: this.poller.groupViews(),
      alarms: [],
      history: entries.map((e, i) => ({ name: e.name, infoHash: e.infoHash, group: e.group, addedAt: e.addedAt, state: torrents[i].state, ...(e.completedAt ? { completedAt: e.completedAt } : {}) })),
      conflicts: conflictViews(this.history, this.poller.listings(), (ih) => this.intent.get(ih)),
      lastPollAt: this.poller.lastPollAt,
      memory: (({ rssBytes, anonBytes }) => ({ rssBytes, anonBytes }))(processMemory()),
      bandwidth: bandwidthView(this.config.bandwidth),
      ...(disk.total > 0 && disk.free < this.config.minFreeBytes ? { reclaimable: this.reclaimable() } : {}),
      ...(this.runtime.last ? { config: { ...this.runtime.last } } : {}),
      ...(this.firmware?.last ? { firmware: { ...this.firmware.last } } : {}),
    };
    // Measured disk and network figures (and the alarm list) replace the agent's own estimates.
    return withMonitor(own, this.monitor?.latest() ?? null, this.alarms);
  }

  /** Under the reserve: the retired DCPs still on disk, what each would free, and why it stays. */
  private reclaimable(): NonNullable<AgentStatus['reclaimable']> {
    const listings = this.poller.listings();
    const input = {
      now: this.clock(),
      keepDays: this.config.retention.keepDays,
      joined: new Set(listings.map((g) => g.id)),
      listed: new Set(listings.flatMap((g) => (g.torrents ?? []).map((t) => t.infoHash.toLowerCase()))),
      inUse: this.inUse(),
    };
    return this.history
      .all()
      .filter((e) => e.state === 'retired' && !e.removedAt)
      .map((e) => ({ name: e.name, infoHash: e.infoHash, bytes: e.sizeBytes, keptBecause: keepReason(e, input) ?? 'due for removal now' }));
  }

  pause(infoHash: string): Promise<void> {
    return this.actions.pause(infoHash);
  }
  resume(infoHash: string): Promise<void> {
    return this.actions.resume(infoHash);
  }
  reverify(infoHash: string): Promise<void> {
    return this.actions.reverify(infoHash);
  }
  accept(name: string): Promise<string> {
    return this.actions.accept(name);
  }

  /** `leave --delete`: the group's DCPs go once retired, without waiting for keepDays. */
  async markGroupForDeletion(groupId: string): Promise<number> {
    const mine = this.history.all().filter((e) => e.group === groupId && !e.removedAt);
    for (const e of mine) await this.intent.set(e.infoHash, { delete: true });
    return mine.length;
  }

  pollNow(): Promise<void> {
    return this.schedule.pollNow();
  }

  /** Clean stop: resume data for every torrent, history flushed, reports tried once more, engine closed. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      if (this.timer) clearInterval(this.timer);
      this.bandwidth?.stop();
      this.monitor?.stop();
      await this.firmware?.stop();
      this.longPoll.stop();
      await this.schedule.stop();
      if (!this.engineLink) return;
      await this.loop.stop();
      await this.engineLink.assetChecks?.stop();
      await this.engineLink.saveAll();
      await this.history.flush();
      await Promise.race([this.reports.flush(), new Promise((r) => setTimeout(r, 2000))]);
      await this.engine.close();
      this.log.info('agent stopped; resume data and history saved');
    })();
    return this.stopping;
  }
}
