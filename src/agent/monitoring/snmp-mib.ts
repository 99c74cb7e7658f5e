// The CINESWARM-MIB as net-snmp providers, and the mapping of an AgentStatus onto its objects;
// the OIDs and enumerations here must match rootfs/usr/share/snmp/mibs/CINESWARM-MIB.txt.
import snmp from 'net-snmp';
import { shippedEnterpriseNumber } from '../../firmware/mib-pen.js';
import type { Alarm, AgentStatus, TorrentStateName, TorrentView, VerifyStateName } from './status-types.js';

/** Under the enterprise number of the shipped MIB, set when the image is built (`make image MIB_PEN=…`). */
export const CINESWARM_OID = `1.3.6.1.4.1.${shippedEnterpriseNumber()}`;
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
  retired: 9,
};
export const KDM_STATE_CODES: Record<NonNullable<TorrentView['kdm']>['state'], number> = {
  valid: 1, 'waiting-for-dcp': 2, 'not-yet-valid': 3, expired: 4, 'not-for-this-server': 5, 'keys-missing': 6,
  'signature-invalid': 7, 'signature-not-checked': 8, missing: 9,
};
export const VERIFY_STATE_CODES: Record<VerifyStateName, number> = { none: 1, pending: 2, running: 3, passed: 4, failed: 5 };

const MiB = 1024 * 1024;
const GAUGE_MAX = 2 ** 32 - 1;
const gauge = (n: number): number => Math.max(0, Math.min(GAUGE_MAX, Math.round(Number.isFinite(n) ? n : 0)));
const text = (s: string, max = 255): string => (Buffer.byteLength(s) <= max ? s : Buffer.from(s).subarray(0, max).toString().replace(/\uFFFD$/, ''));

const { ObjectType, MaxAccess, MibProviderType } = snmp;
const RO = MaxAccess['read-only'];

function scalar(name: string, sub: number, type: number) {
  return { name, type: MibProviderType.Scalar, oid: `${AGENT_OID}.${sub}`, scalarType: type, maxAccess: RO };
}

export const SCALARS = [
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

export const TORRENT_TABLE = table('cswTorrentTable', TORRENT_ENTRY_OID, [
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
  ['cswTorrentKdmState', ObjectType.Integer],
  ['cswTorrentKdmNotValidAfter', ObjectType.OctetString],
]);

export const ALARM_TABLE = table('cswAlarmTable', ALARM_ENTRY_OID, [
  ['cswAlarmIndex', ObjectType.Integer],
  ['cswAlarmCode', ObjectType.OctetString],
  ['cswAlarmSeverity', ObjectType.Integer],
  ['cswAlarmMessage', ObjectType.OctetString],
  ['cswAlarmSince', ObjectType.OctetString],
]);
export type MibValue = string | number;

/** cswAlarmRaised and cswAlarmCleared. */
export const ALARM_NOTIFICATION_OIDS = { raised: `${CINESWARM_OID}.0.1`, cleared: `${CINESWARM_OID}.0.2` } as const;

export interface MibVarbind {
  oid: string;
  type: number;
  value: MibValue;
}

/** The variables of an alarm notification: the alarm's row (code, severity, message, since). */
export function alarmNotificationVarbinds(index: number, a: Alarm): MibVarbind[] {
  const [, code, severity, message, since] = alarmRow(index, a);
  const column = (n: number) => `${ALARM_ENTRY_OID}.${n}.${index}`;
  return [
    { oid: column(2), type: ObjectType.OctetString, value: code },
    { oid: column(3), type: ObjectType.Integer, value: severity },
    { oid: column(4), type: ObjectType.OctetString, value: message },
    { oid: column(5), type: ObjectType.OctetString, value: since },
  ];
}

/** Scalar name → value for one status. */
export function scalarValues(s: AgentStatus, now = Date.now()): [string, MibValue][] {
  const lastPoll = s.lastPollAt ? Date.parse(s.lastPollAt) : NaN;
  return [
    ['cswAgentId', text(s.id)],
    ['cswAgentVersion', text(s.version)],
    ['cswAgentUptime', gauge(s.uptime)],
    ['cswDiskPath', text(s.disk.path)],
    ['cswDiskTotal', gauge(s.disk.total / MiB)],
    ['cswDiskFree', gauge(Math.floor(s.disk.free / MiB))],
    ['cswAlarmCount', gauge(s.alarms.length)],
    ['cswLastPoll', Number.isNaN(lastPoll) ? '' : new Date(lastPoll).toISOString()],
    ['cswLastPollAge', Number.isNaN(lastPoll) ? -1 : Math.max(0, Math.round((now - lastPoll) / 1000))],
    ['cswTorrentCount', gauge(s.torrents.length)],
    ['cswNetRxRate', gauge(s.network.rxBps)],
    ['cswNetTxRate', gauge(s.network.txBps)],
  ];
}

export function torrentRow(index: number, t: TorrentView): MibValue[] {
  return [
    index,
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
    t.kdm ? KDM_STATE_CODES[t.kdm.state] : 0,
    t.kdm?.notValidAfter ?? '',
  ];
}

export function alarmRow(index: number, a: Alarm): MibValue[] {
  return [index, text(a.code, 64), a.severity === 'critical' ? 2 : 1, text(a.message), a.since];
}
