// The one server client against a real server: ETag conditional listing, and typed errors
// the poller tells apart (wrong password, unknown group, nobody listening).
import test from 'ava';
import net from 'node:net';
import path from 'node:path';
import { ApiError, ServerClient } from '../../src/protocol/index.js';
import { createTorrent } from '../../src/engine/index.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { startServer } from '../e2e/rig.js';

test('listing is conditional on the ETag and errors are typed', async (t) => {
  const root = await tempDir(t);
  const server = await startServer(t, path.join(root, 'server'));
  const c = new ServerClient(server.url);
  const g = { id: 'etag-group', password: 'pw' };
  await c.createGroup({ ...g, ownerPassword: 'pw-owner' });
  const first = await c.listTorrents(g);
  t.deepEqual(first, { list: [], changed: true });
  t.deepEqual(await c.listTorrents(g), { list: [], changed: false }, '304 answered from the cache');
  const dcp = await generateDcp(path.join(root, 'FTR_ETAG'), { assetSizes: [64 * 1024, 32 * 1024], seed: 3 });
  const up = await c.uploadTorrent({ id: g.id, password: 'pw-owner' }, await createTorrent(dcp.dir, { trackers: [`${server.url}/announce`] }));
  const after = await c.listTorrents(g);
  t.true(after.changed);
  t.deepEqual(after.list.map((x) => [x.name, x.infoHash]), [[up.name, up.infoHash]]);

  const code = async (p: Promise<unknown>) => ((await t.throwsAsync(p, { instanceOf: ApiError })) as ApiError).code;
  t.is(await code(c.listTorrents({ id: g.id, password: 'wrong' })), 'UNAUTHORIZED');
  t.is(await code(c.listTorrents({ id: 'no-such-group', password: 'x' })), 'UNAUTHORIZED', 'an unknown group is refused like a wrong password');
  t.is(await code(c.createGroup({ ...g, ownerPassword: 'other' })), 'CONFLICT');
  const closedPort = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const dead = new ServerClient(`http://127.0.0.1:${closedPort}`);
  const err = (await t.throwsAsync(dead.listTorrents(g), { instanceOf: ApiError })) as ApiError;
  t.is(err.code, 'UNREACHABLE');
  t.regex(err.message, /cannot reach the server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\) while listing group etag-group/);
});
