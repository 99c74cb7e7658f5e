// Config validation: defaults filled, and every refusal names the bad field.
import test from 'ava';
import fs from 'node:fs/promises';
import path from 'node:path';
import { validateConfig, loadConfig, ConfigError } from '../../../src/agent/config/config.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { tempDir } from '../../helpers/tmp.js';

const base = () => ({
  id: 'site-1',
  server: 'http://127.0.0.1:8600/',
  groups: [{ id: 'g1', password: 'pw' }],
  dataDir: '/tmp/d',
  downloadDir: '/tmp/dl',
  ingestDir: '/tmp/in',
});

test('a minimal config gets the documented defaults', (t) => {
  const c = validateConfig(base());
  t.is(c.server, 'http://127.0.0.1:8600');
  t.deepEqual(c.poll, { intervalSeconds: 60, jitterSeconds: 30, maxBackoffSeconds: 90, longPollSeconds: 50 });
  t.deepEqual(c.listen, { host: '0.0.0.0', port: 6881 });
  t.is(c.minFreeBytes, 10 * 1024 ** 3);
  t.deepEqual(c.bandwidth, []);
  t.deepEqual(c.firmware, { autoUpdate: false, checkMinutes: 60, publicKey: '/etc/cineswarm/firmware-key.pem' }, 'no firmware fetched unless a site asks');
});

test('the shipped default config is valid', async (t) => {
  const c = await loadConfig(path.join(REPO_ROOT, 'rootfs/etc/cineswarm/agent.json'));
  t.is(c.id, 'site-0001-srv1');
  t.is(c.bandwidth.length, 2);
  t.is(c.web?.password, undefined, 'no default password: the page is read-only until a site sets one');
  // Every bundle installs its signing key at the default path, so the appliance can check updates.
  t.like(c.firmware, { autoUpdate: true, publicKey: '/etc/cineswarm/firmware-key.pem' });
});

const bad: [string, (c: Record<string, unknown>) => void, string][] = [
  ['poll.intervalSeconds', (c) => (c.poll = { intervalSeconds: -5 }), 'config: poll.intervalSeconds must be a positive number'],
  ['poll.intervalSeconds type', (c) => (c.poll = { intervalSeconds: 'often' }), 'config: poll.intervalSeconds must be a number'],
  ['groups[0].password', (c) => (c.groups = [{ id: 'g1' }]), 'config: groups[0].password must be a non-empty string'],
  ['groups[1].id bad', (c) => (c.groups = [{ id: 'g1', password: 'a' }, { id: '../x', password: 'a' }]), 'config: groups[1].id "../x" is not a valid group id'],
  ['group twice', (c) => (c.groups = [{ id: 'g1', password: 'a' }, { id: 'g1', password: 'b' }]), 'config: groups[1].id "g1" is listed twice'],
  ['server', (c) => (c.server = 'not a url'), 'config: server must be a URL like http://seed.example.com:8600 (got "not a url")'],
  ['dataDir', (c) => delete c.dataDir, 'config: dataDir must be a non-empty string'],
  ['listen.port', (c) => (c.listen = { port: 70000 }), 'config: listen.port must be 65535 or less'],
  ['bandwidth cron', (c) => (c.bandwidth = [{ cron: 'at nine', downloadKiBps: 1 }]), 'config: bandwidth[0].cron "at nine" is not a cron expression like "0 9 * * *"'],
  ['minFreeBytes', (c) => (c.minFreeBytes = -1), 'config: minFreeBytes must be 0 or more'],
  ['unknown key', (c) => (c.pol = {}), 'config: pol is not a known setting (typo?)'],
  ['firmware.autoUpdate', (c) => (c.firmware = { autoUpdate: 'yes' }), 'config: firmware.autoUpdate must be true or false'],
  ['firmware.checkMinutes', (c) => (c.firmware = { autoUpdate: true, checkMinutes: 0 }), 'config: firmware.checkMinutes must be a positive number'],
  ['firmware.publicKey', (c) => (c.firmware = { publicKey: '' }), 'config: firmware.publicKey must be a non-empty string'],
  ['firmware section', (c) => (c.firmware = true), 'config: firmware must be an object'],
];
for (const [name, mutate, message] of bad) {
  test(`refuses a bad ${name} with a message naming the field`, (t) => {
    const c: Record<string, unknown> = base();
    mutate(c);
    const err = t.throws(() => validateConfig(c), { instanceOf: ConfigError });
    t.is(err?.message, message);
    t.is((err as ConfigError).code, 'BAD_CONFIG');
  });
}

test('loadConfig names the file when it is not JSON or missing', async (t) => {
  const dir = await tempDir(t);
  const f = path.join(dir, 'agent.json');
  await fs.writeFile(f, '{ "id": ');
  await t.throwsAsync(loadConfig(f), { message: new RegExp(`^config: ${f} is not valid JSON`) });
  await t.throwsAsync(loadConfig(path.join(dir, 'nope.json')), { message: `config: file ${path.join(dir, 'nope.json')} does not exist` });
});
