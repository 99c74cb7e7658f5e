// Torrent: one torrent of a Session (a typed face over the native torrent handle).
import type { NativeTorrentHandle } from './addon.js';
import { native } from './errors.js';
import type { PeerInfo, TorrentStatus } from './types.js';

/** What a Torrent needs from its Session: resume data arrives as a session alert. */
export interface TorrentOwner {
  waitResumeData(infoHash: string): Promise<Buffer>;
}

export class Torrent {
  readonly infoHash: string;
  readonly name: string;
  /** @internal the native handle, used by Session.removeTorrent */
  readonly handle: NativeTorrentHandle;
  readonly #owner: TorrentOwner;

  /** @internal created by Session.addTorrent */
  constructor(handle: NativeTorrentHandle, owner: TorrentOwner) {
    this.handle = handle;
    this.#owner = owner;
    const st = native(() => handle.status());
    this.infoHash = st.infoHash;
    this.name = st.name;
  }

  status(): TorrentStatus {
    return native(() => this.handle.status());
  }

  pause(): void {
    native(() => this.handle.pause());
  }

  resume(): void {
    native(() => this.handle.resume());
  }

  forceRecheck(): void {
    native(() => this.handle.forceRecheck());
  }

  connectPeer(host: string, port: number): void {
    native(() => this.handle.connectPeer(host, port));
  }

  setDownloadLimit(bytesPerSecond: number): void {
    native(() => this.handle.setDownloadLimit(bytesPerSecond));
  }

  setUploadLimit(bytesPerSecond: number): void {
    native(() => this.handle.setUploadLimit(bytesPerSecond));
  }

  /** Bencoded resume data (libtorrent's write_resume_data_buf, including the info dict). */
  saveResumeData(): Promise<Buffer> {
    // Alerts reach JS only on a later turn of the event loop, so registering after the call cannot miss it.
    native(() => this.handle.saveResumeData());
    return this.#owner.waitResumeData(this.infoHash);
  }

  pieceStates(): boolean[] {
    return native(() => this.handle.pieceStates());
  }

  /** BEP 16 initial seeding: a seed hands each peer one piece at a time, so it sends about one copy. */
  setSuperSeeding(on: boolean): void {
    native(() => this.handle.setSuperSeeding(on));
  }

  /** Pieces in order instead of rarest first (top-priority files still first). */
  setSequentialDownload(on: boolean): void {
    native(() => this.handle.setSequentialDownload(on));
  }

  /** Bytes of each file (torrent file order) that are in pieces already checked. */
  fileProgress(): number[] {
    return native(() => this.handle.fileProgress());
  }

  /** Clears a disk error and leaves upload mode: the torrent downloads again, keeping what is on disk. */
  clearError(): void {
    native(() => this.handle.clearError());
  }

  /** Announces to the trackers now, whatever retry delay libtorrent grew while they were away. */
  forceReannounce(): void {
    native(() => this.handle.forceReannounce());
  }

  /** The connected peers, with their hash failures. */
  peers(): PeerInfo[] {
    return native(() => this.handle.peers());
  }

  /** 0 = do not download, 1 = low … 4 = default … 7 = top priority. */
  setFilePriority(fileIndex: number, priority: number): void {
    native(() => this.handle.setFilePriority(fileIndex, priority));
  }
}
