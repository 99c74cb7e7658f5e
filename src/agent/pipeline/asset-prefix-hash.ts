// A streaming SHA-1 of one large asset kept while it downloads: fed from the file's in-order
// prefix of checked pieces, so at the file's last piece only the tail is left to hash.
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs/promises';

const CHUNK = 4 * 1024 * 1024;

/** Where a file lies in the torrent's piece space (v1, no pad files between). */
export interface FileSpan {
  /** byte offset of the file's first byte in the torrent */
  start: number;
  size: number;
  pieceLength: number;
}

/** Bytes from the file's start that lie wholly in pieces libtorrent has checked. */
export function checkedPrefix(span: FileSpan, pieces: boolean[]): number {
  if (span.size === 0) return 0;
  const first = Math.floor(span.start / span.pieceLength);
  const last = Math.floor((span.start + span.size - 1) / span.pieceLength);
  for (let p = first; p <= last; p++) {
    if (pieces[p] === true) continue;
    return Math.max(0, Math.min(span.size, p * span.pieceLength - span.start));
  }
  return span.size;
}

export class PrefixHash {
  private hash: Hash = createHash('sha1');
  /** bytes of the file fed into the hash */
  hashed = 0;
  /** one read at a time: the writeback's advance and the final check share the hash */
  private busy: Promise<unknown> = Promise.resolve();
  /** finished: its digest is taken, later advances do nothing */
  private closed = false;
  /**
   * The read buffer, kept from one advance to the next: a fresh 4 MiB buffer every 250 ms left
   * the garbage collector behind, and the agent's anonymous memory grew with the DCP's size
   * (1 GiB: 117-144 MB, 4 GiB: 227 MB at its peak).
   */
  private buf: Buffer | undefined;

  constructor(readonly file: string, readonly span: FileSpan) {}

  /** Starts over (a recheck, or pieces once checked are missing again). */
  reset(): void {
    this.hash = createHash('sha1');
    this.hashed = 0;
  }

  /**
   * Hashes the checked prefix beyond what is hashed, from the page cache: the bytes libtorrent
   * checked, which it never writes again until a recheck (that resets this hash). finish()
   * fdatasyncs the file before the digest is handed out, so what was hashed is what is on disk
   * before a result counts.
   */
  advance(pieces: () => boolean[]): Promise<number> {
    const run = this.busy.then(() => this.advanceNow(pieces()));
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** The whole file's SHA-1 once all its pieces are checked: hashes the tail, syncs, digests. */
  finish(pieces: () => boolean[]): Promise<{ size: number; sha1Base64: string; tail: number } | null> {
    const run = this.busy.then(async () => {
      const before = this.hashed;
      const got = await this.advanceNow(pieces(), true);
      if (got !== this.span.size) return null;
      const sha1Base64 = this.hash.digest('base64');
      const tail = this.span.size - before;
      this.closed = true;
      this.buf = undefined;
      return { size: got, sha1Base64, tail };
    });
    this.busy = run.catch(() => undefined);
    return run;
  }

  private async advanceNow(pieces: boolean[], sync = false): Promise<number> {
    if (this.closed) return this.hashed;
    const upTo = checkedPrefix(this.span, pieces);
    if (upTo < this.hashed) this.reset(); // a piece already hashed is no longer checked
    if (upTo === this.hashed && !sync) return this.hashed;
    const fh = await fs.open(this.file, 'r');
    try {
      const buf = (this.buf ??= Buffer.allocUnsafe(CHUNK));
      while (this.hashed < upTo) {
        const want = Math.min(CHUNK, upTo - this.hashed);
        const { bytesRead } = await fh.read(buf, 0, want, this.hashed);
        if (bytesRead <= 0) throw new Error(`${this.file}: short read at ${this.hashed}`);
        this.hash.update(buf.subarray(0, bytesRead));
        this.hashed += bytesRead;
      }
      // Bytes past the torrent's size would make the file differ from its packing list entry.
      if (this.hashed === this.span.size && (await fh.stat()).size !== this.span.size) throw new Error(`${this.file}: size on disk differs from the torrent`);
      // mmap storage does not sync: the digest counts only once the bytes it covers are on disk
      if (sync) await fh.datasync();
    } catch (err) {
      this.reset();
      throw err;
    } finally {
      await fh.close();
    }
    return this.hashed;
  }
}
