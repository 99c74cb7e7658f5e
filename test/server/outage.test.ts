// Redis alone, and radosgw alone (the memstore OSD keeps the objects), stopped for 30 s while an
// agent polls and announces and a client keeps listing, uploading and announcing: nothing but
// 503 (or a bencoded tracker failure) meanwhile, no crash, and service again without a restart.
// The two outages run at once, each against its own server and its own Redis, so the suite pays
// 30 s once: the Redis case keeps its groups in the directory store (the store plays no part in
// what Redis holds), the radosgw case uses the S3 store with a Redis that stays up.
import test, { type ExecutionContext } from 'ava';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildServer } from '../../src/server/app.js';
import type { GroupStore } from '../../src/server/group-store.js';
import { S3GroupStore } from '../../src/server/s3-store.js';
import { DirGroupStore } from '../../src/server/dir-store.js';
import { cephForFile } from '../helpers/ceph.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { agentConfig, startAgent } from '../e2e/rig.js';
import { announceOf, basic, createGroup, makeTorrent, uploadTorrent } from './helpers.js';
import { createTestBucket, s3Options } from './stores.js';
import { announceUrl, decodeAnnounce, peerId } from './tracker-client.js';

const ceph = cephForFile(test, createTestBucket);

/** How long each outage lasts (issue 11); polls and announces run all along. */
const OUTAGE_MS = 30_000;
const G = { id: 'dist', password: 'pw' };
const auth = { authorization: basic(G.id, G.password) };

async function redisOf(t: ExecutionContext): Promise<RedisServer> {
  const r = await startRedis();
  t.teardown(() => r.stop());
  return r;
}

async function outage(t: ExecutionContext, store: GroupStore, redis: RedisServer, stop: () => Promise<void>, start: () => Promise<void>) {
  const root = await tempDir(t, 'cineswarm-outage-');
  const app = await buildServer({ dataDir: root, store, redis: redis.url, redisNamespace: 'outage:', logger: false, openGroups: true, maxWaitSeconds: 2 });
  t.teardown(async () => {
    await app.close();
    store.close?.();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  // the owner's password is the member's here: one pair of credentials for every call
  await createGroup(app, G.id, G.password);
  const up = await uploadTorrent(app, G.id, G.password, makeTorrent({ name: 'Feature', content: Buffer.alloc(4000, 1) }));
  const infoHash = Buffer.from(up.json<{ infoHash: string }>().infoHash, 'hex');
  const passkey = announceOf((await app.inject({ url: '/api/groups/dist/torrents/Feature?peer=site-9', headers: auth })).rawPayload).split('/announce/')[1]!;
  const etag = (await app.inject({ url: '/api/groups/dist/torrents', headers: auth })).headers.etag as string;
  const agent = await startAgent(t, agentConfig({ id: 'site-1', server: url, groups: [G], root: path.join(root, 'agents') }));
  const sees = (name: string) => agent.getStatus().torrents.some((x) => x.name === name);
  await waitFor('the agent to list Feature', () => sees('Feature'), 60_000);

  const statuses = new Map<number, number>();
  const failures = new Set<string>();
  let n = 0;
  const pollOnce = async () => {
    n++;
    const list = await app.inject({ url: '/api/groups/dist/torrents', headers: { ...auth, 'if-none-match': etag } });
    const upload = await uploadTorrent(app, G.id, G.password, makeTorrent({ name: `During_${n}`, content: Buffer.alloc(100, n % 256) }));
    const ann = await app.inject({ url: announceUrl(passkey, { infoHash, peerId: peerId('site9'), port: 7001 + (n % 100), left: 4000 }) });
    for (const res of [list, upload, ann]) {
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode === 503) t.is(res.json<{ error: string }>().error, 'STORE_UNAVAILABLE');
    }
    t.is(ann.statusCode, 200);
    const answer = decodeAnnounce(ann.rawPayload);
    if (answer.failure) failures.add(answer.failure);
    return { list, upload, answer };
  };

  await stop();
  const until = Date.now() + OUTAGE_MS;
  // a pause between rounds keeps the uploads that succeed meanwhile to a few hundred
  while (Date.now() < until) {
    await pollOnce();
    await new Promise((r) => setTimeout(r, 100));
  }
  await start();
  await waitFor('recovery', async () => {
    const r = await pollOnce();
    return !r.answer.failure && r.upload.statusCode === 201 && r.list.statusCode < 500;
  }, 30_000, 100);

  // the agent, never restarted, polls again: a torrent uploaded now reaches it
  await uploadTorrent(app, G.id, G.password, makeTorrent({ name: 'After', content: Buffer.alloc(3000, 7) }));
  await waitFor('the agent to see the torrent uploaded after the outage', () => sees('After') && agent.getStatus().groups.every((g) => g.state === 'joined'), 60_000);
  // every request anyone made (the agent's too) was answered with 503 at worst
  const metrics = (await app.inject({ url: '/metrics' })).body;
  const fiveHundreds = metrics.split('\n').filter((l) => /^cineswarm_server_requests_total\{.*status="5\d\d"\}/.test(l) && !l.includes('status="503"'));
  t.deepEqual(fiveHundreds, []);
  t.deepEqual([...statuses.keys()].filter((s) => s >= 500 && s !== 503), [], JSON.stringify([...statuses]));
  const names = (await app.inject({ url: '/api/groups/dist/torrents', headers: auth })).json<Array<{ name: string }>>().map((x) => x.name);
  t.true(names.includes('Feature') && names.includes('After'));
  return { statuses, failures, metrics };
}

test('Redis away for 30 s: lists from memory, uploads stored, the tracker says why; recovery without a restart', async (t) => {
  const redis = await redisOf(t);
  const dir = new DirGroupStore(await tempDir(t, 'cineswarm-outage-store-'));
  await dir.init();
  const { failures } = await outage(t, dir, redis, () => redis.stop(), () => redis.start());
  t.true([...failures].some((f) => /unavailable/.test(f)), [...failures].join('; '));
});

test('radosgw away for 30 s: uploads refused with 503, polls answered from memory; recovery without a restart', async (t) => {
  const redis = await redisOf(t);
  const store = new S3GroupStore(s3Options(ceph(), 'outage/', { requestTimeoutMs: 2000 }));
  await store.init();
  const { statuses, metrics } = await outage(t, store, redis, () => ceph().stopGateway(), () => ceph().startGateway());
  t.true((statuses.get(503) ?? 0) > 0);
  t.regex(metrics, /^cineswarm_server_store_unavailable_total [1-9]\d*$/m);
});
