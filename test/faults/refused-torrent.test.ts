// A torrent the agent cannot start for what it is (here: the server refuses this cinema's peer key,
// as after a disk swap) is tried again once per poll, not every few seconds, and the reason is said
// once: one log line, one message in the status. Once the owner resets the key it starts.
import test from 'ava';
import path from 'node:path';
import { buildServer } from '../../src/server/app.js';
import { Agent } from '../../src/agent/agent.js';
import { logSink } from '../helpers/log-sink.js';
import { tempDir } from '../helpers/tmp.js';
import { basic, makeTorrent } from '../server/helpers.js';
import { agentConfig, createGroupOn, ownerOf, waitFor } from '../e2e/rig.js';

test('a refused torrent is tried once per poll and its reason said once; it starts after the owner resets the key', async (t) => {
  const root = await tempDir(t, 'cineswarm-refused-');
  const app = await buildServer({ dataDir: path.join(root, 'server'), logger: false, announceIntervalSeconds: 5, openGroups: true });
  const seen = { polls: 0, fetches: 0 };
  app.addHook('onRequest', async (req) => {
    const p = req.url.split('?')[0];
    if (req.method !== 'GET') return;
    if (p === '/api/groups/g/torrents') seen.polls++;
    if (p === '/api/groups/g/torrents/Refused_FTR') seen.fetches++;
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const G = { id: 'g', password: 'pw' };
  await createGroupOn(url, G);
  const torrent = makeTorrent({ name: 'Refused_FTR', content: Buffer.alloc(50000, 9) });
  const up = await fetch(`${url}/api/groups/g/torrents`, { method: 'POST', headers: { authorization: basic('g', ownerOf('pw')), 'content-type': 'application/x-bittorrent' }, body: new Uint8Array(torrent) });
  t.is(up.status, 201);
  // Another key was bound to this cinema's peer id first (its old disk, or an impostor).
  const taken = await fetch(`${url}/api/groups/g/torrents/Refused_FTR?peer=cinema-r`, { headers: { authorization: basic('g', 'pw'), 'cineswarm-peer': 'cinema-r the-key-of-the-old-disk' } });
  t.is(taken.status, 200);
  seen.fetches = 0;

  const { logger, lines } = logSink('debug');
  // Interval polls only (no long poll), so every listing the server sees is one poll of the agent.
  const cfg = agentConfig({ id: 'cinema-r', server: url, groups: [G], root, pollSeconds: 8 });
  const agent = new Agent({ ...cfg, poll: { ...cfg.poll, longPollSeconds: 0 } }, { logger, monitor: false });
  await agent.start();
  t.teardown(() => agent.stop());
  const view = () => agent.getStatus().torrents.find((x) => x.name === 'Refused_FTR');
  await waitFor('three interval polls', () => seen.polls >= 3, 60_000, 100);
  const refusedLines = lines.filter((l) => l.level === 40 && /Refused_FTR: could not start/.test(l.msg));
  t.is(refusedLines.length, 1, refusedLines.map((l) => l.msg).join('\n'));
  t.regex(refusedLines[0]!.msg, /^Refused_FTR: could not start: .* is bound to another peer key: .*the group's owner can reset the key/);
  t.true(seen.fetches >= 2, `tried again after a poll (${seen.fetches} fetches)`);
  t.true(seen.fetches <= seen.polls, `${seen.fetches} fetches for ${seen.polls} polls`);
  t.regex(view()?.message ?? '', /^could not start: /);
  t.is(lines.filter((l) => l.level > 20 && /Refused_FTR/.test(l.msg) && /could not start/.test(l.msg)).length, 1, 'no second line for the same reason');

  const reset = await fetch(`${url}/api/groups/g/peers/cinema-r/key`, { method: 'DELETE', headers: { authorization: basic('g', ownerOf('pw')) } });
  t.is(reset.status, 204);
  await waitFor('the torrent to start after the next poll', () => view()?.state === 'downloading' && !view()?.message, 60_000, 100);
});
