// The group-scoped tracker through raw announces and scrapes: peers only of the same
// (group, info hash) swarm, bencoded refusals, events, expiry and BEP 48 scrape.
import test from 'ava';
import bencode from 'bencode';
import { makePasskey } from '../../src/server/passkey.js';
import { PEER_LIFETIME_FLOOR_SECONDS } from '../../src/server/app.js';
import { basic, createGroup, makeTorrent, snapshot, startServer, uploadTorrent } from './helpers.js';
import { announce, announceUrl, decodeAnnounce, decodeScrape, escapeBytes, peerId } from './tracker-client.js';

const FEATURE = makeTorrent({ name: 'Feature', content: Buffer.alloc(30000, 4) });
const OTHER = makeTorrent({ name: 'OnlyInA', content: Buffer.alloc(30000, 8) });

async function setup(t: Parameters<typeof startServer>[0], opts = {}) {
  const s = await startServer(t, opts);
  await createGroup(s.app, 'A', 'pa');
  await createGroup(s.app, 'B', 'pb');
  const featureHash = Buffer.from((await uploadTorrent(s.app, 'A', 'pa', FEATURE)).json<{ infoHash: string }>().infoHash, 'hex');
  await uploadTorrent(s.app, 'B', 'pb', FEATURE);
  const otherHash = Buffer.from((await uploadTorrent(s.app, 'A', 'pa', OTHER)).json<{ infoHash: string }>().infoHash, 'hex');
  const key = (group: string, peer: string) => makePasskey(s.app.cineswarm.secret, group, peer);
  return { ...s, featureHash, otherHash, key };
}

test('the passkey in a downloaded torrent is accepted; peers see each other but never themselves', async (t) => {
  const { app, featureHash } = await setup(t, { announceIntervalSeconds: 45 });
  const dl = await app.inject({ url: '/api/groups/A/torrents/Feature?peer=seed1', headers: { authorization: basic('A', 'pa') } });
  const announceAt = Buffer.from((bencode.decode(dl.rawPayload) as { announce: Uint8Array }).announce).toString();
  const passkey = announceAt.split('/announce/')[1]!;

  const seed = await announce(app, passkey, { infoHash: featureHash, peerId: peerId('seed1'), port: 51001, left: 0, event: 'started' });
  t.is(seed.failure, undefined);
  t.is(seed.interval, 45);
  t.deepEqual(seed.peers, []);
  t.is(seed.complete, 1);

  const leech = await announce(app, makePasskey(app.cineswarm.secret, 'A', 'leech1'), { infoHash: featureHash, peerId: peerId('leech1'), port: 51002, left: 30000, event: 'started' });
  // inject connects from 127.0.0.1
  t.deepEqual(leech.peers, [{ ip: '127.0.0.1', port: 51001 }]);
  t.is(leech.complete, 1);
  t.is(leech.incomplete, 1);

  const again = await announce(app, passkey, { infoHash: featureHash, peerId: peerId('seed1'), port: 51001, left: 0 });
  t.deepEqual(again.peers, [{ ip: '127.0.0.1', port: 51002 }]);
});

test("non-compact answers carry ip and port, never another peer's id", async (t) => {
  const { app, featureHash, key } = await setup(t);
  await announce(app, key('A', 's1'), { infoHash: featureHash, peerId: peerId('one'), port: 6001, left: 0 }, '127.0.0.9');
  const full = await announce(app, key('A', 's2'), { infoHash: featureHash, peerId: peerId('two'), port: 6002, compact: '0' });
  t.deepEqual(full.peers, [{ ip: '127.0.0.9', port: 6001 }]);
  const bare = await announce(app, key('A', 's2'), { infoHash: featureHash, peerId: peerId('two'), port: 6002, compact: '0', noPeerId: true });
  t.deepEqual(bare.peers, [{ ip: '127.0.0.9', port: 6001 }]);
});

test('IPv6 peers come in peers6 of a compact answer', async (t) => {
  const { app, featureHash, key } = await setup(t);
  await announce(app, key('A', 's1'), { infoHash: featureHash, peerId: peerId('v6'), port: 7001, left: 0 }, '::1');
  const res = await announce(app, key('A', 's2'), { infoHash: featureHash, peerId: peerId('v4'), port: 7002, compact: '1' });
  t.deepEqual(res.peers, []);
  t.deepEqual(res.peers6, [{ ip: '0:0:0:0:0:0:0:1', port: 7001 }]);
});

test('one torrent in two groups makes two swarms: a peer of A never learns a peer of B', async (t) => {
  const { app, featureHash, key } = await setup(t);
  await announce(app, key('A', 'a1'), { infoHash: featureHash, peerId: peerId('a1'), port: 8001, left: 0 });
  await announce(app, key('B', 'b1'), { infoHash: featureHash, peerId: peerId('b1'), port: 8101, left: 0 });
  const a2 = await announce(app, key('A', 'a2'), { infoHash: featureHash, peerId: peerId('a2'), port: 8002 });
  const b2 = await announce(app, key('B', 'b2'), { infoHash: featureHash, peerId: peerId('b2'), port: 8102 });
  t.deepEqual(a2.peers.map((p) => p.port), [8001]);
  t.deepEqual(b2.peers.map((p) => p.port), [8101]);
  t.is(a2.complete, 1);
  t.is(b2.complete, 1);
});

test("another group's passkey for a torrent it does not share: failure, no peers, not recorded", async (t) => {
  const { app, otherHash, key } = await setup(t);
  await announce(app, key('A', 'a1'), { infoHash: otherHash, peerId: peerId('a1'), port: 9001, left: 0 });
  const intruder = await announce(app, key('B', 'b1'), { infoHash: otherHash, peerId: peerId('intruder'), port: 9666 });
  t.is(intruder.failure, "this torrent is not shared in group 'B'");
  t.deepEqual(intruder.peers, []);
  const a2 = await announce(app, key('A', 'a2'), { infoHash: otherHash, peerId: peerId('a2'), port: 9002 });
  t.deepEqual(a2.peers.map((p) => p.port), [9001]);
});

test('a refusal carries the announce interval, so clients ask again at the normal pace', async (t) => {
  const { app, featureHash } = await setup(t, { announceIntervalSeconds: 40 });
  const res = await app.inject({ url: announceUrl('garbage', { infoHash: featureHash, peerId: peerId('x'), port: 9100 }) });
  const d = bencode.decode(res.rawPayload) as Record<string, unknown>;
  t.truthy(d['failure reason']);
  t.is(d.interval, 40);
  t.is(d['min interval'], 20);
});

test('forged, malformed and orphaned passkeys are refused with a failure reason', async (t) => {
  const { app, dataDir, featureHash, key } = await setup(t);
  const good = key('A', 'a1');
  const forged = good.slice(0, -2) + (good.endsWith('AA') ? 'BA' : 'AA');
  const otherSecret = makePasskey('some other secret entirely', 'A', 'a1');
  const noGroup = key('Nope', 'a1');
  const before = await snapshot(dataDir);
  for (const pk of [forged, otherSecret, 'garbage', 'a.b.c']) {
    const res = await announce(app, pk, { infoHash: featureHash, peerId: peerId('x'), port: 9100 });
    t.is(res.failure, 'unknown passkey: download the torrent again from the cineswarm server', pk);
  }
  t.is((await announce(app, noGroup, { infoHash: featureHash, peerId: peerId('x'), port: 9100 })).failure, "group 'Nope' does not exist on this tracker");
  t.deepEqual(await snapshot(dataDir), before);
  // none of them joined the swarm
  const a = await announce(app, good, { infoHash: featureHash, peerId: peerId('a1'), port: 9001 });
  t.deepEqual(a.peers, []);
});

test('bad announce requests get a bencoded failure reason', async (t) => {
  const { app, featureHash, key } = await setup(t);
  const pk = key('A', 'a1');
  const h = escapeBytes(featureHash);
  const id = escapeBytes(peerId('p'));
  const cases: Array<[string, string]> = [
    [`peer_id=${id}&port=1`, 'missing info_hash'],
    [`info_hash=abc&peer_id=${id}&port=1`, 'info_hash must be 20 bytes'],
    [`info_hash=${h}&port=1`, 'missing peer_id'],
    [`info_hash=${h}&peer_id=${id}`, 'missing port'],
    [`info_hash=${h}&peer_id=${id}&port=99999`, 'port is out of range'],
    [`info_hash=${h}&peer_id=${id}&port=x1`, 'port is not a number'],
    [`info_hash=${h}&peer_id=${id}&port=1&event=exploded`, "unknown event 'exploded'"],
    [`info_hash=${escapeBytes(Buffer.alloc(20, 1))}&peer_id=${id}&port=1`, "this torrent is not shared in group 'A'"],
  ];
  for (const [query, reason] of cases) {
    const res = await app.inject({ url: `/announce/${pk}?${query}` });
    t.is(res.statusCode, 200);
    t.deepEqual(decodeAnnounce(res.rawPayload), { failure: reason, peers: [], peers6: [] }, query);
  }
});

test('stopped leaves the swarm, completed counts a download, peers expire without announces', async (t) => {
  const { app, featureHash, key } = await setup(t, { announceIntervalSeconds: 30 });
  const pk = key('A', 'x');
  const pk1 = key('A', 'l1');
  const pk2 = key('A', 'l2');
  const scrape = async () => {
    const res = await app.inject({ url: `/scrape/${pk}?info_hash=${escapeBytes(featureHash)}` });
    return (decodeScrape(res.rawPayload) as Record<string, { complete: number; incomplete: number; downloaded: number }>)[featureHash.toString('hex')];
  };
  await announce(app, pk1, { infoHash: featureHash, peerId: peerId('l1'), port: 1001, left: 500, event: 'started' });
  await announce(app, pk2, { infoHash: featureHash, peerId: peerId('l2'), port: 1002, left: 500, event: 'started' });
  t.deepEqual(await scrape(), { complete: 0, incomplete: 2, downloaded: 0 });
  await announce(app, pk1, { infoHash: featureHash, peerId: peerId('l1'), port: 1001, left: 0, event: 'completed' });
  t.deepEqual(await scrape(), { complete: 1, incomplete: 1, downloaded: 1 });
  const stopped = await announce(app, pk2, { infoHash: featureHash, peerId: peerId('l2'), port: 1002, left: 500, event: 'stopped' });
  t.deepEqual(stopped.peers, []);
  t.deepEqual(await scrape(), { complete: 1, incomplete: 0, downloaded: 1 });
  // two intervals (60 s) are shorter than the 300 s a stock client may wait between announces:
  // the peer is kept until the floor has passed, then gone
  app.cineswarm.swarms.sweep(Date.now() + 301_000);
  t.deepEqual(await scrape(), { complete: 1, incomplete: 0, downloaded: 1 });
  app.cineswarm.swarms.sweep(Date.now() + (PEER_LIFETIME_FLOOR_SECONDS + 1) * 1000);
  t.deepEqual(await scrape(), { complete: 0, incomplete: 0, downloaded: 1 });
  const fresh = await announce(app, pk, { infoHash: featureHash, peerId: peerId('l3'), port: 1003 });
  t.deepEqual(fresh.peers, []);
});

test("scrape lists only the passkey group's torrents", async (t) => {
  const { app, featureHash, otherHash, key } = await setup(t);
  await announce(app, key('A', 'a'), { infoHash: featureHash, peerId: peerId('a'), port: 2001, left: 0 });
  const all = decodeScrape((await app.inject({ url: `/scrape/${key('A', 'a')}` })).rawPayload);
  t.deepEqual(Object.keys(all).sort(), [featureHash.toString('hex'), otherHash.toString('hex')].sort());
  t.deepEqual((all as Record<string, unknown>)[featureHash.toString('hex')], { complete: 1, incomplete: 0, downloaded: 0 });
  const b = decodeScrape((await app.inject({ url: `/scrape/${key('B', 'b')}` })).rawPayload);
  // B shares Feature only, and its swarm is empty: A's seed is not counted there
  t.deepEqual(b, { [featureHash.toString('hex')]: { complete: 0, incomplete: 0, downloaded: 0 } });
  const asked = decodeScrape((await app.inject({ url: `/scrape/${key('B', 'b')}?info_hash=${escapeBytes(otherHash)}` })).rawPayload);
  t.deepEqual(asked, {});
  const forged = decodeScrape((await app.inject({ url: '/scrape/not-a-passkey' })).rawPayload);
  t.deepEqual(forged, { failure: 'unknown passkey: download the torrent again from the cineswarm server' });
});

test('numwant bounds the answer', async (t) => {
  const { app, featureHash, key } = await setup(t);
  const pk = key('A', 'many');
  for (let i = 0; i < 12; i++) await announce(app, key('A', `m${i}`), { infoHash: featureHash, peerId: peerId(`m${i}`), port: 3000 + i, left: 0 });
  const res = await app.inject({ url: announceUrl(pk, { infoHash: featureHash, peerId: peerId('ask'), port: 3999, numwant: 5 }) });
  const a = decodeAnnounce(res.rawPayload);
  t.is(a.peers.length, 5);
  t.is(new Set(a.peers.map((p) => p.port)).size, 5);
  t.true(a.peers.every((p) => p.port >= 3000 && p.port < 3012));
});

test('spoofing inside a group: ip= is ignored, and a member can neither evict nor move another', async (t) => {
  const { app, featureHash, key } = await setup(t);
  const victim = peerId('victim');
  await announce(app, key('A', 'victim'), { infoHash: featureHash, peerId: victim, port: 6881, left: 0 }, '127.0.0.20');
  const spoofer = key('A', 'spoofer');
  // pointing the group at a third party's service
  await announce(app, spoofer, { infoHash: featureHash, peerId: peerId('spoofer'), port: 80, ip: '10.9.8.7' }, '127.0.0.30');
  // evicting the victim with its peer_id, then re-registering that peer_id at the spoofer's port
  await announce(app, spoofer, { infoHash: featureHash, peerId: victim, port: 6881, event: 'stopped' }, '127.0.0.30');
  await announce(app, spoofer, { infoHash: featureHash, peerId: victim, port: 9999, left: 0 }, '127.0.0.30');
  const seen = await announce(app, key('A', 'honest'), { infoHash: featureHash, peerId: peerId('honest'), port: 7000, compact: '0' }, '127.0.0.40');
  const peers = seen.peers.map((p) => `${p.ip}:${p.port}`).sort();
  t.true(peers.includes('127.0.0.20:6881'), `the victim stays where it announced: ${peers.join(' ')}`);
  t.false(peers.some((p) => p.startsWith('10.9.8.7')), 'no address the announce did not come from');
  t.is(peers.length, 2, `one entry per member: ${peers.join(' ')}`);
  t.true(seen.peers.every((p) => p.peerId === undefined), 'no peer ids disclosed');
});

test('behind a trusted proxy the X-Forwarded-For address is used, from anywhere else it is not', async (t) => {
  const { app, featureHash, key } = await setup(t, { trustedProxies: ['127.0.0.5'] });
  const url = announceUrl(key('A', 'viaproxy'), { infoHash: featureHash, peerId: peerId('p1'), port: 6001, left: 0 });
  await app.inject({ url, remoteAddress: '127.0.0.5', headers: { 'x-forwarded-for': '127.0.0.77' } });
  const url2 = announceUrl(key('A', 'direct'), { infoHash: featureHash, peerId: peerId('p2'), port: 6002, left: 0 });
  await app.inject({ url: url2, remoteAddress: '127.0.0.6', headers: { 'x-forwarded-for': '127.0.0.88' } });
  const seen = await announce(app, key('A', 'ask'), { infoHash: featureHash, peerId: peerId('ask'), port: 7000 });
  t.deepEqual(seen.peers.map((p) => `${p.ip}:${p.port}`).sort(), ['127.0.0.6:6002', '127.0.0.77:6001']);
});
