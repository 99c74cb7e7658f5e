// Two server replicas on one S3 store (radosgw) and one Redis: any replica answers any request —
// taken ids, torrent lists and their ETags, tracker peers and the cleanup lock are shared.
import test, { type ExecutionContext } from 'ava';
import { buildServer } from '../../src/server/app.js';
import { S3GroupStore } from '../../src/server/s3-store.js';
import { cephForFile } from '../helpers/ceph.js';
import { redisForFile } from '../helpers/redis.js';
import { tempDir } from '../helpers/tmp.js';
import { announceOf, basic, createGroup, makeTorrent, uploadTorrent } from './helpers.js';
import { createTestBucket, s3Options } from './stores.js';
import { announce, peerId } from './tracker-client.js';
import { waitFor } from '../helpers/wait.js';

const ceph = cephForFile(test, createTestBucket);
const redis = redisForFile(test);

const PW = 'pw';
const auth = { authorization: basic('dist', PW) };

async function replicas(t: ExecutionContext) {
  const prefix = `r-${Math.random().toString(36).slice(2)}/`;
  const make = async () => {
    const store = new S3GroupStore(s3Options(ceph(), prefix));
    await store.init();
    const app = await buildServer({
      dataDir: await tempDir(t, 'cineswarm-replica-'),
      store,
      redis: redis().url,
      redisNamespace: `cineswarm-test:${prefix}:`,
      logger: false,
      openGroups: true,
    });
    t.teardown(async () => {
      await app.close();
      store.close();
    });
    return app;
  };
  return [await make(), await make()] as const;
}

const until = (what: string, check: () => Promise<boolean>, ms = 10_000) => waitFor(what, check, ms, 25);

test('a group created on A is refused on B; concurrent creations give one 201 and one 409', async (t) => {
  const [a, b] = await replicas(t);
  await createGroup(a, 'dist', PW);
  const onB = await b.inject({ method: 'POST', url: '/api/groups', payload: { id: 'dist', password: 'x', ownerPassword: 'ox' } });
  t.is(onB.statusCode, 409);
  t.is(onB.json<{ error: string }>().error, 'GROUP_EXISTS');
  for (let i = 0; i < 3; i++) {
    const both = await Promise.all([a, b].map((s) => s.inject({ method: 'POST', url: '/api/groups', payload: { id: `race-${i}`, password: 'x', ownerPassword: 'ox' } })));
    t.deepEqual(both.map((r) => r.statusCode).sort(), [201, 409]);
  }
});

test('an upload on A changes the list (and its ETag) that B serves from memory', async (t) => {
  const [a, b] = await replicas(t);
  await createGroup(a, 'dist', PW);
  await uploadTorrent(a, 'dist', PW, makeTorrent({ name: 'First', content: Buffer.alloc(1000, 1) }));
  const first = await b.inject({ url: '/api/groups/dist/torrents', headers: auth });
  t.deepEqual(first.json<Array<{ name: string }>>().map((x) => x.name), ['First']);
  const etag = first.headers.etag as string;
  t.is((await b.inject({ url: '/api/groups/dist/torrents', headers: { ...auth, 'if-none-match': etag } })).statusCode, 304);
  t.is((await uploadTorrent(a, 'dist', PW, makeTorrent({ name: 'Second', content: Buffer.alloc(1000, 2) }))).statusCode, 201);
  // the notice travels by pub/sub: B answers 200 with the new list once it arrived
  await until('B to see the upload', async () => (await b.inject({ url: '/api/groups/dist/torrents', headers: { ...auth, 'if-none-match': etag } })).statusCode === 200);
  const after = await b.inject({ url: '/api/groups/dist/torrents', headers: auth });
  t.deepEqual(after.json<Array<{ name: string }>>().map((x) => x.name), ['First', 'Second']);
  t.is(after.headers.etag, (await a.inject({ url: '/api/groups/dist/torrents', headers: auth })).headers.etag);
  // the same name on B is taken too
  t.is((await uploadTorrent(b, 'dist', PW, makeTorrent({ name: 'Second', content: Buffer.alloc(10, 3) }))).statusCode, 409);
});

test('a peer that announced to A is returned by B, and a stop on B removes it for A', async (t) => {
  const [a, b] = await replicas(t);
  await createGroup(a, 'dist', PW);
  const tor = makeTorrent({ name: 'Feature', content: Buffer.alloc(4000, 1) });
  const infoHash = Buffer.from((await uploadTorrent(a, 'dist', PW, tor)).json<{ infoHash: string }>().infoHash, 'hex');
  const passkeyOf = async (app: typeof a, peer: string) => {
    const res = await app.inject({ url: `/api/groups/dist/torrents/Feature?peer=${peer}`, headers: auth });
    return announceOf(res.rawPayload).split('/announce/')[1]!;
  };
  const seed = await announce(a, await passkeyOf(a, 'seed'), { infoHash, peerId: peerId('seed'), port: 7001, left: 0, event: 'started' });
  t.deepEqual(seed.peers, []);
  const leech = await announce(b, await passkeyOf(b, 'site-1'), { infoHash, peerId: peerId('site1'), port: 7002, left: 4000, event: 'started' });
  t.deepEqual(leech.peers, [{ ip: '127.0.0.1', port: 7001 }]);
  t.is(leech.complete, 1);
  t.is(leech.incomplete, 1);
  // /metrics on either replica counts both peers: the gauge reads the shared peer lists
  for (const app of [a, b]) t.regex((await app.inject({ url: '/metrics' })).body, /^cineswarm_server_active_peers\{group="dist"\} 2$/m);
  // the seed, asking A again, learns of the cinema that announced to B
  const again = await announce(a, await passkeyOf(a, 'seed'), { infoHash, peerId: peerId('seed'), port: 7001, left: 0 });
  t.deepEqual(again.peers, [{ ip: '127.0.0.1', port: 7002 }]);
  await announce(b, await passkeyOf(b, 'site-1'), { infoHash, peerId: peerId('site1'), port: 7002, left: 0, event: 'stopped' });
  const last = await announce(a, await passkeyOf(a, 'seed'), { infoHash, peerId: peerId('seed'), port: 7001, left: 0 });
  t.deepEqual(last.peers, []);
  t.is(last.incomplete, 0);
});

test('cleanup runs on one replica at a time', async (t) => {
  const [a, b] = await replicas(t);
  await createGroup(a, 'dist', PW);
  const old = new Date(Date.now() - 90 * 86_400_000);
  await a.cineswarm.store.addTorrent('dist', 'Old', makeTorrent({ name: 'Old', content: Buffer.alloc(100, 1) }), old);
  let ranOnB = false;
  const onA = a.cineswarm.shared.withLock('cleanup', 60_000, async () => {
    // while A holds the lock, B's pass is skipped
    ranOnB = await b.cineswarm.shared.withLock('cleanup', 60_000, async () => undefined);
    await a.cineswarm.runCleanup();
  });
  t.true(await onA);
  t.false(ranOnB);
  t.deepEqual((await b.cineswarm.store.listTorrents('dist')).map((x) => x.name), []);
  // released: B may take it now
  t.true(await b.cineswarm.shared.withLock('cleanup', 60_000, async () => undefined));
});
