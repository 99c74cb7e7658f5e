// Torrent upload, the ETag/304 list and the personalised download, through app.inject.
import test from 'ava';
import bencode from 'bencode';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { buildServer } from '../../src/server/app.js';
import { DirGroupStore } from '../../src/server/dir-store.js';
import { readPasskey } from '../../src/server/passkey.js';
import { tempDir } from '../helpers/tmp.js';
import { basic, createGroup, makeTorrent, sha1Info, snapshot, startServer, uploadTorrent } from './helpers.js';

const PW = 'pw-torrents';
const auth = { authorization: basic('dist', PW) };

async function setup(t: Parameters<typeof startServer>[0], opts = {}) {
  const s = await startServer(t, opts);
  await createGroup(s.app, 'dist', PW);
  return s;
}

const str = (v: Uint8Array | undefined): string => Buffer.from(v ?? []).toString('utf8');

/** The info value of a top-level dict, as the bytes between the key and the end. */
function rawInfo(torrent: Buffer): Buffer {
  const start = torrent.indexOf('4:infod') + '4:info'.length;
  const info = (bencode.decode(torrent) as { info: unknown }).info;
  return torrent.subarray(start, start + bencode.encode(info).length);
}

test('upload answers 201 {name, infoHash, size} and stores the bytes as sent', async (t) => {
  const { app, dataDir } = await setup(t);
  const torrent = makeTorrent({ name: 'Feature_FTR_EN', content: { 'ASSETMAP.xml': Buffer.alloc(1000, 1), 'video/reel1.mxf': Buffer.alloc(70000, 2) } });
  const res = await uploadTorrent(app, 'dist', PW, torrent);
  t.is(res.statusCode, 201);
  t.deepEqual(res.json(), { name: 'Feature_FTR_EN', infoHash: sha1Info(torrent), size: 71000 });
  const stored = await fs.readFile(path.join(dataDir, 'groups', 'dist', 'torrents', 'Feature_FTR_EN.torrent'));
  t.true(stored.equals(torrent));
});

test('the info hash is taken over the info dict bytes as uploaded, even when not canonical', async (t) => {
  const { app } = await setup(t);
  // keys out of order: a re-encode would sort them and give another hash
  const pieces = createHash('sha1').update(Buffer.alloc(10, 9)).digest();
  const info = Buffer.concat([
    Buffer.from('d4:name5:Odd_17:privatei1e6:lengthi10e12:piece lengthi16384e6:pieces20:'),
    pieces,
    Buffer.from('e'),
  ]);
  const torrent = Buffer.concat([Buffer.from('d4:info'), info, Buffer.from('e')]);
  const res = await uploadTorrent(app, 'dist', PW, torrent);
  t.is(res.statusCode, 201);
  const expected = createHash('sha1').update(info).digest('hex');
  t.is(res.json<{ infoHash: string }>().infoHash, expected);
  t.not(expected, sha1Info(torrent));
  // and the personalised copy keeps those exact bytes
  const dl = await app.inject({ url: '/api/groups/dist/torrents/Odd_1?peer=site-1', headers: auth });
  t.true(dl.rawPayload.includes(info));
});

const badTorrents: Array<[string, () => Buffer, RegExp]> = [
  ['bytes that are not bencode', () => Buffer.from('hello, this is not a torrent'), /bencoded dictionary/],
  ['a torrent without the private flag', () => makeTorrent({ name: 'Pub', content: Buffer.alloc(100), private: null }), /not marked private/],
  ['a torrent with private = 0', () => makeTorrent({ name: 'Pub', content: Buffer.alloc(100), private: 0 }), /not marked private/],
  ['a dict without info', () => Buffer.from(bencode.encode({ announce: 'http://x/' })), /no info dictionary/],
  ['a name climbing out (..)', () => makeTorrent({ name: '..', content: Buffer.alloc(100) }), /name "\.\." is not allowed/],
  ['a name with a slash', () => makeTorrent({ name: 'a/b', content: Buffer.alloc(100) }), /is not allowed/],
  ['a name with a backslash', () => makeTorrent({ name: 'a\\b', content: Buffer.alloc(100) }), /is not allowed/],
  ['a hidden name', () => makeTorrent({ name: '.dcp', content: Buffer.alloc(100) }), /is not allowed/],
  ['a name with ..', () => makeTorrent({ name: 'x..y', content: Buffer.alloc(100) }), /is not allowed/],
  ['a name with NUL', () => makeTorrent({ name: 'a\u0000b', content: Buffer.alloc(100) }), /is not allowed/],
  ['a file path with ..', () => makeTorrent({ name: 'Dcp', content: { '../../etc/passwd': Buffer.alloc(100) } }), /file path inside it is unsafe/],
  ['stray bytes after the dict', () => Buffer.concat([makeTorrent({ name: 'Dcp', content: Buffer.alloc(100) }), Buffer.from('xx')]), /stray bytes/],
  ['a truncated file', () => makeTorrent({ name: 'Dcp', content: Buffer.alloc(100) }).subarray(0, 60), /cut short|expected a string/],
  ['an empty body', () => Buffer.alloc(0), /empty/],
];

for (const [what, make, message] of badTorrents) {
  test(`upload of ${what}: 400 BAD_TORRENT, DATA unchanged`, async (t) => {
    const { app, dataDir } = await setup(t);
    const before = await snapshot(dataDir);
    const res = await uploadTorrent(app, 'dist', PW, make());
    t.is(res.statusCode, 400);
    const body = res.json<{ error: string; message: string }>();
    t.is(body.error, 'BAD_TORRENT');
    t.regex(body.message, message);
    t.deepEqual(await snapshot(dataDir), before);
  });
}

test('upload of a JSON body: 400 BAD_TORRENT telling how to send the file', async (t) => {
  const { app, dataDir } = await setup(t);
  const before = await snapshot(dataDir);
  const res = await app.inject({ method: 'POST', url: '/api/groups/dist/torrents', headers: auth, payload: { name: 'x' } });
  t.is(res.statusCode, 400);
  t.deepEqual(res.json(), { error: 'BAD_TORRENT', message: 'send the .torrent file itself as the body, with content type application/x-bittorrent' });
  t.deepEqual(await snapshot(dataDir), before);
});

test('a second torrent of the same name: 409, the first one kept byte for byte', async (t) => {
  const { app, dataDir } = await setup(t);
  const first = makeTorrent({ name: 'Trailer', content: Buffer.alloc(5000, 1) });
  t.is((await uploadTorrent(app, 'dist', PW, first)).statusCode, 201);
  const before = await snapshot(dataDir);
  const res = await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'Trailer', content: Buffer.alloc(5000, 2) }));
  t.is(res.statusCode, 409);
  t.deepEqual(res.json(), { error: 'TORRENT_EXISTS', message: "group 'dist' already has a torrent named 'Trailer'; it was not replaced" });
  t.deepEqual(await snapshot(dataDir), before);
});

test('concurrent uploads of one name: one 201, the rest 409, no temp files left', async (t) => {
  const { app, dataDir } = await setup(t);
  const res = await Promise.all(
    Array.from({ length: 8 }, (_, i) => uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'Same', content: Buffer.alloc(3000, i) }))),
  );
  t.deepEqual(res.map((r) => r.statusCode).sort(), [201, ...Array(7).fill(409)]);
  t.deepEqual(await fs.readdir(path.join(dataDir, 'groups', 'dist', 'torrents')), ['Same.torrent']);
});

const authCases: Array<[string, Record<string, string>, number, string]> = [
  ['no credentials', {}, 401, 'AUTH_REQUIRED'],
  ['a wrong password', { authorization: basic('dist', 'nope') }, 401, 'BAD_CREDENTIALS'],
  ["another group's id as user", { authorization: basic('other', PW) }, 401, 'BAD_CREDENTIALS'],
  ['a malformed header', { authorization: 'Bearer abc' }, 401, 'AUTH_REQUIRED'],
];

for (const [what, headers, status, code] of authCases) {
  test(`${what}: ${status} on upload, list and download, DATA unchanged`, async (t) => {
    const { app, dataDir } = await setup(t);
    t.is((await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'Kept', content: Buffer.alloc(100) }))).statusCode, 201);
    const before = await snapshot(dataDir);
    const requests = [
      app.inject({
        method: 'POST',
        url: '/api/groups/dist/torrents',
        headers: { ...headers, 'content-type': 'application/x-bittorrent' },
        payload: makeTorrent({ name: 'New', content: Buffer.alloc(100) }),
      }),
      app.inject({ url: '/api/groups/dist/torrents', headers }),
      app.inject({ url: '/api/groups/dist/torrents/Kept?peer=p1', headers }),
    ];
    for (const res of await Promise.all(requests)) {
      t.is(res.statusCode, status);
      t.is(res.json<{ error: string }>().error, code);
      t.regex(res.headers['www-authenticate'] as string, /^Basic /);
    }
    t.deepEqual(await snapshot(dataDir), before);
  });
}

test('unknown group: 401 on upload, list and download, as for a wrong password; DATA unchanged', async (t) => {
  const { app, dataDir } = await setup(t);
  const before = await snapshot(dataDir);
  const headers = { authorization: basic('ghost', PW) };
  const all = await Promise.all([
    uploadTorrent(app, 'ghost', PW, makeTorrent({ name: 'X', content: Buffer.alloc(10) })),
    app.inject({ url: '/api/groups/ghost/torrents', headers }),
    app.inject({ url: '/api/groups/ghost/torrents/X?peer=p', headers }),
    app.inject({ url: '/api/groups/..%2F..%2Fetc/torrents', headers }),
  ]);
  for (const res of all) {
    t.is(res.statusCode, 401);
    t.is(res.json<{ error: string }>().error, 'BAD_CREDENTIALS');
  }
  t.deepEqual(await snapshot(dataDir), before);
});

test('list: 200 with ETag, 304 while unchanged (also weak or listed tags), 200 with a new tag after an upload', async (t) => {
  const { app } = await setup(t);
  const empty = await app.inject({ url: '/api/groups/dist/torrents', headers: auth });
  t.is(empty.statusCode, 200);
  t.deepEqual(empty.json(), []);
  const tor = makeTorrent({ name: 'A_Feature', content: Buffer.alloc(40000, 3) });
  await uploadTorrent(app, 'dist', PW, tor);
  const full = await app.inject({ url: '/api/groups/dist/torrents', headers: auth });
  t.is(full.statusCode, 200);
  const list = full.json<Array<{ name: string; infoHash: string; size: number; createdAt: string }>>();
  t.is(list.length, 1);
  t.like(list[0], { name: 'A_Feature', infoHash: sha1Info(tor), size: 40000 });
  t.false(Number.isNaN(Date.parse(list[0]!.createdAt)));
  const etag = full.headers.etag as string;
  t.regex(etag, /^"[^"]+"$/);
  t.not(etag, empty.headers.etag);
  for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const again = await app.inject({ url: '/api/groups/dist/torrents', headers: { ...auth, 'if-none-match': inm } });
    t.is(again.statusCode, 304, inm);
    t.is(again.body, '');
    t.is(again.headers.etag, etag);
  }
  const stale = await app.inject({ url: '/api/groups/dist/torrents', headers: { ...auth, 'if-none-match': empty.headers.etag as string } });
  t.is(stale.statusCode, 200);
  await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'B_Trailer', content: Buffer.alloc(100) }));
  const changed = await app.inject({ url: '/api/groups/dist/torrents', headers: { ...auth, 'if-none-match': etag } });
  t.is(changed.statusCode, 200);
  t.deepEqual(changed.json<Array<{ name: string }>>().map((e) => e.name), ['A_Feature', 'B_Trailer']);
  t.not(changed.headers.etag, etag);
});

test('download: personalised per peer, info dict byte-identical, other keys kept', async (t) => {
  const { app } = await setup(t, { publicUrl: 'http://seed.example:8600/' });
  const tor = makeTorrent({
    name: 'Feature',
    content: Buffer.alloc(50000, 5),
    extra: { comment: 'reel 1', 'created by': 'cineswarm test', 'announce-list': [['http://old/a']] },
  });
  await uploadTorrent(app, 'dist', PW, tor);
  const got: Buffer[] = [];
  for (const peer of ['site-0001', 'site-0002']) {
    const res = await app.inject({ url: `/api/groups/dist/torrents/Feature?peer=${peer}`, headers: auth });
    t.is(res.statusCode, 200);
    t.is(res.headers['content-type'], 'application/x-bittorrent');
    t.is(res.headers['content-disposition'], 'attachment; filename="Feature.torrent"');
    const top = bencode.decode(res.rawPayload) as Record<string, Uint8Array>;
    const announce = str(top.announce);
    t.true(announce.startsWith('http://seed.example:8600/announce/'));
    t.deepEqual((top['announce-list'] as unknown as Uint8Array[][]).map((tier) => tier.map(str)), [[announce]]);
    t.is(str(top.comment), 'reel 1');
    t.is(str(top['created by']), 'cineswarm test');
    t.deepEqual(readPasskey(app.cineswarm.secret, announce.split('/').pop()!), { group: 'dist', peer });
    t.true(rawInfo(res.rawPayload).equals(rawInfo(tor)));
    got.push(res.rawPayload);
  }
  t.false(got[0]!.equals(got[1]!));
});

test('download: announce URL from the Host header when no publicUrl is set', async (t) => {
  const { app } = await setup(t);
  await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'F', content: Buffer.alloc(10) }));
  const res = await app.inject({ url: '/api/groups/dist/torrents/F?peer=p1', headers: { ...auth, host: '10.0.0.5:8600' } });
  const top = bencode.decode(res.rawPayload) as { announce: Uint8Array };
  t.regex(str(top.announce), /^http:\/\/10\.0\.0\.5:8600\/announce\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
});

test('download refusals: 404 unknown or unsafe name, 400 without a valid peer', async (t) => {
  const { app, dataDir } = await setup(t);
  await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'F', content: Buffer.alloc(10) }));
  const before = await snapshot(dataDir);
  const cases: Array<[string, number, string]> = [
    ['/api/groups/dist/torrents/Missing?peer=p1', 404, 'TORRENT_NOT_FOUND'],
    ['/api/groups/dist/torrents/a..b?peer=p1', 404, 'TORRENT_NOT_FOUND'],
    ['/api/groups/dist/torrents/..%2Fgroup.json?peer=p1', 404, 'TORRENT_NOT_FOUND'],
    ['/api/groups/dist/torrents/F', 400, 'BAD_PEER'],
    ['/api/groups/dist/torrents/F?peer=', 400, 'BAD_PEER'],
    ['/api/groups/dist/torrents/F?peer=..%2Fx', 400, 'BAD_PEER'],
  ];
  for (const [url, status, code] of cases) {
    const res = await app.inject({ url, headers: auth });
    t.is(res.statusCode, status, url);
    t.is(res.json<{ error: string }>().error, code, url);
    t.true(res.json<{ message: string }>().message.length > 10);
  }
  t.deepEqual(await snapshot(dataDir), before);
});

test('a 304 poll reads nothing from storage; an upload changes the list without reading the group again', async (t) => {
  const dataDir = await tempDir(t, 'cineswarm-server-');
  const calls: string[] = [];
  // The real directory store, with every read recorded.
  class CountingStore extends DirGroupStore {
    override getGroup(id: string) {
      calls.push('getGroup');
      return super.getGroup(id);
    }
    override listTorrents(group: string) {
      calls.push('listTorrents');
      return super.listTorrents(group);
    }
    override readTorrent(group: string, name: string) {
      calls.push('readTorrent');
      return super.readTorrent(group, name);
    }
  }
  const store = new CountingStore(dataDir);
  await store.init();
  const app = await buildServer({ dataDir, store, logger: false, openGroups: true });
  t.teardown(() => app.close());
  await createGroup(app, 'dist', PW);
  await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'F', content: Buffer.alloc(100) }));
  const first = await app.inject({ url: '/api/groups/dist/torrents', headers: auth });
  const etag = first.headers.etag as string;
  calls.length = 0;
  for (let i = 0; i < 20; i++) {
    t.is((await app.inject({ url: '/api/groups/dist/torrents', headers: { ...auth, 'if-none-match': etag } })).statusCode, 304);
  }
  t.deepEqual(calls, []);
  await uploadTorrent(app, 'dist', PW, makeTorrent({ name: 'G', content: Buffer.alloc(100) }));
  calls.length = 0;
  t.is((await app.inject({ url: '/api/groups/dist/torrents', headers: { ...auth, 'if-none-match': etag } })).statusCode, 200);
  t.deepEqual(calls, []);
  const names = (await app.inject({ url: '/api/groups/dist/torrents', headers: auth })).json<Array<{ name: string }>>().map((x) => x.name);
  t.deepEqual(names, ['F', 'G']);
});
