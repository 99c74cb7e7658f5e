// Super seeding from the first peer on (native/super_seeding.cc) and its end for a lone peer
// (src/publish/initial-seeding.ts), between real libtorrent sessions on loopback. The downloaders
// are slowed to a crawl so that no piece completes while the seed's first offers are looked at:
// what a downloader believes the seed holds is then exactly what the seed has offered it.
import test from 'ava';
import path from 'node:path';
import { createTorrent, parseTorrent, type Session, type Torrent } from '../../src/engine/index.js';
import { watchSuperSeeding, superSeedingOption } from '../../src/publish/initial-seeding.js';
import { tempDir } from '../helpers/tmp.js';
import { loopbackSession, makePayload, sameTree, waitUntil } from './helpers.js';

const KiB = 1024;

async function superSeed(t: Parameters<typeof loopbackSession>[0], tmp: string): Promise<{ seeder: Session; seed: Torrent; bytes: Buffer; src: string; pieces: number }> {
  const src = await makePayload(path.join(tmp, 'seed'), 'Super_FTR', { 'ASSETMAP.xml': 1_000, 'picture.mxf': 6 * 1024 * KiB, 'sound.mxf': 2 * 1024 * KiB });
  const bytes = await createTorrent(src, { pieceSize: 256 * KiB });
  const seeder = loopbackSession(t);
  const seed = seeder.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'seed'), seedMode: true, ...superSeedingOption('on') });
  await waitUntil('the seed to seed', () => seed.status().isSeeding);
  return { seeder, seed, bytes, src, pieces: parseTorrent(bytes).numPieces };
}

/**
 * How many pieces a downloader believes the seed holds, once it believes it holds two: the plugin
 * sends its two offers back to back; libtorrent alone would make one, 10 s after the connection.
 */
async function seedPieces(dl: Torrent, pieces: number): Promise<number> {
  const count = (): number => Math.max(0, ...dl.peers().map((p) => Math.round(p.progress * pieces)));
  await waitUntil('the seed to offer two pieces', () => count() >= 2, 60_000);
  return count();
}

test('a super seed offers each new peer two pieces at once, not after libtorrent\'s 10 s wait, and every peer still gets all of it', async (t) => {
  const tmp = await tempDir(t);
  const { seeder, seed, bytes, src, pieces } = await superSeed(t, tmp);
  t.true(seed.status().superSeeding);
  const downloaders = [0, 1].map((i) => {
    const s = loopbackSession(t, { downloadRateLimit: 1 * KiB, rateLimitLocalPeers: true });
    const dl = s.addTorrent({ torrent: bytes, savePath: path.join(tmp, `dl${i}`) });
    dl.connectPeer('127.0.0.1', seeder.listenPort);
    return { s, dl };
  });
  // libtorrent alone makes one offer per peer, 10 s after the connection; the plugin makes two as
  // soon as the peer has said it holds nothing. Either way the seed never shows every piece.
  for (const { dl } of downloaders) t.is(await seedPieces(dl, pieces), 2);
  t.true(downloaders.every(({ dl }) => dl.peers().every((p) => !p.seed)));
  // With the brakes off, both complete from a seed that goes on offering piece by piece.
  for (const { s } of downloaders) s.applySettings({ downloadRateLimit: 0 });
  await waitUntil('both downloads', () => downloaders.every(({ dl }) => dl.status().isFinished));
  for (const i of [0, 1]) await sameTree(t, src, path.join(tmp, `dl${i}`, 'Super_FTR'));
  t.true(seed.status().superSeeding, 'two peers: still super seeding');
});

test('super seeding ends when one peer is downloading alone, that peer is then told of every piece, and it starts again once nobody downloads', async (t) => {
  const tmp = await tempDir(t);
  const { seeder, seed, bytes, pieces } = await superSeed(t, tmp);
  const changes: boolean[] = [];
  const stop = watchSuperSeeding(seed, 'on', (on) => changes.push(on));
  t.teardown(stop);
  // 16 KiB/s: a piece takes 16 s, while the have-all, queued behind the block data already sent
  // (which the limit also holds back), arrives a few seconds after the end.
  const s = loopbackSession(t, { downloadRateLimit: 16 * KiB, rateLimitLocalPeers: true });
  const dl = s.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'dl') });
  dl.connectPeer('127.0.0.1', seeder.listenPort);
  t.is(await seedPieces(dl, pieces), 2);
  await waitUntil('super seeding to end', () => changes.length > 0);
  t.false(seed.status().superSeeding);
  await waitUntil('the seed to show every piece', () => dl.peers().some((p) => p.seed));
  s.applySettings({ downloadRateLimit: 0 });
  await waitUntil('the download', () => dl.status().isFinished);
  await waitUntil('super seeding to start again', () => changes.length > 1);
  t.deepEqual(changes, [false, true]);
  t.true(seed.status().superSeeding);
});

test('a torrent added without the option does not super seed', async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'seed'), 'Plain', { 'a.mxf': 512 * KiB });
  const seeder = loopbackSession(t);
  const seed = seeder.addTorrent({ torrent: await createTorrent(src, { pieceSize: 64 * KiB }), savePath: path.join(tmp, 'seed'), seedMode: true });
  await waitUntil('the seed to seed', () => seed.status().isSeeding);
  t.false(seed.status().superSeeding);
});

test('the first copy is offered in piece order, each piece to one peer: two peers start with pieces 0 to 3 between them', async (t) => {
  const tmp = await tempDir(t);
  const { seeder, bytes } = await superSeed(t, tmp);
  // 64 KiB/s: a 256 KiB piece in about 4 s, so each peer's first piece is one of its first offers.
  const downloaders = [0, 1].map((i) => {
    const s = loopbackSession(t, { downloadRateLimit: 64 * KiB, rateLimitLocalPeers: true });
    const dl = s.addTorrent({ torrent: bytes, savePath: path.join(tmp, `dl${i}`) });
    dl.connectPeer('127.0.0.1', seeder.listenPort);
    return dl;
  });
  const first = await Promise.all(downloaders.map((dl) => waitUntil('a first piece', () => dl.pieceStates().findIndex(Boolean) + 1 || undefined, 60_000)));
  for (const f of first) t.true(f - 1 < 4, `first piece ${f - 1}`);
  t.not(first[0], first[1]);
});
