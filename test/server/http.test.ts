// Every row of the server API table over real HTTP on 127.0.0.1, against `cineswarm server`
// started as a process, including each refusal with its body and an unchanged DATA dir.
import test from 'ava';
import bencode from 'bencode';
import { tempDir } from '../helpers/tmp.js';
import { startCliServer } from './cli-process.js';
import { basic, makeTorrent, sha1Info, snapshot } from './helpers.js';
import { announceUrl, decodeAnnounce, decodeScrape, peerId } from './tracker-client.js';

interface Reply {
  status: number;
  body: Buffer;
  headers: Headers;
  json: () => unknown;
}

async function call(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, body, headers: res.headers, json: () => JSON.parse(body.toString()) };
}

test('the whole API table over real HTTP, refusals leaving DATA unchanged', async (t) => {
  const dataDir = await tempDir(t, 'cineswarm-http-');
  const { url } = await startCliServer(t, ['--data', dataDir]);
  const A = { authorization: basic('cinema-group', 'pass A') };
  const json = { 'content-type': 'application/json' };
  const torrentType = { 'content-type': 'application/x-bittorrent' };

  // a refusal: status, error code, a message a person can act on, and nothing changed on disk
  const refused = async (what: string, req: () => Promise<Reply>, status: number, error: string) => {
    const before = await snapshot(dataDir);
    const r = await req();
    t.is(r.status, status, what);
    const body = r.json() as { error: string; message: string };
    t.is(body.error, error, what);
    t.true(typeof body.message === 'string' && body.message.length > 10, what);
    t.deepEqual(await snapshot(dataDir), before, what);
  };

  t.is((await call(`${url}/healthz`)).status, 200);

  // POST /api/groups
  const created = await call(`${url}/api/groups`, { method: 'POST', headers: json, body: JSON.stringify({ id: 'cinema-group', password: 'pass A' }) });
  t.is(created.status, 201);
  t.is((created.json() as { id: string }).id, 'cinema-group');
  await refused('duplicate group', () => call(`${url}/api/groups`, { method: 'POST', headers: json, body: JSON.stringify({ id: 'cinema-group', password: 'x' }) }), 409, 'GROUP_EXISTS');
  await refused('bad group id', () => call(`${url}/api/groups`, { method: 'POST', headers: json, body: JSON.stringify({ id: '../x', password: 'x' }) }), 400, 'BAD_GROUP_ID');
  await refused('empty password', () => call(`${url}/api/groups`, { method: 'POST', headers: json, body: JSON.stringify({ id: 'ok', password: '' }) }), 400, 'BAD_PASSWORD');

  // POST /api/groups/:id/torrents
  const torrent = makeTorrent({ name: 'Feature_FTR', content: { 'ASSETMAP.xml': Buffer.alloc(700, 1), 'reel.mxf': Buffer.alloc(90000, 2) } });
  const up = await call(`${url}/api/groups/cinema-group/torrents`, { method: 'POST', headers: { ...A, ...torrentType }, body: new Uint8Array(torrent) });
  t.is(up.status, 201);
  t.deepEqual(up.json(), { name: 'Feature_FTR', infoHash: sha1Info(torrent), size: 90700 });
  const upload = (headers: Record<string, string>, body: Buffer, group = 'cinema-group') => () =>
    call(`${url}/api/groups/${group}/torrents`, { method: 'POST', headers: { ...headers, ...torrentType }, body: new Uint8Array(body) });
  await refused('duplicate torrent', upload(A, torrent), 409, 'TORRENT_EXISTS');
  await refused('public torrent', upload(A, makeTorrent({ name: 'Pub', content: Buffer.alloc(10), private: null })), 400, 'BAD_TORRENT');
  await refused('traversal name', upload(A, makeTorrent({ name: '../../etc', content: Buffer.alloc(10) })), 400, 'BAD_TORRENT');
  await refused('upload without auth', upload({}, makeTorrent({ name: 'New', content: Buffer.alloc(10) })), 401, 'AUTH_REQUIRED');
  await refused('upload with a wrong password', upload({ authorization: basic('cinema-group', 'no') }, makeTorrent({ name: 'New', content: Buffer.alloc(10) })), 401, 'BAD_CREDENTIALS');
  await refused('upload to an unknown group', upload(A, makeTorrent({ name: 'New', content: Buffer.alloc(10) }), 'ghost'), 401, 'BAD_CREDENTIALS');

  // GET /api/groups/:id/torrents with ETag / 304
  const list = await call(`${url}/api/groups/cinema-group/torrents`, { headers: A });
  t.is(list.status, 200);
  t.like((list.json() as object[])[0], { name: 'Feature_FTR', infoHash: sha1Info(torrent), size: 90700 });
  const etag = list.headers.get('etag')!;
  const cond = await call(`${url}/api/groups/cinema-group/torrents`, { headers: { ...A, 'if-none-match': etag } });
  t.is(cond.status, 304);
  t.is(cond.body.length, 0);
  await refused('list without auth', () => call(`${url}/api/groups/cinema-group/torrents`), 401, 'AUTH_REQUIRED');
  await refused('list of an unknown group', () => call(`${url}/api/groups/ghost/torrents`, { headers: A }), 401, 'BAD_CREDENTIALS');

  // GET /api/groups/:id/torrents/:name?peer=
  const dl = await call(`${url}/api/groups/cinema-group/torrents/Feature_FTR?peer=site-0001`, { headers: A });
  t.is(dl.status, 200);
  t.is(dl.headers.get('content-type'), 'application/x-bittorrent');
  const announce = Buffer.from((bencode.decode(dl.body) as { announce: Uint8Array }).announce).toString();
  t.true(announce.startsWith(`${url}/announce/`), announce);
  t.is(sha1Info(dl.body), sha1Info(torrent));
  await refused('download without peer', () => call(`${url}/api/groups/cinema-group/torrents/Feature_FTR`, { headers: A }), 400, 'BAD_PEER');
  await refused('download of an unknown torrent', () => call(`${url}/api/groups/cinema-group/torrents/Nope?peer=p`, { headers: A }), 404, 'TORRENT_NOT_FOUND');
  await refused('download without auth', () => call(`${url}/api/groups/cinema-group/torrents/Feature_FTR?peer=p`), 401, 'AUTH_REQUIRED');
  await refused('download from an unknown group', () => call(`${url}/api/groups/ghost/torrents/Feature_FTR?peer=p`, { headers: A }), 401, 'BAD_CREDENTIALS');

  // GET /announce/:passkey and /scrape/:passkey
  const passkey = announce.split('/announce/')[1]!;
  const infoHash = Buffer.from(sha1Info(torrent), 'hex');
  const seed = decodeAnnounce((await call(`${url}${announceUrl(passkey, { infoHash, peerId: peerId('seed'), port: 6881, left: 0, event: 'started' })}`)).body);
  t.is(seed.interval, 60);
  // another cinema announces with the passkey of its own download
  const dl2 = await call(`${url}/api/groups/cinema-group/torrents/Feature_FTR?peer=site-0002`, { headers: A });
  const passkey2 = Buffer.from((bencode.decode(dl2.body) as { announce: Uint8Array }).announce).toString().split('/announce/')[1]!;
  const leech = decodeAnnounce((await call(`${url}${announceUrl(passkey2, { infoHash, peerId: peerId('leech'), port: 6882, event: 'started' })}`)).body);
  t.deepEqual(leech.peers, [{ ip: '127.0.0.1', port: 6881 }]);
  const scrape = decodeScrape((await call(`${url}/scrape/${passkey}`)).body);
  t.deepEqual(scrape, { [sha1Info(torrent)]: { complete: 1, incomplete: 1, downloaded: 0 } });

  // POST /api/groups/:id/reports and GET /api/groups/:id/status
  const report = (headers: Record<string, string>, body: object, group = 'cinema-group') => () =>
    call(`${url}/api/groups/${group}/reports`, { method: 'POST', headers: { ...headers, ...json }, body: JSON.stringify(body) });
  const rep = await report(A, { peer: 'site-0001', infoHash: sha1Info(torrent), state: 'downloading', progress: 0.4 })();
  t.is(rep.status, 204);
  const good = { peer: 'site-0001', infoHash: sha1Info(torrent), state: 'seeding', progress: 1 };
  await refused('report with a bad state', report(A, { ...good, state: 'done?' }), 400, 'BAD_REQUEST');
  await refused('report without auth', report({}, good), 401, 'AUTH_REQUIRED');
  await refused('report to an unknown group', report(A, good, 'ghost'), 401, 'BAD_CREDENTIALS');
  await refused('report on an unknown torrent', report(A, { ...good, infoHash: 'b'.repeat(40) }), 404, 'TORRENT_NOT_FOUND');
  const status = await call(`${url}/api/groups/cinema-group/status`, { headers: A });
  t.is(status.status, 200);
  const st = status.json() as { torrents: Array<{ name: string; peers: Array<{ peer: string; state: string; progress: number }> }> };
  t.like(st.torrents[0], { name: 'Feature_FTR' });
  t.like(st.torrents[0]!.peers[0], { peer: 'site-0001', state: 'downloading', progress: 0.4 });
  await refused('status without auth', () => call(`${url}/api/groups/cinema-group/status`), 401, 'AUTH_REQUIRED');
  await refused('status of an unknown group', () => call(`${url}/api/groups/ghost/status`, { headers: A }), 401, 'BAD_CREDENTIALS');
});

test('concurrent creates of one id over real HTTP: one 201, the rest 409', async (t) => {
  const dataDir = await tempDir(t, 'cineswarm-http-');
  const { url } = await startCliServer(t, ['--data', dataDir]);
  const res = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      fetch(`${url}/api/groups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'same-id', password: `p${i}` }) }),
    ),
  );
  t.deepEqual(res.map((r) => r.status).sort(), [201, ...Array(9).fill(409)]);
  for (const r of res) await r.arrayBuffer();
});
