// Content lifecycle with the clock as an input: a DCP the distributor withdraws on the server
// (DELETE with the owner password) stops seeding with the first poll after it and is reported
// retired; it stays while an in-use marker is there, and is removed (download and ingest copy)
// keepDays after it was retired once the agent's clock has moved on.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Agent } from '../../src/agent/agent.js';
import { validateConfig } from '../../src/agent/config/config.js';
import { buildServer } from '../../src/server/app.js';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { ServerClient } from '../../src/protocol/index.js';
import { agentConfig, groupStatus, ownerOf, publishAndSeed, quiet, waitFor } from './rig.js';

const MiB = 1024 * 1024;
const DAY = 86_400_000;

const exists = (p: string) => fs.access(p).then(() => true, () => false);

test('withdrawn: retired at once, kept while marked in use, removed keepDays later by the clock', async (t) => {
  const root = await tempDir(t, 'cineswarm-retention-');
  const app = await buildServer({ dataDir: path.join(root, 'server'), logger: false, announceIntervalSeconds: 5, openGroups: true });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const server = { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` };
  const G = { id: 'retire-g', password: 'pw-r' };
  const dcp = await generateDcp(path.join(root, 'pub', 'RETIRE_FTR'), { assetSizes: [2 * MiB, 1 * MiB], seed: 191 });
  const pub = await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: dcp.dir });
  const cfg = validateConfig({ ...agentConfig({ id: 'site-retain', server: server.url, groups: [G], root }), retention: { keepDays: 2, inUseMarker: '.tms-lock' } });
  let now = Date.now();
  const agent = new Agent(cfg, { logger: quiet, now: () => now });
  await agent.start();
  t.teardown(() => agent.stop());
  const view = () => agent.getStatus().torrents.find((x) => x.name === pub.name);
  await waitFor('seeding', () => view()?.state === 'seeding', 90_000);
  const ingestCopy = path.join(cfg.ingestDir, pub.name);
  const download = path.join(cfg.downloadDir, pub.infoHash, pub.name);
  t.true(await exists(ingestCopy));

  // The distributor withdraws it. A poll in flight may predate the withdraw; the one after it
  // is the first to see the list without it, and its pass retires the DCP.
  await new ServerClient(server.url).withdrawTorrent({ id: G.id, password: ownerOf(G.password) }, pub.name);
  await agent.pollNow();
  await agent.pollNow();
  await agent.loop.afterNextPass('test: after the poll');
  const retired = view()!;
  t.is(retired.state, 'retired');
  t.regex(retired.message ?? '', /withdrawn or cleaned up on the server/);
  t.falsy(agent.engine.torrents().find((x) => x.infoHash === pub.infoHash), 'no longer seeding');
  t.false(agent.getStatus().alarms.some((a) => a.code === 'TRACKER_ERROR'), 'no tracker alarm for a retired DCP');
  // The server keeps the withdrawn torrent's tombstone and takes the agent's report on it.
  const row = await waitFor('retired reported', async () => {
    const st = (await groupStatus(server.url, G.id, G.password)) as { torrents: { infoHash: string; peers: { peer: string; state: string }[] }[] };
    return st.torrents.find((x) => x.infoHash === pub.infoHash)?.peers.find((p) => p.peer === 'site-retain' && p.state === 'retired');
  }, 30_000);
  t.is(row.state, 'retired');

  // Under the reserve, the status (and the page) list what each retired DCP would free.
  await agent.setMinFreeBytes(2 ** 60);
  const held = await waitFor('listed as reclaimable', () => agent.getStatus().reclaimable?.find((r) => r.infoHash === pub.infoHash), 30_000);
  t.is(held.bytes, pub.size);
  t.regex(held.keptBecause, /^kept until /);
  await agent.setMinFreeBytes(0);
  t.is(agent.getStatus().reclaimable, undefined, 'not listed while space is fine');

  // A day later: inside keepDays, kept.
  now += 1 * DAY;
  await new Promise((r) => setTimeout(r, 2500));
  t.true(await exists(ingestCopy));
  // Past keepDays but the TMS holds its lock file in the ingest copy: kept.
  await fs.writeFile(path.join(ingestCopy, '.tms-lock'), '');
  now += 2 * DAY;
  await new Promise((r) => setTimeout(r, 2500));
  t.true(await exists(ingestCopy), 'never removed while marked in use');
  t.true(await exists(download));

  await fs.rm(path.join(ingestCopy, '.tms-lock'));
  const removed = await waitFor('removed', () => /removed by retention/.test(view()?.message ?? '') && view(), 30_000);
  t.is(removed.state, 'retired');
  t.regex(removed.message ?? '', /freed/);
  t.false(await exists(ingestCopy));
  t.false(await exists(download));
});
