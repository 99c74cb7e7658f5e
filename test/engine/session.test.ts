// Two real libtorrent sessions on 127.0.0.1 exchanging real bytes: transfer, events, status,
// resume data round trip, removal, and what happens after close().
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTorrent, EngineError, parseTorrent, type EngineAlert } from '../../src/engine/index.js';
import { tempDir } from '../helpers/tmp.js';
import { loopbackSession, makePayload, MINUTE, sameTree, STORAGES, waitEvent, waitUntil } from './helpers.js';

const MiB = 1024 * 1024;

// Both disk backends on both sides: `posix` writes and checks pieces itself and reads what it
// sends through libtorrent's posix_disk_io (native/posix_hashing_disk_io.cc), `mmap` is libtorrent's own.
for (const storage of STORAGES) test(`a generated multi-file folder moves byte-identically between two sessions (both ${storage})`, async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'seed'), 'Feature_FTR_S_EN', {
    'ASSETMAP.xml': 2_345,
    'PKL_1.xml': 9_876,
    'video/j2c_0001.mxf': 90 * MiB + 12_345,
    'audio/pcm_0001.mxf': 30 * MiB + 7,
    'empty.txt': 0,
  });
  const bytes = await createTorrent(src, { pieceSize: 1 * MiB });
  const info = parseTorrent(bytes);

  const seeder = loopbackSession(t, { storage });
  const leecher = loopbackSession(t, { storage });
  t.true(seeder.listenPort > 0);
  t.not(seeder.listenPort, leecher.listenPort);

  const seed = seeder.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'seed') });
  t.is(seed.infoHash, info.infoHash);
  t.is(seed.name, 'Feature_FTR_S_EN');
  await waitUntil('the seeder to check its files', () => seed.status().isSeeding);

  const states: string[] = [];
  leecher.on('state-changed', (a: EngineAlert) => states.push(a.state ?? ''));
  const dl = leecher.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'dl') });
  t.is(leecher.find(info.infoHash.toUpperCase()), dl);
  t.deepEqual(leecher.torrents(), [dl]);
  const finished = waitEvent(leecher, 'torrent-finished', (a) => a.infoHash === info.infoHash, 4 * MINUTE);
  dl.connectPeer('127.0.0.1', seeder.listenPort);
  await finished;

  const [st] = leecher.statusAll();
  t.is(st!.infoHash, info.infoHash);
  t.is(st!.progress, 1);
  t.is(st!.totalWantedDone, info.totalSize);
  t.true(st!.totalPayloadDownload >= info.totalSize);
  t.true(st!.isFinished);
  t.is(st!.errorCode, null);
  t.is(st!.savePath, path.join(tmp, 'dl'));
  t.true(states.includes('downloading'));
  t.true(dl.pieceStates().every(Boolean));
  await sameTree(t, src, path.join(tmp, 'dl', 'Feature_FTR_S_EN'));

  await leecher.removeTorrent(dl, { deleteFiles: true });
  t.deepEqual(leecher.statusAll(), []);
  await t.throwsAsync(fs.access(path.join(tmp, 'dl', 'Feature_FTR_S_EN', 'video', 'j2c_0001.mxf')));
  const gone = t.throws(() => dl.status(), { instanceOf: EngineError });
  t.is(gone?.code, 'TORRENT_REMOVED');
});

/** A seeding session with `files` in 256 KiB pieces, and a downloader on `storage` that has the
 * torrent added; download() connects the two and waits for the download to finish. */
async function seededPair(t: ExecutionContext, name: string, files: Record<string, number>, storage: (typeof STORAGES)[number]) {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'seed'), name, files);
  const bytes = await createTorrent(src, { pieceSize: 256 * 1024 });
  const info = parseTorrent(bytes);
  const seeder = loopbackSession(t);
  const seed = seeder.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'seed') });
  await waitUntil('the seeder to check its files', () => seed.status().isSeeding);
  const leecher = loopbackSession(t, { storage });
  const dl = leecher.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'dl') });
  const download = async (): Promise<void> => {
    const finished = waitEvent(leecher, 'torrent-finished', (a) => a.infoHash === info.infoHash, 4 * MINUTE);
    dl.connectPeer('127.0.0.1', seeder.listenPort);
    await finished;
  };
  return { tmp, src, info, seeder, seed, leecher, dl, download };
}

for (const storage of STORAGES) test(`a file set not to download: the others arrive whole and checked, the skipped one is never made (${storage})`, async (t) => {
  // Pieces that straddle a skipped file keep that file's part in a part file, which only
  // libtorrent's backend knows: with one, `posix` leaves every check to posix_disk_io.
  const { tmp, src, info, dl, download } = await seededPair(t, 'Skip_One', { 'a.mxf': 3 * MiB + 1_000, 'b.mxf': 2 * MiB + 77, 'c.mxf': 1 * MiB + 5 }, storage);
  const skipped = info.files.findIndex((f) => f.path.endsWith('b.mxf'));
  dl.setFilePriority(skipped, 0);
  await download();
  const progress = dl.fileProgress();
  info.files.forEach((f, i) => i !== skipped && t.is(progress[i], f.size, f.path));
  for (const f of ['a.mxf', 'c.mxf']) t.true((await fs.readFile(path.join(tmp, 'dl', 'Skip_One', f))).equals(await fs.readFile(path.join(src, f))), f);
  await t.throwsAsync(fs.access(path.join(tmp, 'dl', 'Skip_One', 'b.mxf')));
});

test('resume data round trip: a new session continues at ~50% without downloading again', async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'seed'), 'Trailer', { 'a.mxf': 24 * MiB, 'b.mxf': 8 * MiB + 3 });
  const bytes = await createTorrent(src, { pieceSize: 256 * 1024 });
  const info = parseTorrent(bytes);
  const seeder = loopbackSession(t);
  // A slow seeder, so the download can be stopped half-way.
  const seed = seeder.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'seed'), uploadLimit: 2 * MiB });
  await waitUntil('the seeder to check its files', () => seed.status().isSeeding);

  const first = loopbackSession(t);
  const dl1 = first.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'dl') });
  dl1.connectPeer('127.0.0.1', seeder.listenPort);
  const half = await waitUntil('half of the download', () => {
    const s = dl1.status();
    t.false(s.isFinished, 'the download finished before it could be stopped half-way');
    return s.progress >= 0.45 && s;
  });
  dl1.pause();
  const resume = await dl1.saveResumeData();
  const doneAtSave = dl1.status().totalWantedDone;
  t.true(doneAtSave >= half.totalWantedDone);
  t.true(doneAtSave < info.totalSize);
  await first.close();

  const second = loopbackSession(t);
  const dl2 = second.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'dl'), resumeData: resume });
  const resumed = await waitUntil('the resume data to be checked', () => {
    const s = dl2.status();
    return s.state === 'downloading' && s;
  });
  t.true(resumed.totalWantedDone >= doneAtSave, 'pieces already on disk are kept');
  seed.setUploadLimit(0);
  const finished = waitEvent(second, 'torrent-finished', (a) => a.infoHash === info.infoHash);
  dl2.connectPeer('127.0.0.1', seeder.listenPort);
  await finished;
  const st = dl2.status();
  t.is(st.totalWantedDone, info.totalSize);
  // Only the missing part travelled again (plus protocol overhead and at most a few partial pieces).
  t.true(st.totalPayloadDownload <= info.totalSize - doneAtSave + 8 * info.pieceLength, `downloaded ${st.totalPayloadDownload} of ${info.totalSize} again`);
  t.true(st.totalPayloadDownload < 0.75 * info.totalSize);
  await sameTree(t, src, path.join(tmp, 'dl', 'Trailer'));
});

test('resume data is refused when it belongs to another torrent or is garbage', async (t) => {
  const tmp = await tempDir(t);
  const a = await createTorrent(await makePayload(tmp, 'A', { 'x.mxf': 3 * MiB }));
  const b = await createTorrent(await makePayload(tmp, 'B', { 'y.mxf': 1 * MiB }));
  const s = loopbackSession(t);
  const ta = s.addTorrent({ torrent: a, savePath: tmp, paused: true });
  t.true(ta.status().paused);
  const rd = await ta.saveResumeData();
  await s.removeTorrent(ta);
  t.deepEqual(s.torrents(), []);
  t.is(t.throws(() => s.addTorrent({ torrent: b, savePath: tmp, resumeData: rd }), { instanceOf: EngineError })?.code, 'BAD_RESUME_DATA');
  t.is(t.throws(() => s.addTorrent({ torrent: a, savePath: tmp, resumeData: Buffer.from('nonsense') }), { instanceOf: EngineError })?.code, 'BAD_RESUME_DATA');
  // The good pair still works, and the files it describes are recognised as complete.
  const again = s.addTorrent({ torrent: a, savePath: tmp, resumeData: rd });
  await waitUntil('the re-added torrent to seed', () => again.status().isSeeding);
});

test('a closed session refuses work with SESSION_CLOSED and close() is idempotent', async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(tmp, 'Closing', { 'x.bin': 100_000 });
  const bytes = await createTorrent(src);
  const s = loopbackSession(t);
  const tor = s.addTorrent({ torrent: bytes, savePath: tmp });
  await Promise.all([s.close(), s.close()]);
  await s.close();
  t.is(t.throws(() => s.statusAll(), { instanceOf: EngineError })?.code, 'SESSION_CLOSED');
  t.is(t.throws(() => tor.pause(), { instanceOf: EngineError })?.code, 'SESSION_CLOSED');
  t.is(t.throws(() => s.addTorrent({ torrent: bytes, savePath: tmp }), { instanceOf: EngineError })?.code, 'SESSION_CLOSED');
  t.deepEqual(s.torrents(), []);
});

test('removing a torrent twice is refused with TORRENT_REMOVED', async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(tmp, 'Twice', { 'x.bin': 200_000 });
  const bytes = await createTorrent(src);
  const s = loopbackSession(t);
  const tor = s.addTorrent({ torrent: bytes, savePath: tmp });
  await waitUntil('the torrent to seed', () => tor.status().isSeeding);
  await s.removeTorrent(tor);
  const e = await t.throwsAsync(s.removeTorrent(tor), { instanceOf: EngineError });
  t.is(e?.code, 'TORRENT_REMOVED');
  t.is(s.find(tor.infoHash), undefined);
});

test('with rateLimitLocalPeers the session upload limit also holds back loopback peers', async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'seed'), 'Limited', { 'a.mxf': 8 * MiB });
  const bytes = await createTorrent(src, { pieceSize: 64 * 1024 });
  const seeder = loopbackSession(t, { uploadRateLimit: 1 * MiB, rateLimitLocalPeers: true });
  const seed = seeder.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'seed') });
  await waitUntil('the seeder to check its files', () => seed.status().isSeeding);
  const leecher = loopbackSession(t);
  const dl = leecher.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'dl') });
  dl.connectPeer('127.0.0.1', seeder.listenPort);
  await waitUntil('a quarter of the download', () => dl.status().progress >= 0.25);
  const t1 = Date.now();
  await waitUntil('three quarters of the download', () => dl.status().progress >= 0.75);
  // A lower bound only (a busy machine can make it slower, never faster): 4 MiB at 1 MiB/s.
  t.true(Date.now() - t1 >= 2000, `half the payload took only ${Date.now() - t1} ms`);
  seeder.applySettings({ rateLimitLocalPeers: false });
  const finished = waitEvent(leecher, 'torrent-finished');
  if (!dl.status().isFinished) await finished;
  await sameTree(t, src, path.join(tmp, 'dl', 'Limited'));
});

for (const storage of STORAGES) test(`pause, resume and forceRecheck: a recheck finds a piece damaged on disk (${storage})`, async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(tmp, 'Recheck', { 'a.mxf': 2 * MiB, 'b.mxf': 1 * MiB });
  const bytes = await createTorrent(src, { pieceSize: 256 * 1024 });
  const info = parseTorrent(bytes);
  const s = loopbackSession(t, { storage });
  const tor = s.addTorrent({ torrent: bytes, savePath: tmp });
  await waitUntil('the torrent to seed', () => tor.status().isSeeding);
  tor.pause();
  await waitUntil('the pause', () => tor.status().paused);
  tor.resume();
  await waitUntil('the resume', () => !tor.status().paused);

  // Damage the first piece of a.mxf, then ask libtorrent to look again.
  const fh = await fs.open(path.join(src, 'a.mxf'), 'r+');
  await fh.write(Buffer.from('damaged'), 0, 7, 100);
  await fh.close();
  tor.forceRecheck();
  const st = await waitUntil('the recheck to find the damaged piece', () => {
    const x = tor.status();
    return x.state !== 'checking_files' && x.state !== 'checking_resume_data' && x.numPieces === info.numPieces - 1 && x;
  });
  t.false(st.isSeeding);
  t.false(tor.pieceStates()[0]);
  t.true(tor.pieceStates().slice(1).every(Boolean));
});

// The posix backend writes through files it keeps open, past libtorrent's own file handling
// (native/posix_hashing_disk_io.cc): a recheck afterwards must see the files as they are.
for (const storage of STORAGES) test(`a recheck after a download finds what it wrote, and a file shortened since then loses its pieces (downloader ${storage})`, async (t) => {
  const { tmp, src, info, seeder, seed, leecher, dl, download } = await seededPair(t, 'Rewritten', { 'a.mxf': 3 * MiB + 10, 'sub/b.mxf': 2 * MiB }, storage);
  await download();
  await seeder.removeTorrent(seed); // nobody to fetch missing pieces from again
  await waitUntil('the seed to be gone', () => dl.status().numPeers === 0);

  const states: string[] = [];
  leecher.on('state-changed', (a: EngineAlert) => states.push(a.state ?? ''));
  const recheck = async (label: string) => {
    states.length = 0;
    dl.forceRecheck();
    await waitUntil(label, () => {
      const i = states.indexOf('checking_files');
      return i >= 0 && states.slice(i + 1).some((s) => s === 'seeding' || s === 'downloading');
    });
    return dl.status();
  };
  const again = await recheck('the first recheck');
  t.is(again.numPieces, info.numPieces);
  t.true(again.isSeeding);
  await sameTree(t, src, path.join(tmp, 'dl', 'Rewritten'));

  // b.mxf starts 3 MiB + 10 into the torrent, in piece 12 of 0-20; shortened to 1 MiB, it keeps
  // pieces 12-15 whole and loses 16-20.
  await fs.truncate(path.join(tmp, 'dl', 'Rewritten', 'sub', 'b.mxf'), 1 * MiB);
  const after = await recheck('the second recheck');
  t.is(after.numPieces, info.numPieces - 5);
  t.false(after.isSeeding);
  t.deepEqual(dl.pieceStates().flatMap((p, i) => (p ? [] : [i])), [16, 17, 18, 19, 20]);
});
