// The publish and status commands as a user runs them: one-line errors on stderr with a non-zero
// exit, a broken DCP refused before anything is uploaded, and `--seed` serving a real agent.
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { generateDcp } from '../helpers/dcp-generator.js';
import { tempDir } from '../helpers/tmp.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { agentConfig, groupStatus, spawnAgent, startServer, waitFor, ownerOf } from './rig.js';
import { runCli } from '../helpers/cli.js';

const MiB = 1024 * 1024;
const MAIN = path.join(REPO_ROOT, 'src/cli/main.ts');

const cli = (args: string[]) => runCli(args, { CINESWARM_LOG_LEVEL: 'silent' });

test('publish: refusals are one clear line each, and nothing is uploaded for a broken DCP', async (t) => {
  const root = await tempDir(t, 'cineswarm-cli-');
  const server = await startServer(t, path.join(root, 'server'));
  const good = await generateDcp(path.join(root, 'good', 'CLI_GOOD_FTR'), { assetSizes: [2 * MiB, 1 * MiB], seed: 101 });
  const broken = await generateDcp(path.join(root, 'broken', 'CLI_BROKEN_FTR'), { assetSizes: [2 * MiB, 1 * MiB], seed: 102 });
  await fs.truncate(broken.assets[0].path, 1000);
  const base = ['--server', server.url, '--group', 'cli-group', '--owner-password', 'owner-secret', '--password', 'secret'];

  const refused = await cli(['publish', broken.dir, ...base, '--create']);
  t.is(refused.code, 1);
  // Progress of the long work comes first as plain lines (not a terminal), then the one-line error.
  const progress = /^(verifying|hashing): .*\n/gm;
  t.regex(refused.stderr, /^verifying: (\d+\.\d% of|done)/);
  t.regex(refused.stderr.replace(progress, ''), /^cineswarm publish: refusing to publish CLI_BROKEN_FTR: the DCP does not verify \(.*j2c_.*\.mxf.*\)\n$/);
  const none = await fetch(`${server.url}/api/groups/cli-group/torrents`, { headers: { authorization: 'Basic ' + Buffer.from('cli-group:secret').toString('base64') } });
  t.is(none.status, 401, 'not even the group was created (an unknown group answers as a wrong password)');

  const ok = await cli(['publish', good.dir, ...base, '--create']);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /^published CLI_GOOD_FTR \(\d+ bytes, info hash [0-9a-f]{40}\) to group cli-group\nwatch the deliveries at http:\/\/127\.0\.0\.1:\d+\/ or with: cineswarm deliveries --server \S+ --group cli-group --watch\n$/);
  t.regex(ok.stderr, /^hashing: done, [\d.]+ MB in /m, 'hashing progress, plain lines off a terminal');

  const [taken, twice, wrongPw, noGroup] = await Promise.all([
    cli(['publish', good.dir, ...base, '--create']),
    cli(['publish', good.dir, ...base]),
    cli(['publish', good.dir, '--server', server.url, '--group', 'cli-group', '--owner-password', 'wrong']),
    cli(['publish', good.dir, '--server', server.url, '--group', 'nobody-here', '--owner-password', 'x']),
  ]);
  t.is(taken.code, 1);
  t.is(taken.stderr, 'cineswarm publish: group id cli-group is already taken; choose another id or drop --create if it is yours\n');
  t.is(twice.code, 1);
  t.is(twice.stderr, 'cineswarm publish: a DCP named CLI_GOOD_FTR is already published in group cli-group; it was not replaced (to seed the published DCP again, use cineswarm seed --data DIR (its data dir), or publish --seed with its own files)\n');
  t.is(wrongPw.code, 1);
  t.is(wrongPw.stderr, 'cineswarm publish: the server refused the owner password for group cli-group, or there is no such group (add --create to create it)\n');
  t.is(noGroup.code, 1);
  t.is(noGroup.stderr, 'cineswarm publish: the server refused the owner password for group nobody-here, or there is no such group (add --create to create it)\n');
  const usage = await cli(['publish', good.dir, '--server', server.url]);
  t.is(usage.code, 2);
  t.is(usage.stderr, 'cineswarm publish: --group is required\n');
});

test('publish --seed serves the group until SIGTERM; status shows an agent as a table and as JSON', async (t) => {
  const root = await tempDir(t, 'cineswarm-cli-seed-');
  const server = await startServer(t, path.join(root, 'server'));
  const dcp = await generateDcp(path.join(root, 'pub', 'CLI_SEED_FTR'), { assetSizes: [6 * MiB, 2 * MiB], seed: 103 });
  const G = { id: 'seeded', password: 'pw' };
  const pub = spawn(process.execPath, ['--import=tsx', MAIN, 'publish', dcp.dir, '--server', server.url, '--group', G.id, '--owner-password', ownerOf(G.password), '--password', G.password, '--create', '--seed', '--listen', '127.0.0.1:0', '--peer-id', 'distributor'], {
    cwd: REPO_ROOT,
    env: { ...process.env, CINESWARM_LOG_LEVEL: 'silent' },
  });
  let out = '';
  pub.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const pubExit = new Promise<number | null>((r) => pub.on('exit', (code) => r(code)));
  t.teardown(() => {
    if (pub.exitCode === null) pub.kill('SIGKILL');
  });
  await waitFor('publisher seeding', () => /seeding on port \d+/.test(out), 60_000);

  // The agent runs as the real command, with its status page on a free port.
  const cfg = { ...agentConfig({ id: 'cli-site', server: server.url, groups: [G], root }), web: { host: '127.0.0.1', port: 0 } };
  const cfgFile = path.join(root, 'agent.json');
  await fs.writeFile(cfgFile, JSON.stringify(cfg));
  const agent = spawnAgent(t, cfgFile);
  const urlLine = await waitFor('status page listening', () => agent.lines.find((l) => l.msg === 'status page listening'), 60_000);
  const url = urlLine.url as string;
  await waitFor('agent seeding (seen through the server)', async () => {
    const s = (await groupStatus(server.url, G.id, G.password)) as { torrents: { peers: { peer: string; state: string }[] }[] };
    return s.torrents[0]?.peers.some((p) => p.peer === 'cli-site' && p.state === 'seeding');
  }, 90_000);
  const status = (await groupStatus(server.url, G.id, G.password)) as { torrents: { peers: { peer: string; state: string }[] }[] };
  t.true(status.torrents[0].peers.some((p) => p.peer === 'distributor' && p.state === 'seeding'), 'the publisher reports as the initiator');
  // The agent's report carries DESIGN.md's full body: role, rates and its own verification.
  const site = (status.torrents[0].peers as Array<Record<string, unknown>>).find((p) => p.peer === 'cli-site')!;
  t.like(site, { role: 'cinema', progress: 1, verify: { state: 'passed', failed: [] } });
  t.is(typeof site.downloadBps, 'number');
  t.is(typeof site.uploadBps, 'number');
  t.false('etaSeconds' in site, 'no ETA once seeding');

  const table = await cli(['status', '--agent', url]);
  t.is(table.code, 0, table.stderr);
  t.regex(table.stdout, /^agent cli-site /);
  t.regex(table.stdout, /CLI_SEED_FTR\s+seeded\s+seeding\s+100\.0%/);
  const json = await cli(['status', '--agent', url, '--json']);
  const parsed = JSON.parse(json.stdout) as { id: string; torrents: { name: string; state: string }[] };
  t.is(parsed.id, 'cli-site');
  t.like(parsed.torrents[0], { name: 'CLI_SEED_FTR', state: 'seeding' });
  const closedPort = await new Promise<number>((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
  const down = await cli(['status', '--agent', `http://127.0.0.1:${closedPort}`]);
  t.is(down.code, 1);
  t.is(down.stderr, `cineswarm status: cannot reach the agent at http://127.0.0.1:${closedPort} (ECONNREFUSED)\n`);

  agent.child.kill('SIGTERM');
  t.is(await agent.exited, 0);
  pub.kill('SIGTERM');
  t.is(await pubExit, 0);
});
