// The bundle manifest: version, creation time and the SHA-256 of every file, so an installed
// release can be proven identical, file by file, to what the build machine signed.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { FirmwareError } from './errors.js';

export const MANIFEST_NAME = 'manifest.json';

export interface Manifest {
  version: string;
  createdAt: string;
  /** POSIX path relative to the release root → lowercase hex SHA-256. */
  files: Record<string, string>;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every regular file under `dir` (posix relative paths, sorted); anything else is refused
 * because a symlink or device in a release could point outside it. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) out.push(r);
      else throw new FirmwareError('MANIFEST_MISMATCH', `'${r}' is not a regular file or directory; firmware releases hold only plain files`);
    }
  }
  await walk('');
  return out.sort();
}

/** Hashes the tree under `dir`, leaving out the manifest itself. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const rel of await listFiles(dir)) {
    if (rel === MANIFEST_NAME) continue;
    files[rel] = await sha256File(path.join(dir, rel));
  }
  return files;
}

/** The largest bundle anything here reads (the server takes the same by default): a release with
 * its own Node.js runtime is well under 100 MB, so a bigger file is the wrong one. */
export const MAX_BUNDLE_BYTES = 1024 ** 3;

export function safeRelative(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

/** Parses and checks the shape of a manifest; refuses paths that could escape the release. */
export function parseManifest(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new FirmwareError('BAD_MANIFEST', 'the bundle manifest is not valid JSON');
  }
  const m = raw as Partial<Manifest> | null;
  if (!m || typeof m !== 'object') throw new FirmwareError('BAD_MANIFEST', 'the bundle manifest is not a JSON object');
  if (typeof m.version !== 'string' || !semver.valid(m.version)) {
    throw new FirmwareError('BAD_MANIFEST', `the bundle manifest has no valid version (got ${JSON.stringify(m.version)})`);
  }
  if (typeof m.createdAt !== 'string') throw new FirmwareError('BAD_MANIFEST', 'the bundle manifest has no createdAt');
  if (!m.files || typeof m.files !== 'object' || Array.isArray(m.files)) {
    throw new FirmwareError('BAD_MANIFEST', 'the bundle manifest has no file list');
  }
  for (const [p, h] of Object.entries(m.files)) {
    if (!safeRelative(p)) throw new FirmwareError('BAD_MANIFEST', `the bundle manifest names an unsafe path '${p}'`);
    if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) {
      throw new FirmwareError('BAD_MANIFEST', `the bundle manifest has no valid SHA-256 for '${p}'`);
    }
  }
  return { version: m.version, createdAt: m.createdAt, files: m.files };
}

/** Checks that `dir` holds exactly the manifest's files with the manifest's hashes. */
export async function verifyTree(dir: string, manifest: Manifest): Promise<void> {
  const present = new Set((await listFiles(dir)).filter((f) => f !== MANIFEST_NAME));
  for (const [rel, expected] of Object.entries(manifest.files)) {
    if (!present.has(rel)) throw new FirmwareError('MANIFEST_MISMATCH', `file '${rel}' listed in the manifest is missing from the bundle`);
    const actual = await sha256File(path.join(dir, rel));
    if (actual !== expected) {
      throw new FirmwareError('MANIFEST_MISMATCH', `file '${rel}' does not match its SHA-256 in the manifest: the bundle was altered after it was built`);
    }
    present.delete(rel);
  }
  const extra = [...present];
  if (extra.length > 0) {
    throw new FirmwareError('MANIFEST_MISMATCH', `the bundle holds ${extra.length} file(s) not listed in its manifest, e.g. '${extra[0]}'`);
  }
}
