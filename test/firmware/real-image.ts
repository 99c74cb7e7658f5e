// Builds the real firmware image once per test file: the `image` target (without rebuilding:
// `make test` built already), then N+1 from the very same payload, re-stamped and signed with
// the same development key. The outputs are removed when the file's tests end.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/paths.js';
import { bundleFileName, packBundle } from '../../src/firmware/bundle.js';
import { MANIFEST_NAME } from '../../src/firmware/manifest.js';

const execFileP = promisify(execFile);
const MiB = 1024 * 1024;

export const KEY = path.join(REPO_ROOT, '.keys', 'firmware-ed25519.pem');
export const PUBLIC_KEY = path.join(REPO_ROOT, '.keys', 'firmware-ed25519.pub.pem');
export const VERSION_N = `0.0.1-imagetest.${process.pid}`;
export const VERSION_N1 = `0.0.2-imagetest.${process.pid}`;
/** The same payload laid out as images were before they carried a runtime: system node. */
export const VERSION_OLD = `0.0.0-imagetest.${process.pid}`;

export interface Images {
  n: string;
  n1: string;
  /** VERSION_OLD: no runtime/ folder, a launcher that runs the system's node */
  old: string;
}
let images: Promise<Images> | null = null;

export function buildImages(): Promise<Images> {
  images ??= (async () => {
    // Serialised across test files: the first `make image` also creates the development key pair.
    await execFileP('flock', ['/tmp/cineswarm-image-test.lock', 'make', '-s', '-o', 'build', 'image', `IMAGE_VERSION=${VERSION_N}`], {
      cwd: REPO_ROOT,
      maxBuffer: 16 * MiB,
    });
    const n = path.join(REPO_ROOT, 'dist', 'image', bundleFileName(VERSION_N));
    const work = await fs.mkdtemp(path.join(REPO_ROOT, 'dist', 'image', `.imagetest-${process.pid}-`));
    const stage = path.join(work, 'stage');
    await fs.mkdir(stage);
    await execFileP('tar', ['-xzf', n, '-C', stage]);
    await fs.rm(path.join(stage, MANIFEST_NAME));
    const keys = { privateKeyPem: await fs.readFile(KEY), publicKeyPem: await fs.readFile(PUBLIC_KEY) };
    const built = await packBundle({ stageDir: stage, version: VERSION_N1, outDir: work, ...keys });
    await fs.rm(path.join(stage, MANIFEST_NAME));
    await fs.rm(path.join(stage, 'runtime'), { recursive: true });
    await fs.writeFile(path.join(stage, 'bin', 'cineswarm'), '#!/bin/sh\nexec node "$(dirname "$0")/cineswarm.js" "$@"\n', { mode: 0o755 });
    const old = await packBundle({ stageDir: stage, version: VERSION_OLD, outDir: work, ...keys });
    await fs.rm(stage, { recursive: true });
    return { n, n1: built.archive, old: old.archive };
  })();
  return images;
}

export async function removeImages(): Promise<void> {
  const dir = path.join(REPO_ROOT, 'dist', 'image');
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (name.includes(`imagetest.${process.pid}`) || name.startsWith(`.imagetest-${process.pid}-`)) await fs.rm(path.join(dir, name), { recursive: true, force: true });
  }
}
