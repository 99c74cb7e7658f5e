// Faults on the agent's side of things: not enough disk space, the same name re-published with
// other content, the same DCP offered by two groups, and groups it cannot join.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { ServerClient } from '../../src/protocol/index.js';
import { diskUsage } from '../../src/util/disk-usage.js';
import { agentConfig, groupStatus, ingestListing, publishAndSeed, startAgent, startServer, publishedSwarm, waitFor, createGroupOn, ownerOf } from './rig.js';

const MiB = 1024 * 1024;

test('minFreeBytes beyond the free space: queued with a message, starts once the reserve is lowered', async (t) => {
  const { root, server, G, pub } = await publishedSwarm(t, { prefix: 'cineswarm-disk-', name: 'DISK_TEST_FTR', assetSizes: [6 * MiB, 2 * MiB], seed: 41, group: { id: 'disk', password: 'pw' } });
  const free = (await diskUsage(root)).free;
  const agent = await startAgent(t, agentConfig({ id: 'full-disk', server: server.url, groups: [G], root, minFreeBytes: free + 5e12 }));
  const queued = await waitFor('queued for space', () => {
    const v = agent.getStatus().torrents[0];
    return v?.state === 'queued' && v.message?.startsWith('waiting for disk space') && v;
  }, 30_000);
  t.log(queued.message);
  t.regex(queued.message!, /^waiting for disk space: 5\.0 TB more needed on .*incoming$/);
  await agent.pollNow(); // re-checked on every reconcile: still queued, nothing fetched
  t.is(agent.getStatus().torrents[0].state, 'queued');
  t.is(agent.engine.torrents().length, 0);
  t.deepEqual(await ingestListing(agent.config.ingestDir), []);

  await agent.setMinFreeBytes(0);
  await waitFor('seeding after the reserve was lowered', () => agent.getStatus().torrents[0]?.state === 'seeding', 60_000);
  t.deepEqual(await ingestListing(agent.config.ingestDir), [pub.name]);
});

test('the same name re-published with other content in another group: conflict shown, nothing overwritten', async (t) => {
  const root = await tempDir(t, 'cineswarm-conflict-');
  const server = await startServer(t, path.join(root, 'server'));
  const A = { id: 'dist-a', password: 'pa' };
  const B = { id: 'dist-b', password: 'pb' };
  const first = await generateDcp(path.join(root, 'a', 'SAME_NAME_FTR'), { assetSizes: [4 * MiB, 1 * MiB], seed: 51 });
  const second = await generateDcp(path.join(root, 'b', 'SAME_NAME_FTR'), { assetSizes: [4 * MiB, 1 * MiB], seed: 52 });
  const pubA = await publishAndSeed(t, { server: server.url, group: A.id, password: A.password, dcpDir: first.dir });
  const agent = await startAgent(t, agentConfig({ id: 'two-groups', server: server.url, groups: [A, B], root }));
  await waitFor('first copy seeding', () => agent.getStatus().torrents[0]?.state === 'seeding', 60_000);
  const ingested = path.join(agent.config.ingestDir, 'SAME_NAME_FTR');
  const before = await fs.readFile(path.join(ingested, path.basename(first.assets[0].path)));

  const pubB = await publishAndSeed(t, { server: server.url, group: B.id, password: B.password, dcpDir: second.dir });
  t.not(pubB.infoHash, pubA.infoHash);
  await agent.pollNow();
  const conflict = await waitFor('conflict shown', () => agent.getStatus().conflicts[0], 30_000);
  t.like(conflict, { name: 'SAME_NAME_FTR', group: B.id, knownInfoHash: pubA.infoHash, offeredInfoHash: pubB.infoHash });
  await agent.pollNow();
  const s = agent.getStatus();
  t.is(s.conflicts.length, 1, 'recorded once');
  t.is(s.torrents.length, 1);
  t.like(s.torrents[0], { infoHash: pubA.infoHash, state: 'seeding' });
  t.is(agent.engine.torrents().length, 1, 'the other content is not downloaded');
  t.deepEqual(await ingestListing(agent.config.ingestDir), ['SAME_NAME_FTR']);
  t.deepEqual(await fs.readdir(ingested), await fs.readdir(first.dir));
  t.true(before.equals(await fs.readFile(path.join(ingested, path.basename(first.assets[0].path)))), 'first copy untouched');
});

test('the same DCP offered by two groups is downloaded once and reported to both', async (t) => {
  const root = await tempDir(t, 'cineswarm-dedupe-');
  const server = await startServer(t, path.join(root, 'server'));
  const A = { id: 'dd-a', password: 'pa' };
  const B = { id: 'dd-b', password: 'pb' };
  const dcp = await generateDcp(path.join(root, 'pub', 'DEDUPE_FTR'), { assetSizes: [4 * MiB, 1 * MiB], seed: 61 });
  const pub = await publishAndSeed(t, { server: server.url, group: A.id, password: A.password, dcpDir: dcp.dir });
  const client = new ServerClient(server.url);
  await createGroupOn(server.url, B);
  await client.uploadTorrent({ id: B.id, password: ownerOf(B.password) }, pub.torrent);
  const agent = await startAgent(t, agentConfig({ id: 'member-of-both', server: server.url, groups: [A, B], root }));
  await waitFor('seeding', () => agent.getStatus().torrents[0]?.state === 'seeding', 60_000);
  await agent.pollNow();
  const s = agent.getStatus();
  t.is(s.torrents.length, 1);
  t.is(s.history.length, 1);
  t.is(agent.engine.torrents().length, 1);
  t.deepEqual(await ingestListing(agent.config.ingestDir), ['DEDUPE_FTR']);
  for (const g of [A, B]) {
    await waitFor(`group ${g.id} sees the agent seeding`, async () => {
      const st = (await groupStatus(server.url, g.id, g.password)) as { torrents: { peers: { peer: string; state: string }[] }[] };
      return st.torrents[0]?.peers.some((p) => p.peer === 'member-of-both' && p.state === 'seeding');
    }, 30_000);
  }
  t.pass();
});

test('a wrong password and an unknown group (refused alike) show in status without stopping the good group; retried later', async (t) => {
  const root = await tempDir(t, 'cineswarm-auth-');
  // The agent polls every second here, 60 times the shipped rate: the two refused groups would reach
  // the per-address failure limit within a minute and the later group's first right answer be a 429.
  const server = await startServer(t, path.join(root, 'server'), 0, { authLimits: { perSource: 10_000 } });
  const good = { id: 'good', password: 'pw' };
  const wrong = { id: 'locked', password: 'not-the-password' };
  const later = { id: 'created-later', password: 'pl' };
  const client = new ServerClient(server.url);
  await createGroupOn(server.url, { id: 'locked', password: 'the-password' });
  const dcp = await generateDcp(path.join(root, 'pub', 'AUTH_TEST_FTR'), { assetSizes: [2 * MiB, 1 * MiB], seed: 71 });
  await publishAndSeed(t, { server: server.url, group: good.id, password: good.password, dcpDir: dcp.dir });
  const agent = await startAgent(t, agentConfig({ id: 'auth-agent', server: server.url, groups: [good, wrong, later], root }));
  await waitFor('good group delivers', () => agent.getStatus().torrents[0]?.state === 'seeding', 60_000);
  const groups = Object.fromEntries(agent.getStatus().groups.map((g) => [g.id, g]));
  t.is(groups.good.state, 'joined');
  t.is(groups.locked.state, 'unauthorized');
  t.regex(groups.locked.message!, /password of group locked/);
  // An unknown group is refused like a wrong password, so group ids cannot be probed.
  t.is(groups['created-later'].state, 'unauthorized');
  await createGroupOn(server.url, later);
  await waitFor('the later group is joined on a later poll', () => agent.getStatus().groups.find((g) => g.id === 'created-later')?.state === 'joined', 30_000);
  t.is(agent.getStatus().groups.find((g) => g.id === 'locked')?.state, 'unauthorized');
});

test('the bandwidth rule in force at start caps the download rate, for loopback peers too', async (t) => {
  const { root, server, G, pub } = await publishedSwarm(t, { prefix: 'cineswarm-bw-', name: 'BW_TEST_FTR', assetSizes: [12 * MiB, 2 * MiB], seed: 111, group: { id: 'bw', password: 'pw' } });
  const cap = 512 * 1024;
  const cfg = { ...agentConfig({ id: 'slow-site', server: server.url, groups: [G], root }), bandwidth: [{ cron: '* * * * *', downloadKiBps: cap / 1024, uploadKiBps: 0 }] };
  const agent = await startAgent(t, cfg);
  const bytes = () => (agent.engine.statusAll()[0]?.totalPayloadDownload ?? 0);
  await waitFor('download started', () => bytes() > 0, 60_000, 50);
  const b0 = bytes();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 3000));
  const got = bytes() - b0;
  const elapsed = (Date.now() - t0) / 1000;
  t.log(`${got} bytes in ${elapsed.toFixed(1)} s under a ${cap} B/s cap (the DCP is ${pub.size} bytes)`);
  // An upper bound only: a busy machine can make it slower, never faster than the cap allows.
  t.true(got <= cap * (elapsed + 1.5), `${got} bytes is more than the cap allows`);
  t.not(agent.getStatus().torrents[0].state, 'seeding');
});

test('after a clean restart an agent keeps seeding its DCPs to the group, without re-verifying', async (t) => {
  const { root, server, G, pub } = await publishedSwarm(t, { prefix: 'cineswarm-restart-', name: 'RESTART_FTR', assetSizes: [4 * MiB, 1 * MiB], seed: 121, group: { id: 'restart', password: 'pw' } });
  const cfg = agentConfig({ id: 'first-cinema', server: server.url, groups: [G], root });
  const first = await startAgent(t, cfg);
  await waitFor('first cinema seeding', () => first.getStatus().torrents[0]?.state === 'seeding', 60_000);
  const completedAt = first.getStatus().history[0].completedAt;
  await first.stop();
  await pub.seeder.stop(); // from now on the first cinema is the only source

  const again = await startAgent(t, cfg);
  const states = new Set<string>();
  const second = await startAgent(t, agentConfig({ id: 'second-cinema', server: server.url, groups: [G], root }));
  await waitFor('second cinema seeding, fed by the restarted first', () => {
    states.add(again.getStatus().torrents[0]?.state ?? 'none');
    return second.getStatus().torrents[0]?.state === 'seeding';
  }, 90_000);
  t.deepEqual([...states], ['seeding'], 'no re-verify, no re-download after a clean restart');
  t.is(again.getStatus().history[0].completedAt, completedAt);
  t.deepEqual(await ingestListing(second.config.ingestDir), [pub.name]);
});

test('torn resume data after a power cut: the agent checks the files on disk instead and carries on', async (t) => {
  const { root, server, G, pub } = await publishedSwarm(t, { prefix: 'cineswarm-torn-', name: 'TORN_FTR', assetSizes: [4 * MiB, 1 * MiB], seed: 131, group: { id: 'torn', password: 'pw' } });
  const cfg = agentConfig({ id: 'torn-site', server: server.url, groups: [G], root });
  const first = await startAgent(t, cfg);
  await waitFor('seeding', () => first.getStatus().torrents[0]?.state === 'seeding', 60_000);
  await first.stop();
  await fs.writeFile(path.join(cfg.dataDir, 'resume', `${pub.infoHash}.resume`), 'd8:file-formatXXXX garbage');
  const again = await startAgent(t, cfg);
  await waitFor('seeding again', () => {
    const v = again.getStatus().torrents[0];
    return v?.state === 'seeding' && (again.engine.statusAll()[0]?.progress ?? 0) === 1;
  }, 60_000);
  t.is(again.engine.statusAll()[0].totalPayloadDownload, 0, 'nothing fetched again: the files on disk were good');
  t.deepEqual(await ingestListing(cfg.ingestDir), [pub.name]);
});
