// LISTEN_PORT_TAKEN: a real agent whose configured BitTorrent port is held by another program
// raises the alarm, names both ports, and shows it in its status; a free port raises nothing.
import test from 'ava';
import net from 'node:net';
import path from 'node:path';
import { validateConfig } from '../../../src/agent/config/config.js';
import { agentConfig, startAgent, startServer } from '../../e2e/rig.js';
import { tempDir } from '../../helpers/tmp.js';
import { freePort } from '../../helpers/net.js';

test('a taken listen port raises LISTEN_PORT_TAKEN with both ports; a free one does not', async (t) => {
  const root = await tempDir(t, 'cineswarm-listen-');
  const server = await startServer(t, path.join(root, 'server'));
  // Another program on the port the cinema's firewall forwards.
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => squatter.close(() => r())));
  const taken = (squatter.address() as net.AddressInfo).port;

  const base = agentConfig({ id: 'site-port', server: server.url, groups: [], root });
  const agent = await startAgent(t, validateConfig({ ...base, listen: { host: '127.0.0.1', port: taken } }));
  t.not(agent.listenPort, taken);
  const alarm = agent.getStatus().alarms.find((a) => a.code === 'LISTEN_PORT_TAKEN');
  t.truthy(alarm);
  t.is(alarm!.severity, 'warning');
  t.true(alarm!.message.includes(`Port ${taken} `), alarm!.message);
  t.true(alarm!.message.includes(`port ${agent.listenPort} instead`), alarm!.message);

  const port = await freePort();
  const other = agentConfig({ id: 'site-port-free', server: server.url, groups: [], root });
  const fine = await startAgent(t, validateConfig({ ...other, listen: { host: '127.0.0.1', port } }));
  t.is(fine.listenPort, port);
  t.false(fine.getStatus().alarms.some((a) => a.code === 'LISTEN_PORT_TAKEN'));
});
