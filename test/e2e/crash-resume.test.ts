// kill -9 of an agent process half way through a download, then a restart: it continues from its
// resume data (no full recheck), re-fetches only what it had not saved, and the ingest folder
// never shows a partial DCP.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { agentConfig, groupStatus, ingestListing, publishAndSeed, spawnAgent, startServer, waitFor } from './rig.js';

const MiB = 1024 * 1024;

interface PeerRow { peer: string; state: string; progress: number }
async function peerRow(server: string, g: { id: string; password: string }, infoHash: string, peer: string): Promise<PeerRow | undefined> {
  const s = (await groupStatus(server, g.id, g.password)) as { torrents: { infoHash: string; peers: PeerRow[] }[] };
  return s.torrents.find((x) => x.infoHash === infoHash)?.peers.find((p) => p.peer === peer);
}

test('an agent killed with SIGKILL at about half resumes without a full recheck', async (t) => {
  const root = await tempDir(t, 'cineswarm-crash-');
  const server = await startServer(t, path.join(root, 'server'));
  const dcp = await generateDcp(path.join(root, 'publisher', 'CRASH_TEST_FTR'), { assetSizes: [36 * MiB, 12 * MiB], seed: 5 });
  const G = { id: 'crash-group', password: 'pw' };
  const seedRate = 3 * 1000 * 1000;
  const pub = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: dcp.dir, uploadLimit: seedRate });
  const cfg = agentConfig({ id: 'site-crash', server: server.url, groups: [G], root });
  const cfgFile = path.join(root, 'agent.json');
  await fs.writeFile(cfgFile, JSON.stringify(cfg));

  const first = spawnAgent(t, cfgFile);
  const atKill = await waitFor('about half downloaded', async () => {
    const row = await peerRow(server.url, G, pub.infoHash, 'site-crash');
    return row && row.state === 'downloading' && row.progress >= 0.5 && row.progress < 0.9 && row;
  }, 120_000, 100);
  first.child.kill('SIGKILL');
  await first.exited;
  t.deepEqual(await ingestListing(cfg.ingestDir), [], 'nothing in ingest after the crash');
  t.log(`killed at ${(atKill.progress * 100).toFixed(1)}% (${Math.round(atKill.progress * pub.size)} of ${pub.size} bytes)`);

  const second = spawnAgent(t, cfgFile);
  const resumedRow = await waitFor('resumed progress reported', async () => {
    const row = await peerRow(server.url, G, pub.infoHash, 'site-crash');
    return row && row.progress > 0 && row.progress !== atKill.progress && row;
  }, 60_000, 100);
  const done = await waitFor('complete and ingested', () => second.lines.find((l) => typeof l.downloadedThisRun === 'number'), 120_000);
  const reDownloaded = done.downloadedThisRun as number;
  const missingAtKill = pub.size * (1 - atKill.progress);
  t.log(`after restart: first reported progress ${(resumedRow.progress * 100).toFixed(1)}%, downloaded ${reDownloaded} bytes; ${Math.round(missingAtKill)} were missing at the last report before the kill`);
  t.log(`bytes re-downloaded beyond what was missing: ${Math.max(0, Math.round(reDownloaded - missingAtKill))}`);

  // Resume data (saved every second) covered most of what was on disk: far less than the whole DCP came again.
  t.true(reDownloaded < missingAtKill + pub.size * 0.2, `re-downloaded ${reDownloaded} bytes`);
  t.true(resumedRow.progress >= atKill.progress - 0.2, 'progress picked up where it was');
  const resumedLine = second.lines.find((l) => typeof l.msg === 'string' && l.msg.includes('resumed from the previous run'));
  t.is(resumedLine?.withResumeData, true);
  t.false(second.lines.some((l) => l.msg === 'checking files on disk against the torrent'), 'no full recheck');

  await waitFor('seeding reported', async () => (await peerRow(server.url, G, pub.infoHash, 'site-crash'))?.state === 'seeding', 30_000);
  t.deepEqual(await ingestListing(cfg.ingestDir), [pub.name]);
  const a = await fs.readFile(path.join(dcp.dir, path.basename(dcp.assets[0].path)));
  const b = await fs.readFile(path.join(cfg.ingestDir, pub.name, path.basename(dcp.assets[0].path)));
  t.true(a.equals(b));

  second.child.kill('SIGTERM');
  t.is(await second.exited, 0, 'clean exit on SIGTERM');
});
