// The central server (and so its tracker) goes away and comes back: TRACKER_ERROR is raised while
// it is away and cleared soon after it is back, not when libtorrent's grown retry delay runs out.
import test from 'ava';
import path from 'node:path';
import { buildServer } from '../../src/server/app.js';
import { agentConfig, publishedSwarm, startAgent, waitFor } from '../e2e/rig.js';

const MiB = 1024 * 1024;

test('TRACKER_ERROR clears soon after the server is back, whatever retry delay libtorrent grew meanwhile', async (t) => {
  const { root, server, G, pub } = await publishedSwarm(t, {
    prefix: 'cineswarm-trkback-',
    name: 'TRKBACK_FTR',
    assetSizes: [2 * MiB],
    seed: 157,
    group: { id: 'trkback', password: 'pw' },
  });
  const agent = await startAgent(t, agentConfig({ id: 'cinema-trk', server: server.url, groups: [G], root }));
  await waitFor('the DCP seeding', () => agent.getStatus().torrents.find((x) => x.infoHash === pub.infoHash)?.state === 'seeding', 90_000);
  // What hours of outage do to libtorrent's retry delay ((5 + 5·fails²) s × tracker_backoff %,
  // up to an hour), made to happen at the first failure: its own next try is an hour away.
  agent.engine.applySettings({ raw: { tracker_backoff: 100_000 } });

  await server.close();
  const raised = await waitFor('TRACKER_ERROR while the server is away', () => agent.getStatus().alarms.find((a) => a.code === 'TRACKER_ERROR'), 60_000);
  t.true(raised.message.includes('TRKBACK_FTR'), raised.message);

  const back = await buildServer({ dataDir: path.join(root, 'server'), logger: false, announceIntervalSeconds: 5, openGroups: true });
  await back.listen({ host: '127.0.0.1', port: server.port });
  t.teardown(() => back.close());
  await waitFor('TRACKER_ERROR cleared', () => !agent.alarms.has('TRACKER_ERROR'), 90_000);
  t.is(agent.getStatus().torrents.find((x) => x.infoHash === pub.infoHash)?.state, 'seeding');
});
