// Whole-file work off the JS thread: SHA-1 of files (DCP verification) and .torrent creation and parsing.
import os from 'node:os';
import path from 'node:path';
import { addon } from './addon.js';
import { EngineError, native, nativeAsync } from './errors.js';
import type { CreateTorrentOptions, FileHash, HashFilesOptions, TorrentInfo } from './types.js';

export async function hashFiles(paths: string[], opts: HashFilesOptions = {}): Promise<FileHash[]> {
  const concurrency = opts.concurrency ?? os.availableParallelism();
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new EngineError('INVALID_ARGUMENT', 'concurrency must be a whole number of at least 1');
  if (paths.length === 0) return [];
  const raw = await nativeAsync(() => addon.hashFiles(paths, concurrency, opts.onProgress));
  return raw.map((r, i) => ({
    path: paths[i]!,
    size: r.size,
    sha1Hex: r.sha1.toString('hex'),
    sha1Base64: r.sha1.toString('base64'),
  }));
}

export async function createTorrent(dir: string, opts: CreateTorrentOptions = {}): Promise<Buffer> {
  // An absolute path without a trailing slash: libtorrent names the torrent after its last component.
  const abs = path.resolve(dir);
  const { onProgress, ...rest } = opts;
  return nativeAsync(() => addon.createTorrent(abs, { private: true, ...rest }, onProgress));
}

/**
 * A torrent of `dir` and the SHA-1 of each of its files, from one read of the bytes (a publisher
 * needs both: the packing list's checksums and the pieces). FileHash.path is absolute.
 */
export async function createTorrentWithFileHashes(dir: string, opts: CreateTorrentOptions = {}): Promise<{ torrent: Buffer; files: FileHash[] }> {
  const abs = path.resolve(dir);
  const { onProgress, ...rest } = opts;
  const r = await nativeAsync(() => addon.createTorrent(abs, { private: true, ...rest, fileHashes: true }, onProgress));
  const parent = path.dirname(abs);
  return {
    torrent: r.torrent,
    files: r.files.map((f) => ({ path: path.join(parent, f.path), size: f.size, sha1Hex: f.sha1.toString('hex'), sha1Base64: f.sha1.toString('base64') })),
  };
}

export function parseTorrent(bytes: Buffer): TorrentInfo {
  if (!Buffer.isBuffer(bytes)) throw new EngineError('BAD_TORRENT', 'a .torrent must be given as bytes');
  return native(() => addon.parseTorrent(bytes));
}

export const libtorrentVersion: string = addon.libtorrentVersion;
