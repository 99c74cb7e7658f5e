// The torrent list of a 10,000-torrent group: loaded once, then an upload joins it without the
// other 10,000 being read again, as the store-read counter of GET /metrics shows.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { buildServer } from '../../src/server/app.js';
import { tempDir } from '../helpers/tmp.js';
import { basic, createGroup, makeTorrent, uploadTorrent } from './helpers.js';

const COUNT = 10_000;

function reads(metrics: string): { list: number; torrent: number } {
  const get = (kind: string) => Number(new RegExp(`cineswarm_server_store_reads_total\\{kind="${kind}"\\} (\\d+)`).exec(metrics)?.[1] ?? NaN);
  return { list: get('list'), torrent: get('torrent') };
}

test('an upload into a 10,000-torrent group reads none of the others', async (t) => {
  const dataDir = await tempDir(t, 'cineswarm-scale-');
  const app = await buildServer({ dataDir, logger: false, openGroups: true });
  t.teardown(() => app.close());
  await createGroup(app, 'big', 'pw');
  // Written straight into the directory layout: 10,000 uploads through the API would only
  // measure fsync.
  const dir = path.join(dataDir, 'groups', 'big', 'torrents');
  for (let i = 0; i < COUNT; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, COUNT - i) }, (_, k) => {
        const name = `T${String(i + k).padStart(5, '0')}`;
        return fs.writeFile(path.join(dir, `${name}.torrent`), makeTorrent({ name, content: Buffer.from(name) }));
      }),
    );
  }
  const auth = { authorization: basic('big', 'pw') };
  const metrics = async () => reads((await app.inject({ url: '/metrics' })).body);
  const before = await metrics();
  const first = await app.inject({ url: '/api/groups/big/torrents', headers: auth });
  t.is(first.json<unknown[]>().length, COUNT);
  const loaded = await metrics();
  t.deepEqual(loaded, { list: before.list + 1, torrent: before.torrent + COUNT });

  t.is((await uploadTorrent(app, 'big', 'pw', makeTorrent({ name: 'New_Feature', content: Buffer.alloc(100, 7) }))).statusCode, 201);
  const after = await app.inject({ url: '/api/groups/big/torrents', headers: { ...auth, 'if-none-match': first.headers.etag as string } });
  t.is(after.statusCode, 200);
  const list = after.json<Array<{ name: string }>>();
  t.is(list.length, COUNT + 1);
  t.is(list[0]!.name, 'New_Feature'); // name order, as a full read gives
  t.deepEqual(await metrics(), loaded);
  // a server reading the group afresh serves the very same list
  const fresh = await buildServer({ dataDir, logger: false, openGroups: true });
  t.teardown(() => fresh.close());
  t.is((await fresh.inject({ url: '/api/groups/big/torrents', headers: auth })).headers.etag, after.headers.etag);
});
