// Network faults during a download: the central server goes away and comes back on the same
// port, and a peer serves corrupt pieces. The agents finish with verified copies and the ingest
// folder never holds a partial DCP.
import test from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { verifyDcp } from '../../src/dcp/index.js';
import { Session } from '../../src/engine/index.js';
import { ServerClient } from '../../src/protocol/index.js';
import { agentConfig, groupStatus, ingestListing, publishAndSeed, startAgent, startServer, waitFor, ownerOf } from './rig.js';

const MiB = 1024 * 1024;

test.serial('server stopped mid-download and restarted on the same port: agents carry on and recover', async (t) => {
  const root = await tempDir(t, 'cineswarm-srv-');
  const dataDir = path.join(root, 'server');
  const server = await startServer(t, dataDir);
  const dcp = await generateDcp(path.join(root, 'pub', 'OUTAGE_TEST_FTR'), { assetSizes: [20 * MiB, 4 * MiB], seed: 21 });
  const G = { id: 'outage', password: 'pw' };
  const pub = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: dcp.dir, uploadLimit: 2_500_000 });
  const agents = await Promise.all(['o-1', 'o-2'].map((id) => startAgent(t, agentConfig({ id, server: server.url, groups: [G], root }))));
  await waitFor('downloads under way', () => agents.every((a) => (a.getStatus().torrents[0]?.progress ?? 0) > 0.1), 60_000);

  await server.close();
  await waitFor('agents see the server unreachable', () => agents.every((a) => a.getStatus().groups[0].state === 'unreachable'), 30_000);
  const during = agents[0].getStatus();
  t.log(`server down; o-1 at ${(during.torrents[0].progress * 100).toFixed(0)}%: ${during.groups[0].message}`);
  t.notRegex(during.groups[0].message ?? '', /^$/);
  const progressWhileDown = during.torrents[0].progress;
  await waitFor('download progresses without the server', () => agents[0].getStatus().torrents[0].progress > progressWhileDown, 30_000);

  const again = await startServer(t, dataDir, server.port);
  await waitFor('groups joined again', () => agents.every((a) => a.getStatus().groups[0].state === 'joined'), 60_000);
  await waitFor('both seeding', () => agents.every((a) => a.getStatus().torrents[0]?.state === 'seeding'), 120_000);
  // Reports that failed during the outage reach the restarted server.
  await waitFor('server status shows both seeding', async () => {
    const s = (await groupStatus(again.url, G.id, G.password)) as { torrents: { peers: { peer: string; state: string }[] }[] };
    const peers = s.torrents[0]?.peers ?? [];
    return ['o-1', 'o-2'].every((id) => peers.some((p) => p.peer === id && p.state === 'seeding'));
  }, 30_000);
  for (const a of agents) {
    t.deepEqual(await ingestListing(a.config.ingestDir), [pub.name]);
    t.true((await verifyDcp(path.join(a.config.ingestDir, pub.name))).ok);
  }
});

test.serial('a seeder serving corrupt pieces: hash failures, and the download still completes from the good seeder', async (t) => {
  const root = await tempDir(t, 'cineswarm-bad-');
  const server = await startServer(t, path.join(root, 'server'));
  const dcp = await generateDcp(path.join(root, 'good', 'CORRUPT_TEST_FTR'), { assetSizes: [16 * MiB, 4 * MiB], seed: 31 });
  const G = { id: 'corrupt', password: 'pw' };
  // The honest seeder is slow, the bad one fast, so the agent asks the bad one for plenty of pieces.
  const pub = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: dcp.dir, uploadLimit: 1_500_000 });

  // The bad seeder checks a good copy first (libtorrent's seed mode would re-hash pieces before
  // serving them and heal itself), then its files are damaged behind its back.
  const badRoot = path.join(root, 'bad');
  await fs.cp(dcp.dir, path.join(badRoot, pub.name), { recursive: true });
  const badBytes = await new ServerClient(server.url).fetchTorrent({ id: G.id, password: ownerOf(G.password) }, pub.name, 'bad-seeder');
  const bad = new Session({ listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true });
  t.teardown(() => bad.close());
  const badTorrent = bad.addTorrent({ torrent: badBytes, savePath: badRoot });
  await waitFor('bad seeder checked its copy', () => badTorrent.status().isSeeding, 60_000);
  const victim = path.join(badRoot, pub.name, path.basename(dcp.assets[0].path));
  const fh = await fs.open(victim, 'r+');
  for (let off = 1000; off < 16 * MiB; off += 128 * 1024) await fh.write(crypto.randomBytes(64), 0, 64, off);
  await fh.sync();
  await fh.close();

  const agent = await startAgent(t, agentConfig({ id: 'victim', server: server.url, groups: [G], root }));
  let sawPartial = false;
  await waitFor('seeding', async () => {
    const names = await ingestListing(agent.config.ingestDir);
    if (names.length > 0 && !names.includes(pub.name)) sawPartial = true;
    return agent.getStatus().torrents[0]?.state === 'seeding';
  }, 180_000);
  const failures = agent.hashFailures(pub.infoHash);
  t.log(`the corrupt seeder uploaded ${bad.statusAll()[0].totalPayloadUpload} bytes`);
  t.log(`pieces that failed their hash check: ${failures}`);
  t.true(failures > 0, 'the corrupt seeder was used and caught');
  t.false(sawPartial);
  t.deepEqual(await ingestListing(agent.config.ingestDir), [pub.name]);
  const got = await fs.readFile(path.join(agent.config.ingestDir, pub.name, path.basename(dcp.assets[0].path)));
  t.true(got.equals(await fs.readFile(dcp.assets[0].path)), 'the good bytes, not the corrupt ones');
  t.true((await verifyDcp(path.join(agent.config.ingestDir, pub.name))).ok);
});
