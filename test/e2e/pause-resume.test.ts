// A projectionist pauses a download during a show and resumes it later: while paused nothing is
// received, and after resume the transfer picks up again from the only seeder, a capped publisher.
import test from 'ava';
import { agentConfig, publishedSwarm, startAgent, waitFor } from './rig.js';

const MiB = 1024 * 1024;

test('pause holds the download still; resume picks it up again from the sole capped seeder', async (t) => {
  const { root, server, G, pub } = await publishedSwarm(t, { prefix: 'cineswarm-pause-', name: 'PAUSE_TEST_FTR', assetSizes: [36 * MiB, 4 * MiB], seed: 5, group: { id: 'pause', password: 'pw' }, uploadLimit: 2_000_000 });
  const agent = await startAgent(t, agentConfig({ id: 'pause-1', server: server.url, groups: [G], root }));
  const torrent = () => agent.engine.find(pub.infoHash);

  await waitFor('a fifth downloaded', () => (torrent()?.status().progress ?? 0) > 0.2, 120_000, 100);
  await agent.pause(pub.infoHash);
  t.true(torrent()!.status().paused);
  await waitFor('paused in the status', () => agent.getStatus().torrents.find((x) => x.infoHash === pub.infoHash)?.state === 'paused', 10_000, 100);
  // Requests already in flight may still land just after the pause; after that nothing moves.
  await new Promise((r) => setTimeout(r, 1500));
  const held = torrent()!.status().totalWantedDone;
  await new Promise((r) => setTimeout(r, 3000));
  t.is(torrent()!.status().totalWantedDone, held, 'no bytes arrive while paused');

  const resumedAt = Date.now();
  await agent.resume(pub.infoHash);
  await waitFor('data flowing again', () => torrent()!.status().totalWantedDone > held + MiB, 180_000, 100);
  t.log(`data flowing again ${((Date.now() - resumedAt) / 1000).toFixed(1)} s after resume`);
  await waitFor('complete and verified', () => ['ready', 'seeding'].includes(agent.getStatus().torrents.find((x) => x.infoHash === pub.infoHash)?.state ?? ''), 180_000, 200);
});
