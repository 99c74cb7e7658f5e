// Reads the .torrent files groups upload: checks that they are private, well formed and safely
// named, computes the info hash from the info dict exactly as it appears in the bytes, and
// rewrites the announce URL for one peer without touching a byte of the info dict.
import bencode from 'bencode';
import { createHash } from 'node:crypto';
import { BadTorrentError } from './errors.js';
import { isTorrentName } from '../protocol/index.js';
import { DEFAULT_TORRENT_LIMITS, type TorrentLimits } from './torrent-limits.js';

export interface TorrentInfo {
  name: string;
  /** v1 info hash in hex (sha1 of the info dict); for a v2-only torrent, the sha256 in hex */
  infoHash: string;
  /** 20-byte hashes a client may announce with (v1, and the truncated v2 hash of hybrids) */
  trackerHashes: Buffer[];
  size: number;
}

const MAX_DEPTH = 64;
const D = 0x64;
const L = 0x6c;
const I = 0x69;
const E = 0x65;
const COLON = 0x3a;

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

/** Where the bencoded value starting at `pos` ends (exclusive); throws on any malformation. */
function skipValue(buf: Buffer, pos: number, depth: number): number {
  if (depth > MAX_DEPTH) throw new BadTorrentError('nested too deeply');
  const b = buf[pos];
  if (b === I) {
    let p = pos + 1;
    if (buf[p] === 0x2d) p++;
    const start = p;
    while (isDigit(buf[p])) p++;
    if (p === start || buf[p] !== E) throw new BadTorrentError(`bad integer at byte ${pos}`);
    return p + 1;
  }
  if (b === L || b === D) {
    let p = pos + 1;
    while (buf[p] !== E) {
      if (p >= buf.length) throw new BadTorrentError('the file is cut short');
      if (b === D) p = skipString(buf, p);
      p = skipValue(buf, p, depth + 1);
    }
    return p + 1;
  }
  return skipString(buf, pos);
}

function skipString(buf: Buffer, pos: number): number {
  let p = pos;
  while (isDigit(buf[p])) p++;
  if (p === pos || buf[p] !== COLON) throw new BadTorrentError(`expected a string at byte ${pos}`);
  const len = Number(buf.toString('latin1', pos, p));
  const end = p + 1 + len;
  if (end > buf.length) throw new BadTorrentError('the file is cut short');
  return end;
}

/** The top-level dict as ordered [key, raw value bytes] pairs. */
function topLevelEntries(buf: Buffer): Array<[Buffer, Buffer]> {
  if (buf.length === 0) throw new BadTorrentError('the upload is empty');
  if (buf[0] !== D) throw new BadTorrentError('it does not start with a bencoded dictionary');
  const end = skipValue(buf, 0, 0);
  if (end !== buf.length) throw new BadTorrentError('there are stray bytes after the torrent dictionary');
  const entries: Array<[Buffer, Buffer]> = [];
  let p = 1;
  while (buf[p] !== E) {
    const keyEnd = skipString(buf, p);
    const key = buf.subarray(buf.indexOf(COLON, p) + 1, keyEnd);
    const valueEnd = skipValue(buf, keyEnd, 1);
    entries.push([key, buf.subarray(keyEnd, valueEnd)]);
    p = valueEnd;
  }
  return entries;
}

type BValue = number | Uint8Array | BValue[] | { [k: string]: BValue };

function isDict(v: BValue | undefined): v is { [k: string]: BValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function isLength(v: BValue | undefined): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function text(v: BValue | undefined): string | undefined {
  return v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : undefined;
}

/** libtorrent's largest piece length (a torrent with more is "invalid piece length" on load). */
const MAX_PIECE_LENGTH = 2 ** 30 - 1;

// Inner path elements are joined under the torrent's folder on every cinema, so they get the
// same scrutiny as the name, and the limits every cinema's file system and libtorrent impose.
function checkPath(elements: Array<string | undefined>, limits: TorrentLimits): void {
  if (elements.length > limits.maxDepth) {
    throw new BadTorrentError(`a file lies ${elements.length} folders deep; the limit (torrentLimits.maxDepth) is ${limits.maxDepth}`);
  }
  for (const el of elements) {
    if (el === undefined || el === '' || el === '.' || el === '..' || /[/\\\0]/.test(el)) {
      throw new BadTorrentError(`a file path inside it is unsafe (${JSON.stringify(el ?? null)})`);
    }
    const bytes = Buffer.byteLength(el, 'utf8');
    if (bytes > limits.maxPathBytes) {
      throw new BadTorrentError(
        `a file or folder name is ${bytes} bytes long (${JSON.stringify(el.slice(0, 40) + '…')}); the limit (torrentLimits.maxPathBytes) is ${limits.maxPathBytes}`,
      );
    }
  }
}

function checkFileCount(n: number, limits: TorrentLimits): void {
  if (n > limits.maxFiles) throw new BadTorrentError(`it lists ${n} files; the limit (torrentLimits.maxFiles) is ${limits.maxFiles}`);
}

/** DCP bytes (padding excluded) and every byte the v1 pieces cover (padding included). */
function v1Size(info: { [k: string]: BValue }, limits: TorrentLimits): { size: number; hashed: number } | undefined {
  if (info.length !== undefined) {
    if (!isLength(info.length)) throw new BadTorrentError('info.length is not a size');
    return { size: info.length, hashed: info.length };
  }
  if (info.files === undefined) return undefined;
  if (!Array.isArray(info.files) || info.files.length === 0) throw new BadTorrentError('info.files is not a list of files');
  checkFileCount(info.files.length, limits);
  let size = 0;
  let hashed = 0;
  for (const f of info.files) {
    if (!isDict(f) || !isLength(f.length) || !Array.isArray(f.path) || f.path.length === 0) {
      throw new BadTorrentError('an entry of info.files has no length or path');
    }
    checkPath(f.path.map(text), limits);
    hashed += f.length;
    // Padding files (BEP 47, attr 'p') align hybrid torrents' files to pieces; no data of the DCP.
    if (!(text(f.attr) ?? '').includes('p')) size += f.length;
  }
  return { size, hashed };
}

function v2Size(tree: BValue | undefined, limits: TorrentLimits, at: string[] = [], count = { files: 0 }): number {
  if (!isDict(tree) || at.length > MAX_DEPTH) throw new BadTorrentError("info['file tree'] is malformed");
  let total = 0;
  for (const [k, v] of Object.entries(tree)) {
    if (k === '') {
      if (!isDict(v) || !isLength(v.length)) throw new BadTorrentError("a file in info['file tree'] has no length");
      // libtorrent refuses a v2 file without its 32-byte merkle root (empty files carry none).
      const root = v['pieces root'];
      if (v.length > 0 && !(root instanceof Uint8Array && root.length === 32)) {
        throw new BadTorrentError(`the file ${JSON.stringify(at.join('/'))} in info['file tree'] has no 32-byte 'pieces root'`);
      }
      checkFileCount(++count.files, limits);
      total += v.length;
    } else {
      checkPath([...at, k], limits);
      total += v2Size(v, limits, [...at, k], count);
    }
  }
  return total;
}

/** Validates an uploaded .torrent and describes it; throws BadTorrentError with the reason. */
export function readTorrent(bytes: Buffer, limits: TorrentLimits = DEFAULT_TORRENT_LIMITS): TorrentInfo {
  if (bytes.length > limits.maxTorrentBytes) {
    throw new BadTorrentError(`it is ${bytes.length} bytes; the limit (torrentLimits.maxTorrentBytes) is ${limits.maxTorrentBytes}`);
  }
  const entries = topLevelEntries(bytes);
  const rawInfo = entries.find(([k]) => k.toString('latin1') === 'info')?.[1];
  if (!rawInfo || rawInfo[0] !== D) throw new BadTorrentError('it has no info dictionary');
  const info = bencode.decode(rawInfo) as BValue;
  if (!isDict(info)) throw new BadTorrentError('it has no info dictionary');
  if (info.private !== 1) {
    throw new BadTorrentError('it is not marked private (info.private = 1); create it again as a private torrent');
  }
  const name = text(info.name);
  if (name === undefined || !isTorrentName(name)) {
    throw new BadTorrentError(
      `its name ${JSON.stringify(name ?? null)} is not allowed: it must start with a letter or digit and have at most 200 letters, digits, '.', '_' or '-'`,
    );
  }
  if (!isLength(info['piece length']) || info['piece length'] === 0) throw new BadTorrentError('info has no piece length');
  const isV2 = info['meta version'] === 2;
  // What libtorrent takes; beyond it every agent would refuse the torrent.
  const pieceLength = info['piece length'];
  if (pieceLength > MAX_PIECE_LENGTH) throw new BadTorrentError(`its piece length is ${pieceLength} bytes; libtorrent takes at most ${MAX_PIECE_LENGTH}`);
  if (isV2 && (pieceLength < 16384 || (pieceLength & (pieceLength - 1)) !== 0)) {
    throw new BadTorrentError(`its piece length is ${pieceLength} bytes; a v2 torrent needs a power of two of at least 16384`);
  }
  const hasV1 = info.pieces !== undefined;
  let size: number | undefined;
  if (hasV1) {
    if (!(info.pieces instanceof Uint8Array) || info.pieces.length % 20 !== 0) throw new BadTorrentError('info.pieces is malformed');
    const sizes = v1Size(info, limits);
    if (sizes === undefined) throw new BadTorrentError('info has neither a length nor a list of files');
    // libtorrent refuses a torrent whose hash list does not cover its bytes exactly, on every agent.
    const expected = Math.ceil(sizes.hashed / info['piece length']);
    const given = info.pieces.length / 20;
    if (given !== expected) {
      throw new BadTorrentError(
        `it has ${given} piece hashes, but ${sizes.hashed} bytes in pieces of ${info['piece length']} bytes need ${expected}`,
      );
    }
    size = sizes.size;
  }
  if (isV2) {
    const s2 = v2Size(info['file tree'], limits);
    if (size !== undefined && s2 !== size) throw new BadTorrentError('the v1 and v2 file lists disagree');
    size = s2;
  }
  if (!hasV1 && !isV2) throw new BadTorrentError('info has no pieces');
  const trackerHashes: Buffer[] = [];
  let infoHash = '';
  if (hasV1) {
    const h = createHash('sha1').update(rawInfo).digest();
    trackerHashes.push(h);
    infoHash = h.toString('hex');
  }
  if (isV2) {
    const h2 = createHash('sha256').update(rawInfo).digest();
    trackerHashes.push(h2.subarray(0, 20));
    if (!infoHash) infoHash = h2.toString('hex');
  }
  return { name, infoHash, trackerHashes, size: size ?? 0 };
}

/**
 * The same torrent with `announceUrl` as its only tracker. Every other entry keeps its
 * original bytes, so the info dict and therefore the info hash are unchanged.
 */
export function personalise(bytes: Buffer, announceUrl: string): Buffer {
  const kept = topLevelEntries(bytes).filter(([k]) => {
    const key = k.toString('latin1');
    return key !== 'announce' && key !== 'announce-list';
  });
  kept.push([Buffer.from('announce'), Buffer.from(bencode.encode(announceUrl))]);
  kept.push([Buffer.from('announce-list'), Buffer.from(bencode.encode([[announceUrl]]))]);
  return encodeRawDict(kept);
}

/** A dict from already-encoded values, keys in the raw byte order bencode requires. */
export function encodeRawDict(entries: Array<[Buffer, Buffer]>): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(a[0], b[0]));
  const parts: Buffer[] = [Buffer.from('d')];
  for (const [k, v] of sorted) parts.push(Buffer.from(`${k.length}:`), k, v);
  parts.push(Buffer.from('e'));
  return Buffer.concat(parts);
}
