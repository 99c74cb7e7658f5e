// A raw BitTorrent tracker client for tests: builds announce/scrape URLs with binary
// parameters percent-encoded, as real clients do, and decodes the bencoded answers.
import bencode from 'bencode';
import type { FastifyInstance } from 'fastify';

export interface AnnounceParams {
  infoHash: Buffer;
  peerId: Buffer;
  port: number;
  left?: number;
  event?: string;
  compact?: '0' | '1';
  noPeerId?: boolean;
  ip?: string;
  numwant?: number;
}

export interface Peer {
  ip: string;
  port: number;
  peerId?: string;
}

export interface AnnounceAnswer {
  failure?: string;
  interval?: number;
  complete?: number;
  incomplete?: number;
  peers: Peer[];
  peers6: Peer[];
}

export const escapeBytes = (b: Buffer): string => [...b].map((x) => '%' + x.toString(16).padStart(2, '0')).join('');

export function peerId(tag: string): Buffer {
  return Buffer.from(`-CS0001-${tag}`.padEnd(20, 'x').slice(0, 20));
}

export function announceUrl(passkey: string, p: AnnounceParams): string {
  const q = [
    `info_hash=${escapeBytes(p.infoHash)}`,
    `peer_id=${escapeBytes(p.peerId)}`,
    `port=${p.port}`,
    'uploaded=0',
    'downloaded=0',
    `left=${p.left ?? 1000}`,
  ];
  if (p.event) q.push(`event=${p.event}`);
  if (p.compact) q.push(`compact=${p.compact}`);
  if (p.noPeerId) q.push('no_peer_id=1');
  if (p.ip) q.push(`ip=${encodeURIComponent(p.ip)}`);
  if (p.numwant !== undefined) q.push(`numwant=${p.numwant}`);
  return `/announce/${passkey}?${q.join('&')}`;
}

function compact(buf: Uint8Array, size: 6 | 18): Peer[] {
  const out: Peer[] = [];
  const b = Buffer.from(buf);
  for (let off = 0; off + size <= b.length; off += size) {
    const ip =
      size === 6
        ? [...b.subarray(off, off + 4)].join('.')
        : Array.from({ length: 8 }, (_, i) => b.readUInt16BE(off + i * 2).toString(16)).join(':');
    out.push({ ip, port: b.readUInt16BE(off + size - 2) });
  }
  return out;
}

const text = (v: unknown): string => Buffer.from(v as Uint8Array).toString('utf8');

export function decodeAnnounce(body: Buffer): AnnounceAnswer {
  const d = bencode.decode(body) as Record<string, unknown>;
  if (d['failure reason']) return { failure: text(d['failure reason']), peers: [], peers6: [] };
  const peersField = d.peers;
  const peers = Array.isArray(peersField)
    ? (peersField as Array<Record<string, unknown>>).map((p) => {
        const peer: Peer = { ip: text(p.ip), port: p.port as number };
        if (p['peer id']) peer.peerId = text(p['peer id']);
        return peer;
      })
    : compact(peersField as Uint8Array, 6);
  return {
    interval: d.interval as number,
    complete: d.complete as number,
    incomplete: d.incomplete as number,
    peers,
    peers6: d.peers6 ? compact(d.peers6 as Uint8Array, 18) : [],
  };
}

/** One announce through inject; `from` is the connection's source address (default 127.0.0.1). */
export async function announce(app: FastifyInstance, passkey: string, p: AnnounceParams, from?: string): Promise<AnnounceAnswer> {
  const res = await app.inject({ url: announceUrl(passkey, p), ...(from ? { remoteAddress: from } : {}) });
  if (res.statusCode !== 200) throw new Error(`announce answered ${res.statusCode}`);
  return decodeAnnounce(res.rawPayload);
}

/** files of a scrape answer, keyed by info hash in hex */
export function decodeScrape(body: Buffer): Record<string, { complete: number; incomplete: number; downloaded: number }> | { failure: string } {
  // Keys are raw 20-byte hashes; the decoder turns non-UTF-8 keys into hex, others into text.
  const d = bencode.decode(body) as Record<string, unknown>;
  if (d['failure reason']) return { failure: text(d['failure reason']) };
  const files = d.files as Record<string, { complete: number; incomplete: number; downloaded: number }>;
  const out: Record<string, { complete: number; incomplete: number; downloaded: number }> = {};
  for (const [k, v] of Object.entries(files)) out[/^[0-9a-f]{40}$/.test(k) ? k : Buffer.from(k, 'utf8').toString('hex')] = v;
  return out;
}
