// The cinema agent: joins its groups, polls the server on a jittered schedule, reconciles the
// offered torrents with its history, drives the download pipeline, reports to the server, and
// shuts down without losing work. The CLI and the tests construct it; nothing here listens on HTTP.
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { Session } from '../engine/index.js';
import { agentSessionSettings, listenInterface } from '../engine/settings.js';
import { log as rootLog } from '../util/log.js';
import { processMemory } from '../util/memory.js';
import type { AgentConfig, GroupCredentials } from './config/config.js';
import { HistoryStore, type HistoryEntry } from './pipeline/history-store.js';
import { ResumeStore } from './pipeline/resume-store.js';
import { ServerClient, type ApiError, type TorrentSummary } from '../protocol/index.js';
import { PollSchedule, type PollOutcome } from './server-link/poll-schedule.js';
import { BandwidthSchedule, bandwidthView } from './config/bandwidth.js';
import { planReconcile } from './pipeline/reconciler.js';
import { Downloads } from './pipeline/downloads.js';
import { DiskFullGuard } from './pipeline/disk-full.js';
import { ReportQueue } from './pipeline/report-queue.js';
import { cleanPartials } from './pipeline/ingest.js';
import { diskUsage, type DiskUsage } from './monitoring/disk-space.js';
import { torrentView } from './monitoring/status-view.js';
import { AlarmBook, ALARM_CODES } from './monitoring/alarms.js';
import { checkListenPort } from './monitoring/listen-port.js';
import { Monitor, withMonitor } from './monitoring/monitor.js';
import { TrackerAlarm } from './monitoring/tracker-alarm.js';
import { FirmwareUpdates } from './firmware/firmware-updates.js';
import type { AgentControl, AgentStatus, GroupView, TorrentView } from './monitoring/status-types.js';
import { KdmKeeper } from './kdm/kdm-keeper.js';

export interface AgentOptions {
  logger?: Logger;
  /** sample disk/network/RAID with the Monitor (default true) */
  monitor?: boolean;
}

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
const TICK_MS = 1000;

export class Agent implements AgentControl {
  readonly log: Logger;
  private history!: HistoryStore;
  private resumeStore!: ResumeStore;
  private session!: Session;
  private downloads!: Downloads;
  private readonly client: ServerClient;
  private readonly reports: ReportQueue;
  private readonly poller: PollSchedule;
  private bandwidth!: BandwidthSchedule;
  private readonly groups = new Map<string, GroupView>();
  private readonly targets = new Map<string, TorrentSummary[]>();
  /** groups that offer a torrent we took from another group (same info hash): reported to as well */
  private readonly offers = new Map<string, Set<string>>();
  private readonly lastProgressReport = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private disk: DiskUsage;
  private readonly startedAt = Date.now();
  private lastPollAt: string | null = null;
  private stopping: Promise<void> | null = null;
  private ticking = false;

  readonly alarms: AlarmBook;
  private monitor: Monitor | null = null;
  private firmware: FirmwareUpdates | null = null;
  private kdm: KdmKeeper | null = null;

  private readonly opts: AgentOptions;

  /** The second argument may be a bare logger (the older signature, still used by callers). */
  constructor(
    readonly config: AgentConfig,
    options: AgentOptions | Logger = {},
  ) {
    const opts: AgentOptions = 'child' in options && typeof options.child === 'function' ? { logger: options as Logger } : (options as AgentOptions);
    this.opts = opts;
    const logger = opts.logger ?? rootLog.child({ component: 'agent', agent: config.id });
    this.log = logger;
    this.alarms = new AlarmBook({ logger: logger.child({ component: 'alarms' }) });
    this.client = new ServerClient(config.server);
    this.reports = new ReportQueue(this.client, logger.child({ component: 'reports' }));
    this.poller = new PollSchedule(config.poll, () => this.pollOnce());
    this.disk = { path: config.downloadDir, total: 0, free: 0 };
    for (const g of config.groups) this.groups.set(g.id, { id: g.id, state: 'joining' });
  }

  /** TCP port the BitTorrent engine listens on (resolved when the config says 0). */
  get listenPort(): number {
    return this.session.listenPort;
  }

  get engine(): Session {
    return this.session;
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
    this.history = await HistoryStore.open(c.dataDir);
    this.resumeStore = await ResumeStore.open(c.dataDir);
    this.kdm = new KdmKeeper({
      agentId: c.id, server: c.server, groups: () => this.config.groups, config: c.kdm, alarms: this.alarms,
      dcps: () => this.history.all().map((e) => ({ infoHash: e.infoHash, name: e.name, dir: path.join(c.downloadDir, e.name) })),
      logger: this.log.child({ component: 'kdm' }),
      changed: (ih) => {
        const e = this.history.all().find((x) => x.infoHash === ih);
        if (e) this.queueReport(e);
      },
    });
    await this.kdm.start();
    this.session = new Session(
      agentSessionSettings({
        listenInterfaces: listenInterface(c.listen.host, c.listen.port),
        version: VERSION,
        allowMultipleConnectionsPerIp: c.engine.allowMultipleConnectionsPerIp,
        enableUtp: c.engine.enableUtp,
        storage: c.engine.storage,
      }),
    );
    this.session.on('listen-failed', (a: { message: string }) => this.log.error({ listen: c.listen }, `cannot listen for peers: ${a.message}`));
    checkListenPort(this.alarms, c.listen, this.session.listenPort);
    this.session.on('listen-succeeded', () => checkListenPort(this.alarms, c.listen, this.session.listenPort));
    const nameOf = (ih: string) => this.history.all().find((e) => e.infoHash === ih)?.name;
    new TrackerAlarm(this.alarms, nameOf, this.log.child({ component: 'tracker' })).attach(this.session);
    this.downloads = new Downloads(
      this.session,
      c,
      this.history,
      this.resumeStore,
      { fetchTorrent: (e) => this.fetchTorrent(e), stateChanged: (e) => this.queueReport(e) },
      this.log.child({ component: 'downloads' }),
      new DiskFullGuard({ dir: c.downloadDir, alarms: this.alarms, log: this.log.child({ component: 'downloads' }), nameOf,
        minFreeBytes: () => this.downloads.minFreeBytes,
        pausedByPerson: (ih) => this.history.all().find((e) => e.infoHash === ih)?.state === 'paused',
      }),
    );
    this.bandwidth = new BandwidthSchedule(c.bandwidth, (limits, rule) => {
      this.session.applySettings({ downloadRateLimit: limits.downloadBytesPerSecond, uploadRateLimit: limits.uploadBytesPerSecond });
      this.log.info({ rule }, `bandwidth rule in force: down ${rule.downloadKiBps || 'unlimited'} KiB/s, up ${rule.uploadKiBps || 'unlimited'} KiB/s`);
    });
    this.bandwidth.start();
    if (this.opts.monitor !== false) {
      this.monitor = new Monitor({ downloadDir: c.downloadDir, ingestDir: c.ingestDir, minFreeBytes: c.minFreeBytes, alarms: this.alarms, logger: this.log.child({ component: 'monitor' }) });
      this.monitor.start();
    }
    await this.downloads.restore();
    this.disk = await diskUsage(c.downloadDir);
    this.timers.push(setInterval(() => void this.tick(), TICK_MS));
    this.timers.push(setInterval(() => void this.downloads.saveAllResume(), c.resumeSaveSeconds * 1000));
    this.poller.start();
    if (c.firmware.autoUpdate) {
      const { checkMinutes, publicKey } = c.firmware;
      const firstCheckMs = Math.min(5000, checkMinutes * 60_000);
      this.firmware = new FirmwareUpdates({ client: this.client, currentVersion: VERSION, dataDir: c.dataDir, checkMinutes, publicKey, firstCheckMs, logger: this.log.child({ component: 'firmware' }) });
      this.firmware.start();
    }
    this.log.info({ id: c.id, server: c.server, groups: c.groups.map((g) => g.id), port: this.session.listenPort }, 'agent started');
  }

  private group(id: string): GroupCredentials {
    const g = this.config.groups.find((x) => x.id === id);
    if (!g) throw new Error(`group ${id} is not in the config`);
    return g;
  }

  private fetchTorrent(e: HistoryEntry): Promise<Buffer> {
    return this.client.fetchTorrent(this.group(e.group), e.name, this.config.id);
  }

  private queueReport(e: HistoryEntry): void {
    const failed = this.history?.all().filter((x) => x.state === 'failed' && x.verify.state === 'failed') ?? [];
    if (failed.length) this.alarms.raise(ALARM_CODES.VERIFY_FAILED, 'critical', `Verification failed for ${failed.map((x) => x.name).join(', ')}.`);
    else this.alarms.clear(ALARM_CODES.VERIFY_FAILED);
    const st = this.downloads?.status(e.infoHash);
    const progress = e.state === 'ready' || e.state === 'seeding' ? 1 : (st?.progress ?? 0);
    const kdm = this.kdm?.view(e.infoHash);
    const body = {
      peer: this.config.id, infoHash: e.infoHash, state: e.state, progress, ...(e.message ? { message: e.message.slice(0, 1900) } : {}),
      ...(kdm ? { kdm: { state: kdm.state, ...(kdm.notValidAfter ? { notValidAfter: kdm.notValidAfter } : {}) } } : {}),
    };
    for (const gid of [e.group, ...(this.offers.get(e.name) ?? [])]) {
      if (this.config.groups.some((g) => g.id === gid)) this.reports.push(this.group(gid), body);
    }
    this.lastProgressReport.set(e.infoHash, Date.now());
    void this.reports.flush();
    // A DCP that changed state may now have its CPL on disk: judge its KDMs again.
    if (e.state !== 'downloading') void this.kdm?.sync().catch((err: unknown) => this.log.error({ err }, 'KDM round failed'));
  }

  /** One poll of every group: a group that fails keeps its last known list and does not stop the others. */
  private async pollOnce(): Promise<PollOutcome> {
    let reached = 0;
    await Promise.all(
      this.config.groups.map(async (g) => {
        const view = this.groups.get(g.id)!;
        try {
          const { list } = await this.client.listTorrents(g);
          this.targets.set(g.id, list);
          if (view.state !== 'joined') this.log.info({ group: g.id }, `joined group ${g.id}`);
          Object.assign(view, { state: 'joined', message: undefined, lastPollAt: new Date().toISOString() });
          reached++;
        } catch (err) {
          const e = err as ApiError;
          const state = e.code === 'UNAUTHORIZED' ? 'unauthorized' : e.code === 'NOT_FOUND' ? 'not-found' : 'unreachable';
          const message =
            state === 'unauthorized' ? `the server refused the password of group ${g.id}; check the config` : state === 'not-found' ? `the server does not know group ${g.id}` : e.message;
          if (view.state !== state || view.message !== message) this.log.warn({ group: g.id, state }, message);
          Object.assign(view, { state, message });
          if (state !== 'unreachable') reached++;
        }
      }),
    );
    this.lastPollAt = new Date().toISOString();
    const unreachable = this.config.groups.length > 0 && reached === 0;
    if (unreachable) this.alarms.raise(ALARM_CODES.SERVER_UNREACHABLE, 'warning', `The central server at ${this.config.server} cannot be reached; downloads in progress continue, new DCPs wait.`);
    else this.alarms.clear(ALARM_CODES.SERVER_UNREACHABLE);
    await this.reconcile();
    void this.kdm?.sync().catch((err: unknown) => this.log.error({ err }, 'KDM round failed'));
    return unreachable ? 'unreachable' : 'ok';
  }

  /** Applies the difference between what the groups offer and what the history holds. Idempotent. */
  async reconcile(): Promise<void> {
    const targets = [...this.targets].map(([group, torrents]) => ({ group, torrents }));
    const plan = planReconcile(targets, this.history, this.offers);
    for (const a of plan.add) {
      await this.history.put({ name: a.name, infoHash: a.infoHash, group: a.group, sizeBytes: a.size, addedAt: new Date().toISOString(), state: 'queued', verify: { state: 'pending', failed: [] } });
      this.log.info({ name: a.name, group: a.group, infoHash: a.infoHash, size: a.size }, `new DCP offered: ${a.name}`);
    }
    for (const c of plan.conflicts) {
      if (await this.history.addConflict(c)) {
        this.log.warn(c, `group ${c.group} offers "${c.name}" with different content than the copy already received; not downloaded, a person must decide`);
      }
    }
    for (const o of plan.offers) {
      let set = this.offers.get(o.name);
      if (!set) this.offers.set(o.name, (set = new Set()));
      set.add(o.group);
      const e = this.history.get(o.name);
      if (e) {
        this.log.info({ name: o.name, group: o.group }, `${o.name} is also offered by group ${o.group}; already taken from ${e.group}, not downloaded twice`);
        this.queueReport(e);
      }
    }
    await this.tick();
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      await this.downloads.tick();
      this.disk = await diskUsage(this.config.downloadDir);
      const now = Date.now();
      for (const e of this.history.all()) {
        if (e.state !== 'downloading') continue;
        if (now - (this.lastProgressReport.get(e.infoHash) ?? 0) >= this.config.reportIntervalSeconds * 1000) this.queueReport(e);
      }
      if (this.reports.size > 0) void this.reports.flush();
    } catch (err) {
      this.log.error({ err }, 'agent tick failed');
    } finally {
      this.ticking = false;
    }
  }

  /** Pieces of a torrent that failed their hash check since start (corrupt peers). */
  hashFailures(infoHash: string): number {
    return this.downloads.hashFailures.get(infoHash) ?? 0;
  }

  /** Changes the free-space reserve at runtime (config reload); queued torrents re-check at once. */
  async setMinFreeBytes(n: number): Promise<void> {
    this.downloads.minFreeBytes = n;
    await this.tick();
  }

  getStatus(): AgentStatus {
    const torrents: TorrentView[] = this.history.all().map((e) => {
      const kdm = this.kdm?.view(e.infoHash);
      return { ...torrentView(e, this.downloads.status(e.infoHash)), ...(kdm ? { kdm } : {}) };
    });
    const own: AgentStatus = {
      id: this.config.id,
      version: VERSION,
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      disk: this.disk,
      network: { rxBps: torrents.reduce((s, t) => s + t.downloadBps, 0), txBps: torrents.reduce((s, t) => s + t.uploadBps, 0) },
      torrents,
      groups: [...this.groups.values()].map((g) => ({ ...g })),
      alarms: [],
      history: this.history.all().map((e) => ({ name: e.name, infoHash: e.infoHash, group: e.group, addedAt: e.addedAt, state: e.state, ...(e.completedAt ? { completedAt: e.completedAt } : {}) })),
      conflicts: this.history.conflicts().map((c) => ({ ...c })),
      lastPollAt: this.lastPollAt,
      memory: (({ rssBytes, anonBytes }) => ({ rssBytes, anonBytes }))(processMemory()),
      bandwidth: bandwidthView(this.config.bandwidth),
      ...(this.firmware?.last ? { firmware: { ...this.firmware.last } } : {}),
    };
    // Measured disk and network figures (and the alarm list) replace the agent's own estimates.
    return withMonitor(own, this.monitor?.latest() ?? null, this.alarms);
  }

  pause(infoHash: string): Promise<void> {
    return this.downloads.pause(infoHash);
  }
  resume(infoHash: string): Promise<void> {
    return this.downloads.resumeTorrent(infoHash);
  }
  reverify(infoHash: string): Promise<void> {
    return this.downloads.reverify(infoHash);
  }
  pollNow(): Promise<void> {
    return this.poller.pollNow();
  }

  /** Clean stop: resume data for every torrent, history flushed, reports tried once more, engine closed. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      for (const t of this.timers) clearInterval(t);
      this.timers = [];
      this.bandwidth?.stop();
      this.monitor?.stop();
      await this.firmware?.stop();
      await this.poller.stop();
      if (!this.session) return;
      await this.downloads.idle();
      await this.downloads.saveAllResume({ all: true });
      await this.history.flush();
      await Promise.race([this.reports.flush(), new Promise((r) => setTimeout(r, 2000))]);
      await this.session.close();
      this.log.info('agent stopped; resume data and history saved');
    })();
    return this.stopping;
  }
}
