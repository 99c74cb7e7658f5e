// hashFiles, createTorrent and parseTorrent against independent references (node:crypto, bencode).
import test from 'ava';
import bencode from 'bencode';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTorrent, createTorrentWithFileHashes, EngineError, hashFiles, libtorrentVersion, parseTorrent } from '../../src/engine/index.js';
import { tempDir } from '../helpers/tmp.js';

async function sha1(file: string): Promise<Buffer> {
  return crypto.createHash('sha1').update(await fs.readFile(file)).digest();
}

test('libtorrentVersion names a 2.0 release', (t) => {
  t.regex(libtorrentVersion, /^2\.0\.\d+/);
});

test('hashFiles gives the SHA-1 of each file, in order, with progress', async (t) => {
  const dir = await tempDir(t);
  const sizes = [0, 1, 8 * 1024 * 1024 + 17, 3 * 1024 * 1024];
  const files: string[] = [];
  for (const [i, size] of sizes.entries()) {
    const f = path.join(dir, `f${i}.bin`);
    await fs.writeFile(f, crypto.randomBytes(size));
    files.push(f);
  }
  let lastDone = 0;
  let lastTotal = 0;
  const res = await hashFiles(files, {
    concurrency: 2,
    onProgress: (done, total) => {
      lastDone = done;
      lastTotal = total;
    },
  });
  t.is(res.length, files.length);
  for (const [i, r] of res.entries()) {
    const want = await sha1(files[i]!);
    t.is(r.path, files[i]!);
    t.is(r.size, sizes[i]!);
    t.is(r.sha1Hex, want.toString('hex'));
    t.is(r.sha1Base64, want.toString('base64'));
  }
  t.true(lastDone <= lastTotal);
  t.deepEqual(await hashFiles([]), []);
});

test('hashFiles rejects a missing file with NOT_FOUND and a directory with IS_A_DIRECTORY', async (t) => {
  const dir = await tempDir(t);
  const e1 = await t.throwsAsync(hashFiles([path.join(dir, 'missing.mxf')]), { instanceOf: EngineError });
  t.is(e1?.code, 'NOT_FOUND');
  t.true(e1!.message.includes('missing.mxf'));
  const e2 = await t.throwsAsync(hashFiles([dir]), { instanceOf: EngineError });
  t.is(e2?.code, 'IS_A_DIRECTORY');
  await t.throwsAsync(hashFiles([dir], { concurrency: 0 }), { instanceOf: EngineError, code: 'INVALID_ARGUMENT' });
});

test('createTorrent makes a private v1 torrent of a folder that parseTorrent and bencode both read', async (t) => {
  const root = await tempDir(t);
  const dir = path.join(root, 'MyDCP_FTR');
  await fs.mkdir(path.join(dir, 'sub'), { recursive: true });
  const a = crypto.randomBytes(300_000);
  const b = crypto.randomBytes(70_000);
  await fs.writeFile(path.join(dir, 'a.mxf'), a);
  await fs.writeFile(path.join(dir, 'sub', 'b.xml'), b);
  let progressCalls = 0;
  const bytes = await createTorrent(dir, {
    pieceSize: 16384,
    trackers: ['http://127.0.0.1:1/announce/abc'],
    comment: 'test',
    source: 'cineswarm-test',
    onProgress: () => progressCalls++,
  });
  t.true(progressCalls > 0);
  const info = parseTorrent(bytes);
  t.is(info.name, 'MyDCP_FTR');
  t.true(info.private);
  t.is(info.pieceLength, 16384);
  t.is(info.totalSize, a.length + b.length);
  t.is(info.numPieces, Math.ceil((a.length + b.length) / 16384));
  t.deepEqual(info.trackers, ['http://127.0.0.1:1/announce/abc']);
  t.deepEqual(
    info.files.map((f) => [f.path, f.size]).sort(),
    [
      ['MyDCP_FTR/a.mxf', a.length],
      ['MyDCP_FTR/sub/b.xml', b.length],
    ],
  );
  // The info hash is the SHA-1 of the bencoded info dict, computed independently here.
  const decoded = bencode.decode(bytes) as { info: Record<string, unknown> };
  t.is(Buffer.from(decoded.info.source as Uint8Array).toString(), 'cineswarm-test');
  const infoHash = crypto.createHash('sha1').update(bencode.encode(decoded.info)).digest('hex');
  t.is(info.infoHash, infoHash);
  // And the piece hashes really are the SHA-1 of the content in file order.
  const files = info.files.map((f) => path.join(root, f.path));
  const content = Buffer.concat(await Promise.all(files.map((f) => fs.readFile(f))));
  const pieces = Buffer.from(decoded.info.pieces as Uint8Array);
  t.is(pieces.subarray(0, 20).toString('hex'), crypto.createHash('sha1').update(content.subarray(0, 16384)).digest('hex'));
});

test('createTorrent rejects a missing folder, an empty folder and a bad piece size with codes', async (t) => {
  const root = await tempDir(t);
  const e1 = await t.throwsAsync(createTorrent(path.join(root, 'nope')), { instanceOf: EngineError });
  t.is(e1?.code, 'NOT_FOUND');
  await fs.mkdir(path.join(root, 'empty'));
  const e2 = await t.throwsAsync(createTorrent(path.join(root, 'empty')), { instanceOf: EngineError });
  t.is(e2?.code, 'EMPTY');
  const e3 = await t.throwsAsync(createTorrent(root, { pieceSize: 1000 }), { instanceOf: EngineError });
  t.is(e3?.code, 'INVALID_ARGUMENT');
});

test('parseTorrent rejects garbage with BAD_TORRENT', (t) => {
  for (const junk of [Buffer.from('garbage'), Buffer.alloc(0), Buffer.from('d4:infod4:name1:xee')]) {
    const e = t.throws(() => parseTorrent(junk), { instanceOf: EngineError });
    t.is(e?.code, 'BAD_TORRENT');
  }
});

test('hashing jobs run on their own threads and leave node\'s file system pool free', async (t) => {
  const dir = await tempDir(t);
  const big = path.join(dir, 'big.bin');
  await fs.writeFile(big, crypto.randomBytes(128 * 1024 * 1024));
  // More jobs than libuv has pool threads (4): had they used the pool, fs calls would queue behind them.
  let finished = 0;
  const jobs = Array.from({ length: 8 }, () => hashFiles([big], { concurrency: 1 }).then((r) => (finished++, r)));
  const st = await fs.stat(big);
  t.is(st.size, 128 * 1024 * 1024);
  t.is(finished, 0, 'a file system call had to wait for hash jobs');
  const results = await Promise.all(jobs);
  t.is(new Set(results.map((r) => r[0]!.sha1Hex)).size, 1);
});

test('createTorrentWithFileHashes: the same torrent as createTorrent and each file\'s SHA-1, from one read', async (t) => {
  const dir = path.join(await tempDir(t), 'ONE_READ');
  await fs.mkdir(path.join(dir, 'sub'), { recursive: true });
  // sizes across piece boundaries (16 KiB pieces), an empty file, a file in a sub-folder
  const sizes: [string, number][] = [['a.mxf', 5 * 16384 + 7], ['b.xml', 0], ['sub/c.mxf', 3 * 1024 * 1024 + 1], ['d.xml', 100]];
  for (const [rel, size] of sizes) await fs.writeFile(path.join(dir, rel), crypto.randomBytes(size));
  const opts = { trackers: ['http://127.0.0.1:1/announce'], pieceSize: 16384, creator: 'cineswarm' };
  let progress = 0;
  const one = await createTorrentWithFileHashes(dir, { ...opts, onProgress: (done) => (progress = done) });
  t.true(one.torrent.equals(await createTorrent(dir, opts)), 'byte-identical torrent');
  t.is(progress, parseTorrent(one.torrent).numPieces);
  t.is(one.files.length, sizes.length);
  for (const f of one.files) {
    t.is(f.sha1Hex, (await sha1(f.path)).toString('hex'), f.path);
    t.is(f.size, (await fs.stat(f.path)).size);
  }
});

test('createTorrentWithFileHashes: every file\'s SHA-1 right, run after run (digests are written while later files are read)', async (t) => {
  const dir = path.join(await tempDir(t), 'MANY_RUNS');
  await fs.mkdir(dir, { recursive: true });
  // a DCP's shape: a few small XML files beside larger assets, so the list grows past 1, 2, 4 and 8 entries
  const sizes = [900, 400, 2000, 3000, 1, 700, 64 * 1024, 5000, 100, 300 * 1024, 60, 6];
  for (const [i, size] of sizes.entries()) await fs.writeFile(path.join(dir, `f${String(i).padStart(2, '0')}.xml`), crypto.randomBytes(size));
  const want = new Map<string, string>();
  for (const [i] of sizes.entries()) {
    const f = path.join(dir, `f${String(i).padStart(2, '0')}.xml`);
    want.set(f, (await sha1(f)).toString('hex'));
  }
  const wrong: string[] = [];
  for (let run = 0; run < 200; run++) {
    const one = await createTorrentWithFileHashes(dir, { pieceSize: 16384 });
    t.is(one.files.length, sizes.length);
    for (const f of one.files) if (f.sha1Hex !== want.get(f.path)) wrong.push(`run ${run}: ${path.basename(f.path)}`);
  }
  t.deepEqual(wrong, [], 'digests that do not match their files');
});
