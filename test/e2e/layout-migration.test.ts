// An agent updated in place over the layout of older agents (downloadDir/<name>, history keyed
// by name): at start its downloads move into downloadDir/<infoHash>/<name> by rename; a complete
// DCP keeps seeding from resume data (nothing downloaded, no hash check) and its ingest copy keeps
// its hard links; a half-done download continues from its resume data.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Agent } from '../../src/agent/agent.js';
import { placeInIngest } from '../../src/agent/pipeline/ingest.js';
import { ResumeStore } from '../../src/agent/pipeline/resume-store.js';
import { loadOrCreatePeerKey } from '../../src/agent/server-link/peer-key.js';
import { Session, type Torrent } from '../../src/engine/index.js';
import { ServerClient } from '../../src/protocol/index.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { logSink } from '../helpers/log-sink.js';
import { agentConfig, publishAndSeed, publishedSwarm, waitFor } from './rig.js';

const MiB = 1024 * 1024;

test('downloads in the old layout move to their info-hash folders without a byte fetched again', async (t) => {
  const { root, server, G, dcp, pub: done } = await publishedSwarm(t, { prefix: 'cineswarm-layout-', name: 'OLD_DONE_FTR', assetSizes: [2 * MiB, 1 * MiB], seed: 311, group: { id: 'layout-g', password: 'pw-l' } });
  const halfDcp = await generateDcp(path.join(root, 'pub', 'OLD_HALF_FTR'), { assetSizes: [6 * MiB, 2 * MiB], seed: 312 });
  const half = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: halfDcp.dir, create: false });
  const cfg = agentConfig({ id: 'site-old', server: server.url, groups: [G], root });

  // What an older agent left: both torrents fetched as this peer, downloaded into downloadDir
  // itself, resume data saved, the complete one in ingest, a history keyed by name.
  await fs.mkdir(cfg.dataDir, { recursive: true });
  const client = new ServerClient(server.url);
  client.setPeer(cfg.id, await loadOrCreatePeerKey(cfg.dataDir));
  const resume = await ResumeStore.open(cfg.dataDir);
  const old = new Session({ listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true });
  t.teardown(() => old.close());
  const added: Record<string, Torrent> = {};
  for (const p of [done, half]) {
    const bytes = await client.fetchTorrent(G, p.name, cfg.id);
    await resume.saveTorrent(p.infoHash, bytes);
    added[p.name] = old.addTorrent({ torrent: bytes, savePath: cfg.downloadDir, downloadLimit: p === half ? 1 * MiB : 0 });
  }
  await waitFor('old agent: one complete, the other about a third', () => added[done.name].status().isSeeding && added[half.name].status().progress >= 0.3, 60_000, 50);
  added[half.name].pause();
  const hadBytes = added[half.name].status().totalWantedDone;
  for (const p of [done, half]) await resume.save(p.infoHash, await added[p.name].saveResumeData());
  await old.close();
  await placeInIngest(cfg.downloadDir, cfg.ingestDir, done.name);
  const entry = (p: typeof done, state: string, verified: boolean) => ({
    name: p.name, infoHash: p.infoHash, group: G.id, sizeBytes: p.size, addedAt: new Date().toISOString(), state,
    verify: { state: verified ? 'passed' : 'pending', failed: [] }, ...(verified ? { completedAt: new Date().toISOString() } : {}),
  });
  const v1 = { version: 1, entries: { [done.name]: entry(done, 'seeding', true), [half.name]: entry(half, 'downloading', false) }, conflicts: [] };
  await fs.writeFile(path.join(cfg.dataDir, 'history.json'), JSON.stringify(v1));
  const asset = path.basename(dcp.assets[0].path);
  const ingestIno = (await fs.stat(path.join(cfg.ingestDir, done.name, asset))).ino;

  const { logger, lines } = logSink('info');
  const agent = new Agent(cfg, { logger });
  await agent.start();
  t.teardown(() => agent.stop());
  const view = (name: string) => agent.getStatus().torrents.find((x) => x.name === name);
  await waitFor('half-done one complete and ingested', () => view(half.name)?.state === 'seeding', 90_000);

  for (const p of [done, half]) {
    t.false(await fs.access(path.join(cfg.downloadDir, p.name)).then(() => true, () => false), `${p.name}: old folder gone`);
    t.true((await fs.stat(path.join(cfg.downloadDir, p.infoHash, p.name))).isDirectory(), `${p.name}: in its info-hash folder`);
  }
  const history = JSON.parse(await fs.readFile(path.join(cfg.dataDir, 'history.json'), 'utf8')) as { version: number; entries: Record<string, { name: string }> };
  t.is(history.version, 2);
  t.deepEqual(Object.keys(history.entries).sort(), [done.infoHash, half.infoHash].sort());

  // The complete one: seeding from resume data, nothing fetched, ingest links intact.
  t.is(view(done.name)?.state, 'seeding');
  const live = agent.engine.torrents().find((x) => x.infoHash === done.infoHash)!;
  t.true(live.status().isSeeding);
  t.is(live.status().totalPayloadDownload, 0);
  t.is((await fs.stat(path.join(cfg.downloadDir, done.infoHash, done.name, asset))).ino, ingestIno, 'the ingest copy is still a hard link of the download');
  // No torrent was hash-checked from scratch, both were added with their resume data.
  t.false(lines.some((l) => l.msg === 'checking files on disk against the torrent'), 'no full recheck');
  const resumed = lines.filter((l) => l.msg.endsWith('resumed from the previous run'));
  t.deepEqual(resumed.map((l) => [l.name, l.withResumeData]).sort(), [[done.name, true], [half.name, true]].sort());
  // The half-done one fetched only what it lacked (a piece or two of slack for pieces in flight).
  const ingested = lines.find((l) => l.name === half.name && typeof l.downloadedThisRun === 'number')!;
  t.log(`had ${hadBytes} of ${half.size} bytes; fetched ${ingested.downloadedThisRun as number} after the move`);
  t.true((ingested.downloadedThisRun as number) <= half.size - hadBytes + 2 * MiB);
  t.deepEqual((await fs.readdir(cfg.ingestDir)).sort(), [done.name, half.name].sort());
});

