// TRACKER_ERROR alarm: the central server comes back with another passkey secret, so its
// tracker refuses the passkey in the agent's torrent; the agent raises the alarm naming the DCP
// and the tracker's words, and clears it once the original server answers its announces again.
// The refusal carries the announce interval, so the agent asks again by itself within seconds.
import test from 'ava';
import path from 'node:path';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { buildServer } from '../../src/server/app.js';
import { buildAgentApi } from '../../src/agent/web/api.js';
import type { AgentStatus } from '../../src/agent/monitoring/status-types.js';
import { agentConfig, publishAndSeed, quiet, startAgent, waitFor } from './rig.js';

const MiB = 1024 * 1024;

test('a tracker refusing the passkey raises TRACKER_ERROR naming the DCP; it clears when announces succeed', async (t) => {
  const root = await tempDir(t, 'cineswarm-trk-');
  const dataDir = path.join(root, 'server');
  let port = 0;
  const servers: { close(): Promise<unknown> }[] = [];
  t.teardown(() => Promise.all(servers.map((s) => s.close())));
  const start = async (secret: string) => {
    const app = await buildServer({ dataDir, logger: false, announceIntervalSeconds: 5, secret, openGroups: true });
    await app.listen({ host: '127.0.0.1', port });
    const addr = app.server.address();
    port = typeof addr === 'object' && addr ? addr.port : port;
    servers.push(app);
    return app;
  };
  let server = await start('the-first-secret');
  const url = `http://127.0.0.1:${port}`;

  const dcp = await generateDcp(path.join(root, 'pub', 'TRACKER_TEST_FTR'), { assetSizes: [36 * MiB, 4 * MiB], seed: 41 });
  const G = { id: 'trk', password: 'pw' };
  const pub = await publishAndSeed(t, { server: url, group: G.id, password: G.password, dcpDir: dcp.dir, uploadLimit: 1_000_000 });
  const agent = await startAgent(t, agentConfig({ id: 'trk-1', server: url, groups: [G], root }));
  const seen: string[] = [];
  const t0 = Date.now();
  agent.engine.on('alert', (a: { type: string; error?: string; message: string }) => {
    if (/tracker/.test(a.type)) seen.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${a.type} ${a.error ?? ''} ${a.message}`);
  });
  t.teardown(() => {
    if (!t.passed) t.log(seen.join('\n'));
  });
  const api = buildAgentApi({ getStatus: () => agent.getStatus(), logger: quiet });
  t.teardown(() => api.close());
  const status = async () => (await api.inject({ url: '/api/status' })).json() as AgentStatus;
  const trackerAlarm = async () => (await status()).alarms.find((a) => a.code === 'TRACKER_ERROR');

  await waitFor('download under way', () => (agent.getStatus().torrents[0]?.progress ?? 0) > 0.05, 120_000);
  t.is(await trackerAlarm(), undefined, 'no alarm while the tracker answers');

  // Same address, same groups, but passkeys signed with another secret are refused.
  await server.close();
  server = await start('another-secret');
  const raised = await waitFor('TRACKER_ERROR raised', async () => {
    const a = await trackerAlarm();
    return a && /unknown passkey/.test(a.message) && a;
  }, 90_000);
  t.log(`alarm: ${raised.message}`);
  t.is(raised.severity, 'warning');
  t.true(raised.message.includes(pub.name), 'names the DCP');
  t.true(raised.message.includes(`tracker 127.0.0.1:${port}`), 'names the tracker');
  t.false(raised.message.includes('/announce/'), 'the passkey in the announce URL is not shown');
  t.is((await status()).torrents[0].state, 'downloading', 'the download itself carries on');

  await server.close();
  server = await start('the-first-secret');
  t.truthy(await trackerAlarm(), 'the alarm holds until an announce succeeds');
  await waitFor('TRACKER_ERROR cleared', async () => (await trackerAlarm()) === undefined, 180_000);
  t.false(agent.alarms.has('TRACKER_ERROR'));
});
