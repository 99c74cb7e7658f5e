// Automatic rollback: a bundle whose agent does not come up healthy is switched back to the
// previous slot, which is restarted; the failed version is then refused until forced.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { FirmwareError } from '../../src/firmware/errors.js';
import { waitHealthy } from '../../src/firmware/health.js';
import { installBundle } from '../../src/firmware/install.js';
import { buildTestBundle, freePort, makeKeys, readlinkCurrent, SlotAgent, snapshotTree, statusVersion, writeRestartScript, writeSiteConfig } from './fixture.js';

const execFileP = promisify(execFile);

test('an agent that fails its health check is rolled back to the previous slot by itself', async (t) => {
  const work = await tempDir(t, 'cineswarm-fw-');
  const root = path.join(work, 'root');
  const keys = await makeKeys(path.join(work, 'keys'));
  const port = await freePort();
  const config = await writeSiteConfig(root, port);
  const agent = new SlotAgent(root, config);
  t.teardown(() => agent.stop());
  const healthy = (version: string) => waitHealthy({ url: `http://127.0.0.1:${port}/api/status`, version }, 4000, 200);
  const install = (archive: string) =>
    installBundle({ bundle: archive, root, publicKey: keys.publicKeyFile, restart: () => agent.restart(), healthy });

  await install((await buildTestBundle({ workDir: work, version: '2.0.0', keys })).archive);
  t.is(await statusVersion(port), '2.0.0');
  const unitsBefore = await snapshotTree(path.join(root, 'lib'));

  const broken = await buildTestBundle({ workDir: work, version: '2.1.0', keys, agent: 'exits' });
  const r = await install(broken.archive);
  t.is(r.outcome, 'rolled-back');
  t.regex(r.message, /firmware 2\.1\.0 was rolled back: the agent did not report healthy in time; version 2\.0\.0 is back in place and restarted/);
  t.is(await readlinkCurrent(root), 'releases/2.0.0');
  t.is(agent.starts, 3, 'started for 2.0.0, for 2.1.0, and again for 2.0.0');
  t.true(await waitHealthy({ url: `http://127.0.0.1:${port}/api/status`, version: '2.0.0' }, 10_000), 'the previous version runs again');
  t.deepEqual(await snapshotTree(path.join(root, 'lib')), unitsBefore, "the previous release's units are back");
  t.deepEqual(await fs.readdir(path.join(root, 'opt/cineswarm/releases')), ['2.0.0']);
  const state = JSON.parse(await fs.readFile(path.join(root, 'opt/cineswarm/state.json'), 'utf8')) as {
    current: string;
    rejected: Record<string, { reason: string }>;
  };
  t.is(state.current, '2.0.0');
  t.regex(state.rejected['2.1.0']?.reason ?? '', /did not report healthy/);

  // The agent's fetcher would offer the same bundle again: it is refused without touching anything.
  const before = await snapshotTree(root);
  const again = await t.throwsAsync(install(broken.archive), { instanceOf: FirmwareError });
  t.is(again?.code, 'VERSION_REJECTED');
  t.deepEqual(await snapshotTree(root), before);

  const fixed = await install((await buildTestBundle({ workDir: work, version: '2.1.1', keys })).archive);
  t.is(fixed.outcome, 'installed');
  t.is(await statusVersion(port), '2.1.1');
});

test('cineswarm update restarts through --restart-command, exits 3 after a rollback and 0 after a good update', async (t) => {
  const work = await tempDir(t, 'cineswarm-fw-');
  const root = path.join(work, 'root');
  const keys = await makeKeys(path.join(work, 'keys'));
  const port = await freePort();
  const config = await writeSiteConfig(root, port);
  const restart = await writeRestartScript(t, work, config);
  const cli = (bundle: string) =>
    execFileP('node', ['--import=tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'update', bundle, '--root', root,
      '--public-key', keys.publicKeyFile, '--restart-command', restart, '--health-timeout', '4'], { cwd: REPO_ROOT })
      .then((r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }), (e: { code: number; stdout: string; stderr: string }) => e);

  const first = await cli((await buildTestBundle({ workDir: work, version: '3.0.0', keys })).archive);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /firmware 3\.0\.0 installed and healthy/);
  t.is(await statusVersion(port), '3.0.0');

  const bad = await cli((await buildTestBundle({ workDir: work, version: '3.1.0', keys, agent: 'exits' })).archive);
  t.is(bad.code, 3);
  t.regex(bad.stdout, /firmware 3\.1\.0 was rolled back/);
  t.is(await readlinkCurrent(root), 'releases/3.0.0');
  t.is(await statusVersion(port), '3.0.0');

  const good = await cli((await buildTestBundle({ workDir: work, version: '3.2.0', keys })).archive);
  t.is(good.code, 0, good.stderr);
  t.is(await statusVersion(port), '3.2.0');
});
