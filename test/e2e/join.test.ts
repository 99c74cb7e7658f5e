// `cineswarm join` and `leave` as a projectionist runs them, against a real server and a running
// agent process: a wrong password is refused in one line and the config stays byte for byte; the
// right one makes the agent download the group's DCP without a restart; leave retires it and keeps
// its files, leave --delete removes them. With no agent running, join writes the config file itself.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../helpers/net.js';
import { agentConfig, agentWeb, publishedSwarm, spawnAgent, waitFor } from './rig.js';
import { runCli } from '../helpers/cli.js';

const MiB = 1024 * 1024;

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { CINESWARM_LOG_LEVEL: 'silent', ...env });

test('join: refused without touching the config; accepted by the running agent, which downloads at once; leave retires', async (t) => {
  const { root, server, G, pub } = await publishedSwarm(t, { prefix: 'cineswarm-join-', name: 'JOIN_FTR', assetSizes: [2 * MiB, 1 * MiB], seed: 181, group: { id: 'join-a', password: 'member-pw' } });
  const port = await freePort();
  const cfg = { ...agentConfig({ id: 'joiner', server: server.url, groups: [], root }), web: { host: '127.0.0.1', port, password: 'projectionist' } };
  const file = path.join(root, 'agent.json');
  await fs.writeFile(file, JSON.stringify(cfg, null, 2));
  const agent = spawnAgent(t, file);
  const url = `http://127.0.0.1:${port}`;
  await waitFor('status page up', () => fetch(`${url}/api/status`).then((r) => r.ok, () => false), 60_000);
  await waitFor('pid file written', () => fs.readFile(path.join(cfg.dataDir, 'agent.pid'), 'utf8').then((s) => s.includes(url), () => false), 30_000);
  const before = await fs.readFile(file);

  for (const [group, password] of [[G.id, 'not-the-password'], ['no-such-group', 'member-pw']]) {
    const refused = await cli(['join', '--group', group, '--password', password, '--config', file]);
    t.is(refused.code, 1);
    // The server answers alike for both, so the message does too: ids cannot be probed.
    t.is(refused.stderr, `cineswarm join: the server at ${server.url} refused group ${group}: wrong password or no such group\n`);
    t.deepEqual(await fs.readFile(file), before, 'the config is untouched');
  }
  const joined = await cli(['join', '--group', G.id, '--password', G.password, '--config', file]);
  t.is(joined.code, 0, joined.stderr);
  t.is(joined.stdout, 'Joined group join-a; its DCPs start with the next poll.\n');

  const web = await agentWeb(url, 'projectionist');
  const seeding = await waitFor('the joined group delivers', async () => (await web.status()).torrents.find((x) => x.name === pub.name && x.state === 'seeding'), 60_000);
  t.is(seeding.group, G.id);
  const written = JSON.parse(await fs.readFile(file, 'utf8')) as typeof cfg;
  t.deepEqual(written.groups, [G]);
  t.is(written.web.password, 'projectionist', 'the rest of the file is kept');
  t.is(agent.lines.filter((l) => l.msg === 'agent started').length, 1, 'no restart');

  const left = await cli(['leave', '--group', G.id, '--config', file]);
  t.is(left.code, 0, left.stderr);
  const retired = await waitFor('DCP retired', async () => (await web.status()).torrents.find((x) => x.name === pub.name && x.state === 'retired'), 30_000);
  t.regex(retired.message ?? '', /group join-a left/);
  t.deepEqual((JSON.parse(await fs.readFile(file, 'utf8')) as typeof cfg).groups, []);
  const again = await cli(['leave', '--group', G.id, '--config', file]);
  t.is(again.code, 1);
  t.is(again.stderr, 'cineswarm leave: this agent is not in group join-a\n');
  const copies = [path.join(cfg.downloadDir, pub.infoHash, pub.name), path.join(cfg.ingestDir, pub.name)];
  const present = () => Promise.all(copies.map((p) => fs.access(p).then(() => true, () => false)));
  t.deepEqual(await present(), [true, true], 'a plain leave keeps the files');

  // Joined again and left with --delete: the copies go at once, whatever retention.keepDays says.
  t.is((await cli(['join', '--group', G.id, '--password', G.password, '--config', file])).code, 0);
  await waitFor('listed again', async () => (await web.status()).groups.some((g) => g.id === G.id && g.state === 'joined'), 30_000);
  const deleted = await cli(['leave', '--group', G.id, '--delete', '--config', file]);
  t.is(deleted.code, 0, deleted.stderr);
  t.is(deleted.stdout, 'Left group join-a; its 1 DCP is removed (download and ingest copies) unless another group offers them or they are marked in use.\n');
  const removed = await waitFor('removed', async () => (await web.status()).torrents.find((x) => x.name === pub.name && /as asked when group join-a was left/.test(x.message ?? '')), 30_000);
  t.is(removed.state, 'retired');
  t.deepEqual(await present(), [false, false], 'leave --delete removed both copies');

  // A server that cannot be reached: one line, nothing changed.
  const deadPort = await freePort();
  const other = path.join(root, 'other.json');
  await fs.writeFile(other, JSON.stringify({ ...cfg, server: `http://127.0.0.1:${deadPort}` }));
  const otherBefore = await fs.readFile(other);
  const dead = await cli(['join', '--group', G.id, '--password', G.password, '--config', other]);
  t.is(dead.code, 1);
  t.regex(dead.stderr, /^cineswarm join: cannot reach the server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\).*nothing was changed\n$/);
  t.deepEqual(await fs.readFile(other), otherBefore);
});

test('join with no agent running writes the config file itself (password from the environment)', async (t) => {
  const { root, server, G } = await publishedSwarm(t, { prefix: 'cineswarm-join-off-', name: 'JOIN_OFF_FTR', assetSizes: [1 * MiB], seed: 182, group: { id: 'join-off', password: 'pw-off' } });
  const cfg = agentConfig({ id: 'offline', server: server.url, groups: [], root });
  const file = path.join(root, 'agent.json');
  await fs.writeFile(file, JSON.stringify(cfg), { mode: 0o640 });
  // A pid file left by a crash names a process that is gone: it is not taken for a running agent.
  await fs.mkdir(cfg.dataDir, { recursive: true });
  await fs.writeFile(path.join(cfg.dataDir, 'agent.pid'), JSON.stringify({ pid: 2 ** 22 + 17, url: 'http://127.0.0.1:9' }));
  const r = await cli(['join', '--group', G.id, '--config', file], { CINESWARM_PASSWORD: G.password });
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^Joined group join-off in .*agent\.json; no agent runs now/);
  t.deepEqual((JSON.parse(await fs.readFile(file, 'utf8')) as typeof cfg).groups, [G]);
  t.is((await fs.stat(file)).mode & 0o777, 0o640, 'the file keeps its permissions');
  // leave --delete with no agent: the group's DCPs in the history are marked for the next start.
  await fs.writeFile(path.join(cfg.dataDir, 'history.json'), JSON.stringify({ version: 2, conflicts: [], entries: { ['c'.repeat(40)]: { name: 'OLD_FTR', infoHash: 'c'.repeat(40), group: G.id, sizeBytes: 1, addedAt: 'x', state: 'seeding', verify: { state: 'passed', failed: [] } } } }));
  const off = await cli(['leave', '--group', G.id, '--delete', '--config', file]);
  t.is(off.code, 0, off.stderr);
  t.regex(off.stdout, /^Left group join-off in .*agent\.json; no agent runs now\. Its 1 DCP is removed when the agent next starts\.\n$/);
  t.deepEqual(JSON.parse(await fs.readFile(path.join(cfg.dataDir, 'intent.json'), 'utf8')).torrents, { ['c'.repeat(40)]: { delete: true } });
  const usage = await cli(['join', '--config', file]);
  t.is(usage.code, 2);
  t.is(usage.stderr, 'cineswarm join: --group ID is required\n');
});
