// Every row of the server API table over real HTTP on 127.0.0.1, against `cineswarm server`
// started as a process, including each refusal with its body and an unchanged DATA dir.
import test from 'ava';
import bencode from 'bencode';
import fs from 'node:fs/promises';
import path from 'node:path';
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
  const token = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  t.is((await fs.stat(path.join(dataDir, 'admin-token'))).mode & 0o777, 0o600, 'the admin token file is the server\'s alone');
  const admin = { authorization: `Bearer ${token}` };
  // A: the owner (distributor); M: a member (cinema) acting as peer site-0001 with its key
  const A = { authorization: basic('cinema-group', 'owner pass') };
  const M = { authorization: basic('cinema-group', 'pass A'), 'cineswarm-peer': 'site-0001 k-0123456789abcdef' };
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
  const create = (headers: Record<string, string>, body: object, query = '') => () =>
    call(`${url}/api/groups${query}`, { method: 'POST', headers: { ...headers, ...json }, body: JSON.stringify(body) });
  const group = { id: 'cinema-group', password: 'pass A', ownerPassword: 'owner pass' };
  await refused('create without the admin token', create({}, group), 401, 'ADMIN_TOKEN_REQUIRED');
  await refused('create with a wrong admin token', create({ authorization: 'Bearer not-the-token-at-all' }, group), 401, 'ADMIN_TOKEN_REQUIRED');
  await refused('create with a group password as token', create({ authorization: basic('cinema-group', 'pass A') }, group), 401, 'ADMIN_TOKEN_REQUIRED');
  await refused('the dry run of a create changes nothing', async () => {
    const r = await create(admin, group, '?dryRun=1')();
    t.is(r.status, 204);
    return { ...r, json: () => ({ error: 'NONE', message: 'a dry run answered 204 with no body' }) };
  }, 204, 'NONE');
  const created = await create(admin, group)();
  t.is(created.status, 201);
  t.is((created.json() as { id: string }).id, 'cinema-group');
  await refused('duplicate group', create(admin, { ...group, password: 'x' }), 409, 'GROUP_EXISTS');
  await refused('duplicate group, dry run', create(admin, group, '?dryRun=1'), 409, 'GROUP_EXISTS');
  await refused('bad group id', create(admin, { ...group, id: '../x' }), 400, 'BAD_GROUP_ID');
  await refused('empty password', create(admin, { ...group, id: 'ok', password: '' }), 400, 'BAD_PASSWORD');
  await refused('no owner password', create(admin, { id: 'ok', password: 'x' }), 400, 'BAD_PASSWORD');

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
  await refused('upload with the member password', upload(M, makeTorrent({ name: 'New', content: Buffer.alloc(10) })), 403, 'OWNER_REQUIRED');
  await refused('upload to an unknown group', upload(A, makeTorrent({ name: 'New', content: Buffer.alloc(10) }), 'ghost'), 401, 'BAD_CREDENTIALS');

  // GET /api/groups/:id/torrents with ETag / 304
  const list = await call(`${url}/api/groups/cinema-group/torrents`, { headers: M });
  t.is(list.status, 200);
  t.like((list.json() as object[])[0], { name: 'Feature_FTR', infoHash: sha1Info(torrent), size: 90700 });
  const etag = list.headers.get('etag')!;
  const cond = await call(`${url}/api/groups/cinema-group/torrents`, { headers: { ...M, 'if-none-match': etag } });
  t.is(cond.status, 304);
  t.is(cond.body.length, 0);
  await refused('list without auth', () => call(`${url}/api/groups/cinema-group/torrents`), 401, 'AUTH_REQUIRED');
  await refused('list of an unknown group', () => call(`${url}/api/groups/ghost/torrents`, { headers: A }), 401, 'BAD_CREDENTIALS');
  await refused('list of a group id that cannot exist', () => call(`${url}/api/groups/..%2Fx/torrents`, { headers: A }), 401, 'BAD_CREDENTIALS');

  // GET /api/groups/:id/torrents/:name?peer= : a member as that peer, with its key bound on first use
  const dl = await call(`${url}/api/groups/cinema-group/torrents/Feature_FTR?peer=site-0001`, { headers: M });
  t.is(dl.status, 200);
  t.is(dl.headers.get('content-type'), 'application/x-bittorrent');
  const announce = Buffer.from((bencode.decode(dl.body) as { announce: Uint8Array }).announce).toString();
  t.true(announce.startsWith(`${url}/announce/`), announce);
  t.is(sha1Info(dl.body), sha1Info(torrent));
  const peerFile = JSON.parse(await fs.readFile(path.join(dataDir, 'groups', 'cinema-group', 'peers', 'site-0001.json'), 'utf8')) as { keyHash: string };
  t.regex(peerFile.keyHash, /^[0-9a-f]{64}$/, 'the key is kept as a hash');
  t.is((await call(`${url}/api/groups/cinema-group/torrents/Feature_FTR?peer=site-0001`, { headers: M })).status, 200, 'the bound key again');
  const dlAs = (headers: Record<string, string>, peer = 'site-0001') => () => call(`${url}/api/groups/cinema-group/torrents/Feature_FTR?peer=${peer}`, { headers });
  const memberOnly = { authorization: M.authorization };
  await refused('download as a peer without its key', dlAs(memberOnly), 400, 'PEER_KEY_REQUIRED');
  await refused('download with a malformed peer header', dlAs({ ...memberOnly, 'cineswarm-peer': 'site-0001' }), 400, 'PEER_KEY_REQUIRED');
  await refused('download with another key for a bound peer', dlAs({ ...memberOnly, 'cineswarm-peer': 'site-0001 another-key-0123456789' }), 403, 'PEER_KEY_MISMATCH');
  await refused('download for another peer than the header names', dlAs(M, 'site-0002'), 403, 'PEER_KEY_MISMATCH');
  await refused('download without peer', () => call(`${url}/api/groups/cinema-group/torrents/Feature_FTR`, { headers: M }), 400, 'BAD_PEER');
  await refused('download of an unknown torrent', () => call(`${url}/api/groups/cinema-group/torrents/Nope?peer=site-0001`, { headers: M }), 404, 'TORRENT_NOT_FOUND');
  await refused('download without auth', () => call(`${url}/api/groups/cinema-group/torrents/Feature_FTR?peer=p`), 401, 'AUTH_REQUIRED');
  await refused('download from an unknown group', () => call(`${url}/api/groups/ghost/torrents/Feature_FTR?peer=p`, { headers: A }), 401, 'BAD_CREDENTIALS');
  // the owner may fetch for any peer (the publisher seeds under its own id) without a key
  t.is((await dlAs(A, 'publisher')()).status, 200);

  // DELETE /api/groups/:id/peers/:peer/key: the owner unbinds, the next key used is bound
  const resetKey = (headers: Record<string, string>) => () => call(`${url}/api/groups/cinema-group/peers/site-0001/key`, { method: 'DELETE', headers });
  await refused('key reset with the member password', resetKey(M), 403, 'OWNER_REQUIRED');
  t.is((await resetKey(A)()).status, 204);
  const newKey = { ...memberOnly, 'cineswarm-peer': 'site-0001 another-key-0123456789' };
  t.is((await dlAs(newKey)()).status, 200, 'a new key is bound after the reset');
  await refused('the old key after the new one was bound', dlAs(M), 403, 'PEER_KEY_MISMATCH');
  t.is((await resetKey(A)()).status, 204);
  t.is((await dlAs(M)()).status, 200, 'and back');

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
  const rep = await report(M, { peer: 'site-0001', infoHash: sha1Info(torrent), state: 'downloading', progress: 0.4 })();
  t.is(rep.status, 204);
  const good = { peer: 'site-0001', infoHash: sha1Info(torrent), state: 'seeding', progress: 1 };
  await refused('report with a bad state', report(M, { ...good, state: 'done?' }), 400, 'BAD_REQUEST');
  await refused('report without auth', report({}, good), 401, 'AUTH_REQUIRED');
  await refused('report for another peer', report(M, { ...good, peer: 'site-0002' }), 403, 'PEER_KEY_MISMATCH');
  await refused('report without the peer key', report(memberOnly, good), 400, 'PEER_KEY_REQUIRED');
  await refused('report to an unknown group', report(A, good, 'ghost'), 401, 'BAD_CREDENTIALS');
  await refused('report on an unknown torrent', report(M, { ...good, infoHash: 'b'.repeat(40) }), 404, 'TORRENT_NOT_FOUND');
  const status = await call(`${url}/api/groups/cinema-group/status`, { headers: A });
  t.is(status.status, 200);
  const st = status.json() as { torrents: Array<{ name: string; peers: Array<{ peer: string; state: string; progress: number }> }> };
  t.like(st.torrents[0], { name: 'Feature_FTR' });
  t.like(st.torrents[0]!.peers[0], { peer: 'site-0001', state: 'downloading', progress: 0.4 });
  await refused('status without auth', () => call(`${url}/api/groups/cinema-group/status`), 401, 'AUTH_REQUIRED');
  await refused('status with the member password', () => call(`${url}/api/groups/cinema-group/status`, { headers: M }), 403, 'OWNER_REQUIRED');
  await refused('status of an unknown group', () => call(`${url}/api/groups/ghost/status`, { headers: A }), 401, 'BAD_CREDENTIALS');

  // PUT /api/groups/:id/password: the owner changes either; the old member password is then refused
  const setPw = (headers: Record<string, string>, body: object) => () =>
    call(`${url}/api/groups/cinema-group/password`, { method: 'PUT', headers: { ...headers, ...json }, body: JSON.stringify(body) });
  await refused('password change with the member password', setPw(M, { member: 'x' }), 403, 'OWNER_REQUIRED');
  await refused('password change with nothing to change', setPw(A, {}), 400, 'BAD_REQUEST');
  await refused('password change to an empty one', setPw(A, { member: '' }), 400, 'BAD_PASSWORD');
  t.is((await setPw(A, { member: 'pass B' })()).status, 204);
  await refused('the old member password after the change', () => call(`${url}/api/groups/cinema-group/torrents`, { headers: M }), 401, 'BAD_CREDENTIALS');
  t.is((await call(`${url}/api/groups/cinema-group/torrents`, { headers: { ...M, authorization: basic('cinema-group', 'pass B') } })).status, 200);
  t.is((await setPw(A, { owner: 'owner 2' })()).status, 204);
  await refused('the old owner password after the change', () => call(`${url}/api/groups/cinema-group/status`, { headers: A }), 401, 'BAD_CREDENTIALS');
  t.is((await call(`${url}/api/groups/cinema-group/status`, { headers: { authorization: basic('cinema-group', 'owner 2') } })).status, 200);
});

test('concurrent creates of one id over real HTTP: one 201, the rest 409', async (t) => {
  const dataDir = await tempDir(t, 'cineswarm-http-');
  const { url } = await startCliServer(t, ['--data', dataDir, '--open-groups']);
  const res = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      fetch(`${url}/api/groups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'same-id', password: `p${i}`, ownerPassword: `o${i}` }) }),
    ),
  );
  t.deepEqual(res.map((r) => r.status).sort(), [201, ...Array(9).fill(409)]);
  for (const r of res) await r.arrayBuffer();
});
