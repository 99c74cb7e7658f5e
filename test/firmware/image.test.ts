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

test('install-image.sh lays the image onto an empty root with its account, directories and enabled units', async (t) => {
  const { n } = await buildImages();
  const script = path.join(REPO_ROOT, 'dist', 'image', 'install-image.sh');
  const work = await tempDir(t, 'cineswarm-image-');

  const otherKey = path.join(work, 'other.pub.pem');
  await execFileP('sh', ['-c', `openssl genpkey -algorithm ed25519 | openssl pkey -pubout -out '${otherKey}'`]);
  const forged = await run('sh', [script, n, otherKey, path.join(work, 'refused')]);
  t.is(forged.code, 1);
  t.regex(forged.stderr, /is not signed by .*other\.pub\.pem, or it is damaged: nothing installed/);
  await t.throwsAsync(fs.access(path.join(work, 'refused')), undefined, 'nothing was created');

  const root = path.join(work, 'root');
  const r = await run('sh', [script, n, PUBLIC_KEY, root]);
  t.is(r.code, 0, r.stderr);
  t.is(await readlinkCurrent(root), `releases/${VERSION_N}`);
  t.regex(await fs.readFile(path.join(root, 'etc/passwd'), 'utf8'), /^cineswarm:x:\d+:\d+:.*:\/var\/lib\/cineswarm:\/usr\/sbin\/nologin$/m);
  for (const dir of ['var/lib/cineswarm/firmware', 'srv/cineswarm/incoming', 'srv/cineswarm/ingest']) {
    t.true((await fs.stat(path.join(root, dir))).isDirectory(), dir);
  }
  const config = await fs.stat(path.join(root, 'etc/cineswarm/agent.json'));
  t.is(config.mode & 0o777, 0o640, 'the site config with group passwords is not world-readable');
  const wants = path.join(root, 'etc/systemd/system/multi-user.target.wants');
  t.deepEqual((await fs.readdir(wants)).sort(), ['cineswarm-agent.service', 'cineswarm-update.path']);
  t.is(await fs.readlink(path.join(wants, 'cineswarm-agent.service')), '/lib/systemd/system/cineswarm-agent.service');
});
