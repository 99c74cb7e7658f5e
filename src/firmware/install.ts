// Installs a signed firmware bundle under a root directory: verify, unpack into an inactive
// slot, switch `current` atomically, restart, and roll back by itself if the new agent is not
// healthy in time. Every refusal happens before anything under the root is written.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { log, type Logger } from '../util/log.js';
import { formatBytes } from '../util/bytes.js';
import { archiveEndsEarly, extractArchive, listMembers, readMember } from './archive.js';
import { TRUSTED_KEY_PATH } from './bundle.js';
import { FirmwareError } from './errors.js';
import { MANIFEST_NAME, MAX_BUNDLE_BYTES, parseManifest, safeRelative, verifyTree, type Manifest } from './manifest.js';
import { loadPublicKey, verifyBytes } from './sign.js';
import {
  currentVersion, layout, layRootfs, pruneReleases, readState, releaseDir, setPrevious, switchCurrent, writeState,
  type Layout, type UpdateState,
} from './slots.js';

export interface InstallOptions {
  bundle: string;
  /** Detached signature; default `<bundle>.sig`. */
  signature?: string;
  /** Trusted public key (PEM); default the one installed under the root. */
  publicKey?: string;
  root: string;
  /** Restarts the agent so it runs from `current`; absent: no restart and no health check. */
  restart?: () => Promise<void>;
  /** Resolves true once the agent of `version` reports healthy, false at its deadline. */
  healthy?: (version: string) => Promise<boolean>;
  /** Install even a version that was rolled back before. */
  force?: boolean;
  logger?: Logger;
}

export interface InstallResult {
  outcome: 'installed' | 'rolled-back';
  version: string;
  previous: string | null;
  message: string;
}

export interface VerifiedBundle {
  manifest: Manifest;
}

/** Refuses a bundle that is not a file, or larger than any release, before a byte of it is read:
 * the signature check reads it whole into memory. */
export async function checkBundleSize(bundle: string): Promise<number> {
  let st;
  try {
    st = await fs.stat(bundle);
  } catch {
    throw new FirmwareError('BUNDLE_NOT_FOUND', `firmware bundle not found: ${bundle}`);
  }
  if (!st.isFile()) throw new FirmwareError('BUNDLE_NOT_FOUND', `firmware bundle ${bundle} is not a file`);
  if (st.size > MAX_BUNDLE_BYTES) {
    throw new FirmwareError(
      'BUNDLE_TOO_LARGE',
      `firmware bundle ${path.basename(bundle)} is ${formatBytes(st.size)}; a bundle is at most ${formatBytes(MAX_BUNDLE_BYTES)}: refused without reading it (is this the right file?)`,
    );
  }
  return st.size;
}

async function readInput(file: string, code: 'BUNDLE_NOT_FOUND' | 'SIGNATURE_MISSING' | 'PUBLIC_KEY_MISSING', what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch {
    throw new FirmwareError(code, `${what} not found: ${file}`);
  }
}

/** Checks the signature over the archive bytes, then reads its manifest. Writes nothing. */
export async function verifyBundle(bundle: string, signatureFile: string, publicKeyFile: string): Promise<VerifiedBundle> {
  await checkBundleSize(bundle);
  const data = await readInput(bundle, 'BUNDLE_NOT_FOUND', 'firmware bundle');
  const sig = (await readInput(signatureFile, 'SIGNATURE_MISSING', 'signature file')).toString('utf8');
  const key = loadPublicKey(await readInput(publicKeyFile, 'PUBLIC_KEY_MISSING', 'trusted firmware public key'));
  if (!verifyBytes(data, sig, key)) {
    if (await archiveEndsEarly(bundle)) {
      throw new FirmwareError('BUNDLE_TRUNCATED', `firmware bundle ${path.basename(bundle)} is incomplete (${data.length} bytes, the archive ends early): the download or copy was cut short; fetch it again`);
    }
    throw new FirmwareError('BAD_SIGNATURE', `firmware bundle ${path.basename(bundle)} is not signed by the trusted key (or was altered after signing): refused`);
  }
  // GNU tar would drop a leading '../' and unpack the file elsewhere, or skip it with a warning:
  // either way the refusal would name something else. Names are checked before anything is read.
  for (const member of await listMembers(bundle)) {
    const name = member.replace(/\/$/, '').replace(/^\.\//, '');
    if (name === '.' || name === '') continue;
    if (!safeRelative(name)) {
      throw new FirmwareError('UNSAFE_PATH', `firmware bundle ${path.basename(bundle)} holds ${JSON.stringify(member)}, a path outside its release folder: refused, nothing unpacked`);
    }
  }
  return { manifest: parseManifest(await readMember(bundle, MANIFEST_NAME)) };
}

async function takeLock(l: Layout): Promise<() => Promise<void>> {
  await fs.mkdir(l.base, { recursive: true });
  try {
    await fs.writeFile(l.lock, String(process.pid), { flag: 'wx' });
  } catch {
    const pid = Number(await fs.readFile(l.lock, 'utf8').catch(() => ''));
    let alive = false;
    try {
      if (pid > 0) alive = process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (alive) throw new FirmwareError('UPDATE_IN_PROGRESS', `another update (process ${pid}) is running; try again when it has finished`);
    await fs.writeFile(l.lock, String(process.pid));
  }
  return () => fs.rm(l.lock, { force: true });
}

/** Unpacks into a hidden staging directory, proves every file against the manifest, then renames
 * it to releases/<version>: a half-unpacked release never carries a version name. */
async function unpackRelease(l: Layout, bundle: string, manifest: Manifest): Promise<string> {
  await fs.mkdir(l.releases, { recursive: true });
  const staging = path.join(l.releases, `.incoming-${manifest.version}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(staging);
  try {
    await extractArchive(bundle, staging);
    await verifyTree(staging, manifest);
    const dir = releaseDir(l, manifest.version);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(staging, dir);
    return dir;
  } catch (err) {
    await fs.rm(staging, { recursive: true, force: true });
    throw err;
  }
}

export async function installBundle(opts: InstallOptions): Promise<InstallResult> {
  const logger = (opts.logger ?? log).child({ component: 'firmware-install' });
  const root = path.resolve(opts.root);
  const l = layout(root);
  const { manifest } = await verifyBundle(
    opts.bundle,
    opts.signature ?? `${opts.bundle}.sig`,
    opts.publicKey ?? path.join(root, TRUSTED_KEY_PATH),
  );
  const version = manifest.version;
  const previous = await currentVersion(l);
  if (previous && !semver.gt(version, previous)) {
    throw new FirmwareError('NOT_NEWER', `firmware ${version} is not newer than the installed ${previous}: refused (a downgrade or reinstall is never applied automatically)`);
  }
  const state = await readState(l);
  const rejected = state.rejected[version];
  if (rejected && !opts.force) {
    throw new FirmwareError('VERSION_REJECTED', `firmware ${version} was rolled back on ${rejected.at} (${rejected.reason}); refused unless forced`);
  }

  const unlock = await takeLock(l);
  try {
    const newDir = await unpackRelease(l, opts.bundle, manifest);
    const oldDir = previous ? releaseDir(l, previous) : null;
    try {
      await layRootfs(l, newDir, oldDir);
      await switchCurrent(l, version);
      await writeState(l, { current: version, previous, rejected: state.rejected });
    } catch (err) {
      // Disk full or a read-only file half way: put the running version's files back.
      if (oldDir && previous) {
        await layRootfs(l, oldDir, newDir).catch(() => undefined);
        await switchCurrent(l, previous).catch(() => undefined);
      }
      await fs.rm(newDir, { recursive: true, force: true });
      const back = previous ? `version ${previous} is still in place` : 'nothing is running from it';
      throw new FirmwareError('INSTALL_FAILED', `installing firmware ${version} failed while laying its files (${(err as Error).message}); ${back}`);
    }
    logger.info({ version, previous }, 'firmware installed, current slot switched');

    if (!opts.restart) {
      await setPrevious(l, previous);
      await pruneReleases(l, [version, previous]);
      return { outcome: 'installed', version, previous, message: `firmware ${version} installed (not restarted)` };
    }
    // Until the new agent is confirmed healthy, the boot-time check can finish the job if this
    // process dies (power cut), running the updater of the known-good `previous` release.
    await setPrevious(l, previous);
    await writeState(l, { current: version, previous, rejected: state.rejected, trial: { version, previous, since: new Date().toISOString() } });
    let reason: string | null = null;
    try {
      await opts.restart();
      if (opts.healthy && !(await opts.healthy(version))) reason = 'the agent did not report healthy in time';
    } catch (err) {
      reason = `restart failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (!reason) {
      await writeState(l, { current: version, previous, rejected: state.rejected });
      await pruneReleases(l, [version, previous]);
      return { outcome: 'installed', version, previous, message: `firmware ${version} installed and healthy` };
    }
    if (!previous) {
      await writeState(l, { current: version, previous, rejected: state.rejected });
      throw new FirmwareError('HEALTH_CHECK_FAILED', `firmware ${version} installed on a bare system but ${reason}; no earlier version to go back to`);
    }
    return await rollBack(l, { version, previous, reason, rejected: state.rejected }, opts, logger);
  } finally {
    await unlock();
  }
}

interface RollBack {
  version: string;
  previous: string;
  reason: string;
  rejected: UpdateState['rejected'];
}

/** Puts `previous` back in place, remembers why `version` failed, and restarts the agent. */
async function rollBack(l: Layout, r: RollBack, opts: Pick<InstallOptions, 'restart' | 'healthy'>, logger: Logger): Promise<InstallResult> {
  logger.error({ version: r.version, previous: r.previous, reason: r.reason }, 'new firmware unhealthy, rolling back');
  await switchCurrent(l, r.previous);
  await layRootfs(l, releaseDir(l, r.previous), releaseDir(l, r.version));
  // Older releases are pruned once a newer one is confirmed: nothing known-good before `previous`.
  await setPrevious(l, null);
  const at = new Date().toISOString();
  await writeState(l, { current: r.previous, previous: null, rejected: { ...r.rejected, [r.version]: { at, reason: r.reason } } });
  let back = 'restarted';
  try {
    if (opts.restart) await opts.restart();
    else back = 'not restarted';
    if (opts.restart && opts.healthy && !(await opts.healthy(r.previous))) back = 'restarted, but it does not report healthy either';
  } catch (err) {
    back = `not restarted (${err instanceof Error ? err.message : String(err)})`;
  }
  await pruneReleases(l, [r.previous]);
  return {
    outcome: 'rolled-back',
    version: r.version,
    previous: r.previous,
    message: `firmware ${r.version} was rolled back: ${r.reason}; version ${r.previous} is back in place and ${back}`,
  };
}

export interface FinishTrialOptions {
  root: string;
  restart?: () => Promise<void>;
  healthy: (version: string) => Promise<boolean>;
  logger?: Logger;
}

/** Run at boot (cineswarm-update-check.service): an update whose updater died before the new
 * agent was confirmed healthy is confirmed now, or rolled back. Null when none was pending. */
export async function finishTrial(opts: FinishTrialOptions): Promise<InstallResult | null> {
  const logger = (opts.logger ?? log).child({ component: 'firmware-install' });
  const l = layout(path.resolve(opts.root));
  const state = await readState(l);
  const trial = state.trial;
  if (!trial) return null;
  const unlock = await takeLock(l);
  try {
    const { trial: _done, ...settled } = state;
    if ((await currentVersion(l)) !== trial.version) {
      await writeState(l, settled);
      return null;
    }
    if (await opts.healthy(trial.version)) {
      await writeState(l, settled);
      await pruneReleases(l, [trial.version, trial.previous]);
      return { outcome: 'installed', version: trial.version, previous: trial.previous, message: `firmware ${trial.version} confirmed healthy after an interrupted update` };
    }
    if (!trial.previous) {
      await writeState(l, settled);
      throw new FirmwareError('HEALTH_CHECK_FAILED', `firmware ${trial.version} does not report healthy and there is no earlier version to go back to`);
    }
    const reason = 'the agent did not report healthy after the update was interrupted';
    return await rollBack(l, { version: trial.version, previous: trial.previous, reason, rejected: state.rejected }, opts, logger);
  } finally {
    await unlock();
  }
}
