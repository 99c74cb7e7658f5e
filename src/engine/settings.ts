// Maps cineswarm's SessionSettings to libtorrent settings_pack names. Private swarms by default:
// no DHT, LSD, UPnP or NAT-PMP, and TCP only (uTP on loopback and LANs is many times slower).
import type { SettingsPack } from './addon.js';
import { EngineError } from './errors.js';
import { RUNS_IN_SWARM } from './piece-runs.js';
import type { SessionSettings, StorageKind } from './types.js';

// error | peer | storage | tracker | status | performance_warning | file_progress (libtorrent
// alert_category bits; file_progress brings file_completed, one alert per finished file)
const ALERT_MASK = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4) | (1 << 6) | (1 << 9) | (1 << 21);

const DEFAULTS: SettingsPack = {
  enable_dht: false,
  enable_lsd: false,
  enable_upnp: false,
  enable_natpmp: false,
  enable_outgoing_utp: false,
  enable_incoming_utp: false,
  allow_multiple_connections_per_ip: false,
  alert_mask: ALERT_MASK,
  alert_queue_size: 10000,
  user_agent: 'cineswarm/0.1',
  // libtorrent hands out upload and download quota once per tick (500 ms by default), and under a
  // rate limit every message waits for quota, the handshake's too: a capped peer's first request
  // left 2.1 s after its start, 0.5 s with 100 ms ticks (docs/engine.md). Super seeding, where each
  // piece is offered after the previous one is announced, waits on it for every piece.
  tick_interval: 100,
  peer_fingerprint: '-CS0100-',
};

function rate(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0 || v > 2 ** 31 - 1) throw new EngineError('INVALID_ARGUMENT', `${name} must be 0 (unlimited) or a positive number of bytes per second`);
  return Math.round(v);
}

/** With `withDefaults`, the full pack for a new session; without, only what `s` mentions (runtime changes). */
export function toSettingsPack(s: SessionSettings, withDefaults: boolean): SettingsPack {
  const p: SettingsPack = withDefaults ? { ...DEFAULTS } : {};
  if (s.listenInterfaces !== undefined) p.listen_interfaces = s.listenInterfaces;
  if (s.downloadRateLimit !== undefined) p.download_rate_limit = rate('downloadRateLimit', s.downloadRateLimit);
  if (s.uploadRateLimit !== undefined) p.upload_rate_limit = rate('uploadRateLimit', s.uploadRateLimit);
  if (s.enableDht !== undefined) p.enable_dht = s.enableDht;
  if (s.enableLsd !== undefined) p.enable_lsd = s.enableLsd;
  if (s.enableUpnp !== undefined) p.enable_upnp = s.enableUpnp;
  if (s.enableNatpmp !== undefined) p.enable_natpmp = s.enableNatpmp;
  if (s.enableUtp !== undefined) {
    p.enable_outgoing_utp = s.enableUtp;
    p.enable_incoming_utp = s.enableUtp;
  }
  if (s.allowMultipleConnectionsPerIp !== undefined) p.allow_multiple_connections_per_ip = s.allowMultipleConnectionsPerIp;
  if (s.userAgent !== undefined) p.user_agent = s.userAgent;
  if (s.peerFingerprint !== undefined) p.peer_fingerprint = s.peerFingerprint;
  if (s.raw) Object.assign(p, s.raw);
  return p;
}

/** `host:port` for libtorrent's listen_interfaces (IPv6 addresses in brackets). */
export function listenInterface(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The agent's disk backend unless its config says otherwise (figures in docs/engine.md). */
export const AGENT_STORAGE: StorageKind = 'posix';

export interface AgentEngineOptions {
  listenInterfaces: string;
  /** e.g. the package version; sent as the client's user agent */
  version: string;
  allowMultipleConnectionsPerIp?: boolean;
  enableUtp?: boolean;
  storage?: StorageKind;
}

/**
 * The session settings of a cinema agent. `cineswarm get` uses exactly these, so what a technician
 * or a benchmark measures with it is what an agent does.
 */
export function agentSessionSettings(o: AgentEngineOptions): SessionSettings {
  return {
    listenInterfaces: o.listenInterfaces,
    allowMultipleConnectionsPerIp: o.allowMultipleConnectionsPerIp ?? false,
    enableUtp: o.enableUtp ?? false,
    userAgent: `cineswarm/${o.version}`,
    storage: o.storage ?? AGENT_STORAGE,
    // Cinemas often reach each other over a VPN with private addresses, which libtorrent would
    // treat as "local" and exempt from the bandwidth schedule: the schedule must hold for all peers.
    rateLimitLocalPeers: true,
    // Announce at the interval our own tracker asks for (libtorrent would stretch it to 5 minutes),
    // and reconnect to known peers within seconds: after a recheck drops bad pieces, the seeds we
    // had let go must be found again quickly.
    // Short request queues (1 s of transfer, at most 50 blocks per peer; libtorrent: 3 s, 500): a
    // capped seed serves requests seconds late, and a long queue keeps asking it for pieces that
    // other cinemas meanwhile have, so it sends them twice (docs/engine.md: swarm efficiency at
    // N=4 0.55-0.57 -> 0.64-0.67, seed copies 1.55-1.60 -> 1.30-1.32). Measured and not kept, each
    // within the spread of these settings: predictive_piece_announce, a 16-block queue, unlimited
    // unchoke slots, a 100 ms tick (docs/engine.md, "where the time goes").
    // Single pieces to start with; runs of whole pieces (whole_pieces_threshold) only once every
    // download has been alone for a second (followPieceRuns, piece-runs.ts): in a swarm each cinema
    // asked a capped seed for up to 8 MiB of contiguous pieces at a time that the others learn of
    // only piece by piece, and they picked into each other's runs; single pieces took N=4
    // 0.70-0.73 -> 0.75-0.76 and N=8 0.64-0.65 -> 0.70-0.72, but alone they cost 0.2-0.8 s at 1 GiB
    // (docs/engine.md, "Piece runs").
    raw: { min_announce_interval: 5, min_reconnect_time: 5, request_queue_time: 1, max_out_request_queue: 50, whole_pieces_threshold: RUNS_IN_SWARM },
  };
}

export interface SeederEngineOptions {
  listenInterfaces: string;
  version: string;
  storage?: StorageKind;
  /** the torrents are super seeded (src/publish/initial-seeding.ts); default true */
  superSeeding?: boolean;
  /** the seeder's upload cap in bytes/s (session or torrent); 0 or absent = uncapped */
  uploadLimit?: number;
}

/**
 * The session settings of an initial seeder (`publish --seed`, `cineswarm seed`): its capped upload
 * is the swarm's bottleneck, so every setting here is about sending each piece once.
 */
export function seederSessionSettings(o: SeederEngineOptions): SessionSettings {
  return {
    listenInterfaces: o.listenInterfaces,
    userAgent: `cineswarm/${o.version}`,
    storage: o.storage,
    // Cinemas behind one NAT address (or one VPN concentrator) each need their own connection.
    allowMultipleConnectionsPerIp: true,
    rateLimitLocalPeers: true,
    // libtorrent stretches tracker intervals to at least 5 minutes by default, but our tracker forgets
    // a peer after two of its own intervals: follow the tracker's interval so we stay listed.
    // Short per-peer request queues. Unchoke slots: a super seed gives each peer only the one or two
    // pieces it offers, so its upload fills only with several peers unchoked at once (8, libtorrent's
    // default; with 2 the 8-cinema bench took 35 s instead of 21 s); a plain seed does better with
    // two, which take its whole capped upload and hand pieces on (in-process swarm bench, 8 peers:
    // 1.5 copies sent -> 1.0). libtorrent puts LAN, VPN and loopback peers in a class that ignores
    // unchoke slots, hence rateLimitLocalPeers.
    // An uncapped seeder serves requests as fast as they come, so the short queue only starves a
    // fast link (one loopback transfer: 16 blocks of 16 KiB in flight = 256 KiB, each waiting for
    // a disk thread); it then keeps libtorrent's default, and the downloader's own queue (50
    // blocks, agentSessionSettings) sets the depth. single-transfer 4 GiB, alternating runs, load
    // 5-10: 20.2 / 21.4 / 23.2 s -> 12.0 / 13.6 / 21.5 s (docs/benchmarks.md). Capped: unchanged.
    // The send buffer is full from a connection's first block. libtorrent sizes it from the upload
    // of the previous second (half of it, at most send_buffer_watermark, 500 KiB), so until a
    // connection's first once-a-second tick it holds 10 KiB and each block waits for the disk read
    // of the one before: a new downloader got 150-200 MB/s for its first half second, then 600+
    // (single-transfer 256 MiB, alternating, get 0.48-0.58 s against 0.68-0.91 s, curl 0.45-0.58 s).
    // Capped at 25 MB/s it changes nothing measurable (n8-cs-seeder 0.83-0.89 against 0.71-0.89).
    raw: {
      min_announce_interval: 5,
      min_reconnect_time: 5,
      send_buffer_low_watermark: 500 * 1024,
      ...((o.uploadLimit ?? 0) > 0 ? { max_allowed_in_request_queue: 16 } : {}),
      unchoke_slots_limit: o.superSeeding === false ? 2 : 8,
    },
  };
}
