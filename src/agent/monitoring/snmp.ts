// SNMP for the cinema's network monitoring: an AgentX subagent that registers the CINESWARM-MIB
// subtree (rootfs/usr/share/snmp/mibs/CINESWARM-MIB.txt) with the system's snmpd and keeps it
// filled from the agent's status. Without snmpd the agent runs on; it says so once and retries.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import snmp from 'net-snmp';
import { ALARM_NOTIFICATION_OIDS, ALARM_TABLE, CINESWARM_OID, SCALARS, TORRENT_TABLE, alarmNotificationVarbinds, alarmRow, scalarValues, torrentRow, type MibVarbind } from './snmp-mib.js';
import type { AlarmBookEvents } from './alarms.js';
import { log as rootLog, type Logger } from '../../util/log.js';
import type { Alarm, AgentStatus } from './status-types.js';


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
  /** Alarms raised and cleared become cswAlarmRaised / cswAlarmCleared notifications (snmpd's trap sinks). */
  alarms?: EventEmitter<AlarmBookEvents>;
  /** how often the MIB values are refreshed; default 2000 ms */
  refreshMs?: number;
  /** how often a missing snmpd is tried again; default 15000 ms */
  retryMs?: number;
  logger?: Logger;
}


/** The parts of net-snmp's untyped Subagent and Mib this module uses. */
interface NetSnmpMib {
  setScalarValue(name: string, value: string | number): void;
  addTableRow(table: string, row: (string | number)[]): void;
  deleteTableRow(table: string, index: number[]): boolean;
}
interface NetSnmpSubagent {
  socket?: Socket;
  onMsg(pdu: Buffer): void;
  getMib(): NetSnmpMib;
  open(cb: (err: Error | null, pdu?: { error?: number }) => void): void;
  close(cb: (err: Error | null) => void): void;
  registerProvider(p: object, cb: (err: Error | null, pdu?: { error?: number }) => void): void;
  notify(oid: string, varbinds: MibVarbind[], cb: (err: Error | null, pdu?: { error?: number }) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  on(event: 'close', cb: () => void): void;
  removeAllListeners(): void;
}

const AGENTX_HEADER = 20;

/**
 * net-snmp treats each TCP chunk as exactly one AgentX PDU; snmpd pipelines requests when
 * several managers ask at once, and a chunk may also end mid-PDU. Split the stream by the
 * header's payload length (RFC 2741 section 6.1) and hand over whole PDUs one by one.
 */
function frameAgentx(sub: NetSnmpSubagent): void {
  const socket = sub.socket;
  if (!socket) return;
  socket.removeAllListeners('data');
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= AGENTX_HEADER) {
      const networkOrder = (pending[2] & 0x10) !== 0;
      const length = AGENTX_HEADER + (networkOrder ? pending.readUInt32BE(16) : pending.readUInt32LE(16));
      if (pending.length < length) break;
      const pdu = pending.subarray(0, length);
      pending = pending.subarray(length);
      sub.onMsg(pdu);
    }
  });
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
  private readonly onRaised = (a: Alarm) => this.notify('raised', a);
  private readonly onCleared = (a: Alarm) => this.notify('cleared', a);

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
    this.opts.alarms?.on('raised', this.onRaised);
    this.opts.alarms?.on('cleared', this.onCleared);
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.alarms?.off('raised', this.onRaised);
    this.opts.alarms?.off('cleared', this.onCleared);
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
    frameAgentx(sub);
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

  private alarmIndexOf(code: string): number {
    let i = this.alarmIndex.get(code);
    if (i === undefined) this.alarmIndex.set(code, (i = this.alarmIndex.size + 1));
    return i;
  }

  /**
   * Sends one notification through snmpd, which forwards it to the trap sinks of its config.
   * While snmpd is away the notification is not kept: the alarm table shows the state when it is back.
   */
  private notify(kind: 'raised' | 'cleared', a: Alarm): void {
    const sub = this.sub;
    if (!this.ready || !sub) {
      this.log.debug({ alarm: a.code, kind }, 'SNMP: no snmpd connection; alarm notification not sent');
      return;
    }
    sub.notify(ALARM_NOTIFICATION_OIDS[kind], alarmNotificationVarbinds(this.alarmIndexOf(a.code), a), (err, pdu) => {
      if (err || pdu?.error) this.log.warn({ alarm: a.code, kind, err: err?.message, agentxError: pdu?.error }, `SNMP: snmpd refused the notification for alarm ${a.code}`);
    });
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
    for (const [name, v] of scalarValues(s)) mib.setScalarValue(name, v);

    // Rows are rebuilt whole within this one synchronous stretch, so no request sees half a table.
    for (const i of this.torrentRows) mib.deleteTableRow('cswTorrentTable', [i]);
    this.torrentRows = s.torrents.map((t) => {
      let i = this.torrentIndex.get(t.infoHash);
      if (i === undefined) this.torrentIndex.set(t.infoHash, (i = this.torrentIndex.size + 1));
      mib.addTableRow('cswTorrentTable', torrentRow(i, t));
      return i;
    });
    for (const i of this.alarmRows) mib.deleteTableRow('cswAlarmTable', [i]);
    this.alarmRows = s.alarms.map((a) => {
      const i = this.alarmIndexOf(a.code);
      mib.addTableRow('cswAlarmTable', alarmRow(i, a));
      return i;
    });
  }
}
