// Two `cineswarm server` processes on one radosgw and one Redis: a publisher seeds through
// replica A, two agents poll and announce to replica B, and they find each other through the
// shared peer lists. A is killed (SIGKILL) mid-download; the agents finish through B with the
// DCP verified and nothing stored lost. Taken group ids are refused across the replicas.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { verifyDcp } from '../../src/dcp/index.js';
import { cephForFile } from '../helpers/ceph.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { redisForFile } from '../helpers/redis.js';
import { tempDir } from '../helpers/tmp.js';
import { startCliServer } from '../server/cli-process.js';
import { createTestBucket, TEST_BUCKET } from '../server/stores.js';
import { agentConfig, groupStatus, ingestListing, publishAndSeed, readTree, startAgent, waitFor } from './rig.js';

const ceph = cephForFile(test, createTestBucket);
const redis = redisForFile(test);
const MiB = 1024 * 1024;

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const metricsOf = async (url: string) => (await fetch(`${url}/metrics`)).text();
const create = (url: string, id: string) =>
  fetch(`${url}/api/groups`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, password: 'pw', ownerPassword: 'pw-owner' }) });

test('publisher on A, agents on B: A killed mid-download, the DCP still arrives verified through B', async (t) => {
  const root = await tempDir(t, 'cineswarm-replicas-e2e-');
  const c = ceph();
  const config = path.join(root, 'server.json');
  await fs.writeFile(config, JSON.stringify({ announceIntervalSeconds: 5, store: { kind: 's3', bucket: TEST_BUCKET, prefix: 'e2e/', endpoint: c.endpoint }, redis: redis().url }));
  const env = { AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey };
  const start = (name: string) => startCliServer(t, ['--config', config, '--data', path.join(root, name), '--open-groups'], env);
  const [a, b] = await Promise.all([start('a'), start('b')]);

  // create-only across processes: a taken id is refused on the other replica, a race has one winner
  t.is((await create(a.url, 'dist')).status, 201);
  t.is((await create(b.url, 'dist')).status, 409);
  const race = await Promise.all([create(a.url, 'race'), create(b.url, 'race')]);
  t.deepEqual(race.map((r) => r.status).sort(), [201, 409]);

  const G = { id: 'dist', password: 'pw' };
  const dcp = await generateDcp(path.join(root, 'pub', 'REPLICA_TEST_FTR'), { assetSizes: [6 * MiB, 2 * MiB], seed: 21 });
  // the seeder's upload cap makes the download last several seconds, so A dies mid-way
  const pub = await publishAndSeed(t, { server: a.url, group: G.id, password: G.password, dcpDir: dcp.dir, create: false, uploadLimit: 1 * MiB });
  const agents = await Promise.all(['site-1', 'site-2'].map((id) => startAgent(t, agentConfig({ id, server: b.url, groups: [G], root }))));

  const progress = () => agents.map((x) => x.getStatus().torrents.find((v) => v.infoHash === pub.infoHash)?.progress ?? 0);
  await waitFor('both agents downloading', () => progress().every((p) => p > 0.05), 120_000, 50);
  const before = progress();
  t.true(before.some((p) => p < 0.9), `the download is still under way when A is killed: ${before.join(', ')}`);
  // both replicas took announces: the seeder's on A, the agents' on B, one set of peer lists
  const [ma, mb] = [await metricsOf(a.url), await metricsOf(b.url)];
  t.true(metric(ma, 'cineswarm_server_requests_total', 'method="GET",route="/announce/:passkey",status="200"') > 0);
  t.true(metric(mb, 'cineswarm_server_requests_total', 'method="GET",route="/announce/:passkey",status="200"') > 0);
  t.is(metric(ma, 'cineswarm_server_active_peers', 'group="dist"'), 3);
  t.is(metric(mb, 'cineswarm_server_active_peers', 'group="dist"'), 3);

  a.child.kill('SIGKILL');
  t.is(await a.exited, null);

  await waitFor('both agents seeding the verified DCP', () => agents.every((x) => x.getStatus().torrents.some((v) => v.infoHash === pub.infoHash && v.state === 'seeding')), 180_000);
  const source = await readTree(dcp.dir);
  for (const x of agents) {
    t.deepEqual(await ingestListing(x.config.ingestDir), [pub.name]);
    const copy = await readTree(path.join(x.config.ingestDir, pub.name));
    t.deepEqual([...copy.keys()].sort(), [...source.keys()].sort());
    for (const [rel, bytes] of source) t.true(copy.get(rel)!.equals(bytes), `${x.config.id}: ${rel} identical`);
    t.true((await verifyDcp(path.join(x.config.ingestDir, pub.name))).ok);
  }
  // B still has everything: the groups, the torrent, and the agents' reports made after A died
  t.is((await create(b.url, 'race')).status, 409);
  await waitFor('B shows both agents done', async () => {
    const s = (await groupStatus(b.url, G.id, G.password)) as { torrents: Array<{ infoHash: string; peers: Array<{ peer: string; progress: number }> }> };
    const peers = s.torrents.find((x) => x.infoHash === pub.infoHash)?.peers ?? [];
    return ['site-1', 'site-2'].every((id) => peers.some((p) => p.peer === id && p.progress === 1));
  }, 30_000);
});
