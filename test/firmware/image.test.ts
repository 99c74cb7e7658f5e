// The real firmware image: `make image` output (compiled JS, native addon, production
// node_modules, rootfs) installs under a temp root, runs from its slot and updates itself.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { DCP_FIXTURES, REPO_ROOT } from '../helpers/paths.js';
import { tempDir } from '../helpers/tmp.js';
import { readlinkCurrent, snapshotTree } from './fixture.js';
import { buildImages, PUBLIC_KEY, removeImages, VERSION_N, VERSION_N1 } from './real-image.js';

const execFileP = promisify(execFile);
const MiB = 1024 * 1024;

test.after.always(removeImages);

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return execFileP(file, args, { maxBuffer: 16 * MiB }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

test('make image output installs under a root, runs from its slot, and updates itself to N+1', async (t) => {
  const { n, n1 } = await buildImages();
  const root = await tempDir(t, 'cineswarm-image-');
  const repoCli = path.join(REPO_ROOT, 'src/cli/main.ts');
  const first = await run('node', ['--import=tsx', repoCli, 'update', n, '--root', root, '--public-key', PUBLIC_KEY, '--no-restart']);
  t.is(first.code, 0, first.stderr);
  t.is(await readlinkCurrent(root), `releases/${VERSION_N}`);

  const release = path.join(root, 'opt/cineswarm/current');
  const addons = await fs.readdir(path.join(release, 'build/Release'));
  t.true(addons.some((f) => f.endsWith('.node')), 'the native addon is in the release');
  await fs.access(path.join(release, 'node_modules/fastify/package.json'));
  for (const dev of ['ava', 'typescript', 'tsx']) {
    await t.throwsAsync(fs.access(path.join(release, 'node_modules', dev)), undefined, `${dev} is a devDependency and stays out`);
  }
  t.is(JSON.parse(await fs.readFile(path.join(release, 'package.json'), 'utf8')).version, VERSION_N);

  // The installed command verifies a real DCP with only its own production dependencies.
  const bin = path.join(release, 'bin/cineswarm');
  const verify = await run(bin, ['verify', path.join(DCP_FIXTURES, 'libdcp_dcp_test1'), '--json']);
  t.is(verify.code, 0, verify.stderr);

  // The installed release's own updater takes it to N+1.
  const before = await snapshotTree(root);
  const refused = await run(bin, ['update', n, '--root', root, '--no-restart']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /is not newer than the installed/);
  t.deepEqual(await snapshotTree(root), before);
  const second = await run(bin, ['update', n1, '--root', root, '--no-restart']);
  t.is(second.code, 0, second.stderr);
  t.is(await readlinkCurrent(root), `releases/${VERSION_N1}`);
  const out = await run(path.join(root, 'opt/cineswarm/current/bin/cineswarm'), ['--help']);
  t.regex(out.stdout, /usage: cineswarm <command>/);
});
