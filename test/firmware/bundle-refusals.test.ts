// Firmware bundles a hostile or careless world hands the updater: files far too large (sparse, so
// they cost no disk) are refused by their size before a byte is read, and a signed archive with a
// member '../…' is refused by name before anything is unpacked.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/tmp.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { FirmwareError } from '../../src/firmware/errors.js';
import { installBundle } from '../../src/firmware/install.js';
import { MANIFEST_NAME } from '../../src/firmware/manifest.js';
import { loadPrivateKey, signBytes } from '../../src/firmware/sign.js';
import { makeKeys, snapshotTree } from './fixture.js';
import { tmpfsMount } from '../faults/tmpfs.js';

const execFileP = promisify(execFile);

/** Bytes this process has read so far (/proc/self/io rchar: every read(2), page cache or not). */
async function bytesRead(): Promise<number> {
  const io = await fs.readFile('/proc/self/io', 'utf8');
  return Number(/^rchar: (\d+)$/m.exec(io)![1]);
}

async function sparse(file: string, bytes: number): Promise<string> {
  const fh = await fs.open(file, 'w');
  await fh.truncate(bytes);
  await fh.close();
  await fs.writeFile(`${file}.sig`, 'not a signature\n');
  return file;
}

for (const [label, bytes, shown] of [['2.6 GB', 2.6e9, '2.6 GB'], ['1.2 GB', 1.2e9, '1.2 GB']] as const) {
  test(`a ${label} bundle is refused by its size, before it is read`, async (t) => {
    const work = await tempDir(t, 'cineswarm-fwbig-');
    const keys = await makeKeys(path.join(work, 'keys'));
    const root = path.join(work, 'root');
    await fs.mkdir(root);
    // A 16 MiB tmpfs holds the sparse file: its size is what the updater sees, no disk is spent.
    const bundle = await sparse(path.join(await tmpfsMount(t, 16), 'cineswarm-9.9.9.tar.gz'), bytes);
    const before = await bytesRead();
    const err = await t.throwsAsync(installBundle({ bundle, root, publicKey: keys.publicKeyFile }), { instanceOf: FirmwareError });
    const read = (await bytesRead()) - before;
    t.is(err?.code, 'BUNDLE_TOO_LARGE');
    t.is(err?.message, `firmware bundle cineswarm-9.9.9.tar.gz is ${shown}; a bundle is at most 1.1 GB: refused without reading it (is this the right file?)`);
    t.true(read < 1024 * 1024, `${read} bytes read`);
    t.deepEqual(await fs.readdir(root), [], 'nothing written under the root');
  });
}

test('cineswarm update names the size of a 2.6 GB bundle in one line (it used to say "not found")', async (t) => {
  const work = await tempDir(t, 'cineswarm-fwcli-');
  const bundle = await sparse(path.join(await tmpfsMount(t, 16), 'cineswarm-9.9.9.tar.gz'), 2.6e9);
  const res = await execFileP(process.execPath, ['--import=tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), 'update', bundle, '--root', path.join(work, 'root'), '--no-restart'], { cwd: REPO_ROOT }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  );
  t.is(res.code, 1);
  t.regex(res.stderr, /^cineswarm update: firmware bundle cineswarm-9\.9\.9\.tar\.gz is 2\.6 GB; a bundle is at most 1\.1 GB: refused without reading it.*\n$/);
});

test("a signed bundle with a member '../…' is refused by that name; nothing is unpacked anywhere", async (t) => {
  const work = await tempDir(t, 'cineswarm-fwdots-');
  const keys = await makeKeys(path.join(work, 'keys'));
  const root = path.join(work, 'root');
  await fs.mkdir(root);
  const stage = path.join(work, 'stage');
  await fs.mkdir(path.join(stage, 'bin'), { recursive: true });
  await fs.writeFile(path.join(stage, MANIFEST_NAME), JSON.stringify({ version: '9.9.9', createdAt: new Date().toISOString(), files: {} }));
  await fs.writeFile(path.join(stage, 'bin', 'cineswarm'), '#!/bin/sh\n');
  const bundle = path.join(work, 'cineswarm-9.9.9.tar.gz');
  // GNU tar strips '../' when it packs, so the crafted archive is written with Python's tarfile.
  const py = `import tarfile, sys
with tarfile.open(sys.argv[1], 'w:gz') as tar:
    tar.add(sys.argv[2] + '/${MANIFEST_NAME}', arcname='${MANIFEST_NAME}')
    tar.add(sys.argv[2] + '/bin/cineswarm', arcname='../escaped.sh')`;
  await execFileP('/usr/bin/python3', ['-c', py, bundle, stage]);
  await fs.writeFile(`${bundle}.sig`, signBytes(await fs.readFile(bundle), loadPrivateKey(keys.privateKeyPem)));
  const before = await snapshotTree(work);
  const err = await t.throwsAsync(installBundle({ bundle, root, publicKey: keys.publicKeyFile }), { instanceOf: FirmwareError });
  t.is(err?.code, 'UNSAFE_PATH');
  t.is(err?.message, 'firmware bundle cineswarm-9.9.9.tar.gz holds "../escaped.sh", a path outside its release folder: refused, nothing unpacked');
  t.deepEqual(await snapshotTree(work), before, 'nothing unpacked, inside the root or beside it');
});
