// `cineswarm status [--agent URL] [--json]`: one agent's state, as its web page shows it.
import { parseArgs } from 'node:util';
import type { AgentStatus } from '../agent/monitoring/status-types.js';
import { bandwidthLine, bytes, duration, rate } from '../util/web-assets/format.js';

const HELP = `usage: cineswarm status [--agent URL] [--json]

Shows one agent's state (torrents, groups, disk) from its local API.

  --agent URL   the agent's web address (default http://127.0.0.1:8680)
  --json        print the raw JSON of GET /api/status`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

export function renderStatus(s: AgentStatus): string {
  const out: string[] = [];
  out.push(`agent ${s.id}  version ${s.version}  up ${duration(s.uptime)}`);
  out.push(`disk ${s.disk.path}: ${bytes(s.disk.free)} free of ${bytes(s.disk.total)}   network in ${rate(s.network.rxBps)} out ${rate(s.network.txBps)}`);
  if (s.bandwidth) out.push(`bandwidth ${bandwidthLine(s.bandwidth)}`);
  out.push('');
  const rows = [['NAME', 'GROUP', 'STATE', 'PROGRESS', 'DOWN/s', 'UP/s', 'PEERS', 'ETA', 'NOTE']];
  for (const t of s.torrents) {
    rows.push([
      t.name,
      t.group,
      t.state,
      `${(t.progress * 100).toFixed(1)}%`,
      rate(t.downloadBps),
      rate(t.uploadBps),
      String(t.peers),
      t.state === 'downloading' ? duration(t.etaSeconds) : '–',
      [t.replaces ? `re-release replacing ${t.replaces.slice(0, 12)}` : '', t.replacedBy ? `replaced by ${t.replacedBy.slice(0, 12)}` : '', t.message ?? (t.verify.failed.length ? t.verify.failed.map((f) => f.path).join(', ') : '')].filter(Boolean).join('; '),
    ]);
  }
  out.push(rows.length > 1 ? table(rows) : 'no torrents');
  if (s.groups?.length) {
    out.push('');
    out.push(table([['GROUP', 'STATE', 'NOTE'], ...s.groups.map((g) => [g.id, g.state, g.message ?? ''])]));
  }
  if (s.conflicts?.length) {
    out.push('');
    out.push('re-releases (same name, other content; not downloaded until accepted):');
    for (const c of s.conflicts) {
      const have = c.known ? ` (${c.known.state}${c.known.inIngest ? ', in ingest' : ''}, ${bytes(c.known.sizeBytes)})` : '';
      const offered = c.offered ? ` (${bytes(c.offered.sizeBytes)})` : ' (no longer listed)';
      out.push(`  ${c.name} in group ${c.group}: have ${c.knownInfoHash}${have}; offered ${c.offeredInfoHash}${offered}`);
      out.push(c.accepted ? '    accepted; the new version is on its way' : c.offered ? `    accept with: cineswarm accept ${c.name}` : '    nothing to accept while the group does not list it');
    }
  }
  if (s.alarms?.length) {
    out.push('');
    for (const a of s.alarms) out.push(`ALARM ${a.severity} ${a.code}: ${a.message}`);
  }
  return out.join('\n');
}

export async function run(argv: string[]): Promise<number> {
  let values: { agent?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { agent: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`cineswarm status: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const base = (values.agent ?? 'http://127.0.0.1:8680').replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/api/status`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    process.stderr.write(`cineswarm status: cannot reach the agent at ${base} (${cause})\n`);
    return 1;
  }
  if (!res.ok) {
    process.stderr.write(`cineswarm status: the agent at ${base} answered ${res.status}\n`);
    return 1;
  }
  const status = (await res.json()) as AgentStatus;
  process.stdout.write((values.json ? JSON.stringify(status, null, 2) : renderStatus(status)) + '\n');
  return 0;
}
