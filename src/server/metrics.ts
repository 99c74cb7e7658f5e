// The server's counters and gauges for GET /metrics (Prometheus text format 0.0.4): requests by
// route and status, what the store costs and refuses, and at scrape time the active peers and
// torrents per group. A small writer of our own: the format is a few lines of text.

/** Gauges read when /metrics is asked for; a family left out could not be read (store or Redis away). */
export interface ScrapeGauges {
  /** distinct peers with a live tracker entry, per group */
  activePeers?: Map<string, number>;
  /** torrents listed, per group */
  torrents?: Map<string, number>;
}

function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function family(out: string[], name: string, type: 'counter' | 'gauge', help: string, samples: Array<[string, number]>): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of samples) out.push(`${name}${labels} ${value}`);
}

export class ServerMetrics {
  /** objects the torrent catalog read from the store, by kind */
  readonly storeReads = { list: 0, torrent: 0 };
  /** requests answered 503 because the store or Redis did not answer */
  storeUnavailable = 0;
  /** requests answered, by method, route pattern and status */
  private readonly requests = new Map<string, { method: string; route: string; status: number; n: number }>();

  countRequest(method: string, route: string, status: number): void {
    const key = `${method} ${route} ${status}`;
    const entry = this.requests.get(key);
    if (entry) entry.n++;
    else this.requests.set(key, { method, route, status, n: 1 });
  }

  /** how many requests of a route pattern were answered with a status (any method) */
  requestCount(route: string, status?: number): number {
    let n = 0;
    for (const e of this.requests.values()) if (e.route === route && (status === undefined || e.status === status)) n += e.n;
    return n;
  }

  text(gauges: ScrapeGauges = {}): string {
    const out: string[] = [];
    const perGroup = (m: Map<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([g, n]): [string, number] => [`{group="${label(g)}"}`, n]);
    family(
      out, 'cineswarm_server_requests_total', 'counter', 'Requests answered, by method, route and status.',
      [...this.requests.values()].map((e) => [`{method="${label(e.method)}",route="${label(e.route)}",status="${e.status}"}`, e.n]),
    );
    family(out, 'cineswarm_server_store_reads_total', 'counter', 'Objects the torrent catalog read from the group store.', [
      ['{kind="list"}', this.storeReads.list],
      ['{kind="torrent"}', this.storeReads.torrent],
    ]);
    family(out, 'cineswarm_server_store_unavailable_total', 'counter', 'Requests refused with 503 because the store or Redis did not answer.', [
      ['', this.storeUnavailable],
    ]);
    if (gauges.activePeers) family(out, 'cineswarm_server_active_peers', 'gauge', 'Peers with a live tracker entry, per group.', perGroup(gauges.activePeers));
    if (gauges.torrents) family(out, 'cineswarm_server_torrents', 'gauge', 'Torrents listed, per group.', perGroup(gauges.torrents));
    out.push('');
    return out.join('\n');
  }
}
