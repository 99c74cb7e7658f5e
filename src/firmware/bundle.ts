// Builds a firmware bundle: stages the release tree (compiled JS, native addon, production
// node_modules, rootfs), writes its manifest, packs one archive and signs it.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import { packTar } from './archive.js';
import { FirmwareError } from './errors.js';
import { hashTree, MANIFEST_NAME, type Manifest } from './manifest.js';
import { MIB_REL, readEnterpriseNumber, stampEnterpriseNumber } from './mib-pen.js';
import { loadPrivateKey, signBytes } from './sign.js';

const execFileP = promisify(execFile);

/** Where the appliance finds the key it trusts; shipped inside every bundle's rootfs. */
export const TRUSTED_KEY_PATH = 'etc/cineswarm/firmware-key.pem';

// The units start /opt/cineswarm/current/bin/cineswarm; resolving through `current` at exec
// time is what makes the slot switch take effect on the next restart. A release that carries its
// own runtime starts with it, so an appliance never depends on the distribution's Node.js; the
// units stay the same for releases with and without one, and a rollback across them works.
const OWN_RUNTIME_LAUNCHER = `#!/bin/sh
# Runs this release's cineswarm command line with the Node.js shipped in the release.
here=$(dirname "$0")
exec "$here/../runtime/bin/node" "$here/cineswarm.js" "$@"
`;
const SYSTEM_NODE_LAUNCHER = `#!/bin/sh
# Runs this release's cineswarm command line with the system's Node.js.
exec node "$(dirname "$0")/cineswarm.js" "$@"
`;

/** Where a release keeps its Node.js, relative to the release folder. */
export const RUNTIME_NODE = 'runtime/bin/node';

export interface StageOptions {
  repoRoot: string;
  stageDir: string;
  /** 'production': npm ci --omit=dev into the stage; 'none': leave node_modules out. */
  nodeModules: 'production' | 'none';
  /** The vendor's IANA enterprise number for the MIB; default: the one in the repository's MIB (a placeholder). */
  mibPen?: number;
  /** A Node.js installation (bin/node, LICENSE) to ship as the release's runtime; none: the system's node. */
  runtimeDir?: string;
}

/** Copies the Node.js binary and its licence: headers and npm are build tools, not run time. */
async function stageRuntime(runtimeDir: string, stageDir: string): Promise<void> {
  const node = path.join(runtimeDir, 'bin', 'node');
  const { stdout } = await execFileP(node, ['--version']).catch(() => {
    throw new FirmwareError('BAD_STAGE', `${node} is not a runnable Node.js: pass the folder of an installed runtime (make image uses .runtime/)`);
  });
  await fs.mkdir(path.join(stageDir, 'runtime', 'bin'), { recursive: true });
  await fs.copyFile(node, path.join(stageDir, RUNTIME_NODE));
  await fs.chmod(path.join(stageDir, RUNTIME_NODE), 0o755);
  const license = path.join(runtimeDir, 'LICENSE');
  if (await exists(license)) await fs.copyFile(license, path.join(stageDir, 'runtime', 'LICENSE'));
  await fs.writeFile(path.join(stageDir, 'runtime', 'VERSION'), stdout.trim() + '\n');
}

async function copyTree(from: string, to: string, skip: (rel: string) => boolean = () => false): Promise<void> {
  await fs.cp(from, to, {
    recursive: true,
    filter: (src) => !skip(path.relative(from, src).split(path.sep).join('/')),
  });
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(() => true, () => false);
}

/** Lays out the release tree of the repository at `repoRoot` in `stageDir`. */
export async function stageApp(opts: StageOptions): Promise<void> {
  const { repoRoot, stageDir } = opts;
  const dist = path.join(repoRoot, 'dist');
  if (!(await exists(path.join(dist, 'cli', 'main.js')))) {
    throw new FirmwareError('BAD_STAGE', `no compiled JavaScript in ${dist}: run 'make build' first`);
  }
  await fs.mkdir(stageDir, { recursive: true });
  // dist/image holds earlier bundles; a bundle never contains bundles.
  await copyTree(dist, path.join(stageDir, 'dist'), (rel) => rel === 'image' || rel.startsWith('image/'));
  // tsc compiles only .ts: assets beside the sources (the status page's public/) are copied to
  // the same place under dist/, where the compiled modules look first.
  await copyTree(path.join(repoRoot, 'src'), path.join(stageDir, 'dist'), (rel) => rel.endsWith('.ts'));
  const release = path.join(repoRoot, 'build', 'Release');
  const addons = (await exists(release)) ? (await fs.readdir(release)).filter((f) => f.endsWith('.node')) : [];
  for (const f of addons) {
    await fs.mkdir(path.join(stageDir, 'build', 'Release'), { recursive: true });
    await fs.copyFile(path.join(release, f), path.join(stageDir, 'build', 'Release', f));
  }
  await copyTree(path.join(repoRoot, 'rootfs'), path.join(stageDir, 'rootfs'));
  const pen = opts.mibPen ?? readEnterpriseNumber(await fs.readFile(path.join(repoRoot, 'rootfs', MIB_REL), 'utf8'));
  await stampEnterpriseNumber(path.join(stageDir, 'rootfs'), pen, path.join(repoRoot, 'node_modules'));
  await fs.mkdir(path.join(stageDir, 'bin'), { recursive: true });
  await fs.copyFile(path.join(repoRoot, 'bin', 'cineswarm.js'), path.join(stageDir, 'bin', 'cineswarm.js'));
  if (opts.runtimeDir) await stageRuntime(opts.runtimeDir, stageDir);
  await fs.writeFile(path.join(stageDir, 'bin', 'cineswarm'), opts.runtimeDir ? OWN_RUNTIME_LAUNCHER : SYSTEM_NODE_LAUNCHER, { mode: 0o755 });
  for (const f of ['package.json', 'package-lock.json']) await fs.copyFile(path.join(repoRoot, f), path.join(stageDir, f));
  if (opts.nodeModules === 'production') {
    // --ignore-scripts: our own install script would rebuild the addon; the built one is copied above.
    await execFileP('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: stageDir,
      maxBuffer: 16 * 1024 * 1024,
    });
    // Command shims are symlinks and unused at run time; releases hold plain files only.
    await fs.rm(path.join(stageDir, 'node_modules', '.bin'), { recursive: true, force: true });
  }
  await fs.rm(path.join(stageDir, 'package-lock.json'), { force: true });
}

export interface PackOptions {
  stageDir: string;
  version: string;
  privateKeyPem: string | Buffer;
  /** Public half, shipped as the appliance's trust anchor for the next update. */
  publicKeyPem: string | Buffer;
  outDir: string;
  createdAt?: Date;
}

export interface BuiltBundle {
  archive: string;
  signature: string;
  manifest: Manifest;
}

export function bundleFileName(version: string): string {
  return `cineswarm-${version}.tar.gz`;
}

/** Stamps `version` into the staged tree, writes the manifest, packs and signs. */
export async function packBundle(opts: PackOptions): Promise<BuiltBundle> {
  if (!semver.valid(opts.version)) throw new FirmwareError('BAD_MANIFEST', `'${opts.version}' is not a semantic version (like 1.4.2)`);
  const createdAt = opts.createdAt ?? new Date();
  const pkgPath = path.join(opts.stageDir, 'package.json');
  const pkg = (await exists(pkgPath)) ? (JSON.parse(await fs.readFile(pkgPath, 'utf8')) as Record<string, unknown>) : { name: 'cineswarm', type: 'module', private: true };
  pkg.version = opts.version;
  await fs.writeFile(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
  const keyPath = path.join(opts.stageDir, 'rootfs', TRUSTED_KEY_PATH);
  await fs.mkdir(path.dirname(keyPath), { recursive: true });
  await fs.writeFile(keyPath, opts.publicKeyPem);
  await fs.rm(path.join(opts.stageDir, MANIFEST_NAME), { force: true });

  const manifest: Manifest = { version: opts.version, createdAt: createdAt.toISOString(), files: await hashTree(opts.stageDir) };
  await fs.writeFile(path.join(opts.stageDir, MANIFEST_NAME), JSON.stringify(manifest, null, 1) + '\n');
  await fs.mkdir(opts.outDir, { recursive: true });
  const archive = path.join(opts.outDir, bundleFileName(opts.version));
  // The manifest goes first so an updater can read the version without unpacking everything.
  await packTar(opts.stageDir, [MANIFEST_NAME, ...Object.keys(manifest.files)], archive, createdAt);
  const signature = archive + '.sig';
  await fs.writeFile(signature, signBytes(await fs.readFile(archive), loadPrivateKey(opts.privateKeyPem)));
  return { archive, signature, manifest };
}
