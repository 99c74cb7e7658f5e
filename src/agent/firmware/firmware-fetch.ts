// Agent side of firmware updates: asks the central server for the latest bundle, downloads a
// newer one into dataDir/firmware, checks it, and leaves a request for the root updater
// (cineswarm-update.path), since the agent itself may not write /opt.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import semver from 'semver';
import { verifyBundle } from '../../firmware/install.js';
import { ApiError, type FirmwareInfo, type ServerClient } from '../../protocol/index.js';
import { writeFileAtomic } from '../../util/durable-write.js';
import { log, type Logger } from '../../util/log.js';

export const PENDING_FILE = 'pending.json';

export interface FirmwareFetchOptions {
  /** The agent's client of the central server. */
  client: ServerClient;
  /** Version of the running agent. */
  currentVersion: string;
  /** Where bundles are staged and the request is left: `<dataDir>/firmware`. */
  stagingDir: string;
  /** Key the bundle must be signed with; default /etc/cineswarm/firmware-key.pem. */
  publicKeyFile?: string;
  /** The updater's state file, to skip versions it already rolled back; default /opt/cineswarm/state.json. */
  updateStateFile?: string;
  /** ETag of the last answer, for a conditional GET. */
  etag?: string;
  logger?: Logger;
  signal?: AbortSignal;
}

export type FirmwareFetchResult =
  | { state: 'none' }
  | { state: 'unchanged'; etag: string }
  | { state: 'up-to-date'; version: string; etag?: string }
  | { state: 'pending'; version: string }
  | { state: 'rejected'; version: string; reason: string }
  | { state: 'staged'; version: string; bundle: string; etag?: string };

export class FirmwareFetchError extends Error {
  constructor(
    readonly code: 'SERVER_UNREACHABLE' | 'BAD_DOWNLOAD' | 'BAD_BUNDLE',
    message: string,
  ) {
    super(message);
    this.name = 'FirmwareFetchError';
  }
}

async function rejectedReason(stateFile: string, version: string): Promise<string | null> {
  try {
    const s = JSON.parse(await fs.readFile(stateFile, 'utf8')) as { rejected?: Record<string, { reason: string }> };
    return s.rejected?.[version]?.reason ?? null;
  } catch {
    return null;
  }
}

/** Runs one request for a download, turning the server's refusal into BAD_DOWNLOAD. */
async function downloading<T>(what: Promise<T>): Promise<T> {
  try {
    return await what;
  } catch (err) {
    if (err instanceof ApiError) throw new FirmwareFetchError('BAD_DOWNLOAD', err.message);
    throw err;
  }
}

/** Downloads the offered bundle to `file`, checking size and SHA-256 on the way; the file only
 * gets its final name once both match. */
async function download(client: ServerClient, file: string, expect: FirmwareInfo, signal?: AbortSignal): Promise<void> {
  const body = await downloading(client.firmwareBundle(expect, signal));
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const part = `${file}.part`;
  try {
    await pipeline(Readable.fromWeb(body), tap, createWriteStream(part));
    const sha = hash.digest('hex');
    if (size !== expect.size || sha !== expect.sha256) {
      throw new FirmwareFetchError('BAD_DOWNLOAD', `firmware ${expect.version} download is damaged (${size} of ${expect.size} bytes, SHA-256 ${sha === expect.sha256 ? 'ok' : 'mismatch'})`);
    }
    await fs.rename(part, file);
  } finally {
    await fs.rm(part, { force: true });
  }
}

/** One check, meant to run from the agent's poll loop (e.g. once an hour). Never installs. */
export async function fetchFirmware(opts: FirmwareFetchOptions): Promise<FirmwareFetchResult> {
  const logger = (opts.logger ?? log).child({ component: 'firmware-fetch' });
  let latest;
  try {
    latest = await opts.client.firmwareLatest(opts.etag, opts.signal);
  } catch (err) {
    if (err instanceof ApiError) throw new FirmwareFetchError('SERVER_UNREACHABLE', err.message);
    throw err;
  }
  if (latest.state !== 'offer') return latest;
  const { info, etag } = latest;
  // The version names a file in the staging dir: only a plain, normalised semver is accepted.
  if (semver.valid(info.version) !== info.version || !semver.gt(info.version, opts.currentVersion)) {
    return { state: 'up-to-date', version: opts.currentVersion, etag };
  }
  const pendingPath = path.join(opts.stagingDir, PENDING_FILE);
  const pending = await fs.readFile(pendingPath, 'utf8').then((t) => JSON.parse(t) as { version: string }, () => null);
  if (pending) return { state: 'pending', version: pending.version };
  const reason = await rejectedReason(opts.updateStateFile ?? '/opt/cineswarm/state.json', info.version);
  if (reason) return { state: 'rejected', version: info.version, reason };

  await fs.mkdir(opts.stagingDir, { recursive: true });
  const name = `cineswarm-${info.version}.tar.gz`;
  const bundle = path.join(opts.stagingDir, name);
  logger.info({ version: info.version, size: info.size }, 'downloading firmware');
  await download(opts.client, bundle, info, opts.signal);
  await fs.writeFile(`${bundle}.sig`, await downloading(opts.client.firmwareSignature(info, opts.signal)));
  try {
    // Checked here too, so a bad bundle is dropped by the agent and never wakes the root updater.
    const { manifest } = await verifyBundle(bundle, `${bundle}.sig`, opts.publicKeyFile ?? '/etc/cineswarm/firmware-key.pem');
    if (manifest.version !== info.version) throw new Error(`the bundle says version ${manifest.version}, the server said ${info.version}`);
  } catch (err) {
    await fs.rm(bundle, { force: true });
    await fs.rm(`${bundle}.sig`, { force: true });
    throw new FirmwareFetchError('BAD_BUNDLE', `firmware ${info.version} from the server was refused: ${(err as Error).message}`);
  }
  await writeFileAtomic(pendingPath, JSON.stringify({ version: info.version, bundle: name, signature: `${name}.sig`, at: new Date().toISOString() }) + '\n', { mode: 0o644 });
  logger.info({ version: info.version }, 'firmware staged for the updater');
  return { state: 'staged', version: info.version, bundle, etag };
}
