// Seed mode with piecesVerified: publish --seed hashed the files into the torrent moments before,
// so the seed trusts every piece instead of hashing each again the first time it is asked for.
// Shown here by what each does with a piece changed on disk after the torrent was made.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTorrent } from '../../src/engine/index.js';
import { tempDir } from '../helpers/tmp.js';
import { loopbackSession, makePayload, waitEvent, waitUntil } from './helpers.js';

const KiB = 1024;

async function seedChanged(t: Parameters<typeof loopbackSession>[0], piecesVerified: boolean) {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'seed'), 'Seed_Mode', { 'a.mxf': 1024 * KiB });
  const bytes = await createTorrent(src, { pieceSize: 64 * KiB });
  // Piece 3 changes after hashing, as a file touched between publish and the first request would.
  const fh = await fs.open(path.join(src, 'a.mxf'), 'r+');
  await fh.write(Buffer.alloc(16, 0xab), 0, 16, 3 * 64 * KiB + 100);
  await fh.close();
  const seeder = loopbackSession(t);
  const seed = seeder.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'seed'), seedMode: true, piecesVerified });
  await waitUntil('the seed to seed', () => seed.status().isSeeding);
  const s = loopbackSession(t);
  const dl = s.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'dl') });
  const failed = waitEvent(s, 'hash-failed', () => true, 60_000).then((a) => a.pieceIndex);
  failed.catch(() => undefined);
  dl.connectPeer('127.0.0.1', seeder.listenPort);
  return { seed, dl, failed };
}

test('seed mode hashes a piece the first time it is asked for and does not send one that fails', async (t) => {
  const { seed, dl, failed } = await seedChanged(t, false);
  // Every other piece arrives; the changed one is never sent, so the downloader sees no bad data.
  await waitUntil('15 of 16 pieces', () => dl.pieceStates().filter(Boolean).length === 15);
  t.false(dl.pieceStates()[3]);
  t.true(dl.peers().every((p) => p.hashFailures === 0));
  t.is(await Promise.race([failed.catch(() => 'none'), new Promise((r) => setTimeout(() => r('none'), 1000))]), 'none');
  t.false(seed.pieceStates()[3], 'the seed no longer claims the changed piece');
});

test('with piecesVerified the seed sends every piece unhashed: the changed one fails at the downloader', async (t) => {
  const { dl, failed } = await seedChanged(t, true);
  t.is(await failed, 3);
  t.false(dl.pieceStates()[3]);
});
