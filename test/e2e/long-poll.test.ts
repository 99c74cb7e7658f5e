// An agent learns of a new DCP through its long poll of the torrent list: its interval poll is set
// to an hour, so only the held request (answered by the server at the upload) can tell it.
import test from 'ava';
import path from 'node:path';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { agentConfig, publishAndSeed, startAgent, startServer, waitFor } from './rig.js';

test('a DCP published after the agent started is offered to it by the long poll, not the hourly poll', async (t) => {
  const root = await tempDir(t, 'cineswarm-longpoll-');
  const server = await startServer(t, path.join(root, 'server'));
  const G = { id: 'lp-group', password: 'pw' };
  // The group exists (and is empty) before the agent's first poll.
  const empty = await generateDcp(path.join(root, 'pub', 'LP_FIRST_FTR'), { assetSizes: [1024 * 1024, 512 * 1024], seed: 171 });
  await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: empty.dir, peerId: 'pub-1' });
  const cfg = agentConfig({ id: 'lp-site', server: server.url, groups: [G], root, pollSeconds: 3600 });
  const agent = await startAgent(t, { ...cfg, poll: { ...cfg.poll, jitterSeconds: 0, longPollSeconds: 30 } });
  await waitFor('first poll', () => agent.getStatus().torrents.some((x) => x.name === 'LP_FIRST_FTR'), 60_000);
  const second = await generateDcp(path.join(root, 'pub', 'LP_SECOND_FTR'), { assetSizes: [1024 * 1024, 512 * 1024], seed: 172 });
  await publishAndSeed(t, { server: server.url, group: G.id, password: G.password, dcpDir: second.dir, create: false, peerId: 'pub-2' });
  const seen = await waitFor('the second DCP offered', () => agent.getStatus().torrents.find((x) => x.name === 'LP_SECOND_FTR'), 60_000);
  t.is(seen.group, G.id);
});
