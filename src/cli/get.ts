// `cineswarm get TORRENT --out DIR`: one download with exactly the agent's engine settings, then the
// same DCP verification the agent runs. For technicians, and for benchmarks that put cineswarm beside
// other BitTorrent clients (it prints `DONE <seconds>` the moment the last piece is checked).
import fs from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Session, parseTorrent, type EngineAlert, type StorageKind, type TorrentInfo } from '../engine/index.js';
import { followPieceRuns } from '../engine/piece-runs.js';
import { AGENT_STORAGE, agentSessionSettings, listenInterface } from '../engine/settings.js';
import { parseRate } from '../util/rate.js';
import { log } from '../util/log.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

const HELP = `usage: cineswarm get TORRENT --out DIR [--port P] [--upload-limit RATE] [--seed]

Downloads one torrent with the cinema agent's engine settings, verifies it when it is a DCP
(ASSETMAP + PKL: every asset present, sizes and SHA-1 match) and prints "DONE <seconds>" as
soon as the download is complete.

  --out DIR             where the torrent's files are written (DIR/<name>)
  --port P              BitTorrent listen port (default 6881; 0 = any free port)
  --host H              listen address, and the source of connections to peers (default 0.0.0.0)
  --upload-limit RATE   cap the upload, e.g. 25MB/s or 2000KiB/s (bytes/s without a unit; default unlimited)
  --storage KIND        disk backend: mmap or posix (default: the agent's default)
  --seed                keep seeding after the download until interrupted (SIGINT/SIGTERM)

exit status: 0 verified (or complete and not a DCP); 1 failure; 2 usage error`;

interface GetArgs {
  torrent: string;
  out: string;
  host: string;
  port: number;
  uploadLimit: number;
  storage: StorageKind;
  seed: boolean;
}

function parse(argv: string[]): GetArgs | string {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'upload-limit': { type: 'string' },
        storage: { type: 'string' },
        seed: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return (err as Error).message;
  }
  const { values: v, positionals } = parsed;
  if (v.help) return 'help';
  if (positionals.length !== 1) return 'give exactly one .torrent file';
  if (!v.out) return '--out DIR is required';
  const port = v.port === undefined ? 6881 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return `--port must be 0-65535 (got "${v.port}")`;
  let uploadLimit = 0;
  try {
    if (v['upload-limit'] !== undefined) uploadLimit = parseRate(v['upload-limit']);
  } catch (err) {
    return `--upload-limit: ${(err as Error).message}`;
  }
  const storage = (v.storage ?? AGENT_STORAGE) as StorageKind;
  if (storage !== 'mmap' && storage !== 'posix') return `--storage must be mmap or posix (got "${v.storage}")`;
  return { torrent: positionals[0]!, out: v.out, host: v.host ?? '0.0.0.0', port, uploadLimit, storage, seed: v.seed ?? false };
}

/** Resolves when the torrent holds every piece; rejects on a torrent or disk error. */
function complete(session: Session, infoHash: string, isDone: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (a?: EngineAlert): void => {
      if (a && a.infoHash !== infoHash) return;
      if (a && (a.type === 'file_error' || a.type === 'torrent_error')) {
        finish();
        reject(new Error(`${a.error ?? a.message}${a.file ? ` (${a.file})` : ''}`));
      } else if (isDone()) {
        finish();
        resolve();
      }
    };
    // Alerts say when it happens; the timer covers a torrent already complete on disk.
    const timer = setInterval(() => check(), 500);
    const finish = (): void => {
      clearInterval(timer);
      session.off('alert', check);
    };
    session.on('alert', check);
  });
}

async function isDcp(dir: string): Promise<boolean> {
  for (const f of ['ASSETMAP.xml', 'ASSETMAP']) {
    if (await fs.stat(path.join(dir, f)).then((s) => s.isFile(), () => false)) return true;
  }
  return false;
}

function signalled(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export async function run(argv: string[]): Promise<number> {
  const a = parse(argv);
  if (a === 'help') {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (typeof a === 'string') {
    process.stderr.write(`cineswarm get: ${a}\n`);
    return 2;
  }
  const fail = (msg: string): number => {
    process.stderr.write(`cineswarm get: ${msg}\n`);
    return 1;
  };
  let bytes: Buffer;
  let info: TorrentInfo;
  try {
    bytes = await fs.readFile(a.torrent);
    info = parseTorrent(bytes);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fail(e.code === 'ENOENT' ? `no torrent file at ${a.torrent}` : `${a.torrent} is not a usable .torrent: ${e.message}`);
  }
  const glog = log.child({ component: 'get', name: info.name, infoHash: info.infoHash });
  let session: Session;
  try {
    const settings = agentSessionSettings({ listenInterfaces: listenInterface(a.host, a.port), version: VERSION, storage: a.storage });
    // A given address is also where connections to peers start from (several peers on one host).
    if (a.host !== '0.0.0.0' && a.host !== '::') settings.raw = { ...settings.raw, outgoing_interfaces: a.host };
    session = new Session(settings);
    followPieceRuns(session);
  } catch (err) {
    return fail(`cannot start the BitTorrent engine: ${(err as Error).message}`);
  }
  session.on('listen-failed', (al: EngineAlert) => glog.error(`cannot listen for peers: ${al.message}`));
  session.on('alert', (al: EngineAlert) => glog.debug({ alert: al.type, peer: al.peer }, al.message));
  const stop = signalled();
  try {
    if (a.uploadLimit > 0) session.applySettings({ uploadRateLimit: a.uploadLimit });
    const started = performance.now();
    const torrent = session.addTorrent({ torrent: bytes, savePath: a.out });
    glog.info({ out: a.out, port: session.listenPort, size: info.totalSize }, 'downloading');
    const done = complete(session, torrent.infoHash, () => {
      const st = torrent.status();
      return st.isFinished || st.isSeeding;
    });
    const first = await Promise.race([done.then(() => 'done'), stop]);
    if (first !== 'done') return fail(`interrupted (${first}) before the download was complete`);
    process.stdout.write(`DONE ${((performance.now() - started) / 1000).toFixed(3)}\n`);
    const dir = path.join(a.out, info.name);
    let code = 0;
    if (await isDcp(dir)) {
      // Loaded only now: the XML stack costs a noticeable part of the start-up, which every
      // benchmark beside other clients pays.
      const { verifyDcp } = await import('../dcp/index.js');
      const report = await verifyDcp(dir);
      process.stdout.write(report.summary + '\n');
      code = report.ok ? 0 : 1;
    }
    if (a.seed) {
      glog.info('seeding until interrupted');
      await stop;
    }
    return code;
  } catch (err) {
    return fail((err as Error).message);
  } finally {
    await session.close();
  }
}
