// An update whose updater dies after the switch but before the new agent was confirmed healthy
// (a power cut): the boot-time `cineswarm update --finish-trial` rolls a broken release back and
// confirms a healthy one.
import test, { type ExecutionContext } from 'ava';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../e2e/rig.js';
import { buildTestBundle, freePort, makeKeys, readlinkCurrent, statusVersion, writeRestartScript, writeSiteConfig } from './fixture.js';

const execFileP = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'src/cli/main.ts');

interface Result { code: number | null; stdout: string; stderr: string }

function cli(args: string[], opts: { detached?: boolean; env?: NodeJS.ProcessEnv } = {}): { pid: number; done: Promise<Result> } {
  const child = spawn(process.execPath, ['--import=tsx', CLI, ...args], {
    cwd: REPO_ROOT, detached: opts.detached, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Result>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { pid: child.pid!, done };
}

async function site(t: ExecutionContext) {
  const work = await tempDir(t, 'cineswarm-trial-');
  const root = path.join(work, 'root');
  const keys = await makeKeys(path.join(work, 'keys'));
  const port = await freePort();
  const config = await writeSiteConfig(root, port);
  const restart = await writeRestartScript(t, work, config);
  const common = ['--root', root, '--public-key', keys.publicKeyFile, '--restart-command', restart];
  const state = async () => JSON.parse(await fs.readFile(path.join(root, 'opt/cineswarm/state.json'), 'utf8')) as {
    current: string; trial?: { version: string }; rejected: Record<string, unknown>;
  };
  // A boot: systemd starts the agent from whatever `current` is, then the check unit runs.
  const boot = async (healthTimeout: string): Promise<Result> => {
    await execFileP(restart, [], { env: { ...process.env, CINESWARM_ROOT: root } });
    return cli(['update', '--finish-trial', ...common, '--health-timeout', healthTimeout]).done;
  };
  return { work, root, keys, port, common, state, boot };
}

/** Starts an update and kills the updater (its whole process group) once it has switched. */
async function interruptedUpdate(s: Awaited<ReturnType<typeof site>>, bundle: string, slow: boolean): Promise<void> {
  const run = cli(['update', bundle, ...s.common, '--health-timeout', '60'], { detached: true, env: slow ? { SLOW: '1' } : {} });
  await waitFor('the switch to be marked as a trial', async () => (await s.state().catch(() => null))?.trial !== undefined, 60_000, 50);
  process.kill(-run.pid, 'SIGKILL');
  await run.done;
}

test('at boot, an interrupted update to a release that never gets healthy is rolled back', async (t) => {
  const s = await site(t);
  const first = await cli(['update', (await buildTestBundle({ workDir: s.work, version: '4.0.0', keys: s.keys })).archive, ...s.common, '--health-timeout', '20']).done;
  t.is(first.code, 0, first.stderr);
  t.is(await statusVersion(s.port), '4.0.0');

  await interruptedUpdate(s, (await buildTestBundle({ workDir: s.work, version: '4.1.0', keys: s.keys, agent: 'exits' })).archive, false);
  t.is(await readlinkCurrent(s.root), 'releases/4.1.0', 'the power cut came after the switch');
  t.is((await s.state()).trial?.version, '4.1.0');
  t.is(await fs.readlink(path.join(s.root, 'opt/cineswarm/previous')), 'releases/4.0.0');

  const boot = await s.boot('3');
  t.is(boot.code, 3, boot.stderr);
  t.regex(boot.stdout, /firmware 4\.1\.0 was rolled back: the agent did not report healthy after the update was interrupted; version 4\.0\.0 is back in place and restarted/);
  t.is(await readlinkCurrent(s.root), 'releases/4.0.0');
  t.is(await statusVersion(s.port), '4.0.0');
  const after = await s.state();
  t.is(after.trial, undefined);
  t.truthy(after.rejected['4.1.0']);
  t.deepEqual(await fs.readdir(path.join(s.root, 'opt/cineswarm/releases')), ['4.0.0']);

  const nothing = await cli(['update', '--finish-trial', ...s.common]).done;
  t.is(nothing.code, 0);
  t.regex(nothing.stdout, /no interrupted update to finish/);
});

test('at boot, an interrupted update to a healthy release is confirmed and kept', async (t) => {
  const s = await site(t);
  const first = await cli(['update', (await buildTestBundle({ workDir: s.work, version: '5.0.0', keys: s.keys })).archive, ...s.common, '--health-timeout', '20']).done;
  t.is(first.code, 0, first.stderr);

  await interruptedUpdate(s, (await buildTestBundle({ workDir: s.work, version: '5.1.0', keys: s.keys })).archive, true);
  t.is((await s.state()).trial?.version, '5.1.0');

  const boot = await s.boot('20');
  t.is(boot.code, 0, boot.stderr);
  t.regex(boot.stdout, /firmware 5\.1\.0 confirmed healthy after an interrupted update/);
  t.is(await readlinkCurrent(s.root), 'releases/5.1.0');
  t.is(await statusVersion(s.port), '5.1.0');
  t.is((await s.state()).trial, undefined);
});
