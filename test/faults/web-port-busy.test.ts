// The agent's status page port is taken when `cineswarm agent` starts: the agent runs on, says so
// once, and the page comes up by itself once the port is free, without a restart.
import test from 'ava';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../helpers/net.js';
import { tempDir } from '../helpers/tmp.js';
import { agentConfig, spawnAgent, waitFor } from '../e2e/rig.js';

test('a status page port busy at start is tried again; the page answers once the port is free', async (t) => {
  const root = await tempDir(t, 'cineswarm-webbusy-');
  const blocker = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => (blocker.listening ? blocker.close(() => resolve()) : resolve())));
  // No server answers: the page must come up all the same.
  const cfg = { ...agentConfig({ id: 'cinema-web', server: `http://127.0.0.1:${await freePort()}`, groups: [], root }), web: { host: '127.0.0.1', port, password: 'projectionist' } };
  const file = path.join(root, 'agent.json');
  await fs.writeFile(file, JSON.stringify(cfg));
  const proc = spawnAgent(t, file);
  const busy = await waitFor('the agent to say the port is taken', () => proc.lines.find((l) => /status page: port \d+ on 127\.0\.0\.1 is taken/.test(String(l.msg))), 60_000, 100);
  t.regex(String(busy.msg), new RegExp(`^status page: port ${port} on 127\\.0\\.0\\.1 is taken by another process; trying again every 10 s$`));
  t.is(proc.child.exitCode, null, 'the agent runs on');

  await new Promise<void>((resolve) => blocker.close(() => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the status page to answer', () => fetch(`${url}/api/status`).then((r) => r.ok, () => false), 40_000, 250);
  const status = (await (await fetch(`${url}/api/status`)).json()) as { id: string };
  t.is(status.id, 'cinema-web');
  t.is(proc.lines.filter((l) => /is taken by another process/.test(String(l.msg))).length, 1, 'said once, not once per try');
  t.true(proc.lines.some((l) => /^status page listening after \d+ refused tries$/.test(String(l.msg))));
  const pid = JSON.parse(await fs.readFile(path.join(cfg.dataDir, 'agent.pid'), 'utf8')) as { url: string };
  t.is(pid.url, url, 'join and leave find the page');
  proc.child.kill('SIGTERM');
  t.is(await proc.exited, 0);
});
