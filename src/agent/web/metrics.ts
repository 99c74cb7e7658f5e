// Renders an AgentStatus as Prometheus text exposition (format 0.0.4) for GET /metrics.
import type { AgentStatus, TorrentStateName } from '../monitoring/status-types.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const STATES: TorrentStateName[] = ['queued', 'checking', 'downloading', 'verifying', 'ready', 'seeding', 'failed', 'paused', 'retired'];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

class Writer {
  private readonly lines: string[] = [];
  family(name: string, type: 'gauge' | 'counter', help: string, samples: [Record<string, string>, number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, v] of samples) this.lines.push(`${name}${labels(l)} ${num(v)}`);
  }
  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

export function renderMetrics(s: AgentStatus, now: number = Date.now()): string {
  const w = new Writer();
  const t = (x: { name: string; group: string; infoHash: string }) => ({ name: x.name, group: x.group, infohash: x.infoHash });
  w.family('cineswarm_agent_info', 'gauge', 'Agent identity; always 1.', [[{ id: s.id, version: s.version }, 1]]);
  w.family('cineswarm_agent_uptime_seconds', 'gauge', 'Seconds since the agent started.', [[{}, s.uptime]]);
  const disks = s.system?.disks ?? [s.disk];
  w.family('cineswarm_disk_total_bytes', 'gauge', 'Size of the filesystem holding the directory.', disks.map((d) => [{ path: d.path }, d.total]));
  w.family('cineswarm_disk_free_bytes', 'gauge', 'Space the agent may still use on the filesystem holding the directory.', disks.map((d) => [{ path: d.path }, d.free]));
  w.family('cineswarm_network_receive_bytes_per_second', 'gauge', 'Receive rate of the network interfaces.', [[{}, s.network.rxBps]]);
  w.family('cineswarm_network_transmit_bytes_per_second', 'gauge', 'Transmit rate of the network interfaces.', [[{}, s.network.txBps]]);
  w.family(
    'cineswarm_torrents',
    'gauge',
    'DCP torrents by state.',
    STATES.map((st) => [{ state: st }, s.torrents.filter((x) => x.state === st).length]),
  );
  w.family('cineswarm_torrent_size_bytes', 'gauge', 'Size of the DCP.', s.torrents.map((x) => [t(x), x.sizeBytes]));
  w.family(
    'cineswarm_torrent_done_bytes',
    'gauge',
    'Bytes of the DCP already received and checked.',
    s.torrents.map((x) => [t(x), Math.round(x.progress * x.sizeBytes)]),
  );
  w.family('cineswarm_torrent_progress_ratio', 'gauge', 'Download progress, 0 to 1.', s.torrents.map((x) => [t(x), x.progress]));
  w.family('cineswarm_torrent_download_bytes_per_second', 'gauge', 'Download rate of the DCP.', s.torrents.map((x) => [t(x), x.downloadBps]));
  w.family('cineswarm_torrent_upload_bytes_per_second', 'gauge', 'Upload rate of the DCP to the group.', s.torrents.map((x) => [t(x), x.uploadBps]));
  w.family('cineswarm_torrent_peers', 'gauge', 'Peers connected for the DCP.', s.torrents.map((x) => [t(x), x.peers]));
  w.family(
    'cineswarm_torrent_state',
    'gauge',
    'State of the DCP; 1 for the current state.',
    s.torrents.map((x) => [{ ...t(x), state: x.state, verify: x.verify.state }, 1]),
  );
  const encrypted = s.torrents.filter((x) => x.kdm);
  w.family('cineswarm_torrent_kdm_state', 'gauge', 'Key state of an encrypted DCP; 1 for the current state.', encrypted.map((x) => [{ ...t(x), state: x.kdm!.state }, 1]));
  w.family(
    'cineswarm_torrent_kdm_not_valid_after_timestamp_seconds',
    'gauge',
    'When the KDM of an encrypted DCP stops being valid (Unix time).',
    encrypted.filter((x) => x.kdm!.notValidAfter).map((x) => [t(x), Date.parse(x.kdm!.notValidAfter!) / 1000]),
  );
  w.family(
    'cineswarm_alarms',
    'gauge',
    'Alarms raised, by severity.',
    (['warning', 'critical'] as const).map((sev) => [{ severity: sev }, s.alarms.filter((a) => a.severity === sev).length]),
  );
  w.family(
    'cineswarm_alarm_since_timestamp_seconds',
    'gauge',
    'When each raised alarm was first seen (Unix time).',
    s.alarms.map((a) => [{ code: a.code, severity: a.severity }, Date.parse(a.since) / 1000]),
  );
  w.family(
    'cineswarm_groups',
    'gauge',
    'Groups by join state.',
    (['joining', 'joined', 'unauthorized', 'not-found', 'unreachable'] as const).map((st) => [{ state: st }, s.groups.filter((g) => g.state === st).length]),
  );
  w.family('cineswarm_conflicts', 'gauge', 'DCP names offered with content different from the copy already received.', [[{}, s.conflicts.length]]);
  const last = s.lastPollAt ? Date.parse(s.lastPollAt) / 1000 : null;
  // No sample at all before the first poll: an alert on "absent" reads better than a fake 0 (1970).
  w.family('cineswarm_last_poll_timestamp_seconds', 'gauge', 'When the agent last polled the server (Unix time).', last === null ? [] : [[{}, last]]);
  w.family('cineswarm_last_poll_age_seconds', 'gauge', 'Seconds since the last poll of the server.', last === null ? [] : [[{}, Math.max(0, Math.round(now / 1000 - last))]]);
  if (s.memory) {
    w.family('cineswarm_agent_memory_resident_bytes', 'gauge', 'Resident memory of the agent (anonymous and file-backed pages).', [[{}, s.memory.rssBytes]]);
    w.family('cineswarm_agent_memory_anonymous_bytes', 'gauge', 'Anonymous resident memory of the agent (without mapped file pages the kernel can drop).', [[{}, s.memory.anonBytes]]);
  }
  if (s.system) {
    w.family('cineswarm_process_resident_memory_bytes', 'gauge', 'Resident memory of the agent process.', [[{}, s.system.process.rssBytes]]);
    w.family('cineswarm_process_cpu_percent', 'gauge', 'CPU used by the agent, percent of one core.', [[{}, s.system.process.cpuPercent]]);
    w.family(
      'cineswarm_storage_health',
      'gauge',
      'RAID array or drive health; 1 for the current state.',
      s.system.storage.map((x) => [{ device: x.device, kind: x.kind, state: x.state }, 1]),
    );
  }
  return w.text();
}
