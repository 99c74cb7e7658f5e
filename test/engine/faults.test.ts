// Faults: corrupt data from a peer, bad inputs, and disk errors at run time. Each ends in a coded
// error or event, the good data still arrives intact, and the process carries on.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTorrent, EngineError, parseTorrent, Session, type EngineAlert } from '../../src/engine/index.js';
import { tempDir } from '../helpers/tmp.js';
import { loopbackSession, makePayload, sameTree, STORAGES, waitEvent, waitUntil } from './helpers.js';

const MiB = 1024 * 1024;

for (const storage of STORAGES) test(`a corrupt piece from one seed raises hash-failed and the download completes from another seed (downloader ${storage})`, async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'good'), 'Corrupt_Test', { 'reel.mxf': 12 * MiB, 'cpl.xml': 10_000 });
  const bytes = await createTorrent(src, { pieceSize: 256 * 1024 });
  const info = parseTorrent(bytes);
  // The bad seed starts from a correct copy (so its own check passes), then a byte flips on its disk.
  await fs.cp(src, path.join(tmp, 'bad', 'Corrupt_Test'), { recursive: true });

  const good = loopbackSession(t);
  const bad = loopbackSession(t);
  const goodSeed = good.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'good') });
  const badSeed = bad.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'bad') });
  await waitUntil('both seeds to check their files', () => goodSeed.status().isSeeding && badSeed.status().isSeeding);
  // Flip a byte 777 bytes into the 6th piece-sized block of reel.mxf; files follow each other in the torrent.
  const reel = info.files.findIndex((f) => f.path.endsWith('reel.mxf'));
  const reelStart = info.files.slice(0, reel).reduce((n, f) => n + f.size, 0);
  const corruptAt = 5 * info.pieceLength + 777;
  const expectedPiece = Math.floor((reelStart + corruptAt) / info.pieceLength);
  const fh = await fs.open(path.join(tmp, 'bad', info.files[reel]!.path), 'r+');
  const one = Buffer.alloc(1);
  await fh.read(one, 0, 1, corruptAt);
  one[0] = one[0]! ^ 0xff;
  await fh.write(one, 0, 1, corruptAt);
  await fh.sync();
  await fh.close();

  const leecher = loopbackSession(t, { storage });
  const failures: EngineAlert[] = [];
  leecher.on('hash-failed', (a: EngineAlert) => failures.push(a));
  const bans: EngineAlert[] = [];
  leecher.on('peer-banned', (a: EngineAlert) => bans.push(a));
  const dl = leecher.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'dl') });
  // Only the bad seed at first, so the corrupt piece can come from nowhere else.
  const failed = waitEvent(leecher, 'hash-failed', (a) => a.infoHash === info.infoHash);
  dl.connectPeer('127.0.0.1', bad.listenPort);
  const alert = await failed;
  t.is(alert.pieceIndex, expectedPiece);

  const finished = waitEvent(leecher, 'torrent-finished', (a) => a.infoHash === info.infoHash);
  dl.connectPeer('127.0.0.1', good.listenPort);
  await finished;
  t.true(failures.every((f) => f.pieceIndex === expectedPiece));
  // The bad seed alone sent the failed piece, so libtorrent bans it.
  t.true(bans.some((b) => b.peer === `127.0.0.1:${bad.listenPort}`), JSON.stringify(bans));
  await sameTree(t, src, path.join(tmp, 'dl', 'Corrupt_Test'));
});

test('bad inputs to a session are refused with codes and the session keeps working', async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(tmp, 'Inputs', { 'x.mxf': 100_000 });
  const bytes = await createTorrent(src);
  const s = loopbackSession(t);
  const code = (fn: () => unknown): string | undefined => t.throws(fn, { instanceOf: EngineError })?.code;

  t.is(code(() => s.addTorrent({ torrent: Buffer.from('this is not a torrent'), savePath: tmp })), 'BAD_TORRENT');
  t.is(code(() => s.addTorrent({ torrent: bytes.subarray(0, bytes.length / 2), savePath: tmp })), 'BAD_TORRENT');
  t.is(code(() => s.addTorrent({ torrent: path.join(tmp, 'missing.torrent'), savePath: tmp })), 'NOT_FOUND');
  const aFile = path.join(tmp, 'Inputs', 'x.mxf');
  t.is(code(() => s.addTorrent({ torrent: bytes, savePath: path.join(aFile, 'below-a-file') })), 'NOT_A_DIRECTORY');
  t.deepEqual(s.statusAll(), [], 'nothing was added by the refused calls');

  const torrentFile = path.join(tmp, 'ok.torrent');
  await fs.writeFile(torrentFile, bytes);
  const tor = s.addTorrent({ torrent: torrentFile, savePath: tmp });
  t.is(code(() => s.addTorrent({ torrent: bytes, savePath: tmp })), 'DUPLICATE_TORRENT');
  t.is(code(() => tor.connectPeer('not-an-address', 1)), 'INVALID_ARGUMENT');
  t.is(code(() => tor.connectPeer('127.0.0.1', 70000)), 'INVALID_ARGUMENT');
  t.is(code(() => tor.setDownloadLimit(-5)), 'INVALID_ARGUMENT');
  t.is(code(() => s.applySettings({ raw: { no_such_setting: 1 } })), 'INVALID_ARGUMENT');
  t.is(code(() => s.applySettings({ raw: { enable_dht: 'yes' } })), 'INVALID_ARGUMENT');
  t.is(code(() => s.applySettings({ downloadRateLimit: -1 })), 'INVALID_ARGUMENT');
  t.is(code(() => new Session({ raw: { listen_interfaces: 42 } })), 'INVALID_ARGUMENT');
  s.applySettings({ downloadRateLimit: 1_000_000, uploadRateLimit: 0 });
  await waitUntil('the torrent to seed', () => tor.status().isSeeding);
  t.is(s.statusAll().length, 1);
});

test('a save path that turns out unwritable gives a file-error event and a coded torrent error', async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'seed'), 'Blocked', { 'a.mxf': 2 * MiB, 'b.mxf': 1 * MiB });
  const bytes = await createTorrent(src);
  const seeder = loopbackSession(t);
  const seed = seeder.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'seed') });
  await waitUntil('the seeder to check its files', () => seed.status().isSeeding);

  // The torrent's own folder is taken by a regular file: libtorrent can create nothing below it.
  const dlDir = path.join(tmp, 'dl');
  await fs.mkdir(dlDir);
  await fs.writeFile(path.join(dlDir, 'Blocked'), 'in the way');
  const leecher = loopbackSession(t);
  const dl = leecher.addTorrent({ torrent: bytes, savePath: dlDir });
  const fileError = waitEvent(leecher, 'file-error');
  dl.connectPeer('127.0.0.1', seeder.listenPort);
  const ev = await fileError;
  t.is(ev.errorCode, 'NOT_A_DIRECTORY');
  t.truthy(ev.error);
  t.true(ev.file?.startsWith(path.join(dlDir, 'Blocked')));
  const st = await waitUntil('the torrent to report its error', () => {
    const s = dl.status();
    return s.errorCode !== null && s;
  });
  t.is(st.errorCode, ev.errorCode ?? null);
  t.truthy(st.error);
  t.is(await fs.readFile(path.join(dlDir, 'Blocked'), 'utf8'), 'in the way');
});
