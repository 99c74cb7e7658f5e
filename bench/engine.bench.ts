// Engine benchmarks on one generated 1 GiB payload (two 512 MiB files) in os.tmpdir(), deleted at the end.
// Method: the page cache is warmed first (the files are read once), then ours and the reference run
// alternately (5 rounds for hashing, 3 for downloads) on the same warm data, and the best run of each
// side is compared: this removes page-cache effects and damps noise from other work on the machine.
// MB = 10^6 bytes.
//   hashfiles-one-file   hashFiles([a])        vs `openssl sha1 a`
//   hashfiles-two-files  hashFiles([a, b]) (2 cores) vs `openssl sha1 a` ‖ `openssl sha1 b` (2 cores)
//   create-torrent       createTorrent(dir)    vs `openssl sha1 a` ‖ `openssl sha1 b` (the same cores)
//   sha1-core-ceiling    hashfiles-one-file    vs `openssl speed -evp sha1` (one core, no disk)
//   download-loopback    our seed → our leecher on 127.0.0.1 (TCP) vs the same with python3-libtorrent
//   download-loopback-aria2c  our seed → our leecher  vs  our seed → aria2c
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTorrent, hashFiles, parseTorrent, Session, type EngineAlert } from '../src/engine/index.js';
import { runProcess, freeLoopbackPort, opensslParallelSeconds, opensslSha1CeilingMBps } from './proc.js';
import { formatBytes } from '../src/util/bytes.js';
import { diskUsage } from '../src/util/disk-usage.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MiB = 1 << 20;
const FILE_SIZE = 512 * MiB;
const ROUNDS = 5;
const DOWNLOAD_ROUNDS = 3;

function note(msg: string): void {
  process.stderr.write(`[engine.bench] ${msg}\n`);
}

function report(name: string, bytes: number, seconds: number, refBytes: number, refSeconds: number, ref: string): void {
  const mbps = bytes / seconds / 1e6;
  const refMbps = refBytes / refSeconds / 1e6;
  process.stdout.write(`BENCH ${name} ${mbps.toFixed(1)} MB/s ratio=${(mbps / refMbps).toFixed(2)} ref=${ref}\n`);
  note(`${name}: ours ${mbps.toFixed(1)} MB/s, ${ref} ${refMbps.toFixed(1)} MB/s`);
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** Runs ours and the reference alternately; returns the best (shortest) time of each. */
async function alternate(rounds: number, ours: () => Promise<number>, ref: () => Promise<number>): Promise<[number, number]> {
  let bestOurs = Infinity;
  let bestRef = Infinity;
  for (let i = 0; i < rounds; i++) {
    bestOurs = Math.min(bestOurs, await ours());
    bestRef = Math.min(bestRef, await ref());
  }
  return [bestOurs, bestRef];
}

async function writeRandom(file: string, size: number): Promise<void> {
  // AES-CTR over zeros: incompressible bytes far faster than crypto.randomBytes.
  const cipher = crypto.createCipheriv('aes-128-ctr', crypto.randomBytes(16), crypto.randomBytes(16));
  const zero = Buffer.alloc(16 * MiB);
  const fh = await fs.open(file, 'w');
  try {
    for (let off = 0; off < size; off += zero.length) await fh.write(cipher.update(zero.subarray(0, Math.min(zero.length, size - off))));
  } finally {
    await fh.close();
  }
}

async function opensslSha1(files: string[]): Promise<string> {
  const r = await runProcess('openssl', ['sha1', ...files]);
  if (r.code !== 0) throw new Error(`openssl sha1 failed: ${r.stderr}`);
  return r.stdout;
}

async function waitFinished(s: Session, infoHash: string, ms: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('download did not finish in time')), ms);
    s.on('torrent-finished', (a: EngineAlert) => {
      if (a.infoHash === infoHash) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

const LOOPBACK = { listenInterfaces: '127.0.0.1:0', allowMultipleConnectionsPerIp: true };

async function main(): Promise<void> {
  const tmp = os.tmpdir();
  const { free } = await diskUsage(tmp);
  const need = 2 * FILE_SIZE * 2 + 512 * MiB; // payload + one downloaded copy + slack
  if (free < need) throw new Error(`need ${formatBytes(need)} free in ${tmp}, have ${formatBytes(free)}`);
  const root = await fs.mkdtemp(path.join(tmp, 'cineswarm-bench-'));
  try {
    const seedDir = path.join(root, 'seed');
    const payload = path.join(seedDir, 'BenchPayload');
    await fs.mkdir(payload, { recursive: true });
    const a = path.join(payload, 'reel1.mxf');
    const b = path.join(payload, 'reel2.mxf');
    note(`writing 2 x ${FILE_SIZE / MiB} MiB under ${root}`);
    await writeRandom(a, FILE_SIZE);
    await writeRandom(b, FILE_SIZE);
    const total = 2 * FILE_SIZE;

    // Warm the cache, and check that we agree with openssl on the digests.
    const want = await opensslSha1([a, b]);
    const got = await hashFiles([a, b]);
    for (const g of got) if (!want.includes(g.sha1Hex)) throw new Error(`hashFiles disagrees with openssl on ${g.path}`);

    const [oneOurs, oneRef] = await alternate(ROUNDS, () => timed(() => hashFiles([a])), () => timed(() => opensslSha1([a])));
    report('hashfiles-one-file', FILE_SIZE, oneOurs, FILE_SIZE, oneRef, 'openssl-sha1');
    const ceiling = await opensslSha1CeilingMBps();
    const oneMBps = FILE_SIZE / oneOurs / 1e6;
    process.stdout.write(`BENCH sha1-core-ceiling ${oneMBps.toFixed(1)} MB/s ratio=${(oneMBps / ceiling).toFixed(2)} ref=openssl-speed-evp-sha1\n`);
    const [twoOurs, twoRef] = await alternate(ROUNDS, () => timed(() => hashFiles([a, b], { concurrency: 2 })), () => opensslParallelSeconds([a, b]));
    report('hashfiles-two-files', total, twoOurs, total, twoRef, 'openssl-sha1-parallel');

    let torrent: Buffer = Buffer.alloc(0);
    const [ctOurs, ctRef] = await alternate(
      ROUNDS,
      () => timed(async () => (torrent = await createTorrent(payload, { pieceSize: 4 * MiB }))),
      () => opensslParallelSeconds([a, b]),
    );
    report('create-torrent', total, ctOurs, total, ctRef, 'openssl-sha1-parallel');

    const torrentFile = path.join(root, 'bench.torrent');
    await fs.writeFile(torrentFile, torrent);
    const info = parseTorrent(torrent);
    const dlDir = path.join(root, 'dl');

    const seeder = new Session(LOOPBACK);
    try {
      const seed = seeder.addTorrent({ torrent, savePath: seedDir });
      while (!seed.status().isSeeding) await new Promise((r) => setTimeout(r, 50));

      const ours = async (): Promise<number> => {
        const s = new Session(LOOPBACK);
        try {
          const t = s.addTorrent({ torrent, savePath: dlDir });
          const done = waitFinished(s, info.infoHash, 10 * 60_000);
          return await timed(async () => {
            t.connectPeer('127.0.0.1', seeder.listenPort);
            await done;
          });
        } finally {
          await s.close();
          await fs.rm(dlDir, { recursive: true, force: true });
        }
      };
      const python = async (): Promise<number> => {
        try {
          const r = await runProcess('/usr/bin/python3', [path.join(here, 'ref_lt.py'), torrentFile, seedDir, dlDir]);
          if (r.code !== 0) throw new Error(`ref_lt.py failed: ${r.stderr}`);
          const { seconds } = JSON.parse(r.stdout) as { seconds: number };
          return seconds;
        } finally {
          await fs.rm(dlDir, { recursive: true, force: true });
        }
      };
      const aria = async (): Promise<number> => {
        const port = await freeLoopbackPort();
        try {
          const args = ['--no-conf=true', `--dir=${dlDir}`, `--listen-port=${port}`, '--enable-dht=false', '--enable-dht6=false',
            '--bt-enable-lpd=false', '--enable-peer-exchange=false', '--disable-ipv6=true', '--file-allocation=none',
            '--seed-time=0', '--summary-interval=0', '--console-log-level=warn', torrentFile];
          return await timed(async () => {
            const run = runProcess('aria2c', args);
            let ended = false;
            void run.finally(() => (ended = true));
            // aria2c finds no peers on its own here: our seed dials it until the transfer starts.
            while (!ended && seed.status().numPeers === 0) {
              await new Promise((r) => setTimeout(r, 20));
              seed.connectPeer('127.0.0.1', port);
            }
            const r = await run;
            if (r.code !== 0) throw new Error(`aria2c failed: ${r.stderr}${r.stdout}`);
          });
        } finally {
          await fs.rm(dlDir, { recursive: true, force: true });
        }
      };

      // One round = ours, python3-libtorrent, aria2c, in turn; the best of each side is compared.
      let bestOurs = Infinity;
      let bestPy = Infinity;
      let bestAria = Infinity;
      for (let i = 0; i < DOWNLOAD_ROUNDS; i++) {
        bestOurs = Math.min(bestOurs, await ours());
        bestPy = Math.min(bestPy, await python());
        bestAria = Math.min(bestAria, await aria());
      }
      report('download-loopback', total, bestOurs, total, bestPy, 'python3-libtorrent');
      report('download-loopback-aria2c', total, bestOurs, total, bestAria, 'aria2c');
    } finally {
      await seeder.close();
    }
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

await main();
