// Asset-map paths made safe: `file://` stripped, relative only, never leading outside the DCP folder,
// not even through a symlink. The verifier never opens a path this module has not approved.
import fs from 'node:fs/promises';
import path from 'node:path';

export type PathResult =
  | { ok: true; rel: string; abs: string }
  | { ok: false; code: 'PATH_EMPTY' | 'PATH_ABSOLUTE' | 'PATH_ESCAPES'; reason: string };

/** Checks an ASSETMAP <Path> lexically and resolves it under `root`; touches nothing on disk. */
export function resolveAssetPath(root: string, raw: string): PathResult {
  let p = raw.trim();
  if (/^file:\/\//i.test(p)) p = p.slice('file://'.length); // some writers prefix paths; libdcp strips it too
  if (p === '') return { ok: false, code: 'PATH_EMPTY', reason: 'the asset map gives it an empty path' };
  if (p.includes('\0')) return { ok: false, code: 'PATH_ESCAPES', reason: `the asset map path "${raw}" is not a valid file name` };
  // Maps written on Windows may use backslashes; read them as separators so "..\" cannot slip through.
  p = p.replace(/\\/g, '/');
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) {
    return { ok: false, code: 'PATH_ABSOLUTE', reason: `the asset map path "${raw}" is absolute, outside the DCP folder` };
  }
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) {
        return { ok: false, code: 'PATH_ESCAPES', reason: `the asset map path "${raw}" leads outside the DCP folder` };
      }
      parts.pop();
    } else parts.push(seg);
  }
  if (parts.length === 0) return { ok: false, code: 'PATH_EMPTY', reason: `the asset map path "${raw}" names no file` };
  const rel = parts.join('/');
  return { ok: true, rel, abs: path.join(root, ...parts) };
}

export type FileState =
  | { state: 'file'; size: number; real: string }
  | { state: 'missing' }
  | { state: 'not-file' }
  | { state: 'escapes'; target: string };

/** What is on disk at `abs`, following symlinks only as far as they stay inside `rootReal`. */
export async function inspectFile(rootReal: string, abs: string): Promise<FileState> {
  let real: string;
  try {
    real = await fs.realpath(abs);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'ELOOP')) return { state: 'missing' };
    throw err;
  }
  if (!isInside(rootReal, real)) return { state: 'escapes', target: real };
  const st = await fs.stat(real);
  if (!st.isFile()) return { state: 'not-file' };
  return { state: 'file', size: st.size, real };
}

export function isInside(rootReal: string, candidate: string): boolean {
  const rel = path.relative(rootReal, candidate);
  return rel !== '' && !rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel);
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
