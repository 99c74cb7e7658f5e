// The publisher reads a DCP once: the torrent's piece hashes and the packing-list SHA-1s come
// from the same read (counted with /proc/self/io rchar), and a damaged asset is still refused.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { publishDcp, PublishError } from '../../src/publish/publisher.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { logSink } from '../helpers/log-sink.js';
import { tempDir } from '../helpers/tmp.js';
import { ownerOf, startServer } from './rig.js';

const MiB = 1024 * 1024;

async function rchar(): Promise<number> {
  const m = /^rchar: (\d+)$/m.exec(await fs.readFile('/proc/self/io', 'utf8'));
  return Number(m![1]);
}

test('publish reads the DCP once and still refuses a damaged one', async (t) => {
  const root = await tempDir(t, 'cineswarm-pubread-');
  const server = await startServer(t, path.join(root, 'server'));
  const dcp = await generateDcp(path.join(root, 'ONE_READ_FTR'), { assetSizes: [24 * MiB, 4 * MiB], seed: 171 });
  const sink = logSink('info');
  const before = await rchar();
  await publishDcp({ dcpDir: dcp.dir, server: server.url, group: 'one-read', password: 'pw', ownerPassword: ownerOf('pw'), create: true, log: sink.logger });
  const read = (await rchar()) - before;
  t.log(`read ${read} bytes for a ${dcp.totalBytes}-byte DCP`);
  t.true(read < dcp.totalBytes * 1.25, `read ${read} bytes`);
  t.is(sink.lines.find((l) => l.msg === 'DCP verified')?.bytesReadAgain, 0);

  const bad = await generateDcp(path.join(root, 'ONE_READ_BAD_FTR'), { assetSizes: [2 * MiB, MiB], seed: 172 });
  const fh = await fs.open(bad.assets[1]!.path, 'r+');
  await fh.write(Buffer.from('damaged'), 0, 7, 1000);
  await fh.close();
  const err = await t.throwsAsync(publishDcp({ dcpDir: bad.dir, server: server.url, group: 'one-read', password: 'pw', ownerPassword: ownerOf('pw'), log: sink.logger }));
  t.true(err instanceof PublishError && err.code === 'BROKEN_DCP' && err.message.includes(path.basename(bad.assets[1]!.path)), err?.message);
});
