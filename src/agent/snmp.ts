// SNMP for the cinema's network monitoring: an AgentX subagent that registers the CINESWARM-MIB
// subtree (rootfs/usr/share/snmp/mibs/CINESWARM-MIB.txt) with the system's snmpd and keeps it
// filled from the agent's status. Without snmpd the agent runs on; it says so once and retries.
import { EventEmitter } from 'node:events';
import snmp from 'net-snmp';
import { log as rootLog, type Logger } from '../util/log.js';
import type { AgentStatus, TorrentStateName, VerifyStateName } from './status-types.js';

/** 32473 is IANA's documentation enterprise number (RFC 5612): register a real PEN before shipping. */
export const CINESWARM_OID = '1.3.6.1.4.1.32473';
const AGENT_OID = `${CINESWARM_OID}.1.1`;
// net-snmp hangs the columns right under a table provider's OID, so the provider sits at the entry.
const TORRENT_ENTRY_OID = `${CINESWARM_OID}.1.2.1`;
const ALARM_ENTRY_OID = `${CINESWARM_OID}.1.3.1`;

export const TORRENT_STATE_CODES: Record<TorrentStateName, number> = {
  queued: 1,
  checking: 2,
  downloading: 3,
  verifying: 4,
  ready: 5,
  seeding: 6,
  failed: 7,
  paused: 8,
};
export const VERIFY_STATE_CODES: Record<VerifyStateName, number> = { none: 1, pending: 2, running: 3, passed: 4, failed: 5 };

export class SnmpConfigError extends Error {
  readonly code = 'BAD_AGENTX_ADDRESS';
}

/** 'tcp:127.0.0.1:705' (or '127.0.0.1:705', 'tcp:[::1]:705') → host and port. */
export function parseAgentxAddress(s: string): { host: string; port: number } {
  const m = /^(?:tcp:)?(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new SnmpConfigError(`snmp.agentx must look like tcp:127.0.0.1:705 (got '${s}'); unix sockets are not supported by the subagent`);
  }
  return { host: m[1] ?? m[2], port };
}

export interface SnmpOptions {
  /** the snmp.agentx of the config, e.g. tcp:127.0.0.1:705 */
  agentx: string;
  getStatus: () => AgentStatus | Promise<AgentStatus>;
  /** how often the MIB values are refreshed; default 2000 ms */
  refreshMs?: number;
  /** how often a missing snmpd is tried again; default 15000 ms */
  retryMs?: number;
  logger?: Logger;
}

const MiB = 1024 * 1024;
const GAUGE_MAX = 2 ** 32 - 1;
const gauge = (n: number): number => Math.max(0, Math.min(GAUGE_MAX, Math.round(Number.isFinite(n) ? n : 0)));
const text = (s: string, max = 255): string => (Buffer.byteLength(s) <= max ? s : Buffer.from(s).subarray(0, max).toString().replace(/\uFFFD$/, ''));

const { ObjectType, MaxAccess, MibProviderType } = snmp;
const RO = MaxAccess['read-only'];

function scalar(name: string, sub: number, type: number) {
  return { name, type: MibProviderType.Scalar, oid: `${AGENT_OID}.${sub}`, scalarType: type, maxAccess: RO };
}

const SCALARS = [
  scalar('cswAgentId', 1, ObjectType.OctetString),
  scalar('cswAgentVersion', 2, ObjectType.OctetString),
  scalar('cswAgentUptime', 3, ObjectType.Gauge),
  scalar('cswDiskPath', 4, ObjectType.OctetString),
  scalar('cswDiskTotal', 5, ObjectType.Gauge),
  scalar('cswDiskFree', 6, ObjectType.Gauge),
  scalar('cswAlarmCount', 7, ObjectType.Gauge),
  scalar('cswLastPoll', 8, ObjectType.OctetString),
  scalar('cswLastPollAge', 9, ObjectType.Integer),
  scalar('cswTorrentCount', 10, ObjectType.Gauge),
  scalar('cswNetRxRate', 11, ObjectType.Gauge),
  scalar('cswNetTxRate', 12, ObjectType.Gauge),
];

function table(name: string, oid: string, columns: [string, number][]) {
  return {
    name,
    type: MibProviderType.Table,
    oid,
    maxAccess: MaxAccess['not-accessible'],
    tableColumns: columns.map(([col, type], i) => ({ number: i + 1, name: col, type, maxAccess: i === 0 ? MaxAccess['not-accessible'] : RO })),
    tableIndex: [{ columnName: columns[0][0] }],
  };
}

const TORRENT_TABLE = table('cswTorrentTable', TORRENT_ENTRY_OID, [
  ['cswTorrentIndex', ObjectType.Integer],
  ['cswTorrentName', ObjectType.OctetString],
  ['cswTorrentGroup', ObjectType.OctetString],
  ['cswTorrentInfoHash', ObjectType.OctetString],
  ['cswTorrentState', ObjectType.Integer],
  ['cswTorrentProgress', ObjectType.Gauge],
  ['cswTorrentDownloadRate', ObjectType.Gauge],
  ['cswTorrentUploadRate', ObjectType.Gauge],
  ['cswTorrentPeers', ObjectType.Gauge],
  ['cswTorrentVerifyState', ObjectType.Integer],
  ['cswTorrentSize', ObjectType.Gauge],
]);

const ALARM_TABLE = table('cswAlarmTable', ALARM_ENTRY_OID, [
  ['cswAlarmIndex', ObjectType.Integer],
  ['cswAlarmCode', ObjectType.OctetString],
  ['cswAlarmSeverity', ObjectType.Integer],
  ['cswAlarmMessage', ObjectType.OctetString],
  ['cswAlarmSince', ObjectType.OctetString],
]);

/** The parts of net-snmp's untyped Subagent and Mib this module uses. */
interface NetSnmpMib {
  setScalarValue(name: string, value: string | number): void;
  addTableRow(table: string, row: (string | number)[]): void;
  deleteTableRow(table: string, index: number[]): boolean;
}
interface NetSnmpSubagent {
  socket?: { destroy(): void };
  getMib(): NetSnmpMib;
  open(cb: (err: Error | null, pdu?: { error?: number }) => void): void;
  close(cb: (err: Error | null) => void): void;
  registerProvider(p: object, cb: (err: Error | null, pdu?: { error?: number }) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  on(event: 'close', cb: () => void): void;
  removeAllListeners(): void;
}

export interface SnmpSubagentEvents {
  registered: [];
  lost: [];
}

export class SnmpSubagent extends EventEmitter<SnmpSubagentEvents> {
  private readonly host: string;
  private readonly port: number;
  private readonly log: Logger;
  private readonly refreshMs: number;
  private readonly retryMs: number;
  private sub: NetSnmpSubagent | null = null;
  private ready = false;
  private stopped = true;
  private saidMissing = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  // Row indexes stay with a torrent (alarm) for the life of the process, as the MIB promises.
  private readonly torrentIndex = new Map<string, number>();
  private readonly alarmIndex = new Map<string, number>();
  private torrentRows: number[] = [];
  private alarmRows: number[] = [];

  constructor(private readonly opts: SnmpOptions) {
    super();
    ({ host: this.host, port: this.port } = parseAgentxAddress(opts.agentx));
    this.log = opts.logger ?? rootLog.child({ component: 'snmp' });
    this.refreshMs = opts.refreshMs ?? 2000;
    this.retryMs = opts.retryMs ?? 15_000;
  }

  /** True while the cineswarm subtree is registered with snmpd. */
  get registered(): boolean {
    return this.ready;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.retryTimer = this.refreshTimer = null;
    const sub = this.sub;
    this.sub = null;
    if (!sub) return;
    if (this.ready) {
      // A Close PDU lets snmpd drop our registrations at once instead of at its timeout.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        sub.close(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.ready = false;
    sub.removeAllListeners();
    sub.socket?.destroy();
  }

  private connect(): void {
    const address = `tcp:${this.host}:${this.port}`;
    const sub = snmp.createSubagent({ master: this.host, masterPort: this.port, description: 'cineswarm agent' }) as NetSnmpSubagent;
    this.sub = sub;
    let down = false;
    const giveUp = () => {
      if (down || this.sub !== sub) return;
      down = true;
      clearTimeout(openTimer);
      this.onDown(address);
    };
    // A port that accepts but never answers AgentX is as good as no snmpd.
    const openTimer = setTimeout(() => {
      if (!this.ready) {
        sub.socket?.destroy();
        giveUp();
      }
    }, 5000);
    sub.on('error', (err) => this.log.debug({ err: err.message }, 'AgentX connection error'));
    sub.on('close', giveUp);
    sub.open((err, pdu) => {
      if (err || pdu?.error) {
        this.log.warn({ err: err?.message, agentxError: pdu?.error }, `SNMP: snmpd at ${address} refused the AgentX session`);
        sub.socket?.destroy();
        return giveUp();
      }
      this.register(sub, address, () => clearTimeout(openTimer), giveUp);
    });
  }

  private register(sub: NetSnmpSubagent, address: string, done: () => void, fail: () => void): void {
    // One at a time: net-snmp reads one PDU per socket chunk, and replies to back-to-back
    // registrations can arrive in one chunk, where all but the first would be lost.
    const providers = [...SCALARS, TORRENT_TABLE, ALARM_TABLE];
    const next = (i: number): void => {
      if (i === providers.length) return this.onRegistered(address, done);
      const p = providers[i];
      sub.registerProvider(p, (err, pdu) => {
        if (err || pdu?.error) {
          // Another subagent holds the subtree (a second cineswarm agent on this machine?).
          this.log.warn({ oid: p.oid, agentxError: pdu?.error }, `SNMP: snmpd at ${address} refused the registration of ${p.name}`);
          sub.socket?.destroy();
          return fail();
        }
        next(i + 1);
      });
    };
    next(0);
  }

  private onRegistered(address: string, done: () => void): void {
    done();
    this.ready = true;
    this.saidMissing = false;
    this.log.info({ oid: CINESWARM_OID }, `SNMP: cineswarm status registered with snmpd at ${address}`);
    this.torrentRows = [];
    this.alarmRows = [];
    void this.refresh();
    this.refreshTimer = setInterval(() => void this.refresh(), this.refreshMs);
    this.refreshTimer.unref();
    this.emit('registered');
  }

  private onDown(address: string): void {
    const wasReady = this.ready;
    this.ready = false;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    this.sub?.removeAllListeners();
    this.sub = null;
    if (this.stopped) return;
    if (wasReady) {
      this.log.warn(`SNMP: lost the snmpd AgentX master at ${address}; SNMP status disabled until it comes back`);
      this.saidMissing = true;
      this.emit('lost');
    } else if (!this.saidMissing) {
      this.log.warn(`SNMP: no snmpd AgentX master at ${address}; SNMP status disabled until it appears`);
      this.saidMissing = true;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) this.connect();
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /** Copies the agent's status into the MIB; requests from snmpd are answered from there. */
  async refresh(): Promise<void> {
    if (!this.ready || !this.sub) return;
    let s: AgentStatus;
    try {
      s = await this.opts.getStatus();
    } catch (err) {
      this.log.warn({ err }, 'SNMP: could not read the agent status');
      return;
    }
    if (!this.ready || !this.sub) return;
    const mib = this.sub.getMib();
    const lastPoll = s.lastPollAt ? Date.parse(s.lastPollAt) : NaN;
    const values: [string, string | number][] = [
      ['cswAgentId', text(s.id)],
      ['cswAgentVersion', text(s.version)],
      ['cswAgentUptime', gauge(s.uptime)],
      ['cswDiskPath', text(s.disk.path)],
      ['cswDiskTotal', gauge(s.disk.total / MiB)],
      ['cswDiskFree', gauge(Math.floor(s.disk.free / MiB))],
      ['cswAlarmCount', gauge(s.alarms.length)],
      ['cswLastPoll', Number.isNaN(lastPoll) ? '' : new Date(lastPoll).toISOString()],
      ['cswLastPollAge', Number.isNaN(lastPoll) ? -1 : Math.max(0, Math.round((Date.now() - lastPoll) / 1000))],
      ['cswTorrentCount', gauge(s.torrents.length)],
      ['cswNetRxRate', gauge(s.network.rxBps)],
      ['cswNetTxRate', gauge(s.network.txBps)],
    ];
    for (const [name, v] of values) mib.setScalarValue(name, v);

    // Rows are rebuilt whole within this one synchronous stretch, so no request sees half a table.
    for (const i of this.torrentRows) mib.deleteTableRow('cswTorrentTable', [i]);
    this.torrentRows = s.torrents.map((t) => {
      let i = this.torrentIndex.get(t.infoHash);
      if (i === undefined) this.torrentIndex.set(t.infoHash, (i = this.torrentIndex.size + 1));
      mib.addTableRow('cswTorrentTable', [
        i,
        text(t.name),
        text(t.group),
        t.infoHash,
        TORRENT_STATE_CODES[t.state],
        Math.max(0, Math.min(1000, Math.floor(t.progress * 1000))),
        gauge(t.downloadBps),
        gauge(t.uploadBps),
        gauge(t.peers),
        VERIFY_STATE_CODES[t.verify.state],
        gauge(Math.ceil((t.sizeBytes ?? 0) / MiB)),
      ]);
      return i;
    });
    for (const i of this.alarmRows) mib.deleteTableRow('cswAlarmTable', [i]);
    this.alarmRows = s.alarms.map((a) => {
      let i = this.alarmIndex.get(a.code);
      if (i === undefined) this.alarmIndex.set(a.code, (i = this.alarmIndex.size + 1));
      mib.addTableRow('cswAlarmTable', [i, text(a.code, 64), a.severity === 'critical' ? 2 : 1, text(a.message), a.since]);
      return i;
    });
  }
}
