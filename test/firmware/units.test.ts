// The shipped systemd units pass `systemd-analyze verify` once installed under a root, where
// ExecStart's /opt/cineswarm/current/bin/cineswarm really exists; the check is shown to fail
// on a broken unit and on a missing binary, so a pass means something.
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/tmp.js';
import { installBundle } from '../../src/firmware/install.js';
import { buildTestBundle, makeKeys, writeSiteConfig } from './fixture.js';

const execFileP = promisify(execFile);
const UNITS = ['cineswarm-agent.service', 'cineswarm-server.service', 'cineswarm-seed.service', 'cineswarm-update.service', 'cineswarm-update.path', 'cineswarm-update-check.service'];

async function installedRoot(t: ExecutionContext): Promise<string> {
  const work = await tempDir(t, 'cineswarm-units-');
  const root = path.join(work, 'root');
  const keys = await makeKeys(path.join(work, 'keys'));
  await writeSiteConfig(root, 18682);
  // Two releases, so /opt/cineswarm/previous exists for the boot-time check's ExecStart.
  for (const version of ['1.0.0', '1.1.0']) {
    const b = await buildTestBundle({ workDir: work, version, keys });
    await installBundle({ bundle: b.archive, root, publicKey: keys.publicKeyFile });
  }
  // The targets our units hook into (multi-user.target, network-online.target...) come from
  // the host's systemd, as they would on the appliance.
  const hostUnits = '/usr/lib/systemd/system';
  const dest = path.join(root, 'usr/lib/systemd/system');
  await fs.mkdir(dest, { recursive: true });
  for (const name of await fs.readdir(hostUnits)) {
    if (/\.(target|service|socket|path|mount)$/.test(name) && !name.startsWith('cineswarm')) {
      await fs.cp(path.join(hostUnits, name), path.join(dest, name), { recursive: true, verbatimSymlinks: true });
    }
  }
  return root;
}

async function verify(root: string, units: string[]): Promise<{ code: number; output: string }> {
  return execFileP('systemd-analyze', ['verify', `--root=${root}`, ...units], { env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } }).then(
    (r) => ({ code: 0, output: (r.stdout + r.stderr).trim() }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, output: (e.stdout + e.stderr).trim() }),
  );
}

test('installed units pass systemd-analyze verify with no warning', async (t) => {
  const root = await installedRoot(t);
  const r = await verify(root, UNITS);
  t.is(r.code, 0, r.output);
  t.is(r.output, '', 'no warning either (unknown keys and bad values are only warnings)');
});

test('the same check reports a unit with a bad value and a unit whose binary is missing', async (t) => {
  const root = await installedRoot(t);
  const unit = path.join(root, 'lib/systemd/system/cineswarm-agent.service');
  await fs.writeFile(unit, (await fs.readFile(unit, 'utf8')).replace('Restart=on-failure', 'Restart=sometimes').replace('ProtectHome=yes', 'ProtectHom=yes'));
  const bad = await verify(root, ['cineswarm-agent.service']);
  t.regex(bad.output, /Failed to parse service restart specifier.*sometimes/);
  t.regex(bad.output, /Unknown key 'ProtectHom'/);

  await fs.rm(path.join(root, 'opt/cineswarm/current'));
  const missing = await verify(root, ['cineswarm-server.service']);
  t.not(missing.code, 0);
  t.regex(missing.output, /\/opt\/cineswarm\/current\/bin\/cineswarm is not executable/);
});
