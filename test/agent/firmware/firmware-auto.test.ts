// Firmware auto-update in a running agent: with firmware.autoUpdate on, a signed newer bundle
// published on the central server is fetched, checked and staged for the root updater; with it
// off nothing is fetched; a bundle the site's key did not sign is refused, said once, and the
// agent carries on.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { tempDir } from '../../helpers/tmp.js';
import { agentConfig, startAgent, startServer, waitFor } from '../../e2e/rig.js';
import { buildTestBundle, makeKeys } from '../../firmware/fixture.js';
import { Agent } from '../../../src/agent/agent.js';
import type { AgentConfig } from '../../../src/agent/config/config.js';

async function publish(server: string, serverData: string, bundle: { archive: string; signature: string }): Promise<void> {
  const token = (await fs.readFile(path.join(serverData, 'admin-token'), 'utf8')).trim();
  const res = await fetch(`${server}/api/firmware`, {
    method: 'POST',
    body: await fs.readFile(bundle.archive),
    headers: {
      'content-type': 'application/gzip',
      authorization: `Bearer ${token}`,
      'x-cineswarm-signature': (await fs.readFile(bundle.signature, 'utf8')).trim(),
    },
  });
  if (res.status !== 201) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
}

function withFirmware(cfg: AgentConfig, firmware: Partial<AgentConfig['firmware']>): AgentConfig {
  return { ...cfg, firmware: { ...cfg.firmware, checkMinutes: 0.02, ...firmware } };
}

const ls = (dir: string) => fs.readdir(dir).then((x) => x.sort(), () => [] as string[]);

test('an agent with autoUpdate stages a newer signed bundle; one without fetches nothing', async (t) => {
  const root = await tempDir(t, 'cineswarm-fwauto-');
  const server = await startServer(t, path.join(root, 'server'));
  const keys = await makeKeys(path.join(root, 'keys'));
  const bundle = await buildTestBundle({ workDir: root, version: '9.0.0', keys });
  await publish(server.url, server.dataDir, bundle);

  const on = await startAgent(t, withFirmware(agentConfig({ id: 'fw-on', server: server.url, groups: [], root }), { autoUpdate: true, publicKey: keys.publicKeyFile }));
  const off = await startAgent(t, withFirmware(agentConfig({ id: 'fw-off', server: server.url, groups: [], root }), { autoUpdate: false, publicKey: keys.publicKeyFile }));
  const staging = path.join(on.config.dataDir, 'firmware');

  await waitFor('bundle staged', async () => (await ls(staging)).includes('pending.json'), 60_000);
  const pending = JSON.parse(await fs.readFile(path.join(staging, 'pending.json'), 'utf8')) as { version: string; bundle: string; signature: string };
  t.like(pending, { version: '9.0.0', bundle: 'cineswarm-9.0.0.tar.gz', signature: 'cineswarm-9.0.0.tar.gz.sig' });
  t.deepEqual(await ls(staging), ['cineswarm-9.0.0.tar.gz', 'cineswarm-9.0.0.tar.gz.sig', 'pending.json']);
  t.true((await fs.readFile(path.join(staging, pending.bundle))).equals(await fs.readFile(bundle.archive)), 'the published bundle, byte for byte');

  // Later checks ask with the ETag of the first answer: the server says "unchanged" (304), so the
  // staged outcome stands and the request is left alone.
  const stagedAt = await waitFor('staged status', () => on.getStatus().firmware?.state === 'staged' && on.getStatus().firmware!.at, 30_000);
  await waitFor('two later checks', () => Date.parse(on.getStatus().firmware!.at) > Date.parse(stagedAt) + 2000, 30_000);
  t.like(on.getStatus().firmware, { state: 'staged', version: '9.0.0' }, 'a check without the ETag would have answered pending');
  t.deepEqual(await ls(staging), ['cineswarm-9.0.0.tar.gz', 'cineswarm-9.0.0.tar.gz.sig', 'pending.json']);

  // fw-off started with fw-on and would have checked every 1.2 s as well.
  t.deepEqual(await ls(path.join(off.config.dataDir, 'firmware')), [], 'autoUpdate off: nothing fetched');
  t.is(off.getStatus().firmware, undefined);
});

test('a bundle not signed by the site key is refused, logged once, and the agent keeps going', async (t) => {
  const root = await tempDir(t, 'cineswarm-fwauto-');
  const server = await startServer(t, path.join(root, 'server'));
  const keys = await makeKeys(path.join(root, 'keys'));
  const siteKeys = await makeKeys(path.join(root, 'site-keys'));
  await publish(server.url, server.dataDir, await buildTestBundle({ workDir: root, version: '9.1.0', keys }));

  const lines: { msg: string; level: number; component?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      done();
    },
  });
  const cfg = withFirmware(agentConfig({ id: 'fw-bad', server: server.url, groups: [], root }), { autoUpdate: true, publicKey: siteKeys.publicKeyFile });
  const agent = new Agent(cfg, { logger: pino({ level: 'info' }, sink), monitor: false });
  await agent.start();
  t.teardown(() => agent.stop());

  const firstAt = await waitFor('a refused check', () => {
    const f = agent.getStatus().firmware;
    return f?.state === 'failed' && f.at;
  }, 60_000);
  const f = agent.getStatus().firmware!;
  t.regex(f.message ?? '', /firmware 9\.1\.0 from the server was refused: .*not signed by the trusted key/);
  await waitFor('three more checks', () => Date.parse(agent.getStatus().firmware!.at) > Date.parse(firstAt) + 3000, 30_000);
  t.is(agent.getStatus().firmware?.state, 'failed');
  const said = lines.filter((l) => l.component === 'firmware' && /refused/.test(l.msg));
  t.is(said.length, 1, 'the same refusal is logged once, not at every check');
  t.regex(said[0].msg, /keeps running its current version/);
  t.deepEqual(await ls(path.join(cfg.dataDir, 'firmware')), [], 'nothing left for the updater');
});
