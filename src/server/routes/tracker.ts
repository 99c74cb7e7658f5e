// The group-scoped BitTorrent tracker: BEP 3 announce (compact BEP 23 or dict peers, IPv6 in
// peers6), BEP 48 scrape. The passkey names the group; only that group's torrents and peers
// exist for it. Refusals are bencoded "failure reason"s, as clients expect.
import bencode from 'bencode';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import net from 'node:net';
import type { ServerContext } from '../context.js';
import { StoreUnavailableError } from '../errors.js';
import { readPasskey, type PasskeyOwner } from '../passkey.js';
import { swarmKey, type AnnounceInput, type SwarmPeer } from '../swarms.js';
import { encodeRawDict } from '../torrent-file.js';

const DEFAULT_NUMWANT = 50;
const MAX_NUMWANT = 200;

class TrackerRefusal extends Error {}

/** Query parameters as raw bytes: info_hash and peer_id are binary, not UTF-8. */
export function rawQuery(url: string): Map<string, Buffer[]> {
  const out = new Map<string, Buffer[]>();
  const q = url.indexOf('?');
  if (q < 0) return out;
  for (const pair of url.slice(q + 1).split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = unescapeBytes(eq < 0 ? pair : pair.slice(0, eq)).toString('latin1');
    const value = unescapeBytes(eq < 0 ? '' : pair.slice(eq + 1));
    const list = out.get(key) ?? [];
    list.push(value);
    out.set(key, list);
  }
  return out;
}

function unescapeBytes(s: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === 0x2b) {
      bytes.push(0x20);
    } else {
      bytes.push(c & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function one(q: Map<string, Buffer[]>, key: string): string | undefined {
  return q.get(key)?.[0]?.toString('latin1');
}

function int(q: Map<string, Buffer[]>, key: string, fallback?: number): number {
  const v = one(q, key);
  if (v === undefined || v === '') {
    if (fallback !== undefined) return fallback;
    throw new TrackerRefusal(`missing ${key}`);
  }
  if (!/^\d+$/.test(v)) throw new TrackerRefusal(`${key} is not a number`);
  return Number(v);
}

function hash20(q: Map<string, Buffer[]>, key: string): Buffer {
  const v = q.get(key)?.[0];
  if (!v) throw new TrackerRefusal(`missing ${key}`);
  if (v.length !== 20) throw new TrackerRefusal(`${key} must be 20 bytes`);
  return v;
}

// The address other peers are told to connect to is where this announce came from (request.ip:
// the socket, or X-Forwarded-For through a configured trusted proxy). A client-given `ip=` is
// ignored: believing it lets any member point the group at a third party's host and port.
function peerAddress(request: FastifyRequest): string {
  const remote = request.ip || request.socket.remoteAddress || '';
  return remote.startsWith('::ffff:') && net.isIPv4(remote.slice(7)) ? remote.slice(7) : remote;
}

function compactPeers(peers: SwarmPeer[], family: 4 | 6): Buffer {
  const size = family === 4 ? 6 : 18;
  const mine = peers.filter((p) => net.isIP(p.ip) === family);
  const buf = Buffer.alloc(mine.length * size);
  mine.forEach((p, i) => {
    const off = i * size;
    if (family === 4) p.ip.split('.').forEach((o, j) => buf.writeUInt8(Number(o), off + j));
    else ipv6Bytes(p.ip).copy(buf, off);
    buf.writeUInt16BE(p.port, off + size - 2);
  });
  return buf;
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail = ''] = ip.split('::') as [string?, string?];
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return buf;
}

function sendBencoded(reply: FastifyReply, body: Buffer | Uint8Array): FastifyReply {
  return reply.code(200).type('text/plain; charset=latin1').header('cache-control', 'no-store').send(Buffer.from(body));
}

export const trackerRoutes: FastifyPluginAsync<{ ctx: ServerContext }> = async (app, { ctx }) => {
  const interval = ctx.announceIntervalSeconds;
  const passkeySchema = {
    type: 'object',
    required: ['passkey'],
    properties: { passkey: { type: 'string', maxLength: 512 } },
  } as const;
  // Only shapes; the binary fields are read from the raw URL, which ajv never sees whole.
  const announceQuery = {
    type: 'object',
    properties: {
      info_hash: { type: 'string' },
      peer_id: { type: 'string' },
      port: { type: 'string' },
      uploaded: { type: 'string' },
      downloaded: { type: 'string' },
      left: { type: 'string' },
      compact: { type: 'string' },
      no_peer_id: { type: 'string' },
      event: { type: 'string' },
      ip: { type: 'string' },
      numwant: { type: 'string' },
    },
  } as const;
  const bencodedReply = { 200: { description: 'bencoded tracker response', type: 'string', format: 'binary' } };

  // Anything that goes wrong on these routes is still an answer a BitTorrent client can read.
  app.setErrorHandler((err, request, reply) => {
    const reason =
      err instanceof TrackerRefusal || err instanceof StoreUnavailableError ? err.message : 'the tracker could not handle this request';
    if (!(err instanceof TrackerRefusal)) ctx.logger.warn({ err, url: request.url }, 'tracker request failed');
    // The intervals ride along because libtorrent, finding none in a refusal, waits 30 minutes
    // before asking again: an agent whose passkey works again would sit that long without peers.
    return sendBencoded(reply, bencode.encode({ 'failure reason': reason, interval, 'min interval': Math.max(1, Math.floor(interval / 2)) }));
  });

  async function owner(passkey: string): Promise<PasskeyOwner> {
    const who = readPasskey(ctx.secret, passkey);
    if (!who) throw new TrackerRefusal('unknown passkey: download the torrent again from the cineswarm server');
    try {
      await ctx.auth.group(who.group);
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw err;
      throw new TrackerRefusal(`group '${who.group}' does not exist on this tracker`);
    }
    return who;
  }

  app.get<{ Params: { passkey: string } }>(
    '/announce/:passkey',
    { schema: { params: passkeySchema, querystring: announceQuery, response: bencodedReply } },
    async (request, reply) => {
      const who = await owner(request.params.passkey);
      const q = rawQuery(request.url);
      const infoHash = hash20(q, 'info_hash');
      const peerId = hash20(q, 'peer_id');
      const port = int(q, 'port');
      if (port < 1 || port > 65535) throw new TrackerRefusal('port is out of range');
      const event = one(q, 'event') ?? 'empty';
      if (!['started', 'stopped', 'completed', 'empty', ''].includes(event)) throw new TrackerRefusal(`unknown event '${event}'`);
      const view = await ctx.catalog.list(who.group);
      const hex = infoHash.toString('hex');
      if (!view.byTrackerHash.has(hex)) throw new TrackerRefusal(`this torrent is not shared in group '${who.group}'`);
      const a: AnnounceInput = {
        member: who.peer,
        peerId,
        ip: peerAddress(request),
        port,
        left: int(q, 'left', 0),
        event: (event || 'empty') as AnnounceInput['event'],
        numwant: Math.min(int(q, 'numwant', DEFAULT_NUMWANT), MAX_NUMWANT),
      };
      const { peers, counts } = await ctx.swarms.announce(swarmKey(who.group, hex), a);
      const body: Record<string, unknown> = {
        interval,
        'min interval': Math.max(1, Math.floor(interval / 2)),
        complete: counts.complete,
        incomplete: counts.incomplete,
      };
      if (one(q, 'compact') === '0') {
        // Peer ids stay out of the answer: clients learn them in the handshake anyway, and a member
        // who knew another's could impersonate it to any tracker that keys swarms by peer_id.
        body.peers = peers.map((p) => ({ ip: p.ip, port: p.port }));
      } else {
        body.peers = compactPeers(peers, 4);
        const v6 = compactPeers(peers, 6);
        if (v6.length > 0) body.peers6 = v6;
      }
      return sendBencoded(reply, bencode.encode(body));
    },
  );

  app.get<{ Params: { passkey: string } }>(
    '/scrape/:passkey',
    { schema: { params: passkeySchema, querystring: { type: 'object' }, response: bencodedReply } },
    async (request, reply) => {
      const who = await owner(request.params.passkey);
      const q = rawQuery(request.url);
      const view = await ctx.catalog.list(who.group);
      const asked = [...new Set((q.get('info_hash') ?? []).filter((h) => h.length === 20).map((h) => h.toString('hex')))];
      const hashes = asked.length > 0 ? asked.filter((h) => view.byTrackerHash.has(h)) : [...view.byTrackerHash.keys()];
      // Keys of `files` are raw 20-byte hashes, which a JS object cannot carry.
      const files = encodeRawDict(
        await Promise.all(
          hashes.map(async (h): Promise<[Buffer, Buffer]> => {
            const c = await ctx.swarms.scrape(swarmKey(who.group, h));
            return [Buffer.from(h, 'hex'), Buffer.from(bencode.encode(c))];
          }),
        ),
      );
      return sendBencoded(reply, encodeRawDict([[Buffer.from('files'), files]]));
    },
  );
};
