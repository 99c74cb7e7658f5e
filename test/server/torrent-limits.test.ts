// Upload refuses torrents every agent would refuse: a hash list that does not cover the bytes,
// too many files, names past NAME_MAX, deep paths, oversized metadata; each 400 names its limit.
import test from 'ava';
import bencode from 'bencode';
import { basic, createGroup, makeTorrent, snapshot, startServer, uploadTorrent } from './helpers.js';

const PW = 'pw-limits';

async function setup(t: Parameters<typeof startServer>[0], opts = {}) {
  const s = await startServer(t, opts);
  await createGroup(s.app, 'dist', PW);
  return s;
}

function withInfo(torrent: Buffer, edit: (info: Record<string, unknown>) => void): Buffer {
  const top = bencode.decode(torrent) as { info: Record<string, unknown> };
  edit(top.info);
  return Buffer.from(bencode.encode(top));
}

async function refused(t: Parameters<typeof startServer>[0], opts: object, torrent: Buffer, why: RegExp): Promise<void> {
  const { app, dataDir } = await setup(t, opts);
  const before = await snapshot(dataDir);
  const res = await uploadTorrent(app, 'dist', PW, torrent);
  t.is(res.statusCode, 400, res.body);
  const body = res.json<{ error: string; message: string }>();
  t.is(body.error, 'BAD_TORRENT');
  t.regex(body.message, why);
  t.deepEqual(await snapshot(dataDir), before, 'a refused upload changes nothing');
}

test('a piece hash list shorter or longer than the size needs is refused', async (t) => {
  const good = makeTorrent({ name: 'Short', content: Buffer.alloc(100000, 3), pieceLength: 16384 });
  const short = withInfo(good, (info) => (info.pieces = (info.pieces as Uint8Array).subarray(0, 20 * 3)));
  await refused(t, {}, short, /3 piece hashes, but 100000 bytes in pieces of 16384 bytes need 7/);
  const long = withInfo(good, (info) => (info.pieces = Buffer.concat([Buffer.from(info.pieces as Uint8Array), Buffer.alloc(20)])));
  await refused(t, {}, long, /8 piece hashes.*need 7/);
});

test('100,000 files are refused by torrentLimits.maxFiles', async (t) => {
  const content: Record<string, Buffer> = {};
  for (let i = 0; i < 100000; i++) content[`f${i}`] = Buffer.alloc(1, i & 0xff);
  await refused(t, {}, makeTorrent({ name: 'Many', content }), /lists 100000 files; the limit \(torrentLimits\.maxFiles\) is 10000/);
});

test('a 300-byte path element is refused by torrentLimits.maxPathBytes (255)', async (t) => {
  const torrent = makeTorrent({ name: 'LongName', content: { [`${'x'.repeat(300)}.mxf`]: Buffer.alloc(10) } });
  await refused(t, {}, torrent, /304 bytes long .*torrentLimits\.maxPathBytes\) is 255/);
});

test('configured limits apply: depth and total metadata size', async (t) => {
  const deep = makeTorrent({ name: 'Deep', content: { 'a/b/c/d/e.mxf': Buffer.alloc(10) } });
  await refused(t, { torrentLimits: { maxDepth: 4 } }, deep, /5 folders deep; the limit \(torrentLimits\.maxDepth\) is 4/);
  const big = makeTorrent({ name: 'Big', content: Buffer.alloc(10) });
  await refused(t, { torrentLimits: { maxTorrentBytes: 64 } }, big, new RegExp(`is ${big.length} bytes; the limit \\(torrentLimits\\.maxTorrentBytes\\) is 64`));
});

test('torrents within the limits are still accepted', async (t) => {
  const { app } = await setup(t, { torrentLimits: { maxFiles: 3, maxDepth: 3, maxPathBytes: 20 } });
  const ok = makeTorrent({ name: 'Fits', content: { 'a/b/c.mxf': Buffer.alloc(40000, 1), 'ASSETMAP.xml': Buffer.alloc(10, 2) } });
  const res = await uploadTorrent(app, 'dist', PW, ok);
  t.is(res.statusCode, 201, res.body);
  const list = await app.inject({ url: '/api/groups/dist/torrents', headers: { authorization: basic('dist', PW) } });
  t.is(list.json<unknown[]>().length, 1);
});

test('a bad torrentLimits value stops the server with the field named', async (t) => {
  await t.throwsAsync(startServer(t, { torrentLimits: { maxFiles: 0 } }), { message: /torrentLimits\.maxFiles must be a positive whole number/ });
});

test('what libtorrent would refuse on every agent: a piece length of 1 GiB, a v2 file without its pieces root, a v2 piece length not a power of two', async (t) => {
  const huge = Buffer.from(bencode.encode({ info: { name: 'Huge', 'piece length': 2 ** 30, length: 40000, pieces: Buffer.alloc(20, 7), private: 1 } }));
  await refused(t, {}, huge, /piece length is 1073741824 bytes; libtorrent takes at most 1073741823/);
  const v2 = (pieceLength: number, file: Record<string, unknown>) =>
    Buffer.from(bencode.encode({ info: { name: 'Vtwo', 'piece length': pieceLength, 'meta version': 2, private: 1, 'file tree': { 'a.mxf': { '': file } } } }));
  await refused(t, {}, v2(16384, { length: 40000 }), /the file "a\.mxf" in info\['file tree'\] has no 32-byte 'pieces root'/);
  await refused(t, {}, v2(16384, { length: 40000, 'pieces root': Buffer.alloc(31, 1) }), /has no 32-byte 'pieces root'/);
  await refused(t, {}, v2(20000, { length: 40000, 'pieces root': Buffer.alloc(32, 1) }), /a v2 torrent needs a power of two of at least 16384/);
  // and the same v2 torrent done right is taken
  const { app } = await setup(t);
  t.is((await uploadTorrent(app, 'dist', PW, v2(32768, { length: 40000, 'pieces root': Buffer.alloc(32, 1) }))).statusCode, 201);
});

test('a torrent accepted under raised limits is listed too, now and after a restart (the catalog judges by the same limits)', async (t) => {
  const torrentLimits = { maxPathBytes: 400 };
  const { app, dataDir } = await setup(t, { torrentLimits });
  const torrent = makeTorrent({ name: 'LongName', content: { [`${'x'.repeat(300)}.mxf`]: Buffer.alloc(10) } });
  t.is((await uploadTorrent(app, 'dist', PW, torrent)).statusCode, 201);
  const names = async (a: typeof app) => (await a.inject({ url: '/api/groups/dist/torrents', headers: { authorization: basic('dist', PW) } })).json<Array<{ name: string }>>().map((x) => x.name);
  t.deepEqual(await names(app), ['LongName']);
  await app.close();
  const again = await startServer(t, { dataDir, torrentLimits });
  t.deepEqual(await names(again.app), ['LongName'], 'a full load of the list keeps it');
});
