// Interop with real third-party clients: our torrents and our seed serve aria2c, and our engine
// downloads from an aria2c seed and from a transmission-cli seed. Peers are handed over with connectPeer; no tracker needed.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTorrent, parseTorrent } from '../../src/engine/index.js';
import { tempDir } from '../helpers/tmp.js';
import { aria2, transmission } from './clients.js';
import { loopbackSession, makePayload, MINUTE, sameTree, waitUntil } from './helpers.js';

const MiB = 1024 * 1024;

/** Our engine downloads `bytes` from a third-party seed on 127.0.0.1:`port`, dialling it until connected. */
async function downloadFrom(t: ExecutionContext, label: string, bytes: Buffer, savePath: string, port: number): Promise<void> {
  // The other client may turn us away while it still checks its files; libtorrent then waits
  // min_reconnect_time (60 s by default) times the failures before it dials that peer again.
  const leecher = loopbackSession(t, { raw: { min_reconnect_time: 1 } });
  const dl = leecher.addTorrent({ torrent: bytes, savePath });
  await waitUntil(
    label,
    () => {
      const st = dl.status();
      if (st.isFinished) return true;
      if (st.numPeers === 0) dl.connectPeer('127.0.0.1', port);
      return false;
    },
    4 * MINUTE,
    1000,
  );
}

test('aria2c accepts a torrent from createTorrent and downloads it from our seed', async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'seed'), 'Interop_DCP', {
    'ASSETMAP.xml': 1_500,
    'reel1/picture.mxf': 20 * MiB + 333,
    'reel1/sound.mxf': 5 * MiB,
  });
  const bytes = await createTorrent(src, { comment: 'interop' });
  const torrentFile = path.join(tmp, 'interop.torrent');
  await fs.writeFile(torrentFile, bytes);

  const seeder = loopbackSession(t);
  const seed = seeder.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'seed') });
  await waitUntil('the seeder to check its files', () => seed.status().isSeeding);

  const client = await aria2(t, torrentFile, path.join(tmp, 'aria'), ['--seed-time=0']);
  let exitCode: number | null | undefined;
  void client.exited.then((c) => (exitCode = c));
  // aria2c finds no peers by itself (no tracker, no DHT): our seed dials it until it is done.
  await waitUntil(
    'aria2c to finish downloading',
    () => {
      if (exitCode === undefined) seed.connectPeer('127.0.0.1', client.port);
      return exitCode !== undefined;
    },
    4 * MINUTE,
    2000,
  );
  t.is(exitCode, 0, client.output());
  await sameTree(t, src, path.join(tmp, 'aria', 'Interop_DCP'));
  t.true(seed.status().totalPayloadUpload >= parseTorrent(bytes).totalSize);
});

test('our engine downloads from a seeding aria2c', async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'seed'), 'From_Aria', { 'a.mxf': 16 * MiB + 1, 'b/c.xml': 4_321 });
  const bytes = await createTorrent(src, { pieceSize: 512 * 1024 });
  const torrentFile = path.join(tmp, 'from-aria.torrent');
  await fs.writeFile(torrentFile, bytes);
  // --seed-ratio=0.0 without --seed-time: aria2c checks the files, then seeds until it is killed.
  const client = await aria2(t, torrentFile, path.join(tmp, 'seed'), ['--check-integrity=true', '--seed-ratio=0.0']);

  await downloadFrom(t, 'the download from aria2c', bytes, path.join(tmp, 'dl'), client.port);
  t.is(client.proc.exitCode, null, `aria2c stopped early: ${client.output()}`);
  await sameTree(t, src, path.join(tmp, 'dl', 'From_Aria'));
});

test('our engine downloads from a seeding transmission-cli', async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'seed'), 'From_Transmission', { 'reel.mxf': 9 * MiB + 5, 'ASSETMAP.xml': 999 });
  const bytes = await createTorrent(src);
  const torrentFile = path.join(tmp, 'from-transmission.torrent');
  await fs.writeFile(torrentFile, bytes);
  await fs.mkdir(path.join(tmp, 'transmission-config'));
  const client = await transmission(t, torrentFile, path.join(tmp, 'seed'), path.join(tmp, 'transmission-config'));

  await downloadFrom(t, 'the download from transmission-cli', bytes, path.join(tmp, 'dl'), client.port);
  await sameTree(t, src, path.join(tmp, 'dl', 'From_Transmission'));
});
