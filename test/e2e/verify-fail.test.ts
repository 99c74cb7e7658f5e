// Verification failures at the agent: a DCP whose bytes do not match its packing list never
// reaches ingestDir and its bad assets are named; a copy damaged on disk after ingest is found by
// a re-verify, the bad pieces are re-checked and fetched again, and the DCP verifies once more.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { agentConfig, ingestListing, seededDamagedDcp, startAgent, startServer, publishedSwarm, waitFor } from './rig.js';

const MiB = 1024 * 1024;

test('a DCP that does not match its PKL fails verification, names the asset, and stays out of ingest', async (t) => {
  const root = await tempDir(t, 'cineswarm-vfail-');
  const server = await startServer(t, path.join(root, 'server'));
  const G = { id: 'vfail', password: 'pw' };
  const { bad } = await seededDamagedDcp(t, { root, server: server.url, name: 'BROKEN_FTR', seed: 81, group: G });

  const agent = await startAgent(t, agentConfig({ id: 'strict', server: server.url, groups: [G], root }));
  const view = await waitFor('gave up after repeated verification failures', () => {
    const v = agent.getStatus().torrents[0];
    return v?.state === 'failed' && v.message?.includes('a person must check') && v;
  }, 120_000);
  t.log(view.message);
  t.is(view.verify.state, 'failed');
  t.true(view.verify.failed.some((f) => f.path.includes(path.basename(bad.path))), JSON.stringify(view.verify.failed));
  t.deepEqual(await ingestListing(agent.config.ingestDir), []);
});

test('damage found by a re-verify is re-checked, fetched again, and verified', async (t) => {
  const { root, server, dcp, G, pub } = await publishedSwarm(t, { prefix: 'cineswarm-repair-', name: 'REPAIR_FTR', assetSizes: [6 * MiB, 2 * MiB], seed: 91, group: { id: 'repair', password: 'pw' } });
  const agent = await startAgent(t, agentConfig({ id: 'repairer', server: server.url, groups: [G], root }));
  await waitFor('seeding', () => agent.getStatus().torrents[0]?.state === 'seeding', 60_000);

  const rel = path.basename(dcp.assets[0].path);
  const local = path.join(agent.config.downloadDir, pub.infoHash, pub.name, rel);
  const fh = await fs.open(local, 'r+');
  await fh.write(Buffer.alloc(100, 0xee), 0, 100, 2 * MiB);
  await fh.close();
  const states: string[] = [];
  const watch = setInterval(() => {
    const s = agent.getStatus().torrents[0].state;
    if (states.at(-1) !== s) states.push(s);
  }, 50);
  t.teardown(() => clearInterval(watch));
  await agent.reverify(pub.infoHash);
  const failedView = agent.getStatus().torrents[0];
  t.is(failedView.state, 'failed');
  t.true(failedView.verify.failed.some((f) => f.path.includes(rel)));
  await waitFor('repaired and seeding again', () => {
    const v = agent.getStatus().torrents[0];
    return v.state === 'seeding' && v.verify.state === 'passed';
  }, 90_000);
  t.log(`states: ${states.join(' → ')}`);
  t.true((await fs.readFile(local)).equals(await fs.readFile(dcp.assets[0].path)), 'bad piece fetched again');
  t.deepEqual(await ingestListing(agent.config.ingestDir), [pub.name]);
});
