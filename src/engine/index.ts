// The engine: cineswarm's typed face of the native libtorrent core (see the engine API contract).
export { EngineError } from './errors.js';
export { Session } from './session.js';
export { Torrent } from './torrent.js';
export { createTorrent, createTorrentWithFileHashes, hashFiles, parseTorrent, libtorrentVersion } from './files.js';
export { exchangePaths } from './exchange.js';
export type {
  AddTorrentOptions,
  CreateTorrentOptions,
  EngineAlert,
  FileHash,
  HashFilesOptions,
  PeerInfo,
  SessionSettings,
  StorageKind,
  TorrentInfo,
  TorrentState,
  TorrentStatus,
} from './types.js';
