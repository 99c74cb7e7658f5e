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

export function parseTorrent(bytes: Buffer): TorrentInfo {
  if (!Buffer.isBuffer(bytes)) throw new EngineError('BAD_TORRENT', 'a .torrent must be given as bytes');
  return native(() => addon.parseTorrent(bytes));
}

export const libtorrentVersion: string = addon.libtorrentVersion;
