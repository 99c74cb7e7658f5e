// The server's counters for GET /metrics (Prometheus text). Kept minimal here: what the store
// costs (reads by the catalog, refusals while the store or Redis is away); others add theirs.

export class ServerMetrics {
  /** objects the torrent catalog read from the store, by kind */
  readonly storeReads = { list: 0, torrent: 0 };
  /** requests answered 503 because the store or Redis did not answer */
  storeUnavailable = 0;

  text(): string {
    return [
      '# HELP cineswarm_server_store_reads_total Objects the torrent catalog read from the group store.',
      '# TYPE cineswarm_server_store_reads_total counter',
      `cineswarm_server_store_reads_total{kind="list"} ${this.storeReads.list}`,
      `cineswarm_server_store_reads_total{kind="torrent"} ${this.storeReads.torrent}`,
      '# HELP cineswarm_server_store_unavailable_total Requests refused with 503 because the store or Redis did not answer.',
      '# TYPE cineswarm_server_store_unavailable_total counter',
      `cineswarm_server_store_unavailable_total ${this.storeUnavailable}`,
      '',
    ].join('\n');
  }
}
