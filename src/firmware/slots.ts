// Release slots under a root directory: /opt/cineswarm/releases/<version>, the `current`
// symlink switched atomically, the state file, and the rootfs files each release installs.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { listFiles, MANIFEST_NAME, parseManifest } from './manifest.js';
import { fsyncDir, writeFileAtomic } from '../util/durable-write.js';

export interface Layout {
  root: string;
  base: string;
  releases: string;
  current: string;
  previous: string;
  state: string;
  lock: string;
}

export function layout(root: string): Layout {
  const base = path.join(root, 'opt', 'cineswarm');
  return {
    root,
    base,
    releases: path.join(base, 'releases'),
    current: path.join(base, 'current'),
    previous: path.join(base, 'previous'),
    state: path.join(base, 'state.json'),
    lock: path.join(base, '.update.lock'),
  };
}

export function releaseDir(l: Layout, version: string): string {
  return path.join(l.releases, version);
}

export interface UpdateState {
  current: string | null;
  previous: string | null;
  /** Versions that failed their health check and were rolled back, with the reason. */
  rejected: Record<string, { at: string; reason: string }>;
  /** Set from the switch until the new version is confirmed healthy: if the updater dies in
   * between (power cut), the boot-time check finishes the job. */
  trial?: { version: string; previous: string | null; since: string };
}

export async function readState(l: Layout): Promise<UpdateState> {
  try {
    const s = JSON.parse(await fs.readFile(l.state, 'utf8')) as Partial<UpdateState>;
    return { current: s.current ?? null, previous: s.previous ?? null, rejected: s.rejected ?? {}, ...(s.trial ? { trial: s.trial } : {}) };
  } catch {
    return { current: null, previous: null, rejected: {} };
  }
}

export async function writeState(l: Layout, s: UpdateState): Promise<void> {
  await writeFileAtomic(l.state, JSON.stringify(s, null, 2) + '\n', { mode: 0o644 });
}

/** The version `current` points at (read from that release's manifest), or null on a bare root. */
export async function currentVersion(l: Layout): Promise<string | null> {
  let target: string;
  try {
    target = await fs.readlink(l.current);
  } catch {
    return null;
  }
  const dir = path.resolve(l.base, target);
  const manifest = parseManifest(await fs.readFile(path.join(dir, MANIFEST_NAME), 'utf8'));
  return manifest.version;
}

/** Points `link` at releases/<version> with one rename(2), so a reader (systemd starting the
 * agent, a power cut) sees either the old slot or the new one. The link is relative so the
 * same tree works at / and under a test root. A null version removes the link. */
async function setLink(l: Layout, link: string, version: string | null): Promise<void> {
  if (version === null) {
    await fs.rm(link, { force: true });
    return;
  }
  const tmp = `${link}.tmp-${randomBytes(4).toString('hex')}`;
  await fs.symlink(path.join('releases', version), tmp);
  await fs.rename(tmp, link);
  await fsyncDir(l.base);
}

export async function switchCurrent(l: Layout, version: string): Promise<void> {
  await setLink(l, l.current, version);
}

/** `previous` names the last known-good release, whose updater runs the boot-time check. */
export async function setPrevious(l: Layout, version: string | null): Promise<void> {
  await setLink(l, l.previous, version);
}

/** Configuration under etc/ belongs to the site once installed: laid only where missing. */
function isConffile(rel: string): boolean {
  return rel.startsWith('etc/');
}

async function rootfsFiles(release: string | null): Promise<string[]> {
  if (!release) return [];
  try {
    return await listFiles(path.join(release, 'rootfs'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Installs the rootfs files of release `to` under the root, and removes the system files that
 * release `from` installed and `to` no longer has. Rolling back is the same call reversed. */
export async function layRootfs(l: Layout, to: string, from: string | null): Promise<void> {
  const wanted = await rootfsFiles(to);
  for (const rel of wanted) {
    const target = path.join(l.root, rel);
    const source = path.join(to, 'rootfs', rel);
    await fs.mkdir(path.dirname(target), { recursive: true });
    if (isConffile(rel)) {
      const present = await fs.lstat(target).then(() => true, () => false);
      if (present) continue;
    }
    const st = await fs.stat(source);
    await writeFileAtomic(target, await fs.readFile(source), { mode: st.mode & 0o7777 });
  }
  const keep = new Set(wanted);
  for (const rel of await rootfsFiles(from)) {
    if (keep.has(rel) || isConffile(rel)) continue;
    await fs.rm(path.join(l.root, rel), { force: true });
  }
}

/** Removes release directories other than `keep` and leftovers of interrupted installs. */
export async function pruneReleases(l: Layout, keep: Array<string | null>): Promise<void> {
  const names = await fs.readdir(l.releases).catch(() => [] as string[]);
  const k = new Set(keep.filter((v): v is string => !!v));
  for (const n of names) {
    if (!k.has(n)) await fs.rm(path.join(l.releases, n), { recursive: true, force: true });
  }
}
