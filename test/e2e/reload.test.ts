// SIGHUP to a running agent process: the re-read config reaches every consumer at once. A new
// minFreeBytes raises or clears LOW_DISK straight away, a group added to the file is joined and
// delivers, a group removed is left and its DCP retired; settings taken at start wait and say so.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { generateDcp } from '../helpers/dcp-generator.js';
import { diskUsage } from '../../src/util/disk-usage.js';
import { agentConfig, publishAndSeed, publishedSwarm, spawnAgentWithWeb, waitFor } from './rig.js';

const MiB = 1024 * 1024;

test('SIGHUP: LOW_DISK follows a new minFreeBytes at once; groups are joined and left without a restart', async (t) => {
  const { root, server, G: A, pub } = await publishedSwarm(t, { prefix: 'cineswarm-reload-', name: 'RELOAD_A_FTR', assetSizes: [2 * MiB, 1 * MiB], seed: 171, group: { id: 'reload-a', password: 'pa' } });
  const cfg = agentConfig({ id: 'reloader', server: server.url, groups: [A], root });
  const { proc: agent, file, web, config: running } = await spawnAgentWithWeb(t, root, cfg);
  const torrent = async (name: string) => (await web.status()).torrents.find((x) => x.name === name);
  await waitFor('first DCP seeding', async () => (await torrent(pub.name))?.state === 'seeding', 60_000);

  const reloads = () => agent.lines.filter((l) => l.msg === 'config reloaded').length;
  const hup = async (next: object) => {
    await fs.writeFile(file, JSON.stringify(next));
    const n = reloads();
    agent.child.kill('SIGHUP');
    await waitFor('config reloaded', () => reloads() > n, 30_000, 50);
  };
  const lowDisk = async () => (await web.status()).alarms.some((a) => a.code === 'LOW_DISK');

  // A reserve beyond the disk, and a listen port (taken only when the engine starts).
  const free = (await diskUsage(root)).free;
  await hup({ ...running, minFreeBytes: free + 1e15, listen: { host: '127.0.0.1', port: 6999 } });
  t.true(await lowDisk(), 'LOW_DISK raised by the reload itself, not at a later sample');
  t.deepEqual((await web.status()).config?.restartNeededFor, ['listen']);
  t.true(agent.lines.some((l) => String(l.msg).includes('take effect only after a restart')), 'one log line names what waits for a restart');
  await hup({ ...running, minFreeBytes: 0 });
  t.false(await lowDisk(), 'LOW_DISK cleared by the reload itself');

  const B = { id: 'reload-b', password: 'pb' };
  const dcpB = await generateDcp(path.join(root, 'pub-b', 'RELOAD_B_FTR'), { assetSizes: [2 * MiB, 1 * MiB], seed: 172 });
  const pubB = await publishAndSeed(t, { server: server.url, group: B.id, password: B.password, dcpDir: dcpB.dir });
  await hup({ ...running, groups: [A, B] });
  await waitFor('the new group delivers', async () => (await torrent(pubB.name))?.state === 'seeding', 60_000);
  t.is((await web.status()).groups.find((g) => g.id === B.id)?.state, 'joined');

  await hup({ ...running, groups: [A] });
  const retired = await waitFor('the left group\'s DCP retired', async () => {
    const v = await torrent(pubB.name);
    return v?.state === 'retired' && v;
  }, 30_000);
  t.regex(retired.message ?? '', /group reload-b left/);
  const s = await web.status();
  t.deepEqual(s.groups.map((g) => g.id), [A.id]);
  t.is((await torrent(pub.name))?.state, 'seeding', 'the other group is untouched');
  t.true(agent.lines.some((l) => String(l.msg).startsWith('step: retire')));
  t.deepEqual(await fs.readdir(cfg.ingestDir).then((n) => n.sort()), [pub.name, pubB.name].sort(), 'retiring removes no files');
  t.is(agent.lines.filter((l) => l.msg === 'agent started').length, 1, 'no restart');
  t.is(agent.child.exitCode, null);
});
