// Installing firmware bundles under a temp root: first install, slot switch with a restarted
// agent, and every refusal (signature, tampering, version, truncation) leaving the root as it was.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/tmp.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { packTar } from '../../src/firmware/archive.js';
import { FirmwareError, type FirmwareErrorCode } from '../../src/firmware/errors.js';
import { waitHealthy } from '../../src/firmware/health.js';
import { installBundle } from '../../src/firmware/install.js';
import { MANIFEST_NAME, parseManifest } from '../../src/firmware/manifest.js';
import { loadPrivateKey, signBytes } from '../../src/firmware/sign.js';
import {
  buildTestBundle, freePort, makeKeys, readlinkCurrent, SlotAgent, snapshotTree, statusVersion, writeSiteConfig, type TestKeys,
} from './fixture.js';

const execFileP = promisify(execFile);

async function setup(t: ExecutionContext) {
  const work = await tempDir(t, 'cineswarm-fw-');
  const root = path.join(work, 'root');
  await fs.mkdir(root);
  const keys = await makeKeys(path.join(work, 'keys'));
  return { work, root, keys };
}

test('first install lays the release, the current link, the units and keeps the site config', async (t) => {
  const { work, root, keys } = await setup(t);
  const config = await writeSiteConfig(root, 18680);
  const before = await fs.readFile(config, 'utf8');
  const b = await buildTestBundle({ workDir: work, version: '1.0.0', keys });
  const r = await installBundle({ bundle: b.archive, root, publicKey: keys.publicKeyFile });
  t.is(r.outcome, 'installed');
  t.is(await readlinkCurrent(root), 'releases/1.0.0');
  const manifest = parseManifest(await fs.readFile(path.join(root, 'opt/cineswarm/current', MANIFEST_NAME), 'utf8'));
  t.is(manifest.version, '1.0.0');
  const unit = await fs.readFile(path.join(root, 'lib/systemd/system/cineswarm-agent.service'), 'utf8');
  t.is(unit, await fs.readFile(path.join(REPO_ROOT, 'rootfs/lib/systemd/system/cineswarm-agent.service'), 'utf8'));
  t.is(await fs.readFile(config, 'utf8'), before, 'the site configuration is never overwritten');
  t.is(await fs.readFile(path.join(root, 'etc/cineswarm/firmware-key.pem'), 'utf8'), keys.publicKeyPem);
  const state = JSON.parse(await fs.readFile(path.join(root, 'opt/cineswarm/state.json'), 'utf8')) as { current: string };
  t.is(state.current, '1.0.0');
  // Nothing of the install's scaffolding is left behind.
  t.deepEqual((await fs.readdir(path.join(root, 'opt/cineswarm/releases'))).sort(), ['1.0.0']);
  await t.throwsAsync(fs.access(path.join(root, 'opt/cineswarm/.update.lock')));
});

test('a newer signed bundle goes to its own slot, current switches and the restarted agent reports it', async (t) => {
  const { work, root, keys } = await setup(t);
  const port = await freePort();
  const config = await writeSiteConfig(root, port);
  const agent = new SlotAgent(root, config);
  t.teardown(() => agent.stop());
  const healthy = (version: string) => waitHealthy({ url: `http://127.0.0.1:${port}/api/status`, version }, 20_000, 200);
  const install = (archive: string) =>
    installBundle({ bundle: archive, root, publicKey: keys.publicKeyFile, restart: () => agent.restart(), healthy });

  const v1 = await buildTestBundle({ workDir: work, version: '1.0.0', keys });
  t.is((await install(v1.archive)).outcome, 'installed');
  t.is(await statusVersion(port), '1.0.0');
  const firstPid = agent.child!.pid;

  const v2 = await buildTestBundle({ workDir: work, version: '1.1.0', keys });
  const r = await install(v2.archive);
  t.is(r.outcome, 'installed', r.message);
  t.is(r.previous, '1.0.0');
  t.is(await readlinkCurrent(root), 'releases/1.1.0');
  t.is(await statusVersion(port), '1.1.0');
  t.not(agent.child!.pid, firstPid, 'the agent was restarted');
  t.deepEqual((await fs.readdir(path.join(root, 'opt/cineswarm/releases'))).sort(), ['1.0.0', '1.1.0'], 'the previous slot is kept for a rollback');

  const v3 = await buildTestBundle({ workDir: work, version: '1.2.0-rc.1', keys });
  t.is((await install(v3.archive)).outcome, 'installed');
  t.deepEqual((await fs.readdir(path.join(root, 'opt/cineswarm/releases'))).sort(), ['1.1.0', '1.2.0-rc.1'], 'older slots are pruned');
  t.is(await statusVersion(port), '1.2.0-rc.1');
});

// --- refusals -----------------------------------------------------------------------------

interface Installed {
  work: string;
  root: string;
  keys: TestKeys;
}

async function installedRoot(t: ExecutionContext): Promise<Installed> {
  const s = await setup(t);
  await writeSiteConfig(s.root, 18681);
  const v1 = await buildTestBundle({ workDir: s.work, version: '1.0.0', keys: s.keys });
  await installBundle({ bundle: v1.archive, root: s.root, publicKey: s.keys.publicKeyFile });
  return s;
}

/** Unpacks a signed bundle, lets `edit` change the tree, re-packs it and signs it with `signKey`
 * (or keeps the original signature when null). */
async function repack(work: string, archive: string, edit: (dir: string) => Promise<void>, signKeyPem: string | null): Promise<string> {
  const dir = await fs.mkdtemp(path.join(work, 'repack-'));
  await execFileP('tar', ['-xzf', archive, '-C', dir]);
  await edit(dir);
  const { stdout } = await execFileP('find', ['.', '-type', 'f', '-printf', '%P\\n'], { cwd: dir });
  const files = stdout.trim().split('\n').filter((f) => f !== MANIFEST_NAME).sort();
  const out = path.join(work, `repacked-${path.basename(dir)}.tar.gz`);
  await packTar(dir, [MANIFEST_NAME, ...files], out, new Date());
  if (signKeyPem) await fs.writeFile(out + '.sig', signBytes(await fs.readFile(out), loadPrivateKey(signKeyPem)));
  else await fs.copyFile(archive + '.sig', out + '.sig');
  return out;
}

const refused = test.macro(
  async (t, make: (s: Installed) => Promise<string>, code: FirmwareErrorCode, message: RegExp) => {
    const s = await installedRoot(t);
    const bundle = await make(s);
    const before = await snapshotTree(s.root);
    const err = await t.throwsAsync(installBundle({ bundle, root: s.root }), { instanceOf: FirmwareError });
    t.is(err?.code, code, err?.message);
    t.regex(err?.message ?? '', message);
    t.deepEqual(await snapshotTree(s.root), before, 'a refused bundle changes nothing under the root');
    t.is(await readlinkCurrent(s.root), 'releases/1.0.0');
  },
);

test('bundle signed by another key is refused', refused, async (s) => {
  const other = await makeKeys(path.join(s.work, 'other-keys'));
  return (await buildTestBundle({ workDir: s.work, version: '1.1.0', keys: other })).archive;
}, 'BAD_SIGNATURE', /not signed by the trusted key/);

test('bundle altered after signing (file replaced, original signature) is refused', refused, async (s) => {
  const b = await buildTestBundle({ workDir: s.work, version: '1.1.0', keys: s.keys });
  return repack(s.work, b.archive, (d) => fs.writeFile(path.join(d, 'bin', 'cineswarm.js'), 'process.exit(0)\n'), null);
}, 'BAD_SIGNATURE', /altered after signing/);

test('bundle with a file that does not match the manifest is refused even when signed', refused, async (s) => {
  const b = await buildTestBundle({ workDir: s.work, version: '1.1.0', keys: s.keys });
  return repack(s.work, b.archive, (d) => fs.appendFile(path.join(d, 'rootfs/lib/systemd/system/cineswarm-agent.service'), 'ExecStartPre=/bin/true\n'), s.keys.privateKeyPem);
}, 'MANIFEST_MISMATCH', /rootfs\/lib\/systemd\/system\/cineswarm-agent\.service' does not match its SHA-256/);

test('bundle with a file missing from the manifest is refused even when signed', refused, async (s) => {
  const b = await buildTestBundle({ workDir: s.work, version: '1.1.0', keys: s.keys });
  return repack(s.work, b.archive, (d) => fs.writeFile(path.join(d, 'bin', 'extra'), 'x'), s.keys.privateKeyPem);
}, 'MANIFEST_MISMATCH', /not listed in its manifest, e\.g\. 'bin\/extra'/);

test('lower version is refused', refused, async (s) => (await buildTestBundle({ workDir: s.work, version: '0.9.5', keys: s.keys })).archive,
  'NOT_NEWER', /0\.9\.5 is not newer than the installed 1\.0\.0/);

test('same version is refused', refused, async (s) => (await buildTestBundle({ workDir: s.work, version: '1.0.0', keys: s.keys, outDir: path.join(s.work, 'again') })).archive,
  'NOT_NEWER', /1\.0\.0 is not newer than the installed 1\.0\.0/);

test('truncated archive is refused as incomplete', refused, async (s) => {
  const b = await buildTestBundle({ workDir: s.work, version: '1.1.0', keys: s.keys });
  const data = await fs.readFile(b.archive);
  await fs.writeFile(b.archive, data.subarray(0, Math.floor(data.length / 2)));
  return b.archive;
}, 'BUNDLE_TRUNCATED', /incomplete .*cut short/);

test('bundle without its signature file is refused', refused, async (s) => {
  const b = await buildTestBundle({ workDir: s.work, version: '1.1.0', keys: s.keys });
  await fs.rm(b.signature);
  return b.archive;
}, 'SIGNATURE_MISSING', /signature file not found/);

test('cineswarm update refuses on the command line with a one-line message and exit status 1', async (t) => {
  const s = await installedRoot(t);
  const b = await buildTestBundle({ workDir: s.work, version: '0.2.0', keys: s.keys });
  const before = await snapshotTree(s.root);
  const res = await execFileP('node', ['--import=tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'update', b.archive, '--root', s.root], {
    cwd: REPO_ROOT,
  }).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
  t.is(res.code, 1);
  t.regex(res.stderr, /^cineswarm update: firmware 0\.2\.0 is not newer than the installed 1\.0\.0.*\[NOT_NEWER\]\n$/);
  t.deepEqual(await snapshotTree(s.root), before);
});

test('an install that fails half way through laying its files puts the running version back', async (t) => {
  const s = await installedRoot(t);
  const unit = 'lib/systemd/system/cineswarm-agent.service';
  const b = await buildTestBundle({
    workDir: s.work, version: '1.1.0', keys: s.keys,
    edit: (d) => fs.appendFile(path.join(d, 'rootfs', unit), '# 1.1.0\n'),
  });
  // A directory where 1.1.0 wants a file: laying usr/share/doc/... fails after lib/ was laid.
  const doc = path.join(s.root, 'usr/share/doc/cineswarm/README.appliance');
  await fs.rm(doc);
  await fs.mkdir(doc);
  const before = await snapshotTree(s.root);
  const err = await t.throwsAsync(installBundle({ bundle: b.archive, root: s.root }), { instanceOf: FirmwareError });
  t.is(err?.code, 'INSTALL_FAILED');
  t.regex(err?.message ?? '', /installing firmware 1\.1\.0 failed while laying its files .*version 1\.0\.0 is still in place/);
  t.deepEqual(await snapshotTree(s.root), before, "1.0.0's unit is back, no 1.1.0 slot is left, current is unchanged");
});
