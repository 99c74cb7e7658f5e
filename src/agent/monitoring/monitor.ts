// Watches the machine for the agent: free space where DCPs land, RAID/drive health where the
// OS exposes it, network rates, and the agent's own CPU and memory; raises LOW_DISK when space runs short.
import fs from 'node:fs/promises';
import si from 'systeminformation';
import { log as rootLog, type Logger } from '../../util/log.js';
import { ALARM_CODES, type AlarmBook } from './alarms.js';
import type { AgentStatus, DiskView, StorageHealthView, SystemView } from './status-types.js';
import type { FreeSpace } from './free-space.js';
import { formatBytes } from '../../util/bytes.js';
import { diskUsage } from '../../util/disk-usage.js';

export interface MonitorOptions {
  downloadDir: string;
  ingestDir: string;
  /** below this on downloadDir: LOW_DISK warning; below a tenth of it: critical (a function
   * reads the runtime config's current value) */
  minFreeBytes: number | (() => number);
  /** the agent's shared free-space sampler; without one the monitor reads statfs itself */
  freeSpace?: FreeSpace;
  alarms: AlarmBook;
  /** sampling period of start(); default 2000 ms */
  intervalMs?: number;
  /** period of the slower RAID/SMART look; default 5 min */
  storageIntervalMs?: number;
  /**
   * count loopback traffic; default true. The kernel carries traffic to the machine's own
   * addresses over lo, so peers on the same machine (a second agent, a distributor's seed on the
   * same box, a trial install) exchange DCPs there: leaving it out showed a 2.4 MB/s download
   * as 1.7 kB/s.
   */
  includeLoopback?: boolean;
  /** where mdadm reports arrays; default /proc/mdstat */
  mdstatPath?: string;
  logger?: Logger;
}

export interface MonitorSnapshot extends SystemView {
  /** rates over the `seconds` since the previous sample (0 on the first) */
  network: { rxBps: number; txBps: number; seconds: number; interfaces: { iface: string; rxBps: number; txBps: number }[] };
  sampledAt: string;
}

interface Counter {
  rx: number;
  tx: number;
  at: number;
}

/** Parses /proc/mdstat: one entry per md array, degraded when a member is missing ("_" in [UU_]). */
export function parseMdstat(text: string): StorageHealthView[] {
  const out: StorageHealthView[] = [];
  const blocks = text.split(/\n(?=md\d+\s*:)/);
  for (const block of blocks) {
    const head = /^(md\d+)\s*:\s*(\S+)\s*(\S+)?/m.exec(block);
    if (!head) continue;
    const [, device, activity, level] = head;
    const members = /\[(\d+)\/(\d+)\]\s*\[([U_]+)\]/.exec(block);
    const recovery = /(recovery|resync|reshape|check)\s*=\s*([\d.]+%)/.exec(block);
    let state: StorageHealthView['state'] = 'ok';
    let detail = `${level ?? ''} ${activity}`.trim();
    if (activity !== 'active') state = 'degraded';
    if (members) {
      detail += `, ${members[2]} of ${members[1]} drives working [${members[3]}]`;
      if (members[3].includes('_')) state = 'degraded';
    }
    if (recovery && recovery[1] !== 'check') {
      state = state === 'degraded' ? 'rebuilding' : state;
      detail += `, ${recovery[1]} ${recovery[2]}`;
    }
    out.push({ device, kind: 'raid', state, detail });
  }
  return out;
}

export class Monitor {
  private readonly opts: Required<Omit<MonitorOptions, 'logger' | 'freeSpace'>> & { freeSpace?: FreeSpace };
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private counters = new Map<string, Counter>();
  private cpuMark = { usage: process.cpuUsage(), at: performance.now() };
  private storage: StorageHealthView[] = [];
  private storageAt = 0;
  private last: MonitorSnapshot | null = null;
  private sampling: Promise<MonitorSnapshot> | null = null;

  constructor(opts: MonitorOptions) {
    this.opts = {
      intervalMs: 2000,
      storageIntervalMs: 5 * 60_000,
      includeLoopback: true,
      mdstatPath: '/proc/mdstat',
      ...opts,
    };
    this.log = opts.logger ?? rootLog.child({ component: 'monitor' });
  }

  start(): void {
    if (this.timer) return;
    void this.sample().catch((err: unknown) => this.log.warn({ err }, 'monitor sample failed'));
    this.timer = setInterval(() => {
      void this.sample().catch((err: unknown) => this.log.warn({ err }, 'monitor sample failed'));
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Follows a config reload: LOW_DISK is raised or cleared against the new reserve at once,
   * from the latest disk reading, not at the next sample. */
  setMinFreeBytes(n: number): void {
    this.opts.minFreeBytes = n;
    this.recheckDisk();
  }

  /** Judges the latest disk reading again (the reserve changed). */
  recheckDisk(): void {
    const d = this.opts.freeSpace?.latest()?.[0] ?? this.last?.disks[0];
    if (d) this.checkDisk(d);
  }

  /** The last snapshot, or null before the first sample completes. */
  latest(): MonitorSnapshot | null {
    return this.last;
  }

  /** Takes one sample now (concurrent callers share it). */
  sample(): Promise<MonitorSnapshot> {
    this.sampling ??= this.takeSample().finally(() => {
      this.sampling = null;
    });
    return this.sampling;
  }

  private async takeSample(): Promise<MonitorSnapshot> {
    const [disks, network, storage] = await Promise.all([this.disks(), this.network(), this.storageHealth()]);
    const snapshot: MonitorSnapshot = {
      disks,
      storage,
      process: this.processUsage(),
      network,
      sampledAt: new Date().toISOString(),
    };
    this.checkDisk(disks[0]);
    this.checkStorage(storage);
    this.last = snapshot;
    return snapshot;
  }

  private async disks(): Promise<DiskView[]> {
    if (this.opts.freeSpace) return this.opts.freeSpace.sample();
    const paths = [this.opts.downloadDir, this.opts.ingestDir];
    return Promise.all(
      paths.map((p) =>
        // A missing directory (unmounted RAID) must not stop the other figures: show it as 0 of 0.
        diskUsage(p).catch((err: NodeJS.ErrnoException) => {
          this.log.warn({ path: p, code: err.code }, `cannot read free space of ${p}: ${err.message}`);
          return { path: p, total: 0, free: 0 };
        }),
      ),
    );
  }

  private checkDisk(d: DiskView): void {
    const min = typeof this.opts.minFreeBytes === 'function' ? this.opts.minFreeBytes() : this.opts.minFreeBytes;
    if (d.total > 0 && d.free < min) {
      const severity = d.free < min / 10 ? 'critical' : 'warning';
      this.opts.alarms.raise(
        ALARM_CODES.LOW_DISK,
        severity,
        `Only ${formatBytes(d.free)} free on ${d.path}; the agent keeps at least ${formatBytes(min)} free. ` +
          'New DCPs wait until old ones are removed or storage is added.',
      );
    } else if (d.total > 0) {
      this.opts.alarms.clear(ALARM_CODES.LOW_DISK);
    }
  }

  private checkStorage(storage: StorageHealthView[]): void {
    const bad = storage.filter((s) => s.state === 'degraded' || s.state === 'failing' || s.state === 'rebuilding');
    if (bad.length === 0) {
      this.opts.alarms.clear(ALARM_CODES.STORAGE_DEGRADED);
      return;
    }
    const words = bad.map((s) => `${s.device} ${s.state}${s.detail ? ` (${s.detail})` : ''}`).join('; ');
    this.opts.alarms.raise(ALARM_CODES.STORAGE_DEGRADED, 'critical', `Storage needs attention: ${words}.`);
  }

  private async network(): Promise<MonitorSnapshot['network']> {
    const now = performance.now();
    const interfaces: MonitorSnapshot['network']['interfaces'] = [];
    let rxBps = 0;
    let txBps = 0;
    let seconds = 0;
    for (const s of await readInterfaceCounters()) {
      if (!this.opts.includeLoopback && s.iface === 'lo') continue;
      // Rates from our own previous reading, so several monitors in one process do not disturb each other.
      const prev = this.counters.get(s.iface);
      this.counters.set(s.iface, { rx: s.rx, tx: s.tx, at: now });
      if (!prev || now <= prev.at) continue;
      const secs = (now - prev.at) / 1000;
      seconds = secs;
      const rx = Math.max(0, Math.round((s.rx - prev.rx) / secs));
      const tx = Math.max(0, Math.round((s.tx - prev.tx) / secs));
      interfaces.push({ iface: s.iface, rxBps: rx, txBps: tx });
      rxBps += rx;
      txBps += tx;
    }
    return { rxBps, txBps, seconds, interfaces };
  }

  private processUsage(): SystemView['process'] {
    const now = performance.now();
    const usage = process.cpuUsage();
    const cpuMicros = usage.user - this.cpuMark.usage.user + (usage.system - this.cpuMark.usage.system);
    const wallMicros = (now - this.cpuMark.at) * 1000;
    this.cpuMark = { usage, at: now };
    // Percent of one core, as top shows it.
    const cpuPercent = wallMicros > 0 ? Math.round((cpuMicros / wallMicros) * 1000) / 10 : 0;
    return { cpuPercent, rssBytes: process.memoryUsage.rss() };
  }

  private async storageHealth(): Promise<StorageHealthView[]> {
    const now = Date.now();
    if (this.storageAt && now - this.storageAt < this.opts.storageIntervalMs) return this.storage;
    this.storageAt = now;
    const found: StorageHealthView[] = [];
    try {
      found.push(...parseMdstat(await fs.readFile(this.opts.mdstatPath, 'utf8')));
    } catch {
      // No md driver loaded or no arrays: hardware RAID or plain disks; nothing to read here.
    }
    try {
      for (const d of await si.diskLayout()) {
        const smart = (d.smartStatus ?? '').toLowerCase();
        const state: StorageHealthView['state'] = smart === 'ok' ? 'ok' : smart.includes('fail') ? 'failing' : 'unknown';
        found.push({ device: d.device || d.name, kind: 'disk', state, detail: `${d.name} ${formatBytes(d.size)}`.trim() });
      }
    } catch (err) {
      this.log.debug({ err }, 'drive list not available');
    }
    if (found.length === 0) {
      found.push({ device: 'storage', kind: 'disk', state: 'unknown' });
    }
    this.storage = found;
    return found;
  }
}

/**
 * Folds the monitor's view into an agent status: disk and network figures measured on the
 * machine replace the agent's own estimates, and the alarm book becomes the alarm list.
 */
export function withMonitor(status: AgentStatus, snap: MonitorSnapshot | null, alarms: AlarmBook): AgentStatus {
  const out: AgentStatus = { ...status, alarms: alarms.list() };
  if (!snap) return out;
  out.disk = snap.disks[0];
  out.network = { rxBps: snap.network.rxBps, txBps: snap.network.txBps };
  out.system = { disks: snap.disks, storage: snap.storage, process: snap.process };
  return out;
}

const SYS_NET = '/sys/class/net';

/** Byte counters of every interface, read straight from the kernel: systeminformation's
 * networkStats hands back its cached reading when asked twice within 500 ms, which shows a
 * busy link as idle. */
async function readInterfaceCounters(): Promise<{ iface: string; rx: number; tx: number }[]> {
  const names = await fs.readdir(SYS_NET).catch(() => [] as string[]);
  const read = async (iface: string, counter: string): Promise<number> =>
    Number((await fs.readFile(`${SYS_NET}/${iface}/statistics/${counter}`, 'utf8')).trim());
  const out: { iface: string; rx: number; tx: number }[] = [];
  for (const iface of names) {
    try {
      out.push({ iface, rx: await read(iface, 'rx_bytes'), tx: await read(iface, 'tx_bytes') });
    } catch {
      // an interface that went away between readdir and read: skip it this round
    }
  }
  return out;
}
