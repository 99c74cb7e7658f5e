// pieceStates() names only pieces that are checked and written: the agent's running hashes read
// those bytes back from the file while the download goes on (src/agent/pipeline/asset-prefix-hash.ts).
// libtorrent's own "passed" comes as soon as a piece's hash check does, while its last blocks may
// still wait in the disk queue; a read of such a piece found old bytes (zeros here), and the running
// hash of a 4 GiB asset then missed its packing list and the file was read a second time.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createTorrent } from '../../src/engine/index.js';
import { tempDir } from '../helpers/tmp.js';
import { loopbackSession, makePayload, STORAGES, waitUntil } from './helpers.js';

const MiB = 1024 * 1024;
const PIECE = MiB;
const SIZE = 192 * MiB;

for (const storage of STORAGES) test(`every piece pieceStates() reports during a download reads back from the file as sent (${storage})`, async (t) => {
  const tmp = await tempDir(t);
  const src = await makePayload(path.join(tmp, 'seed'), 'Piece_States', { 'a.mxf': SIZE });
  const data = await fs.readFile(path.join(src, 'a.mxf'));
  const bytes = await createTorrent(src, { pieceSize: PIECE });
  const seeder = loopbackSession(t);
  const seed = seeder.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'seed'), seedMode: true, piecesVerified: true });
  await waitUntil('the seed to seed', () => seed.status().isSeeding);
  const s = loopbackSession(t, { storage });
  const dl = s.addTorrent({ torrent: bytes, savePath: path.join(tmp, 'dl') });
  dl.connectPeer('127.0.0.1', seeder.listenPort);

  const file = path.join(tmp, 'dl', 'Piece_States', 'a.mxf');
  const checked = new Set<number>();
  const wrong: number[] = [];
  const buf = Buffer.alloc(PIECE);
  const pieces = SIZE / PIECE;
  const deadline = Date.now() + 3 * 60_000;
  while (checked.size < pieces && Date.now() < deadline) {
    const fresh = dl
      .pieceStates()
      .map((have, i) => (have && !checked.has(i) ? i : -1))
      .filter((i) => i >= 0);
    if (fresh.length === 0) {
      await new Promise((r) => setTimeout(r, 2));
      continue;
    }
    // Read at once, as the running hash does right after it asks.
    const fh = await fs.open(file, 'r');
    try {
      for (const i of fresh) {
        const { bytesRead } = await fh.read(buf, 0, PIECE, i * PIECE);
        if (bytesRead !== PIECE || !buf.equals(data.subarray(i * PIECE, (i + 1) * PIECE))) wrong.push(i);
        checked.add(i);
      }
    } finally {
      await fh.close();
    }
  }
  t.is(checked.size, pieces, 'the download completed');
  t.deepEqual(wrong, [], 'pieces reported before their bytes were in the file');
});
