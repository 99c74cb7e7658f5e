// Redis, then radosgw alone, stopped while cinemas poll and announce: nothing but 503 (or a
// bencoded tracker failure) meanwhile, no crash, and service again without a restart.
import test from 'ava';
import { buildServer } from '../../src/server/app.js';
import { S3GroupStore } from '../../src/server/s3-store.js';
import { cephForFile } from '../helpers/ceph.js';
import { redisForFile } from '../helpers/redis.js';
import { tempDir } from '../helpers/tmp.js';
import { announceOf, basic, createGroup, makeTorrent, uploadTorrent } from './helpers.js';
import { createTestBucket, s3Options } from './stores.js';
import { announceUrl, decodeAnnounce, peerId } from './tracker-client.js';

const ceph = cephForFile(test, createTestBucket);
const redis = redisForFile(test);

/** How long each outage lasts; polls and announces run all along. */
const OUTAGE_MS = 8000;

test.serial('Redis and then radosgw away: only 503s and tracker failures, then recovery without a restart', async (t) => {
  const store = new S3GroupStore(s3Options(ceph(), 'outage/', { requestTimeoutMs: 2000 }));
  await store.init();
  const app = await buildServer({ dataDir: await tempDir(t), store, redis: redis().url, redisNamespace: 'outage:', logger: false, openGroups: true });
  t.teardown(async () => {
    await app.close();
    store.close();
  });
  const auth = { authorization: basic('dist', 'pw') };
  await createGroup(app, 'dist', 'pw');
  const up = await uploadTorrent(app, 'dist', 'pw', makeTorrent({ name: 'Feature', content: Buffer.alloc(4000, 1) }));
  const infoHash = Buffer.from(up.json<{ infoHash: string }>().infoHash, 'hex');
  const passkey = announceOf((await app.inject({ url: '/api/groups/dist/torrents/Feature?peer=site-1', headers: auth })).rawPayload).split('/announce/')[1]!;
  const first = await app.inject({ url: '/api/groups/dist/torrents', headers: auth });
  const etag = first.headers.etag as string;

  const statuses = new Map<number, number>();
  const failures = new Set<string>();
  let n = 0;
  const pollOnce = async () => {
    n++;
    const list = await app.inject({ url: '/api/groups/dist/torrents', headers: { ...auth, 'if-none-match': etag } });
    const upload = await uploadTorrent(app, 'dist', 'pw', makeTorrent({ name: `During_${n}`, content: Buffer.alloc(100, n % 256) }));
    const ann = await app.inject({ url: announceUrl(passkey, { infoHash, peerId: peerId('site1'), port: 7001 + (n % 100), left: 4000 }) });
    for (const res of [list, upload, ann]) {
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode === 503) t.is(res.json<{ error: string }>().error, 'STORE_UNAVAILABLE');
    }
    t.is(ann.statusCode, 200);
    const answer = decodeAnnounce(ann.rawPayload);
    if (answer.failure) failures.add(answer.failure);
    return { list, upload, answer };
  };
  const during = async (stop: () => Promise<void>, start: () => Promise<void>) => {
    await stop();
    const until = Date.now() + OUTAGE_MS;
    while (Date.now() < until) await pollOnce();
    await start();
  };
  const recovered = async (ok: (r: Awaited<ReturnType<typeof pollOnce>>) => boolean) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (ok(await pollOnce())) return;
      if (Date.now() > deadline) throw new Error('no recovery within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  // Redis away: lists come from memory and uploads go to S3; the tracker says why it cannot answer.
  await during(() => redis().stop(), () => redis().start());
  t.true([...failures].some((f) => /unavailable/.test(f)), [...failures].join('; '));
  await recovered((r) => !r.answer.failure);

  // radosgw away (the OSD keeps the objects): an upload cannot be stored, a poll may be answered.
  failures.clear();
  await during(() => ceph().stopGateway(), () => ceph().startGateway());
  t.true((statuses.get(503) ?? 0) > 0);
  await recovered((r) => r.upload.statusCode === 201);

  t.deepEqual([...statuses.keys()].filter((s) => s >= 500 && s !== 503), [], JSON.stringify([...statuses]));
  // everything stored before and between the outages is still there
  const names = (await app.inject({ url: '/api/groups/dist/torrents', headers: auth })).json<Array<{ name: string }>>().map((x) => x.name);
  t.true(names.includes('Feature'));
  t.true(names.length > 2);
});
