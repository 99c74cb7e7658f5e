// Pause and resume of a DCP that is already seeding, in a real agent process: the loop runs no
// verify step (its step log says so) and the process reads less than 1 MB meanwhile
// (rchar in /proc/<pid>/io), where a re-verify would read the whole DCP again.
import test from 'ava';
import fs from 'node:fs/promises';
import { agentConfig, publishedSwarm, spawnAgentWithWeb, waitFor } from './rig.js';

const MiB = 1024 * 1024;

test('pause + resume of a seeding DCP: no verify step, and under 1 MB read by the agent', async (t) => {
  const { root, server, G, pub } = await publishedSwarm(t, { prefix: 'cineswarm-pause-io-', name: 'PAUSE_IO_FTR', assetSizes: [12 * MiB, 4 * MiB], seed: 181, group: { id: 'pause-io', password: 'pw' } });
  const cfg = agentConfig({ id: 'io-site', server: server.url, groups: [G], root });
  const { proc: agent, web } = await spawnAgentWithWeb(t, root, cfg);
  const state = async () => (await web.status()).torrents[0]?.state;
  await waitFor('seeding', async () => (await state()) === 'seeding', 60_000);
  await pub.seeder.stop(); // nobody else in the swarm: whatever the agent reads now is its own doing

  const rchar = async () => Number(/^rchar:\s*(\d+)/m.exec(await fs.readFile(`/proc/${agent.child.pid}/io`, 'utf8'))![1]);
  const mark = agent.lines.length;
  const before = await rchar();
  await web.action(pub.infoHash, 'pause');
  await waitFor('paused', async () => (await state()) === 'paused', 30_000, 100);
  await web.action(pub.infoHash, 'resume');
  await waitFor('seeding again', async () => (await state()) === 'seeding', 30_000, 100);
  // A few loop timer passes, where the old chain started its re-verify.
  await new Promise((r) => setTimeout(r, 3000));
  const read = (await rchar()) - before;
  const steps = agent.lines.slice(mark).map((l) => String(l.msg)).filter((m) => m.startsWith('step: '));
  t.log(`steps: ${steps.join(', ')}; agent read ${read} bytes (the DCP is ${pub.size})`);
  t.true(steps.some((m) => m.startsWith('step: pause')) && steps.some((m) => m.startsWith('step: resume')));
  t.false(steps.some((m) => m.startsWith('step: verify')), 'no verify step');
  t.true(read < 1e6, `${read} bytes read`);
});
