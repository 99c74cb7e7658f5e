// Session: a libtorrent session with typed events. Alerts arrive in batches from the native side
// and are re-emitted as events named after the alert ('hash-failed', 'torrent-finished', ...).
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { addon, type NativeSession } from './addon.js';
import { EngineError, native, nativeAsync, toEngineError } from './errors.js';
import { toSettingsPack } from './settings.js';
import { Torrent } from './torrent.js';
import type { AddTorrentOptions, EngineAlert, SessionSettings, TorrentStatus } from './types.js';

// Event names that differ from the plain alert name with '_' → '-'.
const EVENT_NAMES: Record<string, string> = {
  peer_ban: 'peer-banned',
  performance: 'performance-warning',
};

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: EngineError) => void;
}

/**
 * One libtorrent session. Like a listening server, an open session keeps the process alive:
 * call close() when done (it is idempotent and stops alert delivery).
 */
export class Session extends EventEmitter {
  readonly #native: NativeSession;
  readonly #torrents = new Map<string, Torrent>();
  /** torrents this session was asked to remove (a handle can outlive its torrent) */
  readonly #removed = new WeakSet<Torrent>();
  readonly #resumeWaiters = new Map<string, Waiter<Buffer>[]>();
  readonly #removeWaiters = new Map<string, Waiter<void> & { deleteFiles: boolean }>();
  #closing: Promise<void> | undefined;

  constructor(settings: SessionSettings = {}) {
    super();
    const pack = toSettingsPack(settings, true);
    this.#native = native(() => new addon.Session(pack, (alerts) => this.#onAlerts(alerts), { storage: settings.storage }));
    if (settings.rateLimitLocalPeers) native(() => this.#native.setRateLimitLocalPeers(true));
  }

  get listenPort(): number {
    return native(() => this.#native.listenPort());
  }

  applySettings(settings: SessionSettings): void {
    const pack = toSettingsPack(settings, false);
    native(() => this.#native.applySettings(pack));
    if (settings.rateLimitLocalPeers !== undefined) native(() => this.#native.setRateLimitLocalPeers(settings.rateLimitLocalPeers!));
  }

  addTorrent(opts: AddTorrentOptions): Torrent {
    let bytes: Buffer | undefined;
    try {
      bytes = typeof opts.torrent === 'string' ? fs.readFileSync(opts.torrent) : opts.torrent;
      // A save path that cannot hold files is refused now, not discovered at the first write.
      fs.mkdirSync(opts.savePath, { recursive: true });
      fs.accessSync(opts.savePath, fs.constants.W_OK);
    } catch (e) {
      const err = toEngineError(e);
      throw new EngineError(err.code, `cannot use ${typeof opts.torrent === 'string' ? opts.torrent : 'the torrent'} with save path ${opts.savePath}: ${err.message}`);
    }
    const handle = native(() =>
      this.#native.addTorrent({
        torrent: bytes,
        resumeData: opts.resumeData,
        savePath: opts.savePath,
        paused: opts.paused ?? false,
        seedMode: opts.seedMode ?? false,
        piecesVerified: opts.piecesVerified ?? false,
        superSeeding: opts.superSeeding ?? false,
        downloadLimit: opts.downloadLimit ?? 0,
        uploadLimit: opts.uploadLimit ?? 0,
      }),
    );
    const t = new Torrent(handle, { waitResumeData: (h) => this.#waitResumeData(h) });
    this.#torrents.set(t.infoHash, t);
    return t;
  }

  torrents(): Torrent[] {
    return [...this.#torrents.values()];
  }

  find(infoHash: string): Torrent | undefined {
    return this.#torrents.get(infoHash.toLowerCase());
  }

  /** Resolves once libtorrent has removed the torrent (and, with deleteFiles, its files). */
  removeTorrent(t: Torrent, opts: { deleteFiles?: boolean } = {}): Promise<void> {
    const deleteFiles = opts.deleteFiles ?? false;
    return new Promise<void>((resolve, reject) => {
      // libtorrent keeps a removed torrent's handle valid for a while after its removal alert, and a
      // second removal then "succeeds"; this object knows it already asked.
      if (this.#removed.has(t)) throw new EngineError('TORRENT_REMOVED', 'this torrent is no longer in the session');
      native(() => this.#native.removeTorrent(t.handle, deleteFiles));
      this.#removed.add(t);
      this.#torrents.delete(t.infoHash);
      this.#removeWaiters.set(t.infoHash, { resolve, reject, deleteFiles });
    });
  }

  statusAll(): TorrentStatus[] {
    return native(() => this.#native.statusAll());
  }

  close(): Promise<void> {
    if (!this.#closing) {
      const closed = new EngineError('SESSION_CLOSED', 'the BitTorrent session was closed');
      for (const ws of this.#resumeWaiters.values()) for (const w of ws) w.reject(closed);
      for (const w of this.#removeWaiters.values()) w.resolve();
      this.#resumeWaiters.clear();
      this.#removeWaiters.clear();
      this.#torrents.clear();
      this.#closing = nativeAsync(() => this.#native.close());
    }
    return this.#closing;
  }

  #waitResumeData(infoHash: string): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      if (this.#closing) return reject(new EngineError('SESSION_CLOSED', 'the BitTorrent session was closed'));
      const list = this.#resumeWaiters.get(infoHash) ?? [];
      list.push({ resolve, reject });
      this.#resumeWaiters.set(infoHash, list);
    });
  }

  #settle(alert: EngineAlert): void {
    const ih = alert.infoHash;
    if (!ih) return;
    if (alert.type === 'save_resume_data' || alert.type === 'save_resume_data_failed') {
      const w = this.#resumeWaiters.get(ih)?.shift();
      if (!w) return;
      if (alert.resumeData) w.resolve(alert.resumeData);
      else w.reject(new EngineError(alert.errorCode ?? 'RESUME_DATA_FAILED', alert.error ?? alert.message));
      return;
    }
    const rw = this.#removeWaiters.get(ih);
    if (!rw) return;
    if ((alert.type === 'torrent_removed' && !rw.deleteFiles) || alert.type === 'torrent_deleted') {
      this.#removeWaiters.delete(ih);
      rw.resolve();
    } else if (alert.type === 'torrent_delete_failed') {
      this.#removeWaiters.delete(ih);
      rw.reject(new EngineError(alert.errorCode ?? 'DELETE_FAILED', alert.error ?? alert.message));
    }
  }

  #onAlerts(alerts: EngineAlert[]): void {
    // A throwing listener must not cost the rest of the batch (or a pending saveResumeData) its
    // alerts: everything is delivered first, then the first error is rethrown as uncaught.
    let failure: unknown;
    let failed = false;
    for (const a of alerts) {
      this.#settle(a);
      for (const name of [EVENT_NAMES[a.type] ?? a.type.replace(/_/g, '-'), 'alert']) {
        try {
          this.emit(name, a);
        } catch (e) {
          if (!failed) [failure, failed] = [e, true];
        }
      }
    }
    if (failed) process.nextTick(() => {
      throw failure;
    });
  }
}
