// Loads the native addon (build/Release/cineswarm_engine.node) and describes its raw shape.
// This is the only module in cineswarm that touches the .node file.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineAlert, PeerInfo, StorageKind, TorrentInfo, TorrentStatus } from './types.js';

export type SettingsPack = Record<string, string | number | boolean>;

export interface NativeTorrentHandle {
  status(): TorrentStatus;
  pause(): void;
  resume(): void;
  forceRecheck(): void;
  connectPeer(host: string, port: number): void;
  setDownloadLimit(bytesPerSecond: number): void;
  setUploadLimit(bytesPerSecond: number): void;
  saveResumeData(): void;
  /** per piece: hash-checked and every block written to the storage (a read of the file sees it) */
  pieceStates(): boolean[];
  setSuperSeeding(on: boolean): void;
  setSequentialDownload(on: boolean): void;
  fileProgress(): number[];
  setFilePriority(fileIndex: number, priority: number): void;
  clearError(): void;
  forceReannounce(): void;
  peers(): PeerInfo[];
}

export interface NativeAddParams {
  torrent?: Buffer;
  resumeData?: Buffer;
  savePath: string;
  paused?: boolean;
  seedMode?: boolean;
  piecesVerified?: boolean;
  superSeeding?: boolean;
  downloadLimit?: number;
  uploadLimit?: number;
}

export interface NativeSession {
  listenPort(): number;
  applySettings(pack: SettingsPack): void;
  addTorrent(params: NativeAddParams): NativeTorrentHandle;
  removeTorrent(handle: NativeTorrentHandle, deleteFiles: boolean): void;
  statusAll(): TorrentStatus[];
  setRateLimitLocalPeers(on: boolean): void;
  close(): Promise<void>;
}

export interface NativeAddon {
  libtorrentVersion: string;
  Session: new (pack: SettingsPack, onAlerts: (alerts: EngineAlert[]) => void, options: { storage?: StorageKind }) => NativeSession;
  hashFiles(paths: string[], concurrency: number, onProgress?: (done: number, total: number) => void): Promise<{ size: number; sha1: Buffer }[]>;
  /** with opts.fileHashes: the torrent and each file's SHA-1 from the same read */
  createTorrent(dir: string, opts: Record<string, unknown> & { fileHashes: true }, onProgress?: (done: number, total: number) => void): Promise<{ torrent: Buffer; files: { path: string; size: number; sha1: Buffer }[] }>;
  createTorrent(dir: string, opts: Record<string, unknown>, onProgress?: (done: number, total: number) => void): Promise<Buffer>;
  parseTorrent(bytes: Buffer): TorrentInfo;
  exchangePaths(a: string, b: string): void;
}

// Works from src/engine/ (tsx) and dist/engine/ (compiled): both sit two levels below the root.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
export const addon = require(path.join(root, 'build', 'Release', 'cineswarm_engine.node')) as NativeAddon;
